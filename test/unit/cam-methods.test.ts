// Comparison CAM methods against independent plain-JS computations from the gradient, and
// LRP from the logit: a hand case, conservation on bias-free nets, no tensor leaks.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf } from '../reference/tfjs';
import { GraphBuilder, randomInput, randTensor, randWeight, rng, tinyVgg } from '../helpers/graphs';
import { maxRelErr, onCpu, setup, sum } from '../helpers/backend';
import { components, gradientAt } from '../reference/components';
import { lrp, lrpHead } from '../reference/methods';
import { RULES } from '../reference/rules';
import { runForward, disposeForward } from '../reference/forward';
import { detectCamLayer, explain, listLayers } from '../../src/engine/explain';
import { weight, type Graph } from '../../src/engine/model/graph';
import type { BaseMethod } from '../../src/engine/types';

before(setup);

interface Ref {
  acts: Float32Array;
  grads: Float32Array;
  logit: number;
  h: number;
  w: number;
  k: number;
}

/** A, ∂y_c/∂A and y_c at `layer`, computed on the cpu backend. */
async function reference(g: Graph, xData: Float32Array, layer: string, c: number): Promise<Ref> {
  return onCpu(() =>
    tf.tidy(() => {
      const x = tf.tensor4d(xData, [1, ...g.inputShape]);
      const fwd = runForward(g, x, true);
      const a = fwd.acts.get(layer)!;
      const gr = gradientAt(g, fwd.acts, x, layer, c);
      const [, h, w, k] = a.shape;
      return { acts: a.dataSync() as Float32Array, grads: gr.dataSync() as Float32Array, logit: fwd.logits.dataSync()[c], h: h!, w: w!, k: k! };
    }),
  );
}

/** Components from the engine (default backend). */
function engineComponents(g: Graph, xData: Float32Array, base: BaseMethod, layer: string, c: number): Float32Array {
  const x = tf.tensor4d(xData, [1, ...g.inputShape]);
  const fwd = runForward(g, x, true);
  const e = components(base, { g, acts: fwd.acts, x, c, scoreBatch: 4 }, layer);
  const out = e.dataSync() as Float32Array;
  e.dispose();
  disposeForward(fwd, [x]);
  x.dispose();
  return Float32Array.from(out);
}

const at = (r: Ref, i: number, j: number, k: number) => (i * r.w + j) * r.k + k;

/** Grad-CAM++ as in the paper, with Y = exp(y_c): ∂Y/∂A = e^y g, ∂²Y = e^y g², ∂³Y = e^y g³. */
function gradcamppByHand(r: Ref): Float32Array {
  const E = new Float32Array(r.acts.length);
  const ey = Math.exp(r.logit);
  for (let k = 0; k < r.k; k++) {
    let sumA = 0;
    for (let i = 0; i < r.h; i++) for (let j = 0; j < r.w; j++) sumA += r.acts[at(r, i, j, k)];
    let wk = 0;
    for (let i = 0; i < r.h; i++) {
      for (let j = 0; j < r.w; j++) {
        const g = r.grads[at(r, i, j, k)];
        const d2 = ey * g * g;
        const d3 = ey * g * g * g;
        const den = 2 * d2 + sumA * d3;
        const alpha = g !== 0 && den !== 0 ? d2 / den : 0;
        wk += alpha * Math.max(ey * g, 0);
      }
    }
    for (let i = 0; i < r.h; i++) for (let j = 0; j < r.w; j++) E[at(r, i, j, k)] = wk * r.acts[at(r, i, j, k)];
  }
  return E;
}

function xgradcamByHand(r: Ref): Float32Array {
  const E = new Float32Array(r.acts.length);
  for (let k = 0; k < r.k; k++) {
    let sumA = 0;
    for (let i = 0; i < r.h; i++) for (let j = 0; j < r.w; j++) sumA += r.acts[at(r, i, j, k)];
    let wk = 0;
    if (sumA !== 0) for (let i = 0; i < r.h; i++) for (let j = 0; j < r.w; j++) wk += (r.acts[at(r, i, j, k)] / sumA) * r.grads[at(r, i, j, k)];
    for (let i = 0; i < r.h; i++) for (let j = 0; j < r.w; j++) E[at(r, i, j, k)] = wk * r.acts[at(r, i, j, k)];
  }
  return E;
}

