// Test-only: part of the independent tfjs reference the compiled ONNX graphs are checked against (see tfjs.ts).
// One relevance rule per layer kind (the method doc's table, plus "Beyond VGG").
// A rule maps the relevance at a node's output to relevance at each of its inputs.
// No rule uses a bias, so sum(R_in) = sum(R_out) wherever no denominator is zero.
import { tf } from './tfjs';
import type { GraphNode, Op, OpKind } from '../../src/engine/model/graph';

type PoolOp = Extract<Op, { kind: 'maxpool' | 'avgpool' }>;
import { padsOf } from './forward';
import { ConvNode, convAdjoint, convApply, kernel } from './linear';
import { routeToMax, spreadWindows, sumPool } from './window';

export interface RuleInput {
  node: GraphNode;
  rOut: tf.Tensor;
  /** The node's input activations, as the forward pass recorded them. */
  ins: tf.Tensor[];
  /** For the conv that reads the model input: L and H (the zβ bounds, padded as the input). */
  bounds?: { low: tf.Tensor4D; high: tf.Tensor4D };
  /** Output shapes (with batch) of the input nodes; for the gate rule. */
  producers: GraphNode[];
  /** The whole graph, for rules that look further up (optional). */
  graph?: { nodes: GraphNode[] };
}

/** Relevance for each input (null: that input gets none). */
export type Rule = (r: RuleInput) => Array<tf.Tensor | null>;

const identity: Rule = ({ rOut }) => [rOut.clone()];

const NONNEG_ACTIVATIONS = new Set(['relu', 'relu6', 'sigmoid', 'hardsigmoid', 'softmax']);

/**
 * True when a node's output is >= 0 by construction: a ReLU-like activation, or a max-pool,
 * zero padding, cropping or identity of such an output. Otherwise false (then the conv rule
 * looks at the data).
 */
export function nonNegative(g: { nodes: GraphNode[] } | undefined, n: GraphNode | undefined, depth = 0): boolean {
  if (!n || depth > 64) return false;
  if (n.activation) return NONNEG_ACTIVATIONS.has(n.activation.fn);
  const k = n.op.kind;
  if (!g || !['maxpool', 'pad', 'crop', 'identity', 'activation'].includes(k)) return false;
  // (pad nodes pad with zeros)
  const src = g.nodes.find((m) => m.name === n.inputs[0]);
  return nonNegative(g, src, depth + 1);
}

/** z+ for inputs that may be negative: X⁺ with W⁺ and X⁻ with W⁻. */
const convZPlus: Rule = ({ node, rOut, ins, producers, graph }) => {
  const n = node as ConvNode;
  const x = ins[0] as tf.Tensor4D;
  return [
    tf.tidy(() => {
      // After ReLU (or a max-pool of it) the W⁻ branch is exactly zero: skip it. Known from the
      // graph where possible, else looked up in the data.
      const hasNeg = nonNegative(graph, producers[0]) ? false : tf.min(x).dataSync()[0] < 0;
      const wp = kernel(n, 'pos');
      const xp = hasNeg ? tf.relu(x) : x;
      let z = convApply(n, xp, wp);
      let xn: tf.Tensor4D | undefined;
      const wn = hasNeg ? kernel(n, 'neg') : undefined;
      if (hasNeg) {
        xn = tf.neg(tf.relu(tf.neg(x)));
        z = tf.add(z, convApply(n, xn, wn!));
      }
      const s = tf.divNoNan(rOut, z) as tf.Tensor4D;
      let rin = tf.mul(xp, convAdjoint(n, s, wp, x.shape));
      if (xn) rin = tf.add(rin, tf.mul(xn, convAdjoint(n, s, wn!, x.shape)));
      return rin;
    }),
  ];
};

/** zβ for the conv that reads the model input (L, H: the input's min and max). */
const convZBeta: Rule = ({ node, rOut, ins, bounds }) => {
  const n = node as ConvNode;
  const x = ins[0] as tf.Tensor4D;
  const { low, high } = bounds!;
  return [
    tf.tidy(() => {
      const w = kernel(n, 'all');
      const wp = kernel(n, 'pos');
      const wn = kernel(n, 'neg');
      const z = tf.sub(tf.sub(convApply(n, x, w), convApply(n, low, wp)), convApply(n, high, wn));
      const s = tf.divNoNan(rOut, z) as tf.Tensor4D;
      return tf.sub(
        tf.sub(tf.mul(x, convAdjoint(n, s, w, x.shape)), tf.mul(low, convAdjoint(n, s, wp, x.shape))),
        tf.mul(high, convAdjoint(n, s, wn, x.shape)),
      );
    }),
  ];
};

const conv: Rule = (r) => (r.bounds ? convZBeta(r) : convZPlus(r));

