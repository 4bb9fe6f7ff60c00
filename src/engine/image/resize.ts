// Bilinear resize with half-pixel centres: src = (dst + 0.5) * in/out - 0.5, clamped to
// the edge. This is tf.image.resizeBilinear(alignCorners=false, halfPixelCenters=true) and
// torch F.interpolate(mode='bilinear', align_corners=False, antialias=False) exactly.
// One function serves RGBA images (uint8) and float maps (any channel count).
import type { RgbaImage } from './types';

type Pixels = Float32Array | Float64Array | Uint8Array | Uint8ClampedArray;

/** Per output index along one axis: the two source indices and the weight of the second. */
function axisTable(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; f: Float32Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const f = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), inSize - 1);
    const lo = Math.floor(src);
    i0[o] = lo;
    i1[o] = Math.min(lo + 1, inSize - 1);
    f[o] = src - lo;
  }
  return { i0, i1, f };
}

/**
 * Resizes an interleaved [srcH, srcW, channels] array to [dstH, dstW, channels].
 * Always returns float32 (uint8 inputs give un-rounded 0..255 floats).
 */
export function resizeBilinear(
  src: Pixels,
  srcW: number,
  srcH: number,
  channels: number,
  dstW: number,
  dstH: number,
): Float32Array {
  if (src.length !== srcW * srcH * channels) {
    throw new Error(`resizeBilinear: data length ${src.length} != ${srcW}x${srcH}x${channels}`);
  }
  const out = new Float32Array(dstW * dstH * channels);
  if (dstW === 0 || dstH === 0) return out;
  const xs = axisTable(srcW, dstW);
  const ys = axisTable(srcH, dstH);
  const C = channels;
  let d = 0;
  for (let y = 0; y < dstH; y++) {
    const r0 = ys.i0[y] * srcW * C;
    const r1 = ys.i1[y] * srcW * C;
    const fy = ys.f[y];
    for (let x = 0; x < dstW; x++) {
      const c0 = xs.i0[x] * C;
      const c1 = xs.i1[x] * C;
      const fx = xs.f[x];
      for (let c = 0; c < C; c++) {
        // Same operation order as tfjs (top/bottom rows first, then between them).
        const tl = src[r0 + c0 + c], tr = src[r0 + c1 + c];
        const bl = src[r1 + c0 + c], br = src[r1 + c1 + c];
        const top = tl + (tr - tl) * fx;
        const bottom = bl + (br - bl) * fx;
        out[d++] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

/** Resizes an RGBA image (rounded back to uint8). */
export function resizeRgba(img: RgbaImage, width: number, height: number): RgbaImage {
  if (img.width === width && img.height === height) return img;
  const f = resizeBilinear(img.data, img.width, img.height, 4, width, height);
  const data = new Uint8Array(f.length);
  // Bilinear weights are convex, so values stay in 0..255: no clamping needed.
  for (let i = 0; i < f.length; i++) data[i] = Math.round(f[i]);
  return { width, height, data };
}
