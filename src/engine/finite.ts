// Honest failures for models that cannot be explained: an output that is not one vector of
// class scores, and non-finite numbers (broken weights, Inf/NaN) anywhere from the forward
// pass to the maps. A NaN map drawn as a heatmap is one flat colour that looks like an answer.
import * as tf from '@tensorflow/tfjs-core';
import type { Graph, GraphNode } from './model/graph';
import { disposeForward, runForward } from './model/forward';
import type { LayerMap } from './types';

/** Throws unless the model's output is one vector of class scores (shape [n] or [1, 1, n]). */
export function assertClassifier(g: Graph): void {
  const out = g.nodes.find((n) => n.name === g.output)!;
  const s = out.outputShape;
  if (s.length === 0 || s.slice(0, -1).some((d) => d !== 1) || s[s.length - 1] < 1) {
    throw new Error(
      `"${g.source}" is not an image classifier: its output '${out.name}' (${out.className}) has shape [${s.join(', ')}], ` +
        'not one vector of class scores. FG-CAM explains classifiers; export the model up to its class scores (e.g. global pooling and a Dense/Linear layer).',
    );
  }
}

const finite = (a: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
};

/** The first node, in model order, whose output holds a NaN or an infinity. */
export function firstNonFinite(g: Graph, acts: Map<string, tf.Tensor>): GraphNode | undefined {
  return g.nodes.find((n) => {
    const t = acts.get(n.name);
    return t !== undefined && !finite(t.dataSync() as Float32Array);
  });
}

function nonFinite(g: Graph, what: string, at?: GraphNode): Error {
  const where = !at ? '' : at.op.kind === 'input'
    ? ' The input itself is not finite (check the preprocessing: a zero --std?).'
    : ` The first layer whose output is not finite is '${at.name}' (${at.className}); the model's weights there (or before it) are broken.`;
  return new Error(`Model "${g.source}": ${what} contain NaN or infinite values.${where}`);
}

/** Throws, naming the first non-finite layer, when the logits are not all finite. */
export function assertFiniteLogits(g: Graph, logits: tf.Tensor, acts: Map<string, tf.Tensor>): void {
  if (finite(logits.dataSync() as Float32Array)) return;
  throw nonFinite(g, 'the class scores (logits)', firstNonFinite(g, acts));
}

/**
 * For compute paths that expose only some activations: when `logits` (or `probs`) are not all
 * finite, a forward pass that keeps every activation finds the first non-finite layer (only
 * then, so the check costs nothing for a healthy model), and the error names it.
 */
export function assertFiniteScores(g: Graph, scores: ArrayLike<number>, xData: Float32Array): void {
  if (finite(scores)) return;
  let at: GraphNode | undefined;
  const x = tf.tensor4d(xData, [1, ...g.inputShape]);
  try {
    const fwd = runForward(g, x, true);
    at = firstNonFinite(g, fwd.acts);
    disposeForward(fwd, [x]);
  } catch {
    // the diagnosis failed; the error below still stands
  } finally {
    x.dispose();
  }
  throw nonFinite(g, 'the class scores (logits)', at);
}

/** The last guard before a map is drawn or saved, for every front end. */
export function assertFiniteMap(m: LayerMap): void {
  if (!finite(m.raw)) throw new Error(`the map at layer '${m.layer}' contains NaN or infinite values; it is not written.`);
}

/** Throws when any map holds a NaN or an infinity (never hand one to a renderer). */
export function assertFiniteMaps(g: Graph, maps: Record<string, LayerMap>, method: string): void {
  for (const [layer, m] of Object.entries(maps)) {
    if (!finite(m.raw)) throw new Error(`Model "${g.source}": the ${method} map at layer '${layer}' contains NaN or infinite values; the model's weights or activations overflow float32 there.`);
  }
}
