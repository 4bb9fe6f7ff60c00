// Honest failures for models that cannot be explained: an output that is not one vector of
// class scores, and non-finite numbers (broken weights, Inf/NaN) anywhere from the forward
// pass to the maps. A NaN map drawn as a heatmap is one flat colour that looks like an answer.
import type { Graph, GraphNode } from './model/graph';
import { gradientsOrt } from './compute';
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
export function firstNonFinite(g: Graph, outputs: Map<string, ArrayLike<number>>): GraphNode | undefined {
  return g.nodes.find((n) => {
    const a = outputs.get(n.name);
    return a !== undefined && !finite(a);
  });
}

function nonFinite(g: Graph, what: string, at?: GraphNode): Error {
  const where = !at ? '' : at.op.kind === 'input'
    ? ' The input itself is not finite (check the preprocessing: a zero --std?).'
    : ` The first layer whose output is not finite is '${at.name}' (${at.className}); the model's weights there (or before it) are broken.`;
  return new Error(`Model "${g.source}": ${what} contain NaN or infinite values.${where}`);
}

/**
 * Every node's output for one input, keyed by node name, as the graph holds it inside (NCHW
 * for maps: finiteness does not care): a gradient program without gradients, all nodes tapped.
 */
export async function nodeOutputsOrt(g: Graph, x: Float32Array): Promise<Map<string, Float32Array>> {
  const names = g.nodes.map((n) => n.name);
  const r = await gradientsOrt(g, x, -1, [], false, names);
  return new Map(names.map((n) => [n, r.taps.get(n)!.data]));
}

/** Non-finite class scores, before the layer is found (locateNonFinite names it). */
class NonFiniteScores extends Error {}

/**
 * Throws when the class scores (logits or probs) are not all finite. Synchronous, so compute
 * paths can call it where they have the scores; locateNonFinite then names the layer.
 */
export function assertFiniteScores(g: Graph, scores: ArrayLike<number>): void {
  if (!finite(scores)) throw new NonFiniteScores(nonFinite(g, 'the class scores (logits)').message);
}

/**
 * For an error from assertFiniteScores: the same error naming the first non-finite layer,
 * found by one more run that returns every node's output (only then, so the check costs
 * nothing for a healthy model). Any other error comes back as it is.
 */
export async function locateNonFinite(g: Graph, xData: Float32Array, e: unknown): Promise<unknown> {
  if (!(e instanceof NonFiniteScores)) return e;
  let at: GraphNode | undefined;
  try {
    at = firstNonFinite(g, await nodeOutputsOrt(g, xData));
  } catch {
    // the diagnosis failed; the error below still stands
  }
  return nonFinite(g, 'the class scores (logits)', at);
}

/** assertFiniteScores, naming the first non-finite layer when it throws. */
export async function checkFiniteScores(g: Graph, scores: ArrayLike<number>, xData: Float32Array): Promise<void> {
  try {
    assertFiniteScores(g, scores);
  } catch (e) {
    throw await locateNonFinite(g, xData, e);
  }
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
