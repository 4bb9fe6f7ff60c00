// Each rule against an independent computation, and conservation per rule.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf } from '../reference/tfjs';
import { asWeight, GraphBuilder, randTensor, rng } from '../helpers/graphs';
import { maxRelErr, onCpu, setup, sum } from '../helpers/backend';
import { ConvNode, convAdjoint, kernel } from '../reference/linear';
import { RULES } from '../reference/rules';
import { routeToMax } from '../reference/window';
import { padsOf, tensorOf } from '../reference/forward';
import { weight, type GraphNode } from '../../src/engine/model/graph';

before(setup);

type ConvCase = { name: string; h: number; w: number; cin: number; cout: number; k: number; strides?: number; padding?: 'same' | 'valid' | [number, number, number, number]; dilation?: number; groups?: number; depthwise?: number };

const CASES: ConvCase[] = [
  { name: '3x3 same', h: 7, w: 6, cin: 3, cout: 4, k: 3 },
  { name: '3x3 valid stride 2', h: 9, w: 8, cin: 2, cout: 3, k: 3, strides: 2, padding: 'valid' },
  { name: 'TF same stride 2, even size (asymmetric pad)', h: 8, w: 8, cin: 3, cout: 2, k: 3, strides: 2 },
  { name: '7x7 stride 2 same', h: 12, w: 10, cin: 3, cout: 2, k: 7, strides: 2 },
  { name: 'explicit pads', h: 6, w: 7, cin: 2, cout: 3, k: 3, padding: [2, 0, 1, 3] },
  { name: 'dilation 2', h: 9, w: 9, cin: 2, cout: 2, k: 3, dilation: 2 },
  { name: 'grouped', h: 6, w: 6, cin: 4, cout: 6, k: 3, groups: 2 },
  { name: 'depthwise', h: 6, w: 5, cin: 3, cout: 3, k: 3, depthwise: 1 },
  { name: 'depthwise x2 stride 2', h: 8, w: 7, cin: 3, cout: 6, k: 3, depthwise: 2, strides: 2 },
  { name: '1x1 stride 2', h: 7, w: 7, cin: 3, cout: 4, k: 1, strides: 2 },
];

function convNode(c: ConvCase, seed: number): ConvNode {
  const b = new GraphBuilder([c.h, c.w, c.cin], seed);
  if (c.depthwise) b.depthwise('n', 'in', c.cin, c.depthwise, c.k, c.strides ?? 1, c.padding ?? 'same');
  else b.conv('n', 'in', c.cin, c.cout, c.k, { strides: c.strides, padding: c.padding, dilation: c.dilation, groups: c.groups });
  return b.nodes[1] as ConvNode;
}

function forwardOf(n: ConvNode, x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const op = n.op;
  const p = padsOf(op, x, [w.shape[0], w.shape[1]]);
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [p[0], p[1]], [p[2], p[3]], [0, 0]];
  if (op.kind === 'depthwise') return tf.depthwiseConv2d(x, w, op.strides, pad, 'NHWC', op.dilations);
  const g = op.groups;
  if (g === 1) return tf.conv2d(x, w, op.strides, pad, 'NHWC', op.dilations);
  const xs = tf.split(x, g, 3);
  const ws = tf.split(w, g, 3);
  return tf.concat(xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, ws[i] as tf.Tensor4D, op.strides, pad, 'NHWC', op.dilations)), 3) as tf.Tensor4D;
}

