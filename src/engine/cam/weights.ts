// Score-CAM's components on plain data, E = s_k · A_k (NHWC, batch 1: hw positions × K
// channels, channel fastest), its weights from batched masked forwards; and the channel sum
// of components. The gradient-based bases are computed inside the graph (rules/cam-weights.ts).
import { nodeByName, type Graph } from '../model/graph';
import type { LayerMap } from '../types';
import { scoreCamProbsOrt, type LayerTensor } from '../compute';

/** A [K] weight vector applied to A: E = w_k · A. */
function scaled(a: LayerTensor, w: ArrayLike<number>): Float32Array {
  const k = a.shape[2];
  return Float32Array.from(a.data, (v, i) => v * w[i % k]);
}

/**
 * Masked inputs per Score-CAM run when the user sets none: as many as keep the model's largest
 * activation within 256 MB for the batch, 1..64 (VGG16-BN at 224: 20; narrow nets run 64,
 * which amortises their per-run overhead).
 */
export function scoreBatchFor(g: Graph): number {
  const largest = Math.max(...g.nodes.map((n) => n.outputShape.reduce((a, d) => a * d, 1)));
  return Math.max(1, Math.min(64, Math.floor((256 * 2 ** 20) / (4 * largest))));
}

export interface ScoreCamOptions {
  classIndex: number;
  batch: number;
  onProgress?: (what: string, done: number, total: number) => void;
}

/**
 * Score-CAM: s_k = softmax(f(x ⊙ M_k))_c, M_k = A_k upsampled bilinearly (half-pixel centres)
 * to the input size and min-max normalised. A constant map gives weight 0 (ours) and needs
 * no forward pass. The masks are made and run in batches inside one compiled graph.
 */
export async function scorecamComponents(g: Graph, x: Float32Array, a: LayerTensor, opts: ScoreCamOptions): Promise<Float32Array> {
  const [h, w, k] = a.shape;
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
  const classes = nodeByName(g, g.output).outputShape.reduce((p, d) => p * d, 1);
  if (opts.classIndex < 0 || opts.classIndex >= classes) throw new Error(`class ${opts.classIndex} is out of range (0..${classes - 1})`);
  const scores = new Float32Array(k);
  for (let start = 0; start < live.length; start += opts.batch) {
    const chans = live.slice(start, start + opts.batch);
    const p = await scoreCamProbsOrt(g, x, a, chans, opts.classIndex);
    chans.forEach((c, i) => (scores[c] = p[i]));
    opts.onProgress?.('Score-CAM masked forwards', start + chans.length, live.length);
  }
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
