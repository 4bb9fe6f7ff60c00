// Base CAM components inside the graph: E = weight ⊙ A at a layer (channels not summed), from
// the activation A and the gradient G = ∂y_c/∂A, both NCHW. Each method only says how it
// weights A (pytorch-grad-cam's shape). In the graph, so that one run can go from the image
// to FG-CAM's maps without handing tens of MB of activations to JS and back.
import type { OnnxBuilder } from '../compile/onnx-builder';
import type { BaseMethod } from '../types';
import { safeDiv } from './tensors';

export type GradientBase = Exclude<BaseMethod, 'scorecam'>;

export function isGradientBased(base: BaseMethod): base is GradientBase {
  return base !== 'scorecam';
}

/** Per-channel sum over positions, [1, K, 1, 1]. (Opset 17: ReduceSum's axes are an input, ReduceMean's an attribute.) */
function channelSums(b: OnnxBuilder, t: string): string {
  return b.op('ReduceSum', [t, b.constI([2, 3])], { keepdims: 1 });
}

type Weights = (b: OnnxBuilder, a: string, g: string) => string;

const WEIGHTS: Record<GradientBase, Weights> = {
  /** Grad-CAM: α_k = spatial mean of G_k; E = α_k A_k. */
  gradcam: (b, a, g) => b.op('Mul', [a, b.op('ReduceMean', [g], { axes: [2, 3], keepdims: 1 })]),
  /**
   * Grad-CAM++ (closed form for Y = exp(y_c)): α = G² / (2 G² + Σ_ab A · G³) (0 where the
   * denominator is 0, which includes G = 0), w_k = Σ_ij α · relu(G). exp(y_c) is left out, as
   * pytorch-grad-cam does (the map only scales).
   */
  gradcampp: (b, a, g) => {
    const g2 = b.op('Mul', [g, g]);
    const den = b.op('Add', [b.op('Mul', [g2, b.scalar(2)]), b.op('Mul', [channelSums(b, a), b.op('Mul', [g2, g])])]);
    const w = channelSums(b, b.op('Mul', [safeDiv(b, g2, den), b.op('Relu', [g])]));
    return b.op('Mul', [a, w]);
  },
  /** XGrad-CAM: w_k = Σ_ij (A_ijk / Σ_ab A_abk) · G_ijk (0 where Σ A = 0). */
  xgradcam: (b, a, g) => b.op('Mul', [a, safeDiv(b, channelSums(b, b.op('Mul', [g, a])), channelSums(b, a))]),
  /** LayerCAM: elementwise weights relu(G): E = relu(G) ⊙ A. */
  layercam: (b, a, g) => b.op('Mul', [a, b.op('Relu', [g])]),
};

/** The gradient-based bases in the order of the graphs' `base` input. */
export const GRADIENT_BASES: readonly GradientBase[] = ['gradcam', 'gradcampp', 'xgradcam', 'layercam'];

/**
 * The components of the base chosen by `baseIdx` (int64 [1], an index into GRADIENT_BASES).
 * The base is an input, not part of the graph's shape, so switching it never builds another
 * session (each would hold the model's kernels again); all four are cheap next to the walk.
 */
export function emitComponents(b: OnnxBuilder, baseIdx: string, a: string, g: string): string {
  const all = b.op('Concat', GRADIENT_BASES.map((m) => WEIGHTS[m](b, a, g)), { axis: 0 });
  return b.op('Gather', [all, baseIdx], { axis: 0 });
}

/** The channel sum of NCHW components: a layer's raw map, [1, h, w]. */
export function emitChannelSum(b: OnnxBuilder, e: string): string {
  return b.op('ReduceSum', [e, b.constI([1])], { keepdims: 0 });
}
