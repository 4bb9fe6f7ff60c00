// Gaussian blur of an interleaved [h, w, c] float image (the insertion baseline).
// Separable, truncated at `radius` taps each side, weights normalised to sum 1, borders
// clamped to the edge pixel (a constant image stays constant). Plain JS, no tensors.

export interface BlurOptions {
  /** Standard deviation in pixels (default 5, as RISE's insertion baseline). */
  sigma: number;
  /** Taps on each side of the centre (default 5: an 11-tap kernel, as RISE's klen = 11). */
  radius: number;
}

export const DEFAULT_BLUR: BlurOptions = { sigma: 5, radius: 5 };

/** The normalised 1-D kernel, length 2·radius + 1. sigma <= 0 gives the identity. */
export function gaussianKernel(sigma: number, radius: number): Float64Array {
  const k = new Float64Array(2 * radius + 1);
  if (!(sigma > 0)) {
    k[radius] = 1;
    return k;
  }
  let s = 0;
  for (let i = -radius; i <= radius; i++) s += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

export function gaussianBlur(src: Float32Array, h: number, w: number, c: number, opts: BlurOptions = DEFAULT_BLUR): Float32Array {
  if (src.length !== h * w * c) throw new Error(`gaussianBlur: data length ${src.length} != ${h}x${w}x${c}`);
  const r = Math.max(0, Math.floor(opts.radius));
  const k = gaussianKernel(opts.sigma, r);
  const tmp = new Float64Array(src.length);
  const out = new Float32Array(src.length);
  const clamp = (v: number, n: number) => (v < 0 ? 0 : v >= n ? n - 1 : v);
  // Rows (along x), then columns (along y).
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = -r; i <= r; i++) s += k[i + r] * src[(y * w + clamp(x + i, w)) * c + ch];
        tmp[(y * w + x) * c + ch] = s;
      }
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = -r; i <= r; i++) s += k[i + r] * tmp[(clamp(y + i, h) * w + x) * c + ch];
        out[(y * w + x) * c + ch] = s;
      }
    }
  }
  return out;
}
