// Score-CAM's components on plain data, E = s_k · A_k (NHWC, batch 1: hw positions × K
// channels, channel fastest), its weights from batched masked forwards; and the channel sum
// of components. The gradient-based bases are computed inside the graph (rules/cam-weights.ts).
import type { Graph } from '../model/graph';
import type { LayerMap } from '../types';
import type { LayerTensor } from '../compute';
import { classProbsOrt } from '../compute';
import { resizeBilinear } from '../image/resize';

/** A [K] weight vector applied to A: E = w_k · A. */
function scaled(a: LayerTensor, w: ArrayLike<number>): Float32Array {
  const k = a.shape[2];
  return Float32Array.from(a.data, (v, i) => v * w[i % k]);
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
