// Typed messages between the host's PanelSession (app/panelSession.ts, shown by
// extension/panel.ts) and the panel's browser code (webview/, which imports them through
// webview/protocol.ts). Shared by both bundles, so it holds only types and pure functions
// (no vscode, no DOM, no Node).
// Typed arrays travel as typed arrays (VS Code >= 1.57 transfers them); the webview also
// accepts their JSON form, see toFloat32 in main.ts.
// Method names and labels come from the catalogue (engine/methods.ts), colormaps from
// engine/image/colormap.ts; the worker's reply types from app/protocol.ts.
import type { BaseMethod, LayerInfo, LayerMap, Prediction } from '../engine/types';
import type { Colormap, DisplayImage, FaithfulnessReply, MethodsReply } from './protocol';

export type { Colormap, DisplayImage, FaithfulnessReply, MethodRow, MethodsReply } from './protocol';

/** What the panel is showing; saved with vscode.setState and restored by the serializer. */
export interface ViewState {
  imagePath?: string;
  base: BaseMethod;
  denoise: boolean;
  /** Undefined: the engine's top-1. */
  classIndex?: number;
  /**
   * A second class explained beside the first at the same layer, base and denoise ("why X and
   * not Y"); undefined (or the explained class itself): one map.
   */
  compareClass?: number;
  /** The image's true class when known (the review panel opened it): titles its map "true". */
  trueClass?: number;
  layer: string;
  colormap: Colormap;
  opacity: number;
  sideBySide: boolean;
  /** The Faithfulness section is open. */
  faithfulness?: boolean;
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
  /** The view's compareClass explained the same way (same base, denoise, layers), when asked. */
  contrast?: ContrastPayload;
}

/** The second class of a "why X and not Y" view: its FG-CAM maps at every layer of the walk. */
export interface ContrastPayload {
  classIndex: number;
  maps: Record<string, LayerMap>;
  timingsMs: Record<string, number>;
}

/** How a class is named above its map: its role (true class, the model's top-1, or neither), label and probability. */
export function classTitle(classIndex: number, probs: ArrayLike<number>, labels: string[] | undefined, trueClass: number | undefined): string {
  let top = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[top]) top = i;
  const role = classIndex === trueClass ? 'true' : classIndex === top ? 'predicted' : 'class';
  const label = labels?.[classIndex] ?? `class ${classIndex}`;
  return `${role}: ${label} (${(100 * (probs[classIndex] ?? 0)).toFixed(1)}%)`;
}

/** Cache key of the faithfulness of one view: image, FG-CAM base, denoise, class, layer. */
export function faithfulnessKey(imagePath: string, base: BaseMethod, denoise: boolean, classIndex: number, layer: string): string {
  return `${imagePath}|${base}|${denoise}|${classIndex}|${layer}`;
}

/** Cache key of a method comparison table: image, class, layer (it holds every base and denoise). */
export function methodsKey(imagePath: string, classIndex: number, layer: string): string {
  return `${imagePath}|${classIndex}|${layer}`;
}

export type HostToWebview =
  /** Sent first and whenever the host changes the view (restore, new image). */
  | { type: 'view'; view: ViewState }
  | { type: 'running'; imagePath: string; what: string }
  /** A finished explanation, with the view to show it in (layer may fall back to the input). */
  | { type: 'result'; result: ResultPayload; view: ViewState }
  | { type: 'baseMap'; key: string; map?: LayerMap; error?: string }
  | { type: 'error'; message: string; imagePath?: string }
  | { type: 'exported'; files: string[] }
  /** Faithfulness of the view `key` (faithfulnessKey), or why there is none. */
  | { type: 'faithfulness'; key: string; result?: FaithfulnessReply; error?: string }
  | { type: 'methodsProgress'; key: string; done: number; total: number; what: string }
  /** The comparison table for `key` (methodsKey); cancelled: stopped by the user. */
  | { type: 'methodsTable'; key: string; table?: MethodsReply; error?: string; cancelled?: boolean };

export type WebviewToHost =
  | { type: 'ready' }
  /** Purely visual changes (layer, colormap, opacity, side-by-side): the host only records them. */
  | { type: 'viewChanged'; view: ViewState }
  /** Changes that need the engine (class, denoise, base). */
  | { type: 'recompute'; view: ViewState }
  | { type: 'requestBaseMap'; key: string; layer: string }
  | { type: 'export' }
  | { type: 'cancel' }
  | { type: 'retry' }
  /** Faithfulness of FG-CAM at `layer` for the current explanation; `key` as faithfulnessKey. */
  | { type: 'requestFaithfulness'; key: string; layer: string }
  /** The method comparison at `layer` for the current image and class. */
  | { type: 'compareMethods'; key: string; layer: string };

/** Cache key of a plain base-CAM map: it depends on the base method, the class and the layer. */
export function baseMapKey(base: BaseMethod, classIndex: number, layer: string): string {
  return `${base}|${classIndex}|${layer}`;
}
