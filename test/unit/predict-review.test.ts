// The dataset review in-process, with the bundled demo model on synthetic labelled folders:
// numbers against one-image-at-a-time predictions, a corrupt image in the middle, resume,
// cancel, shards + merge against the whole-folder run, and the output folder's safety.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setup } from '../helpers/backend';
import { loadModel, disposeModel } from '../../src/engine/explain';
import type { Graph } from '../../src/engine/model/graph';
import { reviewDataset } from '../../src/app/dataset/review';
import { readReview, type ReviewDocument } from '../../src/app/dataset/document';
import { mergeReviews } from '../../src/app/dataset/merge';
import { CACHE_FILE } from '../../src/app/dataset/cache';
import { makeDataset, predictOne, syntheticPng } from './predictHelpers';
import { tmpDir } from './imageHelpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MODEL = path.join(ROOT, 'models', 'fashion-vgg', 'model.json');
const LABELS: string[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'fashion-vgg', 'labels.json'), 'utf8'));
/** Folder spellings and the class each must match (test's own table, not the matcher). */
const FOLDERS: Record<string, number> = { 'T-shirt_top': 0, trouser: 1, Bag: 8, 'ankle-boot': 9, '7': 7 };
const LAYOUT = { 'T-shirt_top': 5, trouser: 4, Bag: 5, 'ankle-boot': 4, '7': 3, misc: 2 };

let g: Graph;
const dirs: string[] = [];
const fresh = () => {
  const d = tmpDir('fgcam-review-');
  dirs.push(d);
  return d;
};

