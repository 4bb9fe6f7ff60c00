// Base CAM components on plain data: E = weight ⊙ A at a layer (channels not summed), from the
// activation A and the gradient ∂y_c/∂A that the compiled gradient pass returns (NHWC, batch
// 1: hw positions × K channels, channel fastest). Each method only says how it weights A
// (pytorch-grad-cam's shape); Score-CAM's weights come from batched masked forwards.
import type { Graph } from '../model/graph';
import type { BaseMethod, LayerMap } from '../types';
import type { LayerTensor } from '../compute';
import { classProbsOrt } from '../compute';
import { resizeBilinear } from '../image/resize';

type Weights = (a: LayerTensor, g: LayerTensor) => Float32Array;

/** Per channel sums over positions, in float64. */
function channelSums(t: LayerTensor, f: (v: number, i: number) => number = (v) => v): Float64Array {
  const [h, w, k] = t.shape;
  const s = new Float64Array(k);
  for (let p = 0; p < h * w; p++) for (let c = 0; c < k; c++) s[c] += f(t.data[p * k + c], p * k + c);
  return s;
}

/** A [K] weight vector applied to A: E = w_k · A. */
function scaled(a: LayerTensor, w: ArrayLike<number>): Float32Array {
  const k = a.shape[2];
  return Float32Array.from(a.data, (v, i) => v * w[i % k]);
}

/** Grad-CAM: α_k = spatial mean of ∂y_c/∂A_k. */
const gradcam: Weights = (a, g) => {
  const hw = a.shape[0] * a.shape[1];
  return scaled(a, Float32Array.from(channelSums(g), (s) => s / hw));
};

/**
 * Grad-CAM++ (closed form for Y = exp(y_c)): a = g² / (2 g² + Σ_ab A · g³) (0 where g = 0 or
 * the denominator is 0), w_k = Σ_ij a · relu(g). The factor exp(y_c) is left out, as
 * pytorch-grad-cam does (the map only scales).
 */
const gradcampp: Weights = (a, g) => {
  const k = a.shape[2];
  const sumA = channelSums(a);
  const w = channelSums(g, (gv, i) => {
    if (gv === 0) return 0;
    const g2 = gv * gv;
    const den = 2 * g2 + sumA[i % k] * g2 * gv;
    return den === 0 ? 0 : (g2 / den) * Math.max(gv, 0);
  });
  return scaled(a, w);
};

/** XGrad-CAM: w_k = Σ_ij (A_ijk / Σ_ab A_abk) · g_ijk (0 where Σ A = 0). */
const xgradcam: Weights = (a, g) => {
  const k = a.shape[2];
  const sumA = channelSums(a);
  return scaled(a, channelSums(g, (gv, i) => (sumA[i % k] === 0 ? 0 : (gv * a.data[i]) / sumA[i % k])));
};

/** LayerCAM: elementwise weights relu(g): E = relu(g) ⊙ A. */
const layercam: Weights = (a, g) => Float32Array.from(a.data, (v, i) => v * Math.max(g.data[i], 0));

export const GRADIENT_WEIGHTS: Record<Exclude<BaseMethod, 'scorecam'>, Weights> = { gradcam, gradcampp, xgradcam, layercam };

export function isGradientBased(base: BaseMethod): base is Exclude<BaseMethod, 'scorecam'> {
  return base !== 'scorecam';
}

export interface ScoreCamOptions {
  classIndex: number;
  batch: number;
  onProgress?: (what: string, done: number, total: number) => void;
}

/**
 * Score-CAM: s_k = softmax(f(x ⊙ M_k))_c, M_k = A_k upsampled bilinearly (half-pixel centres)
 * to the input size and min-max normalised. A constant map gives weight 0 (ours) and needs
 * no forward pass. The masked inputs run in batches on the compiled forward.
 */
export async function scorecamComponents(g: Graph, x: Float32Array, a: LayerTensor, opts: ScoreCamOptions): Promise<Float32Array> {
  const [h, w, k] = a.shape;
  const [H, W, C] = g.inputShape;
  const lo = new Float64Array(k).fill(Infinity);
  const hi = new Float64Array(k).fill(-Infinity);
  for (let p = 0; p < h * w; p++) {
    for (let c = 0; c < k; c++) {
      const v = a.data[p * k + c];
      if (v < lo[c]) lo[c] = v;
      if (v > hi[c]) hi[c] = v;
    }
  }
  const live = Array.from({ length: k }, (_, c) => c).filter((c) => lo[c] !== hi[c]);
  const scores = new Float32Array(k);
  const mask = new Float32Array(h * w);
  const probs = await classProbsOrt(g, live.length, opts.classIndex, opts.batch, (i, dst) => {
    const c = live[i];
    for (let p = 0; p < h * w; p++) mask[p] = a.data[p * k + c];
    const up = resizeBilinear(mask, w, h, 1, W, H);
    let mn = Infinity;
    let mx = -Infinity;
    for (const v of up) {
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    const span = mx - mn;
    for (let p = 0; p < H * W; p++) {
      const m = span === 0 ? 0 : (up[p] - mn) / span;
      for (let ch = 0; ch < C; ch++) dst[p * C + ch] = x[p * C + ch] * m;
    }
  }, (done, total) => opts.onProgress?.('Score-CAM masked forwards', done, total));
  live.forEach((c, i) => (scores[c] = probs[i]));
  return scaled(a, scores);
}

/** Channel sum of NHWC components: the layer's raw map. */
export function channelSumOf(layer: string, e: Float32Array, shape: [number, number, number]): LayerMap {
  const [h, w, k] = shape;
  const raw = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += e[p * k + c];
    raw[p] = s;
  }
  return { layer, height: h, width: w, raw };
}
