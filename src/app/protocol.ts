// The one protocol of the engine worker (worker.ts): requests from engineClient.ts (the
// extension host) and workerPool.ts (`fgcam evaluate`), and the replies. Plain data only:
// typed arrays are transferred, never tensors. The reply types the panel shows travel on to
// the webview (webview/protocol.ts imports them, as types only).
import type { BackendPreference } from '../engine/backend';
import type { ColormapName } from '../engine/image/colormap';
import type { ExplainOptions, LayerInfo, LayerMap, Preprocess } from '../engine/types';
import type { Failed, ReviewDocument } from './dataset/document';
import type { ImageResult as ReviewResult, Summary } from './dataset/summary';

export type { Failed, ReviewDocument } from './dataset/document';
export type { ClassStats, ConfusedPair, ImageResult as ReviewResult, Summary } from './dataset/summary';
import type { EvaluateJob, ImageResult } from './evaluate/job';

export type { EvaluateJob, ImageResult } from './evaluate/job';

export type Colormap = ColormapName;

export interface DisplayImage {
  /** Possibly downscaled copy of the image for display (the original may be huge). */
  width: number;
  height: number;
  data: Uint8Array;
  /** Size of the file's image. */
  origWidth: number;
  origHeight: number;
}

/** Scores of one map (engine/metrics): curves of target-class softmax, areas, Y and O. */
export interface FaithfulnessReply {
  layer: string;
  classIndex: number;
  /** Target-class softmax on the full input (Y). */
  prob: number;
  /** After 0, 1, ..., n steps of `pixelsPerStep` pixels. */
  deletion: Float32Array;
  insertion: Float32Array;
  deletionAuc: number;
  insertionAuc: number;
  pixelsPerStep: number;
  /** Softmax on the input masked by the map (O); AD = 100·max(0, Y − O)/Y, IC = 100·[O > Y]. */
  masked: number;
  averageDrop: number;
  increaseInConfidence: number;
}

export interface MethodRow {
  /** Method id of the catalogue (engine/methods.ts: fgcam-gradcam, gradcampp, lrp, ...). */
  method: string;
  deletionAuc: number;
  insertionAuc: number;
  averageDrop: number;
  increaseInConfidence: number;
}

export interface MethodsReply {
  layer: string;
  classIndex: number;
  prob: number;
  /** Rows in display order. */
  rows: MethodRow[];
  /** Methods left out at this layer, with why. */
  omitted: { method: string; reason: string }[];
}

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

/** A dataset review of `folder` (app/dataset/review.ts), its files and cache in `outDir`. */
export interface ReviewJob {
  folder: string;
  model: ModelSpec;
  outDir: string;
  batch: number;
}

/** What a running review adds: new results and failures, and the summary so far. */
export interface ReviewStream {
  results: ReviewResult[];
  failed: Failed[];
  summary: Summary;
  cached: number;
}

export type WorkerRequest =
  | { op: 'init'; backend: BackendPreference }
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
  | { op: 'compareMethods'; job: ExplainJob; layer: string }
  /** Scores a dataset folder (progress messages carry the results as they come); replies with the ReviewDocument. */
  | { op: 'review'; job: ReviewJob }
  /** `fgcam evaluate`: every method of the job scored on one image file (reply: ImageResult). */
  | { op: 'score'; job: EvaluateJob; image: string };

/** Sent by the worker while a request runs (before its reply). */
export interface WorkerProgress {
  done: number;
  total: number;
  /** What runs now. */
  what: string;
  /** A review's new results (op 'review'). */
  review?: ReviewStream;
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
