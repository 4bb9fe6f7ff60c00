// The image module's public API: decode, resize, preprocess, colour, encode, .npy.
export { ImageError, type RgbaImage } from './types';
export {
  decodeImage,
  readImageFile,
  detectFormat,
  looksLikeImagePath,
  IMAGE_EXTENSIONS,
  MAX_PIXELS,
  MAX_FILE_BYTES,
  SUPPORTED_FORMATS,
  type ImageFormat,
} from './decode';
export { resizeBilinear, resizeRgba } from './resize';
export {
  toModelInput,
  parsePreprocess,
  resolvePreprocess,
  PRESETS,
  PRESET_NAMES,
  DEFAULT_PRESET,
  type PresetSpec,
  type Preprocess,
  type PreprocessPreset,
} from './preprocess';
export { normalizeMap, applyColormap, overlay, colormapTable, isColormap, COLORMAPS, type ColormapName } from './colormap';
export { renderHeatmap, renderOverlay, mapAtSize, DEFAULT_COLORMAP, DEFAULT_OPACITY } from './render';
export { encodePng } from './encode';
export { encodeNpy, decodeNpy } from './npy';
