// Average Drop and Increase in Confidence (Chattopadhyay et al., Grad-CAM++, 2018), with the
// explanation map as a soft mask on the input: ReLU, min-max normalise to [0, 1] (an all-zero
// or constant map gives an all-zero mask), resize bilinearly to the input size, multiply every
// channel of the preprocessed input (as Score-CAM's masks do). Scores are softmax
// probabilities of the target class: Y on the full input, O on the masked one.
//   Average Drop = 100 · mean_i max(0, Y_i − O_i) / Y_i      (lower is better)
//   Increase in Confidence = 100 · mean_i [O_i > Y_i]          (higher is better)
import type { Graph } from '../model/graph';
import { classProbs, mapAtInput, MapLike } from './curves';
import { mapAtSize } from '../image/render';

export interface ConfidencePair {
  /** Y: target-class softmax on the full input. */
  full: number;
  /** O: on the input masked by the explanation. */
  masked: number;
}

/** The input multiplied by the soft mask (every channel). */
export function maskedInput(x: Float32Array, mask: Float32Array, channels: number): Float32Array {
  if (x.length !== mask.length * channels) throw new Error(`mask of ${mask.length} pixels for an input of ${x.length / channels}`);
  return Float32Array.from(x, (v, i) => v * mask[Math.floor(i / channels)]);
}

/** Y and O for one input and map. `full` may be passed when already known. */
export async function confidencePair(g: Graph, x: Float32Array, map: MapLike, classIndex: number, full?: number): Promise<ConfidencePair> {
  const [h, w, ch] = g.inputShape;
  if (map.raw.length !== map.height * map.width) throw new Error(`map data length ${map.raw.length} != ${map.height}x${map.width}`);
  // The soft mask is the map exactly as the heatmap shows it (ReLU, min-max, bilinear).
  const masked = maskedInput(x, mapAtSize(map, w, h), ch);
  if (full === undefined) {
    const both = new Float32Array(2 * x.length);
    both.set(x, 0);
    both.set(masked, x.length);
    const p = await classProbs(g, both, 2, classIndex, 2);
    return { full: p[0], masked: p[1] };
  }
  return { full, masked: (await classProbs(g, masked, 1, classIndex, 1))[0] };
}

/** One image's drop, max(0, Y − O) / Y (0 when Y = 0). */
export function dropOf(p: ConfidencePair): number {
  return p.full > 0 ? Math.max(0, p.full - p.masked) / p.full : 0;
}

/** One image's increase indicator, 1 when O > Y. */
export function increaseOf(p: ConfidencePair): number {
  return p.masked > p.full ? 1 : 0;
}

/** Average Drop in percent. */
export function averageDrop(pairs: ConfidencePair[]): number {
  if (pairs.length === 0) return NaN;
  return (100 * pairs.reduce((s, p) => s + dropOf(p), 0)) / pairs.length;
}

/** Increase in Confidence in percent. */
export function increaseInConfidence(pairs: ConfidencePair[]): number {
  if (pairs.length === 0) return NaN;
  return (100 * pairs.reduce((s, p) => s + increaseOf(p), 0)) / pairs.length;
}

export { mapAtInput };
