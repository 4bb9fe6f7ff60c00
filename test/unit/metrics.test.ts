// Faithfulness metrics: deletion/insertion on a linear model answered by hand, AUC arithmetic,
// Average Drop / Increase in Confidence, blur, statistics, plots, no tensor leaks.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf } from '../reference/tfjs';
import { asWeight, GraphBuilder, randomInput, rng, randn, tinyVgg } from '../helpers/graphs';
import { setup } from '../helpers/backend';
import type { Graph } from '../../src/engine/model/graph';
import {
  auc,
  averageDrop,
  confidencePair,
  curveInputs,
  deletionInsertion,
  gaussianBlur,
  increaseInConfidence,
  mapAtInput,
  meanCI,
  meanCurve,
  parseMethod,
  pixelsPerStepFor,
  plotCurves,
  relevanceOrder,
  scoreImage,
  DEFAULT_METHODS,
} from '../../src/engine/metrics';
import { encodePng } from '../../src/engine/image/encode';
import { mapAtSize } from '../../src/engine/image/render';

before(setup);

// A 1x4 one-channel "image" -> flatten -> dense 4 -> 2, no bias: logits are W^T x.
const W = [
  [1, 0], // pixel 0: [class 0, class 1]
  [-1, 1],
  [0.5, 1],
  [2, -1],
];
function linearNet(): Graph {
  const b = new GraphBuilder([1, 4, 1]);
  const f = b.add('flatten', { kind: 'flatten' }, ['in']);
  const d = b.add('logits', { kind: 'dense', weight: asWeight(tf.tensor2d(W)) }, [f], { fn: 'softmax' });
  return b.build(d);
}
/** p(class 0) for the linear net, by hand. */
function p0(x: number[]): number {
  const z0 = x.reduce((s, v, i) => s + v * W[i][0], 0);
  const z1 = x.reduce((s, v, i) => s + v * W[i][1], 0);
  return 1 / (1 + Math.exp(z1 - z0));
}
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

