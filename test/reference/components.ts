// Test-only: part of the independent tfjs reference the compiled ONNX graphs are checked against (see tfjs.ts).
// Base CAM components at a layer: E = weight_k · A_k, channels not summed.
// Each method only says how it weights channels (pytorch-grad-cam's shape).
import { tf } from './tfjs';
import type { Graph } from '../../src/engine/model/graph';
import { runForward } from './forward';
import type { BaseMethod } from '../../src/engine/types';
import { gradcamppWeights, layercamWeights, xgradcamWeights } from './methods';

/** Names of the nodes computed from `layer` (itself included). */
export function descendants(g: Graph, layer: string): Set<string> {
  const out = new Set<string>([layer]);
  for (const n of g.nodes) if (n.inputs.some((i) => out.has(i))) out.add(n.name);
  return out;
}

/**
 * ∂y_c/∂A at several layers in one backward pass: a zero tensor is added to each
 * layer's output and the gradient is taken w.r.t. those zeros.
 */
export function gradientsAt(g: Graph, x: tf.Tensor, layers: string[], c: number, acts?: Map<string, tf.Tensor>): Map<string, tf.Tensor> {
  const shapes = new Map(g.nodes.map((n) => [n.name, n.outputShape]));
  const zeros = layers.map((l) => tf.zeros([x.shape[0], ...shapes.get(l)!]));
  // With the recorded activations, only what lies above the layers is run again: the same
  // values as a full forward (same ops on the same inputs), without recomputing the body.
  let fixed: Map<string, tf.Tensor> | undefined;
  if (acts) {
    const redo = new Set<string>();
    for (const l of layers) for (const d of descendants(g, l)) if (d !== l) redo.add(d);
    fixed = new Map([...acts].filter(([name]) => !redo.has(name)));
  }
  try {
    const f = (...ps: tf.Tensor[]) => {
      const perturb = new Map(layers.map((l, i) => [l, ps[i]]));
      return tf.sum(tf.slice(runForward(g, x, true, fixed, perturb).logits, [0, c], [1, 1]));
    };
    const grads = tf.grads(f)(zeros);
    return new Map(layers.map((l, i) => [l, grads[i]]));
  } finally {
    zeros.forEach((z) => z.dispose());
  }
}

/** ∂y_c/∂A at `layer`. */
export function gradientAt(g: Graph, acts: Map<string, tf.Tensor>, x: tf.Tensor, layer: string, c: number): tf.Tensor {
  return gradientsAt(g, x, [layer], c, acts).get(layer)!;
}

export interface ComponentContext {
  g: Graph;
  acts: Map<string, tf.Tensor>;
  x: tf.Tensor;
  c: number;
  scoreBatch: number;
  /** Gradients already computed in one backward pass (see precomputeGradients). */
  grads?: Map<string, tf.Tensor>;
  onProgress?: (what: string, done: number, total: number) => void;
}

function gradOf(ctx: ComponentContext, layer: string): tf.Tensor {
  return ctx.grads?.get(layer) ?? gradientAt(ctx.g, ctx.acts, ctx.x, layer, ctx.c);
}

/** Base methods whose weights come from ∂y_c/∂A. */
export const GRADIENT_BASED: ReadonlySet<BaseMethod> = new Set(['gradcam', 'gradcampp', 'xgradcam', 'layercam']);

/** For gradient-based methods at several layers: one backward pass for all (caller disposes ctx.grads). */
export function precomputeGradients(base: BaseMethod, ctx: ComponentContext, layers: string[]): void {
  if (GRADIENT_BASED.has(base) && layers.length > 1) ctx.grads = gradientsAt(ctx.g, ctx.x, layers, ctx.c, ctx.acts);
}

/** Grad-CAM: α_k = spatial mean of ∂y_c/∂A_k (the logit, not the softmax). */
function gradcamWeights(ctx: ComponentContext, layer: string): tf.Tensor {
  return tf.tidy(() => tf.mean(gradOf(ctx, layer), [1, 2], true));
}

/** Score-CAM: s_k = softmax(f(x ⊙ M_k))_c with M_k the upsampled, min-max normalised A_k. */
function scorecamWeights(ctx: ComponentContext, layer: string): tf.Tensor {
  const a = ctx.acts.get(layer)! as tf.Tensor4D;
  const [, H, W] = ctx.x.shape;
  const k = a.shape[3];
  // A constant map would divide by zero: weight 0 (ours). Those channels (after ReLU often
  // half of them, all zero) need no forward pass at all.
  const constant = tf.tidy(() => tf.equal(tf.max(a, [1, 2]), tf.min(a, [1, 2])).dataSync());
  const live = Array.from(constant.keys()).filter((i) => !constant[i]);
  const scores = new Float32Array(k);
  if (live.length === 0) return tf.tensor4d(scores, [1, 1, 1, k]);
  const masks = tf.tidy(() => {
    const up = tf.image.resizeBilinear(tf.gather(a, live, 3) as tf.Tensor4D, [H!, W!], false, true);
    const lo = tf.min(up, [1, 2], true);
    const hi = tf.max(up, [1, 2], true);
    return tf.transpose(tf.divNoNan(tf.sub(up, lo), tf.sub(hi, lo)), [3, 1, 2, 0]) as tf.Tensor4D; // [live, H, W, 1]
  });
  try {
    for (let start = 0; start < live.length; start += ctx.scoreBatch) {
      const n = Math.min(ctx.scoreBatch, live.length - start);
      const s = tf.tidy(() => {
        const batch = tf.mul(tf.slice(masks, [start, 0, 0, 0], [n, -1, -1, -1]), ctx.x);
        const logits = runForward(ctx.g, batch, false).logits;
        return tf.slice(tf.softmax(logits), [0, ctx.c], [n, 1]);
      });
      s.dataSync().forEach((v, i) => (scores[live[start + i]] = v));
      s.dispose();
      ctx.onProgress?.('Score-CAM masked forwards', start + n, live.length);
    }
  } finally {
    masks.dispose();
  }
  return tf.tensor4d(scores, [1, 1, 1, k]);
}

// Comparison methods (issue 7, see ./methods.ts): weights from ∂y_c/∂A and A at the layer.
const fromGradient = (f: (grads: tf.Tensor, acts: tf.Tensor) => tf.Tensor) => (ctx: ComponentContext, layer: string): tf.Tensor =>
  tf.tidy(() => f(gradOf(ctx, layer), ctx.acts.get(layer)!));

const WEIGHTS: Record<BaseMethod, (ctx: ComponentContext, layer: string) => tf.Tensor> = {
  gradcam: gradcamWeights,
  scorecam: scorecamWeights,
  // Comparison methods (issue 7): [1,1,1,K] channel weights, or [1,h,w,K] for LayerCAM.
  gradcampp: fromGradient(gradcamppWeights),
  xgradcam: fromGradient(xgradcamWeights),
  layercam: fromGradient((grads) => layercamWeights(grads)),
};

/** Components E at `layer`: [1, h, w, K]. */
export function components(base: BaseMethod, ctx: ComponentContext, layer: string): tf.Tensor4D {
  const w = WEIGHTS[base](ctx, layer);
  const e = tf.mul(ctx.acts.get(layer)!, w) as tf.Tensor4D;
  w.dispose();
  return e;
}
