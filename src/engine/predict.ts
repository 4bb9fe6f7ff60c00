// Batched inference: n preprocessed inputs in, n rows of logits and softmax out. The dataset
// review scores whole folders through this one call; nothing here keeps activations. It runs
// where explain() runs: the compiled predict graph on ONNX Runtime, or the tfjs forward.
import * as tf from '@tensorflow/tfjs-core';
import type { Graph } from './model/graph';
import { disposeForward, runForward } from './model/forward';
import { getComputePath } from './explain-path';
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
 * them) in one forward pass. The softmax is computed in float64 here so that p = 1 - 1e-9
 * stays distinguishable from 1 for the loss.
 */
export async function predictBatch(g: Graph, batch: Float32Array, n: number): Promise<BatchPrediction> {
  const per = g.inputShape[0] * g.inputShape[1] * g.inputShape[2];
  if (!Number.isInteger(n) || n < 1 || batch.length !== n * per) {
    throw new Error(`predictBatch: ${batch.length} values are not ${n} inputs of ${g.inputShape.join('x')}`);
  }
  if (getComputePath() === 'onnxruntime') {
    const r = await predictOrt(g, batch, n);
    return { logits: Float32Array.from(r.logits), probs: Float32Array.from(r.probs) };
  }
  const x = tf.tensor4d(batch, [n, ...g.inputShape]);
  let logits: Float32Array;
  try {
    const fwd = runForward(g, x, false);
    try {
      logits = (await fwd.logits.data()) as Float32Array;
    } finally {
      disposeForward(fwd, [x]);
    }
  } finally {
    x.dispose();
  }
  const classes = logits.length / n;
  const probs = new Float32Array(logits.length);
  for (let r = 0; r < n; r++) {
    const o = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[o + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[o + c] - max);
    for (let c = 0; c < classes; c++) probs[o + c] = Math.exp(logits[o + c] - max) / sum;
  }
  return { logits: Float32Array.from(logits), probs };
}
