// Test-only: part of the independent tfjs reference the compiled ONNX graphs are checked against (see tfjs.ts).
// The walk down: relevance from the CAM layer to the input, in reverse topological
// order, so a tensor read by several layers has every reader's share before it is
// passed on. One walk yields the map at every layer on the way.
import { tf } from './tfjs';
import type { Graph, GraphNode } from '../../src/engine/model/graph';
import type { LayerMap } from '../../src/engine/types';
import { RULES } from './rules';
import { isConv } from './linear';
import { INPUT, isSpatial, WalkError } from '../../src/engine/fgcam/walk';

/** Channel sum of a [1,h,w,c] relevance tensor: the layer's raw map. */
export function channelSum(layer: string, r: tf.Tensor): LayerMap {
  const [, h, w] = r.shape;
  const t = tf.sum(r, 3);
  const raw = Float32Array.from(t.dataSync());
  t.dispose();
  return { layer, height: h!, width: w!, raw };
}

/** The pad nodes between the model input and `node` (empty when it reads the input directly), or null. */
function padChainFromInput(g: Graph, node: GraphNode): GraphNode[] | null {
  const chain: GraphNode[] = [];
  let cur = g.nodes.find((n) => n.name === node.inputs[0])!;
  while (cur.op.kind === 'pad') {
    chain.unshift(cur);
    cur = g.nodes.find((n) => n.name === cur.inputs[0])!;
  }
  return cur.op.kind === 'input' ? chain : null;
}

/** zβ bounds: L, H filled with min/max of the whole model input, padded as the conv's input is. */
function zBetaBounds(g: Graph, node: GraphNode, x: tf.Tensor): { low: tf.Tensor4D; high: tf.Tensor4D } | undefined {
  if (!isConv(node)) return undefined;
  const chain = padChainFromInput(g, node);
  if (!chain) return undefined;
  return tf.tidy(() => {
    const fill = (v: tf.Tensor) =>
      chain.reduce((t, p) => {
        const [a, b, c, d] = (p.op as { pads: number[] }).pads;
        return tf.pad(t, [[0, 0], [a, b], [c, d], [0, 0]]);
      }, tf.mul(tf.onesLike(x), v)) as tf.Tensor4D;
    return { low: fill(tf.min(x)), high: fill(tf.max(x)) };
  });
}

/**
 * The reverse topological pass shared by the FG-CAM walk and LRP's head: visits nodes
 * from index `from` down to `to` (inclusive); `step` maps a node's output relevance to its
 * inputs'. A tensor read by several nodes receives the sum of their shares before it is
 * visited. Returns the relevance still pending below `to` (the caller owns it).
 */
export function carryDown(
  g: Graph,
  start: Map<string, tf.Tensor>,
  from: number,
  to: number,
  step: (node: GraphNode, rOut: tf.Tensor) => Array<tf.Tensor | null>,
): Map<string, tf.Tensor> {
  const pending = new Map(start);
  try {
    for (let i = from; i >= to; i--) {
      const node = g.nodes[i];
      const rOut = pending.get(node.name);
      if (!rOut) continue;
      pending.delete(node.name);
      try {
        const rIns = step(node, rOut);
        node.inputs.forEach((name, k) => {
          const r = rIns[k];
          if (!r) return;
          const prev = pending.get(name);
          pending.set(name, prev ? tf.tidy(() => tf.add(prev, r)) : r);
          if (prev) {
            prev.dispose();
            r.dispose();
          }
        });
      } finally {
        rOut.dispose();
      }
    }
  } catch (e) {
    for (const t of pending.values()) t.dispose();
    throw e;
  }
  return pending;
}

/**
 * Carries `components` (relevance at camLayer's output) down to the input.
 * Returns the map at every spatial node that received relevance, keyed by
 * layer name, the model input under "input".
 */
export function walk(g: Graph, acts: Map<string, tf.Tensor>, camLayer: string, components: tf.Tensor, x: tf.Tensor): Record<string, LayerMap> {
  const camIdx = g.nodes.findIndex((n) => n.name === camLayer);
  if (camIdx < 0) throw new Error(`No layer named "${camLayer}" in the model`);
  const maps: Record<string, LayerMap> = {};
  const rest = carryDown(g, new Map([[camLayer, components.clone()]]), camIdx, 0, (node, rOut) => {
    if (isSpatial(node)) {
      const key = node.op.kind === 'input' ? INPUT : node.name;
      maps[key] = channelSum(key, rOut);
    }
    if (node.op.kind === 'input') return [];
    const producers = node.inputs.map((n) => g.nodes.find((m) => m.name === n)!);
    const bounds = zBetaBounds(g, node, x);
    try {
      const rule = RULES[node.op.kind] as (typeof RULES)[keyof typeof RULES] | undefined;
      if (!rule) throw new Error(`there is no relevance rule for its op kind '${node.op.kind}'`);
      return rule({ node, rOut, ins: node.inputs.map((n) => acts.get(n)!), bounds, producers, graph: g });
    } catch (e) {
      throw new WalkError(g, node, camLayer, e as Error, maps);
    } finally {
      bounds?.low.dispose();
      bounds?.high.dispose();
    }
  });
  for (const t of rest.values()) t.dispose();
  return maps;
}
export { INPUT, isSpatial, WalkError };
