// Image -> model input: resize to the model's h x w (bilinear on 0..255 floats), pick
// channels, normalise by preset. Alpha is ignored (the RGB values are used as they are),
// which is what PIL's convert('RGB') and most training pipelines do.
import type { Preprocess } from '../types';
import { PRESET_NAMES, type PreprocessPreset } from '../model/graph';
import { resizeBilinear } from './resize';
import type { RgbaImage } from './types';

export type { Preprocess } from '../types';
export type { PreprocessPreset } from '../model/graph';

/** value = (x / divisor - mean[c]) / std[c], x in 0..255, channel c in model order. */
export interface PresetSpec {
  divisor: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** Channels fed in BGR order (caffe); mean/std are then given in BGR order too. */
  bgr: boolean;
  description: string;
}

export const PRESETS: Record<PreprocessPreset, PresetSpec> = {
  imagenet: {
    divisor: 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    bgr: false,
    description: '(x/255 - [0.485,0.456,0.406]) / [0.229,0.224,0.225] (torchvision)',
  },
  unit: { divisor: 255, mean: [0, 0, 0], std: [1, 1, 1], bgr: false, description: 'x/255, in [0,1]' },
  symmetric: { divisor: 127.5, mean: [1, 1, 1], std: [1, 1, 1], bgr: false, description: 'x/127.5 - 1, in [-1,1] (Keras "tf" mode)' },
  caffe: {
    divisor: 1,
    mean: [103.939, 116.779, 123.68],
    std: [1, 1, 1],
    bgr: true,
    description: 'BGR, x - [103.939,116.779,123.68] (Keras "caffe" mode)',
  },
  raw: { divisor: 1, mean: [0, 0, 0], std: [1, 1, 1], bgr: false, description: 'x unchanged, in 0..255' },
};

export { PRESET_NAMES };
/** Used when neither the user nor the model says otherwise. */
export const DEFAULT_PRESET: PreprocessPreset = 'imagenet';

function parseNumbers(flag: string, s: string): number[] {
  const v = s.split(',').map((x) => x.trim()).filter((x) => x !== '').map(Number);
  if (v.length === 0 || v.some((x) => !Number.isFinite(x))) {
    throw new Error(`${flag} expects comma-separated numbers on the 0..1 scale, e.g. 0.485,0.456,0.406 (got "${s}")`);
  }
  return v;
}

/** Parses --preprocess / --mean / --std. Throws an Error with a usage-style message. */
export function parsePreprocess(preset?: string, mean?: string, std?: string): Preprocess {
  const out: Preprocess = {};
  if (preset !== undefined) {
    if (!(PRESET_NAMES as readonly string[]).includes(preset)) {
      throw new Error(`Unknown preprocessing preset "${preset}". Presets: ${PRESET_NAMES.join(', ')}.`);
    }
    out.preset = preset as PreprocessPreset;
  }
  if (mean !== undefined) out.mean = parseNumbers('--mean', mean);
  if (std !== undefined) {
    out.std = parseNumbers('--std', std);
    if (out.std.some((x) => x === 0)) throw new Error('--std values must be non-zero');
  }
  return out;
}

/** The effective per-channel formula for `channels` model channels. */
export function resolvePreprocess(pre: Preprocess, channels: number): { divisor: number; mean: number[]; std: number[]; bgr: boolean } {
  const pick = (v: number[], what: string): number[] => {
    if (v.length === 1) return new Array(channels).fill(v[0]);
    if (channels === 1) return [v[0]]; // grayscale model: first entry
    if (v.length !== channels) throw new Error(`${what} has ${v.length} values; the model has ${channels} channels`);
    return v;
  };
  if (pre.mean || pre.std) {
    // Explicit mean/std are on the 0..1 scale, RGB order, and replace the preset.
    return { divisor: 255, mean: pick(pre.mean ?? [0], 'mean'), std: pick(pre.std ?? [1], 'std'), bgr: false };
  }
  const p = PRESETS[pre.preset ?? DEFAULT_PRESET];
  return { divisor: p.divisor, mean: pick(p.mean, 'mean'), std: pick(p.std, 'std'), bgr: p.bgr && channels === 3 };
}

/**
 * Builds the model input, NHWC flattened (h*w*c floats). c=3: RGB (BGR for caffe);
 * c=1: BT.601 luminance 0.299 R + 0.587 G + 0.114 B.
 */
export function toModelInput(img: RgbaImage, inputShape: [number, number, number], pre: Preprocess): Float32Array {
  const [h, w, c] = inputShape;
  if (c !== 1 && c !== 3) throw new Error(`Models with ${c} input channels are not supported (1 or 3).`);
  const { divisor, mean, std, bgr } = resolvePreprocess(pre, c);
  const rgba = resizeBilinear(img.data, img.width, img.height, 4, w, h);
  const out = new Float32Array(h * w * c);
  for (let p = 0, q = 0; p < h * w; p++, q += 4) {
    if (c === 1) {
      const y = 0.299 * rgba[q] + 0.587 * rgba[q + 1] + 0.114 * rgba[q + 2];
      out[p] = (y / divisor - mean[0]) / std[0];
    } else {
      for (let k = 0; k < 3; k++) {
        const x = rgba[q + (bgr ? 2 - k : k)];
        out[p * 3 + k] = (x / divisor - mean[k]) / std[k];
      }
    }
  }
  return out;
}
