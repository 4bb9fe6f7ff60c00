// Canvas rendering of raw maps in the panel. Normalisation, colormaps and resizing come from
// the engine's pure image modules (the same code the CLI and exports use), so the panel shows
// exactly what Export writes, only at display size.
import type { LayerMap } from '../engine/types';
import { applyColormap, overlay } from '../engine/image/colormap';
import { mapAtSize } from '../engine/image/render';
import type { DisplayImage } from './protocol';

/** Smallest longest side the main canvas gets (28x28 images become 280x280). */
export const MIN_DISPLAY = 280;

/** Typed arrays arrive as typed arrays from VS Code >= 1.57; older hosts send their JSON form. */
export function toFloat32(v: unknown): Float32Array {
  if (v instanceof Float32Array) return v;
  if (v instanceof ArrayBuffer) return new Float32Array(v);
  if (Array.isArray(v)) return Float32Array.from(v);
  if (v && typeof v === 'object') return Float32Array.from(Object.values(v as Record<string, number>));
  return new Float32Array(0);
}

export function toUint8(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (Array.isArray(v)) return Uint8Array.from(v);
  if (v && typeof v === 'object') return Uint8Array.from(Object.values(v as Record<string, number>));
  return new Uint8Array(0);
}

export function fixMap(m: LayerMap): LayerMap {
  return { ...m, raw: toFloat32(m.raw) };
}

/** Canvas size for an image whose longest side should be at least `min` px (integer upscale). */
export function displaySize(img: { width: number; height: number }, min = MIN_DISPLAY): { width: number; height: number; scale: number } {
  const longest = Math.max(img.width, img.height);
  const scale = longest >= min ? 1 : Math.ceil(min / longest);
  return { width: img.width * scale, height: img.height * scale, scale };
}

/** Fits an image inside a box (for the small multiples), keeping its aspect ratio. */
export function fitSize(img: { width: number; height: number }, box: number): { width: number; height: number } {
  const s = box / Math.max(img.width, img.height);
  return { width: Math.max(1, Math.round(img.width * s)), height: Math.max(1, Math.round(img.height * s)) };
}

/** Nearest-neighbour resize: keeps small images' pixels crisp when scaled up. */
export function resizeNearest(img: DisplayImage, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  const src = img.data;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(img.height - 1, Math.floor((y * img.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(img.width - 1, Math.floor((x * img.width) / width));
      const s = (sy * img.width + sx) * 4;
      const d = (y * width + x) * 4;
      out[d] = src[s];
      out[d + 1] = src[s + 1];
      out[d + 2] = src[s + 2];
      out[d + 3] = 255;
    }
  }
  return out;
}

/** Coloured heatmap (opaque RGBA) of a raw map at width x height. */
export function heatmapRgba(map: LayerMap, width: number, height: number, colormap: string): Uint8Array {
  return applyColormap(mapAtSize(map, width, height), colormap);
}

/** The image blended with the heat by the engine's overlay(), ready for ImageData. */
export function blend(image: Uint8Array, heat: Uint8Array, width: number, height: number, opacity: number): Uint8ClampedArray<ArrayBuffer> {
  const out = overlay({ width, height, data: image }, { width, height, data: heat }, opacity).data;
  return new Uint8ClampedArray(out.buffer as ArrayBuffer, out.byteOffset, out.length);
}

export function paint(canvas: HTMLCanvasElement, width: number, height: number, rgba: Uint8ClampedArray<ArrayBuffer>): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.putImageData(new ImageData(rgba, width, height), 0, 0);
}
