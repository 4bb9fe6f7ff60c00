// The review panel's logic without VS Code or a DOM: gallery filter and sort (against a
// plain filter/sort written here), confusion-cell toggling, keyboard moves, the virtualised
// window, and the host's validation of webview messages.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { columnsFor, ReviewState, rowWindow, scrollToRow } from '../../src/webview/reviewState';
import { parseReviewRequest } from '../../src/webview/reviewProtocol';
import type { ReviewResult } from '../../src/app/protocol';
import { rng } from './imageHelpers';

function results(n: number, seed = 1): ReviewResult[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const truth = i % 7 === 0 ? null : Math.floor(r() * 4);
    const predicted = Math.floor(r() * 4);
    const prob = 0.25 + 0.75 * r();
    const pTruth = truth === null ? null : truth === predicted ? prob : r() * (1 - prob);
    return {
      path: `c${truth ?? 'x'}/img${String(i).padStart(5, '0')}.png`,
      truth,
      predicted,
      prob,
      pTruth,
      loss: pTruth === null ? null : -Math.log(pTruth),
      margin: r() * 2 - 1,
      top5: [{ index: predicted, prob }],
    };
  });
}

test('filters (truth, prediction, mistakes only) and sorts agree with a plain filter + sort', () => {
  const all = results(500);
  const s = new ReviewState();
  s.add(all.slice(0, 200));
  s.add(all.slice(200));
  assert.equal(s.size, 500);
  s.setFilter({ truth: 2, mistakesOnly: true });
  s.setSort('confidence', true);
  const want = all.filter((r) => r.truth === 2 && r.predicted !== 2).sort((a, b) => b.prob - a.prob);
  assert.deepEqual(s.visible().map((r) => r.path), want.map((r) => r.path));
  s.setFilter({ truth: null, predicted: 1, mistakesOnly: false });
  s.setSort('loss', true);
  const got = s.visible();
  const labelled = all.filter((r) => r.predicted === 1 && r.loss !== null).sort((a, b) => b.loss! - a.loss!);
  assert.deepEqual(got.slice(0, labelled.length).map((r) => r.path), labelled.map((r) => r.path));
  // Images without truth (no loss) come last.
  assert.ok(got.slice(labelled.length).every((r) => r.loss === null) && got.length === all.filter((r) => r.predicted === 1).length);
  s.setSort('margin', false);
  const m = s.visible().map((r) => r.margin);
  assert.ok(m.every((v, i) => i === 0 || m[i - 1] <= v));
  s.setSort('path', false);
  const p = s.visible().map((r) => r.path);
  assert.deepEqual(p, [...p].sort());
});

test('a confusion cell filters to its images; clicking it again clears the filter; later results replace earlier ones', () => {
  const all = results(300, 3);
  const s = new ReviewState();
  s.add(all);
  s.toggleCell(1, 3);
  assert.deepEqual(s.visible().map((r) => r.path).sort(), all.filter((r) => r.truth === 1 && r.predicted === 3).map((r) => r.path).sort());
  s.toggleCell(1, 3);
  assert.equal(s.visible().length, 300);
  const changed = { ...all[5], predicted: 0, prob: 0.99 };
  s.add([changed]);
  assert.equal(s.size, 300);
  assert.equal(s.result(all[5].path)!.prob, 0.99);
});

test('keyboard moves stay inside the grid; a page is pageRows rows', () => {
  const s = new ReviewState();
  s.add(results(23));
  assert.equal(s.move('ArrowRight', 5, 2), 0); // first key selects the first tile
  assert.equal(s.move('ArrowDown', 5, 2), 5);
  assert.equal(s.move('ArrowRight', 5, 2), 6);
  assert.equal(s.move('PageDown', 5, 2), 16);
  assert.equal(s.move('PageDown', 5, 2), 22);
  assert.equal(s.move('ArrowLeft', 5, 2), 21);
  assert.equal(s.move('Home', 5, 2), 0);
  assert.equal(s.move('ArrowUp', 5, 2), 0);
  assert.equal(s.move('End', 5, 2), 22);
});

test('the virtualised window draws only the rows on screen, for 10,000 images', () => {
  const cols = columnsFor(1000, 112, 8);
  assert.equal(cols, 8);
  const w = rowWindow(10_000, cols, 150, 30_000, 600, 2);
  assert.equal(w.totalHeight, Math.ceil(10_000 / 8) * 150);
  assert.equal(w.firstRow, 198);
  assert.equal(w.endRow, 206);
  assert.equal(w.end - w.first, 8 * 8);
  const last = rowWindow(10_000, cols, 150, w.totalHeight - 600, 600, 2);
  assert.equal(last.end, 10_000);
  assert.equal(scrollToRow(10, 150, 0, 600), 1500 + 150 - 600);
  assert.equal(scrollToRow(1, 150, 300, 600), 150);
  assert.equal(scrollToRow(3, 150, 300, 600), 300);
});

test('host-side validation: only known relative paths, only known message types', () => {
  const known = new Set(['a/1.png', 'b/2.png']);
  const has = (p: string) => known.has(p);
  assert.deepEqual(parseReviewRequest({ type: 'ready' }, has), { type: 'ready' });
  assert.deepEqual(parseReviewRequest({ type: 'open', path: 'a/1.png' }, has), { type: 'open', path: 'a/1.png' });
  for (const bad of [
    null,
    'open',
    { type: 'open', path: '/etc/passwd' },
    { type: 'open', path: '../x.png' },
    { type: 'open', path: 'a/../b/2.png' },
    { type: 'open', path: 'c/3.png' },
    { type: 'open', path: 42 },
    { type: 'export', paths: [] },
    { type: 'export', paths: ['a/1.png', 'C:/x.png'] },
    { type: 'export', paths: 'a/1.png' },
    { type: 'explode' },
  ]) {
    assert.equal(parseReviewRequest(bad, has), undefined, JSON.stringify(bad));
  }
  assert.deepEqual(parseReviewRequest({ type: 'export', paths: ['b/2.png', 'a/1.png', 'b/2.png'] }, has), { type: 'export', paths: ['b/2.png', 'a/1.png'] });
});
