// EXIF orientation: the stored pixels -> the image as viewers display it.
import type { RgbaImage } from './types';

/**
 * Applies EXIF orientation o (1..8) to an RGBA image. 2: mirror left-right, 3: rotate 180,
 * 4: mirror top-bottom, 5: transpose, 6: rotate 90 clockwise, 7: transverse, 8: rotate 90
 * counter-clockwise. 5..8 swap width and height.
 */
export function applyOrientation(img: RgbaImage, o: number): RgbaImage {
  if (o < 2 || o > 8) return img;
  const { width: w, height: h, data } = img;
  const swap = o >= 5;
  const W = swap ? h : w;
  const H = swap ? w : h;
  const src = new Uint32Array(data.buffer, data.byteOffset, w * h);
  const outData = new Uint8Array(w * h * 4);
  const dst = new Uint32Array(outData.buffer);
  // Destination (X, Y) for source (x, y), per orientation.
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let X: number;
      let Y: number;
      switch (o) {
        case 2: X = w - 1 - x; Y = y; break;
        case 3: X = w - 1 - x; Y = h - 1 - y; break;
        case 4: X = x; Y = h - 1 - y; break;
        case 5: X = y; Y = x; break;
        case 6: X = h - 1 - y; Y = x; break;
        case 7: X = h - 1 - y; Y = w - 1 - x; break;
        default: X = y; Y = w - 1 - x; break; // 8
      }
      dst[Y * W + X] = src[y * w + x];
    }
  }
  return { width: W, height: H, data: outData };
}
