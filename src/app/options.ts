// The vocabulary both front ends offer (CLI flags, fgcam.* settings): backends, preprocessing
// presets, colormaps, input sizes. One list each, re-exported from where the engine defines it.
import { BACKEND_PREFERENCES, type BackendPreference } from '../engine/backend-names';

export { COLORMAPS, isColormap, type ColormapName } from '../engine/image/colormap';
export { PRESET_NAMES, DEFAULT_PRESET, parsePreprocess } from '../engine/image/preprocess';
export { parseInputSize } from '../engine/model/load';
export type { BackendPreference } from '../engine/backend-names';

export const BACKENDS: readonly BackendPreference[] = BACKEND_PREFERENCES;
export { backendSetting, retiredBackend } from '../engine/backend-names';
export { DEFAULT_BLUR } from '../engine/metrics/blur';
export { DEFAULT_STEP } from '../engine/metrics/curves';
