// Messages between the extension host (engineClient.ts) and the engine worker (worker.ts).
// Plain data only: typed arrays are transferred, never tensors.
import type { BackendPreference } from '../engine/backend';
import type { ExplainOptions, LayerInfo, LayerMap, Preprocess } from '../engine/types';
import type { Colormap, DisplayImage, FaithfulnessReply, MethodsReply } from '../webview/protocol';
export type { FaithfulnessReply, MethodRow, MethodsReply } from '../webview/protocol';

export interface ModelSpec {
  /** Absolute path of model.json / .onnx. */
  path: string;
  /** Absolute path of a labels file (JSON array or one label per line), if any. */
  labelsPath?: string;
  /** 'auto': the model's own default, else imagenet. */
  preprocess: Preprocess | 'auto';
  /** "HxW" for models without a fixed input size (fgcam.inputSize). */
  inputSize?: string;
}

export interface ExplainJob {
  imagePath: string;
  model: ModelSpec;
  options: ExplainOptions;
}

export type WorkerRequest =
  | { op: 'init'; backend: BackendPreference; wasmDir: string }
  /** Full explanation plus a display copy of the image (longest side <= displayMax). */
  | { op: 'explain'; job: ExplainJob; displayMax: number }
  /** Plain base CAM at one layer (for the side-by-side comparison). */
  | { op: 'baseMap'; job: ExplainJob; layer: string }
  /** Heatmap and overlay PNGs of one map over the image file, as the CLI renders them. */
  | { op: 'render'; imagePath: string; map: LayerMap; colormap: Colormap; opacity: number }
  /** Explain + render at `layer` (falls back to "input"), for Export Folder. */
  | { op: 'explainAndRender'; job: ExplainJob; layer: string; colormap: Colormap; opacity: number }
  /**
   * Deletion / insertion curves, their areas and AD / IC of FG-CAM at `layer` for the job's
   * base, denoise and class. `map`: the cached explanation's map at that layer (else the
   * worker explains first).
   */
  | { op: 'faithfulness'; job: ExplainJob; layer: string; map?: LayerMap }
  /** Every comparison method scored at `layer` (progress messages while running). */
  | { op: 'compareMethods'; job: ExplainJob; layer: string };

/** Sent by the worker while a request runs (before its reply). */
export interface WorkerProgress {
  done: number;
  total: number;
  /** What runs now. */
  what: string;
}

export interface ExplainReply {
  layers: LayerInfo[];
  labels?: string[];
  image: DisplayImage;
  backend: string;
  backendWarnings: string[];
  explanation: SerializedExplanation;
}

/** Explanation as it crosses the thread boundary (same fields as the engine's Explanation). */
export interface SerializedExplanation {
  backend: string;
  base: ExplainOptions['base'];
  denoise: boolean;
  classIndex: number;
  camLayer: string;
  probs: Float32Array;
  top: { index: number; prob: number; label?: string }[];
  maps: Record<string, LayerMap>;
  baseMaps: Record<string, LayerMap>;
  timings: Record<string, number>;
}

export interface RenderReply {
  heatmap: Uint8Array;
  overlay: Uint8Array;
  layer: string;
}

export type ErrorKind = 'model-not-found' | 'model' | 'image' | 'engine' | 'cancelled' | 'timeout' | 'worker';

export interface WorkerError {
  message: string;
  kind: ErrorKind;
}

export type WorkerMessage =
  | { id: number; progress: WorkerProgress }
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: WorkerError };