/** Each window's relevance to its (first) max position of X⁺. */
const maxPool: Rule = ({ node, rOut, ins }) => {
  const op = node.op as PoolOp;
  const x = ins[0] as tf.Tensor4D;
  return [
    tf.tidy(() => {
      const p = tf.relu(x) as tf.Tensor4D;
      // A window whose max is 0 has no relevance to give (R ⊘ 0 = 0).
      const pads = padsOf(op, x, op.size);
      const m = tf.maxPool(tf.pad(p, [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]]) as tf.Tensor4D, op.size, op.strides, 'valid');
      const r = tf.where(tf.greater(m, 0), rOut, tf.zerosLike(rOut)) as tf.Tensor4D;
      return routeToMax(p, r, op.size, op.strides, pads);
    }),
  ];
};

/** Relevance shared in proportion to X⁺ within each window. */
const avgPool: Rule = ({ node, rOut, ins }) => {
  const op = node.op as PoolOp;
  const x = ins[0] as tf.Tensor4D;
  return [
    tf.tidy(() => {
      const p = tf.relu(x) as tf.Tensor4D;
      const pads = padsOf(op, x, op.size);
      const s = tf.divNoNan(rOut, sumPool(p, op.size, op.strides, pads)) as tf.Tensor4D;
      return tf.mul(p, spreadWindows(s, p, op.size, op.strides, pads));
    }),
  ];
};

const globalAvgPool: Rule = ({ rOut, ins }) => {
  const x = ins[0];
  return [
    tf.tidy(() => {
      const p = tf.relu(x);
      const r = tf.reshape(rOut, [x.shape[0], 1, 1, x.shape[3]!]);
      return tf.mul(p, tf.divNoNan(r, tf.sum(p, [1, 2], true)));
    }),
  ];
};

/**
 * Residual joins: split in proportion to each addend's positive part (the method doc).
 * Ours: where no addend is positive (MobileNetV2's linear bottlenecks have no ReLU after
 * the add), split by the negative parts instead of dropping the relevance.
 */
const add: Rule = ({ rOut, ins }) =>
  tf.tidy(() => {
    const pos = ins.map((t) => tf.relu(t));
    const neg = ins.map((t) => tf.neg(tf.relu(tf.neg(t))));
    const sumPos = pos.reduce((a, b) => tf.add(a, b));
    const sumNeg = neg.reduce((a, b) => tf.add(a, b));
    const usePos = tf.greater(sumPos, 0);
    const s = tf.where(usePos, tf.divNoNan(rOut, sumPos), tf.divNoNan(rOut, sumNeg));
    return pos.map((p, i) => tf.mul(tf.where(usePos, p, neg[i]), s));
  });

/** Gates (SE, swish written out): relevance stays with the gated signal. */
const mul: Rule = ({ node, rOut, ins, producers }) => {
  const full = ins.map((t) => t.shape.join() === rOut.shape.join());
  const gate = (i: number) => ['sigmoid', 'hardsigmoid'].includes(producers[i].activation?.fn ?? '');
  let keep = ins.findIndex((_, i) => full[i] && !gate(i));
  if (keep < 0) keep = full.indexOf(true);
  if (keep < 0) throw new Error(`Cannot walk '${node.name}': no input of ${node.className} has its output's shape`);
  return ins.map((_, i) => (i === keep ? rOut.clone() : null));
};

const concat: Rule = ({ node, rOut, ins }) => {
  const axis = (node.op as { axis: number }).axis;
  return tf.split(rOut, ins.map((t) => t.shape[axis]!), axis);
};

const pad: Rule = ({ node, rOut, ins }) => {
  const [t, , l] = (node.op as { pads: number[] }).pads;
  const x = ins[0];
  return [tf.slice(rOut, [0, t, l, 0], [-1, x.shape[1]!, x.shape[2]!, -1])];
};

const crop: Rule = ({ node, rOut }) => {
  const [t, b, l, r] = (node.op as { crops: number[] }).crops;
  return [tf.pad(rOut, [[0, 0], [t, b], [l, r], [0, 0]])];
};

const notWalked = (why: string): Rule => ({ node }) => {
  throw new Error(`Cannot carry relevance down through '${node.name}' (${node.className}): ${why}. Choose a CAM layer below it.`);
};

/** The rule table, keyed by op kind. Adding a kind = one entry here + its conservation test. */
export const RULES: Record<OpKind, Rule> = {
  input: identity,
  activation: identity,
  identity,
  batchnorm: identity,
  conv,
  depthwise: conv,
  maxpool: maxPool,
  avgpool: avgPool,
  globalavgpool: globalAvgPool,
  add,
  mul,
  concat,
  pad,
  crop,
  dense: notWalked('dense layers belong above the CAM layer'),
  flatten: notWalked('flatten belongs above the CAM layer'),
  reshape: notWalked('reshape belongs above the CAM layer'),
};
