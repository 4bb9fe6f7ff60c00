// Test-only: part of the independent tfjs reference the compiled ONNX graphs are checked against (see tfjs.ts).
// More CAM methods to compare FG-CAM against (issue 7), in pytorch-grad-cam's spirit: each is
// a small function of the gradient ∂y_c/∂A and the activation A at a layer (both
// [1, h, w, K]) that says how to weight A. components.ts registers them in its WEIGHTS table;
// they are comparison bases, FG-CAM's own bases (gradcam, scorecam) are not changed.
// Plus LRP at the input (the paper's LRP baseline): relevance y_c at the logit, carried down
// the dense head with z+ (below), then down the convolutional part by FG-CAM's own walk
// (z+ everywhere, zβ at the conv that reads the input).
import { tf } from './tfjs';
import type { Graph, GraphNode, Op, OpKind } from '../../src/engine/model/graph';
import { tensorOf } from './forward';
import type { LayerMap } from '../../src/engine/types';
import { RULES, Rule } from './rules';
import { carryDown, walk } from './walk';

/**
 * Grad-CAM++ (Chattopadhyay et al. 2018), the closed form for Y = exp(y_c):
 *   a_ijk = g² / (2 g² + Σ_ab A_abk · g³)   (0 where g = 0 or the denominator is 0)
 *   w_k = Σ_ij a_ijk · relu(g_ijk)
 * with g = ∂y_c/∂A. The paper's relu(∂Y/∂A) carries a factor exp(y_c) > 0 that is the
 * same for every channel; like pytorch-grad-cam we leave it out (the map only scales).
 */
export function gradcamppWeights(grads: tf.Tensor, acts: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const g2 = tf.square(grads);
    const g3 = tf.mul(g2, grads);
    const sumA = tf.sum(acts, [1, 2], true);
    const a = tf.where(tf.notEqual(grads, 0), tf.divNoNan(g2, tf.add(tf.mul(g2, 2), tf.mul(sumA, g3))), tf.zerosLike(grads));
    return tf.sum(tf.mul(a, tf.relu(grads)), [1, 2], true);
  });
}

/** XGrad-CAM (Fu et al. 2020): w_k = Σ_ij (A_ijk / Σ_ab A_abk) · g_ijk (0 where Σ A = 0). */
export function xgradcamWeights(grads: tf.Tensor, acts: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.divNoNan(tf.mul(grads, acts), tf.sum(acts, [1, 2], true)), [1, 2], true));
}

/** LayerCAM (Jiang et al. 2021): elementwise weights relu(g_ijk), so E = relu(g) ⊙ A. */
export function layercamWeights(grads: tf.Tensor): tf.Tensor {
  return tf.relu(grads);
}

// ---- LRP: the dense head ----

/** z+ for a dense layer: Z = X⁺W⁺ + X⁻W⁻ (no bias); R_in = X⁺ ⊙ (S W⁺ᵀ) + X⁻ ⊙ (S W⁻ᵀ), S = R ⊘ Z. */
const denseZPlus: Rule = ({ node, rOut, ins }) => {
  const w = tensorOf<tf.Tensor2D>((node.op as Extract<Op, { kind: 'dense' }>).weight);
  const x = ins[0];
  return [
    tf.tidy(() => {
      const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
      const xp = tf.relu(flat) as tf.Tensor2D;
      const xn = tf.neg(tf.relu(tf.neg(flat))) as tf.Tensor2D;
      const wp = tf.relu(w) as tf.Tensor2D;
      const wn = tf.neg(tf.relu(tf.neg(w))) as tf.Tensor2D;
      const z = tf.add(tf.matMul(xp, wp), tf.matMul(xn, wn));
      const s = tf.divNoNan(tf.reshape(rOut, z.shape), z) as tf.Tensor2D;
      const rin = tf.add(tf.mul(xp, tf.matMul(s, wp, false, true)), tf.mul(xn, tf.matMul(s, wn, false, true)));
      return tf.reshape(rin, x.shape);
    }),
  ];
};

/** Flatten / reshape: the relevance takes the input's shape back. */
const unflatten: Rule = ({ rOut, ins }) => [tf.reshape(rOut, ins[0].shape)];

/** FG-CAM's rules plus the head's, for this LRP path only (FG-CAM still refuses dense/flatten). */
const HEAD_RULES: Record<OpKind, Rule> = { ...RULES, dense: denseZPlus, flatten: unflatten, reshape: unflatten };

/** The node whose output is the logits (the input of a standalone final softmax), and its index. */
function logitNode(g: Graph): GraphNode {
  const out = g.nodes.find((n) => n.name === g.output)!;
  if (out.op.kind === 'activation' && out.activation?.fn === 'softmax') return g.nodes.find((n) => n.name === out.inputs[0])!;
  return out;
}

/**
 * LRP relevance at `camLayer`'s output: R = y_c at the logit (other classes 0), carried down
 * the head (dense z+, flatten, activations as identity, GAP, ...). `logits` are the
 * pre-softmax scores [1, classes]. Throws when part of the head reads layers below camLayer.
 */
export function lrpHead(g: Graph, acts: Map<string, tf.Tensor>, logits: tf.Tensor, camLayer: string, c: number): tf.Tensor {
  const camIdx = g.nodes.findIndex((n) => n.name === camLayer);
  if (camIdx < 0) throw new Error(`No layer named "${camLayer}" in the model`);
  const top = logitNode(g);
  const topIdx = g.nodes.indexOf(top);
  const start = tf.tidy(() => tf.reshape(tf.mul(tf.oneHot([c], logits.shape[1]!), tf.reshape(logits, [1, -1])), acts.get(top.name)!.shape));
  const pending = carryDown(g, new Map([[top.name, start]]), topIdx, camIdx + 1, (node, rOut) => {
    const producers = node.inputs.map((n) => g.nodes.find((m) => m.name === n)!);
    return HEAD_RULES[node.op.kind]({ node, rOut, ins: node.inputs.map((n) => acts.get(n)!), producers });
  });
  try {
    const r = pending.get(camLayer);
    const stray = [...pending.keys()].filter((k) => k !== camLayer);
    if (!r || stray.length) {
      throw new Error(`LRP: the layers above "${camLayer}" also read ${stray.join(', ') || 'nothing from it'}; choose a CAM layer that the whole head goes through`);
    }
    pending.delete(camLayer);
    return r;
  } finally {
    for (const t of pending.values()) t.dispose();
  }
}

/**
 * LRP-z+ with zβ at the input, started from the logit y_c: maps at every spatial layer from
 * camLayer down to "input" (channel sums, like FG-CAM's). Without biases, the input map sums
 * to y_c (relevance is only lost where a z+ denominator is 0).
 */
export function lrp(g: Graph, acts: Map<string, tf.Tensor>, logits: tf.Tensor, x: tf.Tensor, camLayer: string, c: number): Record<string, LayerMap> {
  const r = lrpHead(g, acts, logits, camLayer, c);
  try {
    return walk(g, acts, camLayer, r, x);
  } finally {
    r.dispose();
  }
}
