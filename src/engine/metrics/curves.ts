// Deletion and insertion curves (Petsiuk et al., RISE, 2018) on plain data.
//
// Protocol (see docs/faithfulness.md):
// - The explanation map (any layer) is resized bilinearly (half-pixel centres) to the model
//   input's h x w, and pixels (spatial positions, all channels together) are ordered by it,
//   most relevant first; the raw map is used (no ReLU), NaN counts as -Infinity, ties go by
//   pixel index (row-major), so the order is deterministic.
// - Deletion: start from the model input x; each step sets the next `pixelsPerStep` pixels to
//   0 in the model-input space (the preprocessed tensor's value 0, every channel).
// - Insertion: start from a Gaussian-blurred copy of x (blur.ts; sigma 5 px, 11 taps by
//   default) and each step puts the next pixels' original values back.
// - After each step (and before the first) the target class's softmax probability is
//   recorded: n + 1 points for n = ceil(h·w / pixelsPerStep) steps, pixelsPerStep =
//   max(1, round(step · h · w)). The masked inputs run through the compiled forward in batches.
// - The area is the trapezoid rule over x in [0, 1] (as RISE's code): the mean of the
//   points with the two end points counted half.
import type { Graph } from '../model/graph';
import { classProbsOrt } from '../compute';
import { resizeBilinear } from '../image/resize';
import { BlurOptions, DEFAULT_BLUR, gaussianBlur } from './blur';

/** A relevance map: LayerMap-compatible (h x w raw values, row-major). */
export interface MapLike {
  height: number;
  width: number;
  raw: Float32Array;
}

export interface CurveOptions {
  classIndex: number;
  /** Fraction of the pixels changed per step (default 0.01). */
  step?: number;
  /** Inputs per forward batch (default 16). */
  batch?: number;
  blur?: BlurOptions;
}

export interface Curves {
  /** Target-class softmax after 0, 1, ..., n deletion steps. */
  deletion: Float32Array;
  insertion: Float32Array;
  deletionAuc: number;
  insertionAuc: number;
  pixelsPerStep: number;
}

export const DEFAULT_STEP = 0.01;
export const DEFAULT_BATCH = 16;

/** The map at h x w (bilinear, half-pixel centres); the same array when already that size. */
export function mapAtInput(map: MapLike, h: number, w: number): Float32Array {
  if (map.raw.length !== map.height * map.width) throw new Error(`map data length ${map.raw.length} != ${map.height}x${map.width}`);
  if (map.height === h && map.width === w) return map.raw;
  return resizeBilinear(map.raw, map.width, map.height, 1, w, h);
}

/** Pixel indices, most relevant first (ties by index; NaN last). */
export function relevanceOrder(values: Float32Array): Int32Array {
  const key = Float64Array.from(values, (v) => (Number.isNaN(v) ? -Infinity : v));
  const idx = Int32Array.from(key.keys());
  return idx.sort((a, b) => key[b] - key[a] || a - b);
}

/** Area under a curve sampled at n + 1 equally spaced points of [0, 1] (trapezoid rule). */
export function auc(curve: ArrayLike<number>): number {
  const n = curve.length - 1;
  if (n < 0) return NaN;
  if (n === 0) return curve[0];
  let s = 0;
  for (let i = 0; i <= n; i++) s += curve[i];
  return (s - (curve[0] + curve[n]) / 2) / n;
}

/**
 * Softmax probability of class c for `count` inputs, run in batches of `batch` on the compiled
 * forward; `write(i, dst)` fills input i (h·w·c values, NHWC) into dst, in order i = 0, 1, ...
 */
export function classProbsOf(g: Graph, count: number, c: number, batch: number, write: (i: number, dst: Float32Array) => void): Promise<Float32Array> {
  return classProbsOrt(g, count, c, batch, write);
}

/** classProbsOf for `count` inputs stored back to back in `data`. */
export function classProbs(g: Graph, data: Float32Array, count: number, c: number, batch = DEFAULT_BATCH): Promise<Float32Array> {
  const size = g.inputShape[0] * g.inputShape[1] * g.inputShape[2];
  if (data.length < count * size) throw new Error(`classProbs: ${data.length} values for ${count} inputs of ${size}`);
  return classProbsOf(g, count, c, batch, (i, dst) => dst.set(data.subarray(i * size, (i + 1) * size)));
}

/**
 * The inputs along a curve, one at a time: input k has the first min(k·s, h·w) pixels of
 * `order` taken from `fill` (a number: that value in every channel), the rest from `start`.
 * There are n + 1 inputs, n = ceil(h·w / s); call in order k = 0, 1, ..., n.
 */
export function curveWriter(start: Float32Array, fill: Float32Array | number, order: Int32Array, channels: number, pixelsPerStep: number): { count: number; write: (k: number, dst: Float32Array) => void } {
  const pixels = order.length;
  const cur = Float32Array.from(start);
  let done = 0; // pixels already taken from fill
  return {
    count: Math.ceil(pixels / pixelsPerStep) + 1,
    write: (k, dst) => {
      const upTo = Math.min(k * pixelsPerStep, pixels);
      if (upTo < done) throw new Error('curveWriter: steps must be written in order');
      for (; done < upTo; done++) {
        const p = order[done] * channels;
        for (let ch = 0; ch < channels; ch++) cur[p + ch] = typeof fill === 'number' ? fill : fill[p + ch];
      }
      dst.set(cur);
    },
  };
}

/** All the inputs along a curve back to back (for tests and small inputs). */
export function curveInputs(start: Float32Array, fill: Float32Array | number, order: Int32Array, channels: number, pixelsPerStep: number): Float32Array {
  const wr = curveWriter(start, fill, order, channels, pixelsPerStep);
  const out = new Float32Array(wr.count * start.length);
  for (let k = 0; k < wr.count; k++) wr.write(k, out.subarray(k * start.length, (k + 1) * start.length));
  return out;
}

export function pixelsPerStepFor(pixels: number, step = DEFAULT_STEP): number {
  if (!(step > 0 && step <= 1)) throw new Error(`step must be a fraction in (0, 1] (got ${step})`);
  return Math.max(1, Math.round(step * pixels));
}

/** Deletion and insertion curves of one explanation map for one preprocessed input x (h·w·c, NHWC). */
export async function deletionInsertion(g: Graph, x: Float32Array, map: MapLike, opts: CurveOptions): Promise<Curves> {
  const [h, w, ch] = g.inputShape;
  if (x.length !== h * w * ch) throw new Error(`input length ${x.length} != ${h}x${w}x${ch}`);
  const order = relevanceOrder(mapAtInput(map, h, w));
  const s = pixelsPerStepFor(h * w, opts.step);
  const batch = opts.batch ?? DEFAULT_BATCH;
  const del = curveWriter(x, 0, order, ch, s);
  const deletion = await classProbsOf(g, del.count, opts.classIndex, batch, del.write);
  const ins = curveWriter(gaussianBlur(x, h, w, ch, opts.blur ?? DEFAULT_BLUR), x, order, ch, s);
  const insertion = await classProbsOf(g, ins.count, opts.classIndex, batch, ins.write);
  return { deletion, insertion, deletionAuc: auc(deletion), insertionAuc: auc(insertion), pixelsPerStep: s };
}
