// Drawing a map over the image on a canvas, with the image's pixels cached per size.
import type { LayerMap } from '../../engine/types';
import { resizeRgba } from '../../engine/image/resize';
import { blend, heatmapRgba, paint, resizeNearest } from '../render';
import { S } from '../state';

/** Image pixels at a given canvas size (upscaled nearest, downscaled bilinear), cached. */
export const imageCache = new Map<string, Uint8Array>();

export function imageAt(width: number, height: number): Uint8Array {
  const key = `${width}x${height}`;
  let px = imageCache.get(key);
  if (!px) {
    const img = S.result!.image;
    px = width >= img.width ? resizeNearest(img, width, height) : resizeRgba({ width: img.width, height: img.height, data: img.data }, width, height).data;
    imageCache.set(key, px);
  }
  return px;
}

export function drawMap(canvas: HTMLCanvasElement, map: LayerMap, width: number, height: number): void {
  paint(canvas, width, height, blend(imageAt(width, height), heatmapRgba(map, width, height, S.view.colormap), width, height, S.view.opacity));
}