describe('convᵀ (flipped-kernel conv2d) equals the cpu autograd gradient of the conv', () => {
  CASES.forEach((c, i) => {
    it(c.name, async () => {
      const n = convNode(c, 10 + i);
      const r = rng(100 + i);
      const x = randTensor(r, [1, c.h, c.w, c.cin]) as tf.Tensor4D;
      const yShape = forwardOf(n, x, tensorOf(n.op.weight)).shape;
      const s = randTensor(r, yShape) as tf.Tensor4D;
      const ours = convAdjoint(n, s, kernel(n, 'all'), x.shape).dataSync();
      // cpu autograd has no dilated-conv gradient: spell the dilation out as zeros in the kernel.
      const ref = await onCpu(() => {
        const d = n.op.dilations[0];
        const w = d === 1 ? tensorOf<tf.Tensor4D>(n.op.weight) : tf.slice(tf.reshape(tf.pad(tf.reshape(tensorOf(n.op.weight), [c.k, 1, c.k, 1, -1]), [[0, 0], [0, d - 1], [0, 0], [0, d - 1], [0, 0]]), [c.k * d, c.k * d, c.cin, c.cout]), [0, 0, 0, 0], [d * (c.k - 1) + 1, d * (c.k - 1) + 1, -1, -1]) as tf.Tensor4D;
        const plain = { ...n, op: { ...n.op, weight: asWeight(w), dilations: [1, 1] as [number, number] } } as ConvNode;
        const p = padsOf(n.op, x, [c.k, c.k]);
        plain.op.padding = p;
        return tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(forwardOf(plain, xx as tf.Tensor4D, w), s)))(x).dataSync();
      });
      assert.ok(maxRelErr(ours, ref) < 1e-5, `max rel err ${maxRelErr(ours, ref)}`);
    });
  });
});

// ---- plain-loop JS reference of the z+ / zβ rules (regular convs, groups = 1) ----
interface Arr { d: Float64Array; h: number; w: number; c: number }
function arr(t: tf.Tensor): Arr {
  const [, h, w, c] = t.shape as number[];
  return { d: Float64Array.from(t.dataSync()), h, w, c };
}
function loopConv(x: Arr, wt: Float64Array, k: number, cout: number, s: number, pads: number[], ho: number, wo: number) {
  const y = new Float64Array(ho * wo * cout);
  const at = (i: number, j: number, ci: number) => (i < 0 || j < 0 || i >= x.h || j >= x.w ? 0 : x.d[(i * x.w + j) * x.c + ci]);
  for (let oi = 0; oi < ho; oi++) for (let oj = 0; oj < wo; oj++) for (let co = 0; co < cout; co++) {
    let acc = 0;
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) for (let ci = 0; ci < x.c; ci++) {
      acc += at(oi * s + a - pads[0], oj * s + b - pads[2], ci) * wt[((a * k + b) * x.c + ci) * cout + co];
    }
    y[(oi * wo + oj) * cout + co] = acc;
  }
  return y;
}
function loopAdjoint(sv: Float64Array, xh: number, xw: number, cin: number, wt: Float64Array, k: number, cout: number, s: number, pads: number[], ho: number, wo: number) {
  const g = new Float64Array(xh * xw * cin);
  for (let oi = 0; oi < ho; oi++) for (let oj = 0; oj < wo; oj++) for (let co = 0; co < cout; co++) {
    const v = sv[(oi * wo + oj) * cout + co];
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
      const i = oi * s + a - pads[0];
      const j = oj * s + b - pads[2];
      if (i < 0 || j < 0 || i >= xh || j >= xw) continue;
      for (let ci = 0; ci < cin; ci++) g[(i * xw + j) * cin + ci] += v * wt[((a * k + b) * cin + ci) * cout + co];
    }
  }
  return g;
}

function loopRule(x: Arr, wt: Float64Array, k: number, cout: number, s: number, pads: number[], ho: number, wo: number, r: Float64Array, zbeta: boolean) {
  const pos = wt.map((v) => Math.max(v, 0));
  const neg = wt.map((v) => Math.min(v, 0));
  const part = (sign: number) => ({ ...x, d: x.d.map((v) => (sign > 0 ? Math.max(v, 0) : Math.min(v, 0))) });
  const fill = (v: number) => ({ ...x, d: x.d.map(() => v) });
  const terms: Array<[Arr, Float64Array, number]> = zbeta
    ? [[x, wt, 1], [fill(Math.min(...x.d)), pos, -1], [fill(Math.max(...x.d)), neg, -1]]
    : [[part(1), pos, 1], [part(-1), neg, 1]];
  const z = new Float64Array(ho * wo * cout);
  for (const [xa, w, sg] of terms) loopConv(xa, w, k, cout, s, pads, ho, wo).forEach((v, i) => (z[i] += sg * v));
  const sv = r.map((v, i) => (z[i] === 0 ? 0 : v / z[i]));
  const out = new Float64Array(x.d.length);
  for (const [xa, w, sg] of terms) {
    const g = loopAdjoint(sv, x.h, x.w, x.c, w, k, cout, s, pads, ho, wo);
    g.forEach((v, i) => (out[i] += sg * xa.d[i] * v));
  }
  return out;
}

