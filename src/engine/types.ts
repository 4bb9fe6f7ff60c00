// Plain-data types crossing the engine's boundary (CLI, worker messages, panel).
// No tensors here: everything is typed arrays and numbers.
import type { PreprocessPreset } from './model/graph';

/** FG-CAM's bases are gradcam and scorecam; the others are for comparison (issue 7, cam/methods.ts). */
export type BaseMethod = 'gradcam' | 'scorecam' | 'gradcampp' | 'xgradcam' | 'layercam';

export interface Preprocess {
  preset?: PreprocessPreset;
  /** Explicit per-channel mean/std on the 0..1 scale (override the preset). */
  mean?: number[];
  std?: number[];
}

export interface ExplainOptions {
  base: BaseMethod;
  denoise: boolean;
  /** Target class; default top-1. */
  classIndex?: number;
  /** CAM layer override; default: detected (last layer with a spatial output). */
  camLayer?: string;
  /** Masked inputs per Score-CAM forward batch (default: sized to the model, up to 64). */
  scoreBatch?: number;
  /** false: skip the FG-CAM walk (only predictions and base CAMs); default true. */
  walk?: boolean;
  /** Called as long steps advance (Score-CAM: masked forwards done of total). */
  onProgress?: (what: string, done: number, total: number) => void;
  /** FG-CAM maps wanted ("input" or layer names); default every spatial layer the walk passes. Fewer is faster. */
  layers?: string[];
  /** Also compute the plain base CAM at these layers (for comparison). */
  baseCamLayers?: string[];
}

/** One layer's map: channel sum of the relevance at the layer's output, before ReLU/normalisation. */
export interface LayerMap {
  layer: string;
  /** h, w of the layer output (input: the model input size). */
  height: number;
  width: number;
  raw: Float32Array;
}

export interface Prediction {
  index: number;
  prob: number;
  label?: string;
}

export interface LayerInfo {
  name: string;
  className: string;
  /** Output shape without batch, e.g. [56, 56, 128]. */
  shape: number[];
  /** True when the output is a spatial map (explainable). */
  spatial: boolean;
}

export interface Explanation {
  backend: string;
  base: BaseMethod;
  denoise: boolean;
  classIndex: number;
  camLayer: string;
  /** Softmax of the logits, all classes. */
  probs: Float32Array;
  top: Prediction[];
  /** FG-CAM map at every spatial layer from the CAM layer down to the input ("input"). */
  maps: Record<string, LayerMap>;
  /** Plain base CAM (components at the layer, channel sum, before ReLU) at requested layers. */
  baseMaps: Record<string, LayerMap>;
  /** Milliseconds: forward, components, walk, baseCams, total; or `run` and total where one graph run did it all. */
  timings: Record<string, number>;
}
