// Test-only: part of the independent tfjs reference the compiled ONNX graphs are checked against (see tfjs.ts).
// Convolutions as linear maps with their adjoints (convᵀ), for the conv rules.
// The adjoint is always a plain stride-1 conv2d / depthwiseConv2d with the kernel
// flipped in space (and in/out swapped): conv2dTranspose is an unthreaded loop on
// wasm. Strides > 1 interleave zeros into the relevance first.
import { tf } from './tfjs';
import type { GraphNode, Weight } from '../../src/engine/model/graph';
import { convForward, explicitPad, kernelSize, padsOf, tensorOf } from './forward';
import { windowPlace } from './window';

type Pads = [number, number, number, number];
export type ConvNode = GraphNode & { op: Extract<GraphNode['op'], { kind: 'conv' | 'depthwise' }> };

export function isConv(n: GraphNode): n is ConvNode {
  return n.op.kind === 'conv' || n.op.kind === 'depthwise';
}

/** One weight tensor (W, W⁺ or W⁻) with its flipped copy, built once per node. */
export interface KernelPair {
  w: tf.Tensor4D;
  flipped: tf.Tensor4D;
}

function flip(node: ConvNode, w: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const r = tf.reverse(w, [0, 1]) as tf.Tensor4D;
    if (node.op.kind === 'depthwise') {
      // [kh,kw,C,m] -> one filter per output channel: [kh,kw,C*m,1].
      const [kh, kw, c, m] = r.shape;
      return tf.reshape(r, [kh, kw, c * m, 1]);
    }
    if (node.op.groups === 1) return tf.transpose(r, [0, 1, 3, 2]) as tf.Tensor4D;
    // Grouped: swap in/out within each group, groups stay along the output axis.
    return tf.concat(tf.split(r, node.op.groups, 3).map((p) => tf.transpose(p, [0, 1, 3, 2])), 3) as tf.Tensor4D;
  });
}

const kernelCache = new WeakMap<Weight, Record<string, KernelPair>>();

/** W, W⁺ or W⁻ of a conv node with its flipped copy, cached for the graph's lifetime. */
export function kernel(node: ConvNode, sign: 'all' | 'pos' | 'neg'): KernelPair {
  const base = tensorOf<tf.Tensor4D>(node.op.weight);
  let entry = kernelCache.get(node.op.weight);
  if (!entry) {
    entry = {};
    kernelCache.set(node.op.weight, entry);
  }
  if (!entry[sign]) {
    const w = sign === 'all' ? base : tf.tidy(() => (sign === 'pos' ? tf.relu(base) : tf.neg(tf.relu(tf.neg(base))))) as tf.Tensor4D;
    // Rules run inside tf.tidy: keep the cached copies alive beyond it.
    entry[sign] = { w: sign === 'all' ? w : tf.keep(w), flipped: tf.keep(flip(node, w)) };
  }
  return entry[sign];
}

/** Frees the cached W⁺/W⁻/flipped copies of a node (the graph owns W itself). */
export function releaseKernels(node: ConvNode): void {
  const entry = kernelCache.get(node.op.weight);
  if (!entry) return;
  for (const [sign, k] of Object.entries(entry)) {
    if (sign !== 'all') k.w.dispose();
    k.flipped.dispose();
  }
  kernelCache.delete(node.op.weight);
}

/** conv(x, w) with the node's stride, dilation, padding and groups; no bias. */
export function convApply(node: ConvNode, x: tf.Tensor4D, k: KernelPair): tf.Tensor4D {
  const op = node.op;
  const pads = padsOf(op, x, kernelSize(op));
  if (op.kind === 'depthwise') return tf.depthwiseConv2d(x, k.w, op.strides, explicitPad(pads), 'NHWC', op.dilations);
  return convForward(x, k.w, op.strides, op.dilations, pads, op.groups);
}

/** convᵀ(s, w): the gradient of conv(·, w) at an input of xShape, applied to s. */
export function convAdjoint(node: ConvNode, s: tf.Tensor4D, k: KernelPair, xShape: number[]): tf.Tensor4D {
  return tf.tidy(() => {
    const op = node.op;
    const [kh, kw] = kernelSize(op);
    const [dh, dw] = op.dilations;
    const [sh, sw] = op.strides;
    const [, H, W] = xShape;
    const pads: Pads = padsOf(op, tf.zeros([1, H, W, 1]), [kh, kw]);
    const [, ho, wo] = s.shape;
    const hs = (ho - 1) * sh + 1;
    const ws = (wo - 1) * sw + 1;
    const dil = sh > 1 || sw > 1 ? windowPlace(s, 0, 0, [sh, sw], hs, ws) : s;
    // Full correlation with the flipped kernel; pads may come out negative: crop instead.
    const before = [dh * (kh - 1) - pads[0], dw * (kw - 1) - pads[2]];
    const after = [H - hs + pads[0], W - ws + pads[2]];
    const p: Pads = [Math.max(0, before[0]), Math.max(0, after[0]), Math.max(0, before[1]), Math.max(0, after[1])];
    let y: tf.Tensor4D;
    if (op.kind === 'depthwise') {
      const c = xShape[3];
      const m = op.weight.shape[3];
      y = tf.depthwiseConv2d(dil, k.flipped, 1, explicitPad(p), 'NHWC', op.dilations);
      if (m > 1) y = tf.sum(tf.reshape(y, [y.shape[0], y.shape[1], y.shape[2], c, m]), 4) as tf.Tensor4D;
    } else {
      y = convForward(dil, k.flipped, [1, 1], op.dilations, p, op.groups);
    }
    const top = Math.max(0, -before[0]);
    const left = Math.max(0, -before[1]);
    // The usual case (e.g. 3x3 'same', stride 1) needs no crop: skip the copy.
    if (top === 0 && left === 0 && y.shape[1] === H && y.shape[2] === W) return y;
    return tf.slice(y, [0, top, left, 0], [-1, H, W, -1]);
  });
}
