// `fgcam evaluate` by job: flag parsing, the layer choice, the summary (means, AD / IC per
// image from engine/metrics, mean curves) checked against hand-computed numbers, the report,
// and the worker pool against scoring in one thread, through the built CLI.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseEvaluate } from '../../src/cli/evaluate';
import { UsageError } from '../../src/cli/args';
import { summarise } from '../../src/app/evaluate/summary';
import { reportMarkdown } from '../../src/app/evaluate/report';
import { evaluateLayers } from '../../src/app/evaluate/layers';
import type { ImageResult } from '../../src/app/evaluate/job';
import { ModelSession } from '../../src/app/session';
import { DEFAULT_METHODS } from '../../src/engine/methods';
import { setup } from '../helpers/backend';
import { fgcam, MODEL, noModel, SAMPLES } from '../helpers/cli';
import { tmpDir } from './imageHelpers';

function score(method: string, layer: string, del: number[], ins: number[], full: number, masked: number) {
  const auc = (v: number[]) => v.slice(1).reduce((s, y, i) => s + (y + v[i]) / 2, 0) / (v.length - 1);
  return { method, layer, deletion: Float32Array.from(del), insertion: Float32Array.from(ins), deletionAuc: auc(del), insertionAuc: auc(ins), pixelsPerStep: 1, full, masked };
}

const results: ImageResult[] = [
  { image: 'a.png', classIndex: 1, prob: 0.8, camLayer: 'c', scores: [score('gradcam', 'c', [0.8, 0.2, 0], [0, 0.4, 0.8], 0.8, 0.4), score('lrp', 'input', [0.8, 0.8, 0.8], [0.8, 0.8, 0.8], 0.8, 0.8)] },
  { image: 'b.png', classIndex: 1, prob: 0.5, camLayer: 'c', scores: [score('gradcam', 'c', [0.5, 0.1, 0.1], [0.2, 0.3, 0.5], 0.5, 0.6)] },
  { image: 'c.png', classIndex: 1, prob: 0, camLayer: 'c', scores: [score('gradcam', 'c', [0, 0, 0], [0, 0, 0], 0, 0.1)] },
];

test('summarise: AD and IC per image (Y = 0 drops nothing), their means with t intervals, mean curves', () => {
  const s = summarise(results, ['gradcam', 'lrp'], ['input', 'c']);
  assert.deepEqual(Object.keys(s.layers), ['input', 'c']);
  const [g] = s.layers.c;
  assert.equal(g.method, 'gradcam');
  assert.equal(g.n, 3);
  // drops: (0.8-0.4)/0.8 = 50 %, O > Y: 0 %, Y = 0: 0 %; increases: 0, 100, 100.
  assert.ok(Math.abs(g.averageDrop.mean - 50 / 3) < 1e-9, `AD ${g.averageDrop.mean}`);
  assert.ok(Math.abs(g.increase.mean - 200 / 3) < 1e-9, `IC ${g.increase.mean}`);
  // t(0.975, 2) = 4.303; sd of (50, 0, 0) = 28.8675
  assert.ok(Math.abs(g.averageDrop.half - (4.303 * 28.867513) / Math.sqrt(3)) < 1e-2, `AD half ${g.averageDrop.half}`);
  // deletion AUCs: 0.3, 0.2, 0 (trapezoid over [0, 1])
  assert.ok(Math.abs(g.deletion.mean - 0.5 / 3) < 1e-6);
  assert.ok(Math.abs(g.difference.mean - (g.insertion.mean - g.deletion.mean)) < 1e-6);
  assert.deepEqual(Array.from(g.meanDeletion, (v) => +v.toFixed(6)), [0.433333, 0.1, 0.033333]);
  const [l] = s.layers.input;
  assert.equal(l.n, 1);
  assert.ok(Number.isNaN(l.deletion.half), 'one image has no interval');
  assert.equal(l.averageDrop.mean, 0);
});