const layercamByHand = (r: Ref) => Float32Array.from(r.acts, (a, n) => Math.max(r.grads[n], 0) * a);

describe('Grad-CAM++, XGrad-CAM, LayerCAM on tinyVgg', () => {
  const g = tinyVgg(4, 16, [4, 8, 8]);
  const x = randomInput(g, 11);
  for (const layer of ['b3_pool', 'b2_relu2', 'b1_pool']) {
    it(`match plain-JS computations from the gradient at ${layer}`, async () => {
      const c = 3;
      const r = await reference(g, x, layer, c);
      assert.ok(r.grads.some((v) => v !== 0), 'the gradient is not all zero');
      // Grad-CAM++: the engine leaves out the channel-independent factor e^{y_c}.
      const pp = Float32Array.from(engineComponents(g, x, 'gradcampp', layer, c), (v) => v * Math.exp(r.logit));
      const ppRef = gradcamppByHand(r);
      assert.ok(ppRef.some((v) => v !== 0));
      assert.ok(maxRelErr(pp, ppRef) < 1e-4, `gradcampp ${maxRelErr(pp, ppRef)}`);
      const xg = engineComponents(g, x, 'xgradcam', layer, c);
      assert.ok(maxRelErr(xg, xgradcamByHand(r)) < 1e-4, `xgradcam ${maxRelErr(xg, xgradcamByHand(r))}`);
      const lc = engineComponents(g, x, 'layercam', layer, c);
      assert.ok(maxRelErr(lc, layercamByHand(r)) < 1e-4, `layercam ${maxRelErr(lc, layercamByHand(r))}`);
      // and they are different methods
      assert.ok(maxRelErr(xg, layercamByHand(r)) > 1e-3);
    });
  }
  it('work as FG-CAM bases too, and leak no tensors', async () => {
    await explain(g, x, { base: 'layercam', denoise: false });
    const start = tf.memory().numTensors;
    for (const base of ['gradcampp', 'xgradcam', 'layercam'] as const) {
      const ex = await explain(g, x, { base, denoise: base === 'xgradcam', baseCamLayers: ['b1_pool'] });
      assert.ok(ex.maps.input.raw.every(Number.isFinite) && ex.baseMaps.b1_pool.raw.some((v) => v !== 0), base);
    }
    assert.equal(tf.memory().numTensors, start);
  });
});

/** conv (no bias) - relu - pool - conv - relu - pool - flatten - dense - relu - dense, no biases anywhere. */
function biasFreeVgg(seed: number, gap = false): Graph {
  const b = new GraphBuilder([12, 12, 3], seed);
  b.noBias = true;
  const r = rng(seed + 100);
  let cur = b.conv('c1', 'in', 3, 6, 3, { act: { fn: 'relu' } });
  cur = b.add('p1', { kind: 'maxpool', size: [2, 2], strides: [2, 2], padding: 'valid' }, [cur]);
  cur = b.conv('c2', cur, 6, 8, 3, { act: { fn: 'relu' } });
  cur = b.add('p2', { kind: 'maxpool', size: [2, 2], strides: [2, 2], padding: 'valid' }, [cur]);
  const n = gap ? 8 : 3 * 3 * 8;
  cur = gap ? b.add('gap', { kind: 'globalavgpool', keepDims: false }, [cur]) : b.add('flat', { kind: 'flatten' }, [cur]);
  cur = b.add('fc1', { kind: 'dense', weight: randWeight(r, [n, 10], Math.sqrt(2 / n)) }, [cur], { fn: 'relu' });
  cur = b.add('fc2', { kind: 'dense', weight: randWeight(r, [10, 4], Math.sqrt(0.2)) }, [cur]);
  cur = b.add('prob', { kind: 'activation' }, [cur], { fn: 'softmax' });
  return b.build(cur);
}

function runLrp(g: Graph, xData: Float32Array, c: number, camLayer = detectCamLayer(g)) {
  const x = tf.tensor4d(xData, [1, ...g.inputShape]);
  const fwd = runForward(g, x, true);
  const y = fwd.logits.dataSync()[c];
  const maps = lrp(g, fwd.acts, fwd.logits, x, camLayer, c);
  disposeForward(fwd, [x]);
  x.dispose();
  return { y, maps };
}