describe('deletion and insertion', () => {
  const x = [1, 2, 3, 4];
  const map = { height: 1, width: 4, raw: Float32Array.from([0.1, 0.9, -0.3, 0.5]) }; // order 1, 3, 0, 2

  it('orders pixels by relevance, ties by index, NaN last', () => {
    assert.deepEqual(Array.from(relevanceOrder(map.raw)), [1, 3, 0, 2]);
    assert.deepEqual(Array.from(relevanceOrder(Float32Array.from([0, NaN, 1, 0, 1]))), [2, 4, 0, 3, 1]);
  });

  it('resizes a layer map bilinearly to the input before ordering', () => {
    const small = { height: 1, width: 2, raw: Float32Array.from([0, 1]) };
    close(mapAtInput(small, 1, 4), [0, 0.25, 0.75, 1]);
    assert.deepEqual(Array.from(relevanceOrder(mapAtInput(small, 1, 4))), [3, 2, 1, 0]);
  });

  it('deletion zeroes the most relevant pixels first: probabilities as computed by hand', async () => {
    const g = linearNet();
    const r = await deletionInsertion(g, Float32Array.from(x), map, { classIndex: 0, step: 0.25, blur: { sigma: 0, radius: 0 } });
    assert.equal(r.pixelsPerStep, 1);
    const want = [p0([1, 2, 3, 4]), p0([1, 0, 3, 4]), p0([1, 0, 3, 0]), p0([0, 0, 3, 0]), p0([0, 0, 0, 0])];
    close(r.deletion, want);
    // no blur: insertion starts at the original input and never changes
    close(r.insertion, new Array(5).fill(p0(x)));
    const trap = (v: number[]) => (v[0] / 2 + v[1] + v[2] + v[3] + v[4] / 2) / 4;
    assert.ok(Math.abs(r.deletionAuc - trap(want)) < 1e-6);
  });

  it('insertion starts from the blurred copy and puts the most relevant originals back first', async () => {
    const g = linearNet();
    // sigma -> infinity with radius 1: a box filter over 3 taps, edges clamped. One row: the
    // vertical pass sees the same row three times and changes nothing.
    const blurred = [(1 + 1 + 2) / 3, (1 + 2 + 3) / 3, (2 + 3 + 4) / 3, (3 + 4 + 4) / 3];
    close(gaussianBlur(Float32Array.from(x), 1, 4, 1, { sigma: 1e9, radius: 1 }), blurred);
    const r = await deletionInsertion(g, Float32Array.from(x), map, { classIndex: 0, step: 0.5, blur: { sigma: 1e9, radius: 1 } });
    assert.equal(r.pixelsPerStep, 2);
    const [b0, , b2] = blurred;
    const want = [p0(blurred), p0([b0, 2, b2, 4]), p0(x)];
    close(r.insertion, want);
    assert.ok(Math.abs(r.insertionAuc - (want[0] / 2 + want[1] + want[2] / 2) / 2) < 1e-6);
    close(r.deletion, [p0(x), p0([1, 0, 3, 0]), p0([0, 0, 0, 0])]);
  });

  it('a partial last step: ceil(pixels / step) steps, the last one takes the rest', () => {
    assert.equal(pixelsPerStepFor(10, 0.25), 3); // round(2.5)
    const order = Int32Array.from([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const all = curveInputs(new Float32Array(10).fill(1), 0, order, 1, 3);
    assert.equal(all.length, 5 * 10);
    const zeros = (k: number) => all.subarray(k * 10, (k + 1) * 10).filter((v) => v === 0).length;
    assert.deepEqual([0, 1, 2, 3, 4].map(zeros), [0, 3, 6, 9, 10]);
    assert.throws(() => pixelsPerStepFor(10, 0), /fraction/);
    assert.throws(() => pixelsPerStepFor(10, 1.5), /fraction/);
  });

  it('the batch size does not change the curves (tinyVgg, a layer map)', async () => {
    const g = tinyVgg();
    const xv = randomInput(g);
    const m = { height: 4, width: 4, raw: randn(rng(3), 16) };
    const a = await deletionInsertion(g, xv, m, { classIndex: 2, step: 0.05, batch: 1 });
    const b = await deletionInsertion(g, xv, m, { classIndex: 2, step: 0.05, batch: 7 });
    assert.equal(a.deletion.length, Math.ceil(256 / 13) + 1);
    close(a.deletion, b.deletion, 1e-5);
    close(a.insertion, b.insertion, 1e-5);
    // the ends: deletion ends at the all-zero input, insertion at the original
    const ends = await deletionInsertion(g, xv, m, { classIndex: 2, step: 1 });
    close([ends.deletion[0], ends.insertion[1]], [a.deletion[0], a.deletion[0]], 1e-5);
  });
});

describe('areas', () => {
  it('trapezoid over [0, 1]: the mean with the end points counted half', () => {
    assert.equal(auc([1, 1, 1]), 1);
    assert.equal(auc([1, 0]), 0.5);
    assert.equal(auc([0, 1, 0]), 0.5);
    assert.ok(Math.abs(auc([0.2, 0.4, 0.6, 0.8]) - 0.5) < 1e-12);
    assert.ok(Math.abs(auc([1, 0, 0, 0, 0]) - 0.125) < 1e-12);
    assert.equal(auc([0.3]), 0.3);
  });
});

describe('Average Drop and Increase in Confidence', () => {
  it('hand cases', () => {
    const pairs = [
      { full: 0.8, masked: 0.4 }, // drop 0.5
      { full: 0.5, masked: 0.6 }, // increase
      { full: 0.9, masked: 0.9 }, // neither
    ];
    assert.ok(Math.abs(averageDrop(pairs) - 100 / 6) < 1e-9);
    assert.ok(Math.abs(increaseInConfidence(pairs) - 100 / 3) < 1e-9);
    assert.ok(Number.isNaN(averageDrop([])));
  });
  it('the map is a soft mask: ReLU, min-max to [0, 1], times the input', async () => {
    const g = linearNet();
    const map = { height: 1, width: 4, raw: Float32Array.from([0.1, 0.9, -0.3, 0.5]) };
    close(mapAtSize(map, 4, 1), [1 / 9, 1, 0, 5 / 9]);
    const pr = await confidencePair(g, Float32Array.from([1, 2, 3, 4]), map, 0);
    assert.ok(Math.abs(pr.full - p0([1, 2, 3, 4])) < 1e-6);
    assert.ok(Math.abs(pr.masked - p0([1 / 9, 2, 0, 20 / 9])) < 1e-6);
    // a constant map masks everything
    close(mapAtSize({ height: 1, width: 2, raw: Float32Array.from([3, 3]) }, 4, 1), [0, 0, 0, 0]);
    const pc = await confidencePair(g, Float32Array.from([1, 2, 3, 4]), { height: 1, width: 2, raw: Float32Array.from([3, 3]) }, 0);
    assert.ok(Math.abs(pc.masked - p0([0, 0, 0, 0])) < 1e-6);
  });
});

describe('blur', () => {
  it('keeps a constant image and equals the 2-D convolution with clamped edges', () => {
    const h = 5, w = 6, c = 2;
    close(gaussianBlur(new Float32Array(h * w * c).fill(0.7), h, w, c, { sigma: 2, radius: 3 }), new Array(h * w * c).fill(0.7), 1e-6);
    const src = randn(rng(5), h * w * c);
    const sigma = 1.3, r = 2;
    const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
    const ks = k.reduce((a, b) => a + b);
    const cl = (v: number, n: number) => Math.min(Math.max(v, 0), n - 1);
    const want: number[] = [];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) s += (k[dy + r] * k[dx + r] / (ks * ks)) * src[(cl(y + dy, h) * w + cl(x + dx, w)) * c + ch];
      want.push(s);
    }
    close(gaussianBlur(src, h, w, c, { sigma, radius: r }), want, 1e-5);
  });
});