describe('conv rules against plain loops', () => {
  for (const zbeta of [false, true]) {
    for (const c of CASES.filter((cc) => !cc.groups && !cc.depthwise && !cc.dilation)) {
      it(`${zbeta ? 'zβ' : 'z+'}: ${c.name}`, () => {
        const n = convNode(c, 3);
        const r = rng(5);
        const x = randTensor(r, [1, c.h, c.w, c.cin]) as tf.Tensor4D;
        const y = forwardOf(n, x, tensorOf(n.op.weight));
        const rOut = randTensor(r, y.shape);
        const [, ho, wo] = y.shape;
        const pads = padsOf(n.op, x, [c.k, c.k]);
        const low = tf.fill(x.shape, tf.min(x).dataSync()[0]) as tf.Tensor4D;
        const high = tf.fill(x.shape, tf.max(x).dataSync()[0]) as tf.Tensor4D;
        const [rin] = RULES.conv({ node: n, rOut, ins: [x], producers: [], bounds: zbeta ? { low, high } : undefined });
        const ref = loopRule(arr(x), Float64Array.from(tensorOf(n.op.weight).dataSync()), c.k, c.cout, c.strides ?? 1, pads, ho, wo, Float64Array.from(rOut.dataSync()), zbeta);
        assert.ok(maxRelErr(rin!.dataSync(), ref) < 1e-4, `max rel err ${maxRelErr(rin!.dataSync(), ref)}`);
      });
    }
  }
});

describe('max-pool routing against plain loops (first max wins ties, as PyTorch)', () => {
  const cases: Array<[string, number, number, [number, number, number, number]]> = [
    ['2x2/2', 2, 2, [0, 0, 0, 0]],
    ['3x3/2 overlapping, padded', 3, 2, [1, 1, 1, 1]],
    ['3x3/1', 3, 1, [0, 0, 0, 0]],
  ];
  for (const [name, k, s, pads] of cases) {
    it(name, () => {
      const r = rng(9);
      // Quantised values make ties common; include non-positive windows.
      const h = 7;
      const w = 6;
      const c = 2;
      const xd = Float32Array.from({ length: h * w * c }, () => Math.round(r() * 4) - 2);
      const x = tf.tensor4d(xd, [1, h, w, c]);
      const ho = Math.floor((h + pads[0] + pads[1] - k) / s) + 1;
      const wo = Math.floor((w + pads[2] + pads[3] - k) / s) + 1;
      const rd = Float32Array.from({ length: ho * wo * c }, () => r() - 0.3);
      const out = routeToMax(x, tf.tensor4d(rd, [1, ho, wo, c]), [k, k], [s, s], pads).dataSync();
      const ref = new Float64Array(h * w * c);
      for (let oi = 0; oi < ho; oi++) for (let oj = 0; oj < wo; oj++) for (let ch = 0; ch < c; ch++) {
        let best = -Infinity;
        let at = -1;
        for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
          const i = oi * s + a - pads[0];
          const j = oj * s + b - pads[2];
          if (i < 0 || j < 0 || i >= h || j >= w) continue;
          const v = xd[(i * w + j) * c + ch];
          if (v > best) {
            best = v;
            at = (i * w + j) * c + ch;
          }
        }
        ref[at] += rd[(oi * wo + oj) * c + ch];
      }
      assert.ok(maxRelErr(out, ref) < 1e-6);
    });
  }
});

