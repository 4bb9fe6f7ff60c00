// What every importer is asked to do when it opens a model. Its own file, so the importers
// (layers.ts, onnx.ts) and the entry that picks one (load.ts) do not import each other.
export interface LoadOptions {
  /** [height, width] for models whose input size is not fixed (overrides the model's). */
  inputSize?: [number, number];
  /** Fill outputShape with a zero forward pass (default true). */
  inferShapes?: boolean;
}