before(async () => {
  await setup();
  g = await loadModel(MODEL);
});
after(() => {
  disposeModel(g);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A dataset with a corrupt PNG in the middle of a class folder. */
function dataset(): { root: string; files: string[]; corrupt: string } {
  const root = fresh();
  const files = makeDataset(path.join(root, 'data'), LAYOUT);
  const corrupt = 'Bag/img002.png';
  fs.writeFileSync(path.join(root, 'data', corrupt), Buffer.concat([syntheticPng(5).subarray(0, 60), Buffer.from('truncated')]));
  return { root: path.join(root, 'data'), files, corrupt };
}

const review = (root: string, outDir: string, extra: Partial<Parameters<typeof reviewDataset>[0]> = {}) =>
  reviewDataset({ root, graph: g, modelPath: MODEL, labels: LABELS, preprocess: { preset: 'unit' }, batch: 4, outDir, ...extra });

test('accuracy, top-5 and confusion agree with one-image-at-a-time predictions; the corrupt image is listed, not counted', async () => {
  const { root, files, corrupt } = dataset();
  const out = path.join(root, '..', 'out');
  const { doc, cancelled } = await review(root, out);
  assert.equal(cancelled, false);
  const k = LABELS.length;
  const confusion = Array.from({ length: k }, () => new Array(k).fill(0));
  let labelled = 0, correct = 0, top5 = 0, scored = 0;
  for (const rel of files) {
    if (rel === corrupt) continue;
    scored++;
    const { top, probs } = predictOne(g, path.join(root, rel));
    const r = doc.results.find((x) => x.path === rel);
    assert.ok(r, `${rel} has a result`);
    assert.equal(r.predicted, top, rel);
    assert.ok(Math.abs(r.prob - probs[top]) < 1e-4, `${rel}: p ${r.prob} vs ${probs[top]}`);
    const truth = FOLDERS[rel.split('/')[0]];
    if (truth === undefined) {
      assert.equal(r.truth, null, `${rel} is in an unmatched folder`);
      continue;
    }
    assert.equal(r.truth, truth, rel);
    assert.ok(Math.abs(r.loss! - -Math.log(probs[truth])) < 1e-3 * Math.max(1, r.loss!), `${rel}: loss ${r.loss} vs ${-Math.log(probs[truth])}`);
    labelled++;
    confusion[truth][top]++;
    if (truth === top) correct++;
    const rank = [...probs].filter((p) => p > probs[truth]).length;
    if (rank < 5) top5++;
  }
  assert.equal(doc.images, scored);
  assert.equal(doc.labelled, labelled);
  assert.deepEqual(doc.confusion, confusion);
  assert.equal(doc.accuracy, correct / labelled);
  assert.equal(doc.top5, top5 / labelled);
  assert.ok(correct < labelled, 'the synthetic set has mistakes, so the confusion is not trivially diagonal');
  assert.deepEqual(doc.failed.map((f) => f.path), [corrupt]);
  assert.match(doc.failed[0].error, /^Bag\/img002\.png: cannot decode PNG/);
  assert.deepEqual(doc.unmatched.map((u) => [u.name, u.images]), [['misc', 2]]);
  // precision/recall from the test's own matrix
  for (let c = 0; c < k; c++) {
    const col = confusion.reduce((a, row) => a + row[c], 0);
    const rowSum = confusion[c].reduce((a: number, b: number) => a + b, 0);
    assert.equal(doc.perClass[c].precision, col ? confusion[c][c] / col : null);
    assert.equal(doc.perClass[c].recall, rowSum ? confusion[c][c] / rowSum : null);
  }
  for (const f of ['review.json', 'predictions.csv', 'report.md', 'confusion.png', CACHE_FILE]) assert.ok(fs.existsSync(path.join(out, f)), f);
  const csv = fs.readFileSync(path.join(out, 'predictions.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + scored);
  assert.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), new RegExp(`\\| ${scored} \\| ${labelled} \\| ${((100 * correct) / labelled).toFixed(2)}%`));
});

test('resume: a second run reads nothing it has scored (a file garbled behind an unchanged size and mtime stays cached); a changed file is rescored', async () => {
  const { root, files, corrupt } = dataset();
  const out = path.join(root, '..', 'out');
  const victim = path.join(root, files[0]);
  const stamp = Math.floor(Date.now() / 1000) - 60; // whole seconds: utimes restores them exactly
  fs.utimesSync(victim, stamp, stamp);
  const first = await review(root, out);
  assert.equal(first.cached, 0);
  // Same size, same mtime, garbage content: only a re-read would notice.
  fs.writeFileSync(victim, Buffer.alloc(fs.statSync(victim).size, 0x20));
  fs.utimesSync(victim, stamp, stamp);
  const second = await review(root, out);
  assert.equal(second.cached, files.length);
  assert.deepEqual(second.doc.results, first.doc.results);
  // A real change (new content, new mtime) is scored again.
  const changed = files[1];
  fs.writeFileSync(path.join(root, changed), syntheticPng(999));
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(path.join(root, changed), later, later);
  fs.writeFileSync(victim, syntheticPng(1000)); // and the garbled one gets new content + mtime
  const third = await review(root, out);
  assert.equal(third.cached, files.length - 2);
  const r = third.doc.results.find((x) => x.path === changed)!;
  assert.equal(r.predicted, predictOne(g, path.join(root, changed)).top);
  assert.ok(third.doc.failed.some((f) => f.path === corrupt), 'the corrupt file stays failed (from the cache)');
  // Other preprocessing: another model key, nothing reused.
  const other = await review(root, out, { preprocess: { preset: 'symmetric' } });
  assert.equal(other.cached, 0);
});

test('cancel keeps what is done: the cache holds the finished batches and a re-run resumes from them', async () => {
  const { root, files } = dataset();
  const out = path.join(root, '..', 'out');
  const stop = new AbortController();
  const run = await review(root, out, { batch: 2, signal: stop.signal, onProgress: (p) => p.done >= 6 && stop.abort() });
  assert.equal(run.cancelled, true);
  const done = run.doc.images + run.doc.failed.length;
  assert.ok(done >= 6 && done < files.length, `stopped early (${done} of ${files.length})`);
  assert.ok(!fs.existsSync(path.join(out, 'review.json')), 'no report for an unfinished run');
  const again = await review(root, out);
  assert.equal(again.cancelled, false);
  assert.equal(again.cached, done);
  assert.equal(again.doc.images + again.doc.failed.length, files.length);
});

const comparable = (d: ReviewDocument) => {
  const { shard, shards, ...rest } = d;
  void shard;
  void shards;
  return rest;
};

test('shards K/N merged equal the whole-folder run (results, failures, confusion, unmatched)', async () => {
  const { root } = dataset();
  const whole = await review(root, path.join(root, '..', 'whole'));
  for (const n of [2, 3]) {
    const outs: string[] = [];
    for (let k = 0; k < n; k++) {
      const o = path.join(root, '..', `shard-${k}-of-${n}`);
      const r = await review(root, o, { shard: { index: k, count: n } });
      assert.ok(r.doc.images + r.doc.failed.length < whole.doc.images + whole.doc.failed.length, 'a shard scores a part');
      outs.push(o);
    }
    const merged = mergeReviews(outs.map((dir) => ({ dir, doc: readReview(dir) })));
    assert.deepEqual(merged.shards.map((s) => s.index), Array.from({ length: n }, (_, i) => i));
    assert.deepEqual(comparable(merged), comparable(whole.doc));
    assert.throws(() => mergeReviews(outs.slice(1).map((dir) => ({ dir, doc: readReview(dir) }))), /shard 0\/\d missing/);
    assert.throws(() => mergeReviews([...outs, outs[0]].map((dir) => ({ dir, doc: readReview(dir) }))), /given twice/);
    for (const o of outs) fs.rmSync(o, { recursive: true });
  }
});

test("the output folder: a user's report files are never replaced without force; our own folder is", async () => {
  const { root } = dataset();
  const out = path.join(root, '..', 'mine');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'report.md'), 'my notes');
  await assert.rejects(review(root, out), /already has report\.md.*--force/);
  assert.equal(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), 'my notes');
  await review(root, out, { force: true });
  assert.notEqual(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), 'my notes');
  await review(root, out); // now ours (marked): a re-run needs no force
  // An output folder inside the dataset is not read as data.
  const inside = path.join(root, 'review-out');
  const r = await review(root, inside);
  assert.ok(!r.doc.results.some((x) => x.path.startsWith('review-out/')));
});