describe('statistics and plots', () => {
  it('mean with a 95% t interval', () => {
    const m = meanCI([1, 2, 3]);
    assert.equal(m.mean, 2);
    assert.ok(Math.abs(m.half - 4.303 / Math.sqrt(3)) < 1e-9);
    assert.ok(Number.isNaN(meanCI([5]).half));
    close(meanCurve([[0, 1], [1, 1]]), [0.5, 1]);
  });
  it('plots lines in the series colours and encodes as PNG', () => {
    const img = plotCurves([{ label: 'a-1', color: [255, 0, 0], values: [1, 0.5, 0] }, { label: 'b', color: [0, 0, 255], values: [0, 1] }], { title: 'deletion' });
    assert.equal(img.data.length, img.width * img.height * 4);
    const count = (r: number, g: number, b: number) => {
      let n = 0;
      for (let i = 0; i < img.data.length; i += 4) if (img.data[i] === r && img.data[i + 1] === g && img.data[i + 2] === b) n++;
      return n;
    };
    assert.ok(count(255, 0, 0) > 300 && count(0, 0, 255) > 300);
    assert.equal(encodePng(img).subarray(1, 4).toString(), 'PNG');
  });
});

describe('method comparison', () => {
  it('parses method ids', () => {
    assert.deepEqual(parseMethod('fgcam-gradcam-denoised'), { id: 'fgcam-gradcam-denoised', kind: 'fgcam', base: 'gradcam', denoise: true });
    assert.deepEqual(parseMethod('fgcam-scorecam'), { id: 'fgcam-scorecam', kind: 'fgcam', base: 'scorecam', denoise: false });
    assert.equal(parseMethod('layercam').kind, 'cam');
    assert.throws(() => parseMethod('gradcam-denoised'), /unknown method/);
  });
  it('scores every method at every layer it has a map for, and leaks no tensors', async () => {
    const g = tinyVgg();
    const x = randomInput(g);
    const methods = [...DEFAULT_METHODS, 'random'].map(parseMethod);
    const layers = ['input', 'b1_pool', 'b3_pool'];
    await scoreImage(g, x, methods, layers, { step: 0.1 }); // warm caches
    const start = tf.memory().numTensors;
    const r = await scoreImage(g, x, methods, layers, { step: 0.1 });
    assert.equal(tf.memory().numTensors, start);
    const has = (m: string, l: string) => r.scores.some((s) => s.method === m && s.layer === l);
    for (const l of layers) for (const m of ['fgcam-gradcam', 'fgcam-gradcam-denoised', 'fgcam-scorecam', 'lrp']) assert.ok(has(m, l), `${m}@${l}`);
    for (const m of ['gradcam', 'gradcampp', 'xgradcam', 'layercam', 'scorecam']) {
      assert.ok(has(m, 'b1_pool') && has(m, 'b3_pool') && !has(m, 'input'), m);
    }
    assert.ok(has('random', 'input') && !has('random', 'b1_pool'));
    for (const s of r.scores) {
      assert.ok(s.deletion.every((p) => p >= 0 && p <= 1) && Number.isFinite(s.insertionAuc), `${s.method}@${s.layer}`);
      assert.ok(Math.abs(s.deletion[0] - r.prob) < 1e-5 && Math.abs(s.insertion[s.insertion.length - 1] - r.prob) < 1e-5);
      assert.equal(s.full, r.prob);
    }
    // the base CAM at the CAM layer is FG-CAM's map there: the same scores
    const at = (m: string) => r.scores.find((s) => s.method === m && s.layer === 'b3_pool')!;
    assert.equal(at('gradcam').deletionAuc, at('fgcam-gradcam').deletionAuc);
  });
});
