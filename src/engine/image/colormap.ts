// Heatmap colouring: normalise a raw map, map [0,1] to colours, blend with the image.
// Tables are 256 entries built once from a few anchors (linear interpolation between them).
import type { RgbaImage } from './types';

export const COLORMAPS = ['jet', 'viridis', 'inferno', 'turbo', 'gray'] as const;
export type ColormapName = (typeof COLORMAPS)[number];

// 33 evenly spaced anchors (0, 1/32, ..., 1) of matplotlib's tables as RRGGBB hex; linear
// interpolation between them stays within ~4/255 of the full 256-entry tables.
const ANCHORS: Record<'viridis' | 'inferno' | 'turbo', string> = {
  viridis:
    '440154470d6048186a482374472d7b4537814240863e49893b528b375b8d33638d2f6b8e2c728e297a8e26828e23898e219' +
    '18c1f988b1fa08822a78528ae8032b67a3fbc734ec36b5ec96270cf5784d44b98d83eaddc30c2df23d8e219ece51bfde725',
  inferno:
    '0000040403120b0724150b37210c4a2f0a5b3d09654a0c6b57106e64156e71196e7d1e6d8a226a972766a32c61b0315bbc3' +
    '754c73e4cd24644db503be45a31eb6628f1731df68013f98e09fb9d07fcac11fbbc21f9cb35f5db4cf2ea69f3f68afcffa4',
  turbo:
    '30123b392a734040a24456c7466be34680f64294ff37a8fa28bceb1ccdd818ddc21fe9af32f2984ef97d6dfe628bff4ba4f' +
    'c3cb9f635cdec34dfdf37eecf3af8be39fdac34fe962bfb7e21f46617eb500edf3f08d02f05be2102a91601920b017a0403',
};

// matplotlib's jet segment data (x, value) per channel; OpenCV's COLORMAP_JET looks the same.
const JET: [number, number][][] = [
  [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
  [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
  [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
];

function piecewise(points: [number, number][], t: number): number {
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i];
    if (t <= x1) {
      const [x0, y0] = points[i - 1];
      return x1 === x0 ? y1 : y0 + ((t - x0) / (x1 - x0)) * (y1 - y0);
    }
  }
  return points[points.length - 1][1];
}

const tables = new Map<ColormapName, Uint8Array>();

export function isColormap(name: string): name is ColormapName {
  return (COLORMAPS as readonly string[]).includes(name);
}

/** The 256x3 RGB lookup table of a colormap (cached). */
export function colormapTable(name: ColormapName | string): Uint8Array {
  let lut = tables.get(name as ColormapName);
  if (lut) return lut;
  if (!isColormap(name)) throw new Error(`Unknown colormap "${name}". Colormaps: ${COLORMAPS.join(', ')}.`);
  lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    for (let c = 0; c < 3; c++) {
      let v: number;
      if (name === 'gray') v = t;
      else if (name === 'jet') v = piecewise(JET[c], t);
      else {
        const hex = ANCHORS[name];
        const n = hex.length / 6 - 1;
        const k = Math.min(Math.floor(t * n), n - 1);
        const f = t * n - k;
        const a = parseInt(hex.substr(k * 6 + c * 2, 2), 16) / 255;
        const b = parseInt(hex.substr((k + 1) * 6 + c * 2, 2), 16) / 255;
        v = a + (b - a) * f;
      }
      lut[i * 3 + c] = Math.round(Math.min(Math.max(v, 0), 1) * 255);
    }
  }
  tables.set(name, lut);
  return lut;
}

/**
 * ReLU, then min-max to [0,1]: (v - min) / (max - min). A map with no positive
 * variation (all <= 0, or constant) comes back all zero rather than NaN.
 */
export function normalizeMap(raw: ArrayLike<number>): Float32Array {
  const out = new Float32Array(raw.length);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i] > 0 ? raw[i] : 0; // also maps NaN to 0
    out[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  if (!(range > 0)) return out.fill(0);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] - min) / range;
  return out;
}

/** Colours a [0,1] map to opaque RGBA (values outside are clamped). */
export function applyColormap(map01: ArrayLike<number>, name: ColormapName | string = 'jet'): Uint8Array {
  const lut = colormapTable(name);
  const out = new Uint8Array(map01.length * 4);
  for (let i = 0; i < map01.length; i++) {
    const v = map01[i];
    const k = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
    out[i * 4] = lut[k * 3];
    out[i * 4 + 1] = lut[k * 3 + 1];
    out[i * 4 + 2] = lut[k * 3 + 2];
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** Blends heat over the image: (1 - opacity) * image + opacity * heat; output opaque. Same size required. */
export function overlay(image: RgbaImage, heat: RgbaImage, opacity = 0.5): RgbaImage {
  if (image.width !== heat.width || image.height !== heat.height) {
    throw new Error(`overlay: image ${image.width}x${image.height} and heatmap ${heat.width}x${heat.height} differ in size`);
  }
  const a = Math.min(Math.max(opacity, 0), 1);
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i += 4) {
    for (let c = 0; c < 3; c++) out[i + c] = Math.round((1 - a) * image.data[i + c] + a * heat.data[i + c]);
    out[i + 3] = 255;
  }
  return { width: image.width, height: image.height, data: out };
}
