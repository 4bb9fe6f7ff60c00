// Map -> picture, shared by the CLI and the extension so exports look the same everywhere.
import type { LayerMap } from '../types';
import { applyColormap, normalizeMap, overlay, type ColormapName } from './colormap';
import { resizeBilinear } from './resize';
import type { RgbaImage } from './types';

export const DEFAULT_COLORMAP: ColormapName = 'jet';
export const DEFAULT_OPACITY = 0.5;

/** The [0,1] map at width x height: normalised at the layer's own resolution, then resized bilinearly. */
export function mapAtSize(map: Pick<LayerMap, 'height' | 'width' | 'raw'>, width: number, height: number): Float32Array {
  const n = normalizeMap(map.raw);
  return map.width === width && map.height === height ? n : resizeBilinear(n, map.width, map.height, 1, width, height);
}

/** The exported heatmap: normalised map resized to width x height (the original image size), coloured. */
export function renderHeatmap(map: LayerMap, width: number, height: number, colormap: ColormapName | string = DEFAULT_COLORMAP): RgbaImage {
  return { width, height, data: applyColormap(mapAtSize(map, width, height), colormap) };
}

/** The image blended with its heatmap at the image's size. */
export function renderOverlay(
  img: RgbaImage,
  map: LayerMap,
  colormap: ColormapName | string = DEFAULT_COLORMAP,
  opacity = DEFAULT_OPACITY,
): RgbaImage {
  return overlay(img, renderHeatmap(map, img.width, img.height, colormap), opacity);
}
