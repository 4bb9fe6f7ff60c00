// Typed messages between the extension host (panel.ts) and the panel's browser code (main.ts).
// Shared by both bundles, so it holds only types and plain constants (no vscode, no DOM).
// Typed arrays travel as typed arrays (VS Code >= 1.57 transfers them); the webview also
// accepts their JSON form, see toFloat32 in main.ts.
import type { BaseMethod, LayerInfo, LayerMap, Prediction } from '../engine/types';

export type Colormap = 'jet' | 'viridis' | 'inferno' | 'turbo' | 'gray';
export const COLORMAP_NAMES: Colormap[] = ['jet', 'viridis', 'inferno', 'turbo', 'gray'];

/** What the panel is showing; saved with vscode.setState and restored by the serializer. */
export interface ViewState {
  imagePath?: string;
  base: BaseMethod;
  denoise: boolean;
  /** Undefined: the engine's top-1. */
  classIndex?: number;
  layer: string;
  colormap: Colormap;
  opacity: number;
  sideBySide: boolean;
}

export interface DisplayImage {
  /** Possibly downscaled copy of the image for display (the original may be huge). */
  width: number;
  height: number;
  data: Uint8Array;
  /** Size of the file's image. */
  origWidth: number;
  origHeight: number;
}

export interface ResultPayload {
  imagePath: string;
  image: DisplayImage;
  layers: LayerInfo[];
  /** FG-CAM map at every layer of the walk, keyed by layer name. */
  maps: Record<string, LayerMap>;
  top: Prediction[];
  /** Probability of every class, for the class picker. */
  probs: Float32Array;
  labels?: string[];
  classIndex: number;
  camLayer: string;
  base: BaseMethod;
  denoise: boolean;
  backend: string;
  timingsMs: Record<string, number>;
}

export type HostToWebview =
  /** Sent first and whenever the host changes the view (restore, new image). */
  | { type: 'view'; view: ViewState }
  | { type: 'running'; imagePath: string; what: string }
  /** A finished explanation, with the view to show it in (layer may fall back to the input). */
  | { type: 'result'; result: ResultPayload; view: ViewState }
  | { type: 'baseMap'; key: string; map?: LayerMap; error?: string }
  | { type: 'error'; message: string; imagePath?: string }
  | { type: 'exported'; files: string[] };

export type WebviewToHost =
  | { type: 'ready' }
  /** Purely visual changes (layer, colormap, opacity, side-by-side): the host only records them. */
  | { type: 'viewChanged'; view: ViewState }
  /** Changes that need the engine (class, denoise, base). */
  | { type: 'recompute'; view: ViewState }
  | { type: 'requestBaseMap'; key: string; layer: string }
  | { type: 'export' }
  | { type: 'cancel' }
  | { type: 'retry' };

/** Cache key of a plain base-CAM map: it depends on the base method, the class and the layer. */
export function baseMapKey(base: BaseMethod, classIndex: number, layer: string): string {
  return `${base}|${classIndex}|${layer}`;
}
