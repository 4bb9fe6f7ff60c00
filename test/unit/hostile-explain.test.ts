// Hostile models, labels and names through the CLI: a model that is not a classifier,
// non-finite weights, a labels file whose keys would size a huge allocation, and control
// characters in labels, layer names and file names. Each run is time-guarded.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseLabels } from '../../src/app/labels';
import { printable, printableJson } from '../../src/cli/print';
import { assertFiniteMaps } from '../../src/engine/finite';
import type { Graph } from '../../src/engine/model/graph';
import { fgcam, tempDir, tinyLayersModel, writePng } from '../helpers/hostile';

let root: string;
before(() => {
  root = tempDir('explain');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

let k = 0;
const fresh = (tag: string) => {
  const d = path.join(root, `${tag}${k++}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};
/** A folder with one image, and a model folder built with `opts`. */
function setup(opts: Parameters<typeof tinyLayersModel>[1] = {}) {
  const imgs = fresh('imgs');
  const image = writePng(path.join(imgs, 'a.png'));
  const { model } = tinyLayersModel(fresh('model'), opts);
  return { imgs, image, model };
}
const T = { timeout: 60_000 };
const ESC = '\u001b';

test('baseline: the tiny classifier explains with exit 0 and writes its heatmap', T, () => {
  const { imgs, image, model } = setup();
  const r = fgcam(['explain', image, '--model', model]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(fs.readdirSync(imgs).sort(), ['a.fgcam-gradcam.input.png', 'a.png']);
});

test('a model whose output is a feature map is refused as "not an image classifier", nothing written', T, () => {
  const { imgs, image, model } = setup({ head: 'none' });
  const r = fgcam(['explain', image, '--model', model]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.err, /is not an image classifier: its output 'conv' \(Conv2D\) has shape \[8, 8, 2\], not one vector of class scores/);
  assert.deepEqual(fs.readdirSync(imgs), ['a.png']);
});

test('all-NaN weights: a clear error naming the model and the first non-finite layer, nothing written', T, () => {
  const { imgs, image, model } = setup({ kernel: new Array(54).fill(NaN) });
  const r = fgcam(['explain', image, '--model', model]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.err, /Model ".*model\.json": the class scores \(logits\) contain NaN or infinite values\. The first layer whose output is not finite is 'conv' \(Conv2D\)/);
  assert.doesNotMatch(r.err + r.out, /Class index -1/);
  assert.deepEqual(fs.readdirSync(imgs), ['a.png']);
});

test('an infinity in the first kernel never gives a NaN map with exit 0', T, () => {
  for (const v of [Infinity, -Infinity]) {
    const kernel = Array.from({ length: 54 }, (_, i) => (((i * 37) % 11) - 5) / 20);
    kernel[0] = v;
    const { imgs, image, model } = setup({ kernel });
    const r = fgcam(['explain', image, '--model', model, '--raw']);
    if (r.code === 0) {
      // The forward and the maps stayed finite: then every written map must be finite.
      const npy = fs.readdirSync(imgs).find((f) => f.endsWith('.npy'))!;
      const b = fs.readFileSync(path.join(imgs, npy));
      const hl = b.readUInt16LE(8);
      const vals = new Float32Array(b.buffer.slice(b.byteOffset + 10 + hl, b.byteOffset + b.length));
      assert.ok(vals.every(Number.isFinite), `kernel[0] = ${v}: a non-finite map was written with exit 0`);
    } else {
      assert.equal(r.code, 1);
      assert.match(r.err, /contain(s)? NaN or infinite values/);
      assert.match(r.err, /'conv'|layer 'input'/);
      assert.deepEqual(fs.readdirSync(imgs), ['a.png'], `kernel[0] = ${v}: wrote files on failure`);
    }
  }
});

test('a map with a NaN is refused before any renderer sees it, naming the layer', () => {
  const g = { source: 'm.json' } as Graph;
  const ok = { layer: 'input', height: 1, width: 2, raw: Float32Array.of(0, 1) };
  assert.doesNotThrow(() => assertFiniteMaps(g, { input: ok }, 'gradcam'));
  const bad = { layer: 'block1', height: 1, width: 2, raw: Float32Array.of(0, NaN) };
  assert.throws(() => assertFiniteMaps(g, { input: ok, block1: bad }, 'gradcam'), /Model "m\.json": the gradcam map at layer 'block1' contains NaN or infinite values/);
});

test('labels {"4294967294": "x"}: ignored with a warning, no allocation by the key, exit 0', T, () => {
  const { image, model } = setup();
  const labels = path.join(fresh('labels'), 'l.json');
  fs.writeFileSync(labels, '{"4294967294":"x"}');
  const t0 = Date.now();
  const r = fgcam(['explain', image, '--model', model, '--labels', labels, '--force']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /l\.json: ignoring 1 label key\(s\) outside the model's classes 0\.\.2 \(4294967294\)/);
  assert.ok(Date.now() - t0 < 30_000);
  // In-process: the array is sized by the class count, not the key.
  assert.deepEqual(parseLabels('{"1": "b", "4294967294": "x"}', 'l', { classes: 3 }), ['0', 'b', '2']);
  assert.throws(() => parseLabels('{"4294967294": "x"}', 'l.json'), /l\.json: label key\(s\) 4294967294 are beyond 999999/);
});

test('a labels file that is huge or a pipe is refused before reading', T, () => {
  const { image, model } = setup();
  const dir = fresh('labels');
  const big = path.join(dir, 'big.txt');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, 17 * 2 ** 20); // sparse: no disk used
  const r = fgcam(['explain', image, '--model', model, '--labels', big]);
  assert.equal(r.code, 1);
  assert.match(r.err, /Labels file ".*big\.txt" is too large \(17 MB; the limit is 16 MB\)/);
});

test('control characters in labels, layer names and file names are escaped in terminal output', T, () => {
  const { imgs, model } = setup({ convName: `c${ESC}]0;pwned\u0007x` });
  const image = writePng(path.join(imgs, `b${ESC}[2Jc.png`));
  const labels = path.join(fresh('labels'), 'l.json');
  fs.writeFileSync(labels, JSON.stringify([`cat${ESC}[31m`, `dog\r\u009b2J`, 'e\u202egnp.exe']));
  const r = fgcam(['explain', image, '--model', model, '--labels', labels]);
  assert.equal(r.code, 0, r.err);
  const all = r.out + r.err;
  // (ONNX Runtime's own native log lines carry colour codes; only the file-borne sequences are checked.)
  for (const raw of [`${ESC}[2J`, `${ESC}]0;pwned`, '\u0007', `${ESC}[31m`, '\r', '\u009b', '\u202e']) {
    assert.ok(!all.includes(raw), `a raw ${JSON.stringify(raw)} from a file reached the terminal`);
  }
  assert.match(all, /b\\x1b\[2Jc\.png/);
  assert.match(all, /cat\\x1b\[31m|dog\\x0d\\x9b2J|e\\u202egnp/);
  const l = fgcam(['layers', '--model', model]);
  assert.equal(l.code, 0, l.err);
  assert.match(l.out, /c\\x1b\]0;pwned\\x07x/);
  assert.doesNotMatch(l.out, /[\u001b\u0007]/);
  const j = fgcam(['layers', '--model', model, '--json']);
  assert.doesNotMatch(j.out, /[\u001b\u0007]/);
  assert.equal(JSON.parse(j.out).layers[1].name, `c${ESC}]0;pwned\u0007x`); // escaped, same value
  assert.equal(printable('a\nb\tc'), 'a\nb\\x09c');
  assert.equal(JSON.parse(printableJson(['\u009b\u202e'])).join(), '\u009b\u202e');
});
