// Format-independent rewrites of an imported Graph, done once for every importer:
// batch norm folded into a per-channel affine map, the graph pruned to the output's
// ancestors in topological order, and the input shape checked to be an image.
import type { Graph, GraphNode } from './graph';

/** Largest model input we accept (a zero forward at this size is already heavy). */
export const MAX_INPUT_PIXELS = 4096 * 4096;

/** y = gamma * (x - mean) / sqrt(var + eps) + beta  ->  x * scale + offset. Computed in float64, stored as float32. */
export function foldBN(
  mean: ArrayLike<number>, variance: ArrayLike<number>, gamma: ArrayLike<number> | undefined,
  beta: ArrayLike<number> | undefined, eps: number,
): { scale: Float32Array; offset: Float32Array } {
  const n = mean.length;
  const scale = new Float32Array(n);
  const offset = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = (gamma ? gamma[i] : 1) / Math.sqrt(variance[i] + eps);
    scale[i] = s;
    offset[i] = (beta ? beta[i] : 0) - mean[i] * s;
  }
  return { scale, offset };
}

/**
 * Keeps the output's ancestors, in a topological order that follows the model's own order.
 * The output must depend on exactly one input node, which then comes first.
 */
export function pruneToOutput(nodes: GraphNode[], output: string, source: string): GraphNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  if (!byName.has(output)) throw new Error(`"${source}": output layer '${output}' is not in the model.`);
  const done = new Set<string>();
  const visiting = new Set<string>();
  const order: GraphNode[] = [];
  // Iterative depth-first search: a hostile file can chain a million nodes.
  const stack: { name: string; from: string; next: number }[] = [{ name: output, from: output, next: 0 }];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const n = byName.get(top.name);
    if (!n) throw new Error(`"${source}": layer '${top.from}' reads '${top.name}', which is not in the model.`);
    if (top.next === 0) {
      if (done.has(top.name)) { stack.pop(); continue; }
      if (visiting.has(top.name)) throw new Error(`"${source}": the model has a cycle through '${top.name}'.`);
      visiting.add(top.name);
    }
    if (top.next < n.inputs.length) {
      const i = n.inputs[top.next++];
      if (visiting.has(i)) throw new Error(`"${source}": the model has a cycle through '${i}'.`);
      if (!done.has(i)) stack.push({ name: i, from: top.name, next: 0 });
      continue;
    }
    visiting.delete(top.name);
    done.add(top.name);
    order.push(n);
    stack.pop();
  }
  const inputs = order.filter((n) => n.op.kind === 'input');
  if (inputs.length !== 1 || order[0] !== inputs[0]) {
    throw new Error(`"${source}": the output depends on ${inputs.length} inputs (${inputs.map((n) => n.name).join(', ')}); FG-CAM needs exactly one image input.`);
  }
  return order;
}

/** Runs every format-independent rewrite and check on a freshly imported graph (in place). */
export function canonicalise(g: Graph): Graph {
  const [h, w, c] = g.inputShape;
  const ok = (v: number) => Number.isInteger(v) && v >= 1;
  if (!ok(h) || !ok(w) || !ok(c) || c > 4 || h * w > MAX_INPUT_PIXELS) {
    throw new Error(`"${g.source}": the model's input is ${g.inputShape.join('x')}; FG-CAM needs an image input of at most ${MAX_INPUT_PIXELS} pixels with 1 to 4 channels.`);
  }
  g.nodes = pruneToOutput(g.nodes, g.output, g.source);
  return g;
}