/** Runs one rule on random data and checks sum(R_in) = sum(R_out). */
function conserves(node: GraphNode, ins: tf.Tensor[], rOut: tf.Tensor, bounds?: { low: tf.Tensor4D; high: tf.Tensor4D }) {
  const rIns = RULES[node.op.kind]({ node, rOut, ins, producers: ins.map(() => node), bounds });
  const total = rIns.reduce((a, t) => a + (t ? sum(t.dataSync()) : 0), 0);
  const expected = sum(rOut.dataSync());
  assert.ok(Math.abs(total - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `sum(R_in)=${total} sum(R_out)=${expected}`);
}

describe('conservation per rule', () => {
  const r = rng(21);
  const pos = (shape: number[]) => tf.add(tf.relu(randTensor(r, shape)), 1e-3);
  // Where a denominator is zero (an output whose window sees only padding, or no
  // same-signed pair) the relevance is dropped by definition: keep R_out off those.
  const live = (z: tf.Tensor, r0: tf.Tensor) => tf.where(tf.notEqual(z, 0), r0, tf.zerosLike(r0));
  const pn = (t: tf.Tensor, sign: number) => (sign > 0 ? tf.relu(t) : tf.neg(tf.relu(tf.neg(t))));
  for (const c of CASES) {
    it(`conv z+ (inputs of both signs): ${c.name}`, () => {
      const n = convNode(c, 4);
      const x = randTensor(r, [1, c.h, c.w, c.cin]) as tf.Tensor4D;
      const w = tensorOf<tf.Tensor4D>(n.op.weight);
      const z = tf.add(forwardOf(n, pn(x, 1) as tf.Tensor4D, pn(w, 1) as tf.Tensor4D), forwardOf(n, pn(x, -1) as tf.Tensor4D, pn(w, -1) as tf.Tensor4D));
      conserves(n, [x], live(z, tf.abs(randTensor(r, z.shape))));
    });
    it(`conv zβ: ${c.name}`, () => {
      const n = convNode(c, 4);
      const x = randTensor(r, [1, c.h, c.w, c.cin]) as tf.Tensor4D;
      const w = tensorOf<tf.Tensor4D>(n.op.weight);
      const low = tf.fill(x.shape, tf.min(x).dataSync()[0]) as tf.Tensor4D;
      const high = tf.fill(x.shape, tf.max(x).dataSync()[0]) as tf.Tensor4D;
      const z = tf.sub(tf.sub(forwardOf(n, x, w), forwardOf(n, low, pn(w, 1) as tf.Tensor4D)), forwardOf(n, high, pn(w, -1) as tf.Tensor4D));
      conserves(n, [x], live(z, randTensor(r, z.shape)), { low, high });
    });
  }
  const node = (op: GraphNode['op'], className = op.kind): GraphNode => ({ name: 'n', className, op, inputs: [], outputShape: [] });
  it('max-pool 2x2', () => {
    conserves(node({ kind: 'maxpool', size: [2, 2], strides: [2, 2], padding: 'valid' }), [pos([1, 6, 6, 3])], randTensor(r, [1, 3, 3, 3]));
  });
  it('max-pool 3x3 stride 2 same', () => {
    conserves(node({ kind: 'maxpool', size: [3, 3], strides: [2, 2], padding: 'same' }), [pos([1, 8, 8, 2])], randTensor(r, [1, 4, 4, 2]));
  });
  it('avg-pool 3x3 stride 2 explicit pads', () => {
    conserves(node({ kind: 'avgpool', size: [3, 3], strides: [2, 2], padding: [1, 1, 1, 1] }), [pos([1, 7, 7, 2])], randTensor(r, [1, 4, 4, 2]));
  });
  it('global average pool', () => {
    conserves(node({ kind: 'globalavgpool', keepDims: false }), [pos([1, 5, 4, 3])], randTensor(r, [1, 3]));
  });
  it('add (residual join)', () => {
    conserves(node({ kind: 'add' }), [pos([1, 4, 4, 3]), pos([1, 4, 4, 3])], randTensor(r, [1, 4, 4, 3]));
  });
  it('add with addends of both signs (all-negative positions split by the negative parts)', () => {
    const a = randTensor(r, [1, 4, 4, 3]);
    const b = randTensor(r, [1, 4, 4, 3]);
    const rOut = randTensor(r, [1, 4, 4, 3]);
    conserves(node({ kind: 'add' }), [a, b], rOut);
    // Independent loop: positive parts where any is positive, else negative parts.
    const [ra, rb] = RULES.add({ node: node({ kind: 'add' }), rOut, ins: [a, b], producers: [] });
    const ad = a.dataSync();
    const bd = b.dataSync();
    const rd = rOut.dataSync();
    const exp = Array.from(rd, (rv, i) => {
      const [p, q] = ad[i] > 0 || bd[i] > 0 ? [Math.max(ad[i], 0), Math.max(bd[i], 0)] : [ad[i], bd[i]];
      return (rv * p) / (p + q);
    });
    assert.ok(maxRelErr(ra!.dataSync(), exp) < 1e-5);
    assert.ok(maxRelErr(tf.add(ra!, rb!).dataSync(), rd) < 1e-5);
  });
  it('concat', () => {
    conserves(node({ kind: 'concat', axis: 3 }), [pos([1, 4, 4, 3]), pos([1, 4, 4, 5])], randTensor(r, [1, 4, 4, 8]));
  });
  it('zero padding', () => {
    conserves(node({ kind: 'pad', pads: [1, 2, 0, 3] }), [pos([1, 4, 4, 2])], tf.pad(randTensor(r, [1, 4, 4, 2]), [[0, 0], [1, 2], [0, 3], [0, 0]]));
  });
  it('cropping', () => {
    conserves(node({ kind: 'crop', crops: [1, 0, 2, 1] }), [pos([1, 5, 6, 2])], randTensor(r, [1, 4, 3, 2]));
  });
  it('gate (mul) keeps relevance with the gated signal', () => {
    conserves(node({ kind: 'mul' }), [pos([1, 4, 4, 3]), pos([1, 1, 1, 3])], randTensor(r, [1, 4, 4, 3]));
  });
  it('identity kinds (batchnorm, activation)', () => {
    conserves(node({ kind: 'batchnorm', scale: weight(new Float32Array(3).fill(1), [3]), offset: weight(new Float32Array(3), [3]) }), [pos([1, 3, 3, 3])], randTensor(r, [1, 3, 3, 3]));
  });
  // Issue 5: the remaining kinds. Elementwise activations (ReLU6, swish, hard-swish, sigmoid...)
  // are one op kind, 'activation', whose rule is the identity whatever the function.
  for (const fn of ['relu6', 'swish', 'hardswish', 'sigmoid'] as const) {
    it(`activation node (${fn}) is the identity`, () => {
      const n: GraphNode = { ...node({ kind: 'activation' }), activation: { fn } as GraphNode['activation'] };
      const rOut = randTensor(r, [1, 3, 4, 2]);
      conserves(n, [randTensor(r, [1, 3, 4, 2])], rOut);
      const [rin] = RULES.activation({ node: n, rOut, ins: [randTensor(r, [1, 3, 4, 2])], producers: [n] });
      assert.deepEqual(Array.from(rin!.dataSync()), Array.from(rOut.dataSync()));
    });
  }
  it('identity kind (Dropout, ONNX Identity)', () => {
    conserves({ ...node({ kind: 'identity' }), className: 'Dropout' }, [randTensor(r, [1, 3, 3, 2])], randTensor(r, [1, 3, 3, 2]));
  });
  it('swish written out (x * sigmoid(x)): relevance stays with x, none to the gate', () => {
    const x = randTensor(r, [1, 4, 4, 3]);
    const plain = node({ kind: 'conv' } as unknown as GraphNode['op']);
    const gate: GraphNode = { ...node({ kind: 'activation' }), name: 'gate', activation: { fn: 'sigmoid' } };
    const mulNode = node({ kind: 'mul' });
    const rOut = randTensor(r, [1, 4, 4, 3]);
    // gate first: the rule must still pick the non-gate input
    const rIns = RULES.mul({ node: mulNode, rOut, ins: [tf.sigmoid(x), x], producers: [gate, plain] });
    assert.equal(rIns[0], null);
    assert.deepEqual(Array.from(rIns[1]!.dataSync()), Array.from(rOut.dataSync()));
  });
  it('avg-pool 3x3 stride 1 same (Inception branch pools)', () => {
    conserves(node({ kind: 'avgpool', size: [3, 3], strides: [1, 1], padding: 'same' }), [pos([1, 5, 6, 2])], randTensor(r, [1, 5, 6, 2]));
  });
  it('add with three addends (fan-in)', () => {
    conserves(node({ kind: 'add' }), [pos([1, 3, 3, 2]), pos([1, 3, 3, 2]), pos([1, 3, 3, 2])], randTensor(r, [1, 3, 3, 2]));
  });
});