describe('LRP from the logit', () => {
  it('a hand case: z+ through the dense head, zβ at the input', () => {
    // in [1,2,1] -> 1x1 conv (weight 1) -> flatten -> dense [[1,-1],[2,1]], no biases.
    const b = new GraphBuilder([1, 2, 1]);
    const conv = b.add('conv', { kind: 'conv', weight: weight(Float32Array.of(1), [1, 1, 1, 1]), strides: [1, 1], dilations: [1, 1], padding: 'valid', groups: 1 }, ['in']);
    const flat = b.add('flat', { kind: 'flatten' }, [conv]);
    const g = b.build(b.add('fc', { kind: 'dense', weight: weight(Float32Array.of(1, -1, 2, 1), [2, 2]) }, [flat]));
    assert.equal(detectCamLayer(g), 'conv');
    const xv = Float32Array.from([-1, 3]);
    // y0 = -1·1 + 3·2 = 5. z+: X⁺ = [0, 3], W⁺ = [1, 2]: Z = 6, R = [0, 3·2·5/6] = [0, 5].
    // zβ (l = -1, h = 3, W = 1): Z = x − l = [0, 4], R_in = (x − l) ⊙ R ⊘ Z = [0, 5].
    const { y, maps } = runLrp(g, xv, 0);
    assert.equal(y, 5);
    assert.deepEqual(Array.from(maps.conv.raw), [0, 5]);
    assert.deepEqual(Array.from(maps.input.raw), [0, 5]);
  });

  for (const gap of [false, true]) {
    it(`conserves y_c at every layer of a bias-free net (${gap ? 'GAP' : 'flatten'} head)`, () => {
      const g = biasFreeVgg(gap ? 12 : 7, gap);
      const xv = randomInput(g, 5);
      const spatial = listLayers(g).filter((l) => l.spatial).map((l) => l.name);
      // z+ drops relevance where a denominator Σ X⁺W⁺ is 0: a logit made of negative
      // contributions only (y_c < 0) can lose all of it. For y_c > 0 the top denominator is
      // at least y_c (X ≥ 0 after ReLU), so these classes must conserve.
      let checked = 0;
      for (const c of [0, 1, 2, 3]) {
        const { y, maps } = runLrp(g, xv, c);
        if (y <= 1e-3) continue;
        checked++;
        assert.deepEqual(Object.keys(maps).sort(), spatial.sort());
        for (const [layer, m] of Object.entries(maps)) {
          assert.ok(Math.abs(sum(m.raw) - y) < 1e-4 * Math.max(1, Math.abs(y)), `class ${c} ${layer}: ${sum(m.raw)} vs y_c ${y}`);
        }
      }
      assert.ok(checked >= 2, `${checked} classes with y_c > 0`);
    });
  }

  it('starts from a lower CAM layer too, and the head relevance sums to y_c', () => {
    const g = biasFreeVgg(9);
    const xv = randomInput(g, 6);
    const x = tf.tensor4d(xv, [1, ...g.inputShape]);
    const fwd = runForward(g, x, true);
    const r = lrpHead(g, fwd.acts, fwd.logits, 'p2', 1);
    const y = fwd.logits.dataSync()[1];
    assert.ok(Math.abs(sum(r.dataSync()) - y) < 1e-4 * Math.max(1, Math.abs(y)));
    r.dispose();
    const low = lrp(g, fwd.acts, fwd.logits, x, 'c2', 1); // the relevance comes down through p2's rule
    assert.ok(Math.abs(sum(low.input.raw) - y) < 1e-4 * Math.max(1, Math.abs(y)));
    disposeForward(fwd, [x]);
    x.dispose();
  });

  it('leaves FG-CAM alone: its walk still refuses dense layers', () => {
    assert.throws(() => RULES.dense({ node: { name: 'fc', className: 'Dense' } } as never), /Cannot carry relevance/);
  });

  it('leaks no tensors', () => {
    const g = tinyVgg();
    const xv = randomInput(g);
    runLrp(g, xv, 0);
    const start = tf.memory().numTensors;
    for (let c = 0; c < 5; c++) {
      const { maps } = runLrp(g, xv, c);
      assert.ok(maps.input.raw.every(Number.isFinite));
    }
    assert.equal(tf.memory().numTensors, start);
  });
});
