// Dataset review truth: folder names matched to labels (case and punctuation ignored, or the
// class index), CSV truth files (quotes, header or not), and what matches nothing.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { labelMatcher, normalizeLabel, parseCsv, truthFromCsv, truthFromFolders } from '../../src/app/dataset/truth';
import { parseShard, shardSlice } from '../../src/app/dataset/shard';

const FASHION = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

test('folder names match labels ignoring case and every non-alphanumeric character', () => {
  const m = labelMatcher(FASHION);
  for (const name of ['tshirt-top', 'T-shirt_top', 'T-SHIRT TOP', 't.shirt.top', 'T-shirt/top']) assert.deepEqual(m(name), { index: 0 }, name);
  assert.deepEqual(m('ankle_boot'), { index: 9 });
  assert.deepEqual(m('AnkleBoot'), { index: 9 });
  assert.deepEqual(m('sneaker'), { index: 7 });
  assert.equal(normalizeLabel('Ankle boot'), 'ankleboot');
});

test('a folder named by class index matches; out-of-range indices and unknown names do not', () => {
  const m = labelMatcher(FASHION);
  assert.deepEqual(m('3'), { index: 3 });
  assert.deepEqual(m('09'), { index: 9 });
  assert.ok('why' in m('10'));
  assert.ok('why' in m('shirts'));
  assert.ok('why' in m('boot'));
});

test('a name shared by two labels after normalising needs the exact spelling', () => {
  const m = labelMatcher(['t-shirt', 'T shirt', 'coat']);
  assert.deepEqual(m('t-shirt'), { index: 0 });
  assert.deepEqual(m('T shirt'), { index: 1 });
  const r = m('tshirt');
  assert.ok('why' in r && /several/.test(r.why), JSON.stringify(r));
});

test('truthFromFolders: the parent folder is the class; unmatched folders and top-level images are reported, not counted', () => {
  const files = ['Sneaker/a.png', 'ankle-boot/b.png', 'misc/c.png', 'misc/d.png', 'top.png', 'deep/3/e.png', 'deep/3/f.png'];
  const t = truthFromFolders(files, FASHION);
  assert.deepEqual([...t.of], [['Sneaker/a.png', 7], ['ankle-boot/b.png', 9], ['deep/3/e.png', 3], ['deep/3/f.png', 3]]);
  const un = Object.fromEntries(t.unmatched.map((u) => [u.name, u.images]));
  assert.deepEqual(un, { misc: 2, '.': 1 });
});

test('parseCsv: quoted fields with commas, doubled quotes, newlines; CRLF; BOM', () => {
  const rows = parseCsv('\uFEFFpath,label\r\n"a,b.png","T-shirt/top"\r\n"say ""hi"".png",Bag\n"multi\nline.png",3\n\n');
  assert.deepEqual(rows, [
    ['path', 'label'],
    ['a,b.png', 'T-shirt/top'],
    ['say "hi".png', 'Bag'],
    ['multi\nline.png', '3'],
  ]);
  assert.throws(() => parseCsv('"unterminated,x\n'), /unterminated/);
});

test('truthFromCsv: header optional, paths relative or absolute, labels by name or index; unknown labels and absent files reported', () => {
  const root = path.resolve('/data/set');
  const files = ['x/1.png', 'x/2.png', 'y/3.jpg', 'odd, name.png'];
  const withHeader = truthFromCsv('path,label\nx/1.png,Sneaker\n./x/2.png,ankle boot\n', 't.csv', root, files, FASHION);
  assert.deepEqual([...withHeader.of], [['x/1.png', 7], ['x/2.png', 9]]);
  const noHeader = truthFromCsv(`x/1.png,7\n${path.join(root, 'y', '3.jpg')},T-shirt_top\n"odd, name.png",bag\nmissing.png,Bag\ny/3.jpg,jacket\n`, 't.csv', root, files, FASHION);
  assert.equal(noHeader.of.get('x/1.png'), 7);
  assert.equal(noHeader.of.get('odd, name.png'), 8);
  // The later row for y/3.jpg names no class: the earlier match stays, the label is reported.
  assert.equal(noHeader.of.get('y/3.jpg'), 0);
  assert.deepEqual(noHeader.missing, ['missing.png']);
  assert.deepEqual(noHeader.unmatched.map((u) => [u.name, u.images]), [['jacket', 1]]);
  assert.throws(() => truthFromCsv('x/1.png\n', 'bad.csv', root, files, FASHION), /bad\.csv: row 1 is not "path,label"/);
});

test('shards: K/N parsing and contiguous slices that cover the listing exactly once', () => {
  assert.deepEqual(parseShard('2/5'), { index: 2, count: 5 });
  assert.throws(() => parseShard('5/5'), /K counts from 0/);
  assert.throws(() => parseShard('1-3'), /K\/N/);
  assert.throws(() => parseShard('0/0'), /at least 1/);
  const items = Array.from({ length: 23 }, (_, i) => i);
  for (const n of [1, 2, 3, 7, 23, 30]) {
    const parts = Array.from({ length: n }, (_, k) => shardSlice(items, { index: k, count: n }));
    assert.deepEqual(parts.flat(), items, `N=${n}`);
    const sizes = parts.map((p) => p.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `N=${n}: balanced ${sizes}`);
  }
});
