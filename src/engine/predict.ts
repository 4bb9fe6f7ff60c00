// Batched inference: n preprocessed inputs in, n rows of logits and softmax out. The dataset
// review scores whole folders through this one call; nothing here keeps activations. It runs
// the compiled predict graph on ONNX Runtime.
import type { Graph } from './model/graph';
import { predictOrt } from './compute';

export interface BatchPrediction {
  /** Pre-softmax scores, row-major n x classes. */
  logits: Float32Array;
  /** Softmax of each row, row-major n x classes. */
  probs: Float32Array;
}

/** The model's class count (last axis of its output). */
export function classCount(g: Graph): number {
  const out = g.nodes.find((n) => n.name === g.output);
  const c = out?.outputShape[out.outputShape.length - 1];
  if (!c) throw new Error('The model output has no class axis (its output shape is unknown).');
  return c;
}

/**
 * Runs `n` inputs stacked in `batch` (n x graph.inputShape, NHWC, as toModelInput builds
 * them) in one forward pass.
 */
export async function predictBatch(g: Graph, batch: Float32Array, n: number): Promise<BatchPrediction> {
  const per = g.inputShape[0] * g.inputShape[1] * g.inputShape[2];
  if (!Number.isInteger(n) || n < 1 || batch.length !== n * per) {
    throw new Error(`predictBatch: ${batch.length} values are not ${n} inputs of ${g.inputShape.join('x')}`);
  }
  const r = await predictOrt(g, batch, n);
  return { logits: Float32Array.from(r.logits), probs: Float32Array.from(r.probs) };
}