test('reportMarkdown: a table per layer, the best mean in bold, failures listed', () => {
  const summary = summarise(results, ['gradcam', 'lrp'], ['c']);
  const md = reportMarkdown({
    folder: 'photos', model: 'm.onnx', methods: ['gradcam', 'lrp'], layers: ['c'], step: 0.5, blur: { sigma: 5, radius: 5 }, backend: 'wasm',
    inputShape: [2, 2, 3], modelLayers: [{ name: 'c', className: 'Conv', shape: [2, 2, 8], spatial: true }], pre: { preset: 'imagenet' }, camLayer: 'c',
    images: 4, results, failures: [{ image: 'd.png', error: 'd.png: not a recognised image' }], summary, plots: { c: '/x/photos.fgcam-eval.c.png' }, files: [], seconds: 3,
  });
  assert.match(md, /^# Faithfulness of explanation methods on `photos`/);
  assert.match(md, /## Layer `c` \(2x2\)/);
  assert.match(md, /\| gradcam \| \*\*0\.167 ± /);
  assert.match(md, /!\[.*\]\(photos\.fgcam-eval\.c\.png\)/);
  assert.match(md, /3 images scored, 1 failed/);
  assert.match(md, /## Failures\n\n- d\.png: d\.png: not a recognised image/);
});

test('parseEvaluate: defaults from the catalogue, flags, usage errors', () => {
  const a = parseEvaluate(['photos', '--model', 'm.json']);
  assert.ok(!('help' in a));
  if ('help' in a) return;
  assert.deepEqual(a.methods, [...DEFAULT_METHODS]);
  assert.equal(a.jobs, 2);
  const b = parseEvaluate(['photos', '--model', 'm.json', '--methods', 'lrp,gradcampp,lrp', '--steps', '0.05', '--blur', '3', '--jobs', '1', '--limit', '4']);
  if ('help' in b) return assert.fail('help');
  assert.deepEqual(b.methods, ['lrp', 'gradcampp']);
  assert.deepEqual(b.blur, { sigma: 3, radius: 3 });
  assert.equal(b.limit, 4);
  for (const bad of [['photos'], ['--model', 'm.json'], ['p', '--model', 'm', '--methods', 'nope'], ['p', '--model', 'm', '--steps', '2'], ['p', '--model', 'm', '--jobs', '0']]) {
    assert.throws(() => parseEvaluate(bad), UsageError, bad.join(' '));
  }
});

test('evaluateLayers: default input + pools up to the CAM layer + the CAM layer; layers above it refused', { skip: noModel }, async () => {
  await setup();
  const s = await ModelSession.open(MODEL);
  try {
    const cam = s.camLayer();
    assert.deepEqual(evaluateLayers(s, cam), ['input', 'block1_pool', 'block2_pool', 'block3_pool']);
    assert.deepEqual(evaluateLayers(s, 'block2_pool', ['block1_pool', s.graph.nodes[0].name]), ['block1_pool', 'input']);
    assert.throws(() => evaluateLayers(s, 'block2_pool', ['block3_conv1']), /"block3_conv1" cannot be scored: .*\(block2_pool\): input, .*block2_pool$/);
  } finally {
    s.dispose();
  }
});

test('evaluate on two worker threads gives the numbers of one thread', { skip: noModel }, () => {
  const dir = tmpDir();
  const folder = path.join(dir, 'imgs');
  fs.mkdirSync(folder);
  for (const f of ['ankle-boot-0.png', 'bag-18.png', 'dress-13.png']) fs.copyFileSync(path.join(SAMPLES, f), path.join(folder, f));
  try {
    const args = ['evaluate', folder, '--model', MODEL, '--methods', 'fgcam-gradcam,gradcam,random', '--layer', 'input', '--layer', 'block2_pool', '--steps', '0.05', '--json'];
    const two = fgcam(...args, '--jobs', '2');
    assert.equal(two.code, 0, two.err);
    assert.match(two.err, /2 worker threads/);
    const one = fgcam(...args, '--jobs', '1', '--force');
    assert.equal(one.code, 0, one.err);
    const [a, b] = [JSON.parse(two.out), JSON.parse(one.out)];
    assert.equal(a.images.length, 3);
    assert.deepEqual(a.images.map((i: { image: string }) => i.image), b.images.map((i: { image: string }) => i.image));
    for (let i = 0; i < 3; i++) {
      assert.equal(a.images[i].scores.length, 4); // fgcam-gradcam and random at the input, fgcam-gradcam and gradcam at block2_pool
      for (let k = 0; k < a.images[i].scores.length; k++) {
        const [x, y] = [a.images[i].scores[k], b.images[i].scores[k]];
        assert.equal(x.method + x.layer, y.method + y.layer);
        assert.ok(Math.abs(x.deletionAuc - y.deletionAuc) < 1e-6 && Math.abs(x.insertionAuc - y.insertionAuc) < 1e-6, `${x.method} at ${x.layer}`);
      }
    }
    assert.ok(fs.existsSync(`${folder}.fgcam-eval.md`) && fs.existsSync(`${folder}.fgcam-eval.block2_pool.png`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
