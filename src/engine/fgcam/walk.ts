// The walk's vocabulary, shared by the compiled walk (compute.ts) and the front ends: the
// model input's user-facing name, which layers have maps, and the error when the walk stops.
import type { Graph, GraphNode } from '../model/graph';
import type { LayerMap } from '../types';

export const INPUT = 'input';

// ---- A layer the walk cannot pass (issue 5) ---------------------------------------

/**
 * Thrown when a node's rule fails (an op kind without a rule, or dense / flatten / reshape
 * below the CAM layer). Names the node, says why, and lists the layers that can still be
 * explained: the spatial layers from that node up to the CAM layer that do not feed it (their
 * relevance is complete before the walk reaches it), in model order.
 */
export class WalkError extends Error {
  readonly layer: string;
  readonly className: string;
  /** Spatial layers (model names) that can still be explained, in model order. */
  readonly explainable: string[];
  /** The maps the walk had finished when it stopped. */
  readonly maps: Record<string, LayerMap>;
  constructor(g: Graph, node: GraphNode, camLayer: string, cause: Error, maps: Record<string, LayerMap>) {
    // Ancestors of the failing node: their relevance would need its rule.
    const feeds = new Set<string>(node.inputs);
    const above = new Set([camLayer]);
    for (let i = g.nodes.length - 1; i >= 0; i--) {
      const n = g.nodes[i];
      if (feeds.has(n.name)) n.inputs.forEach((m) => feeds.add(m));
      if (above.has(n.name)) n.inputs.forEach((m) => above.add(m));
    }
    const explainable = g.nodes.filter((n) => above.has(n.name) && !feeds.has(n.name) && isSpatial(n)).map((n) => n.name);
    // The rules' own "not walked" messages repeat the layer name: keep only the reason.
    const why = /^Cannot carry relevance down through '.*?' \(.*?\): (.*?)\. Choose a CAM layer below it\.$/.exec(cause.message)?.[1] ?? cause.message;
    const shown = explainable.length > 12 ? [...explainable.slice(0, 6), '…', ...explainable.slice(-5)] : explainable;
    const rest = explainable.length
      ? `Layers above it can still be explained (${explainable.length}, between it and the CAM layer '${camLayer}'): ${shown.join(', ')}. ` +
        `Choose one of them as the layer to show, or a CAM layer below '${node.name}'.`
      : `No layer between it and the CAM layer '${camLayer}' has a spatial output: choose a CAM layer below '${node.name}'.`;
    super(`FG-CAM cannot walk down through layer '${node.name}' (${node.className}): ${why}. ${rest}`);
    this.name = 'WalkError';
    this.layer = node.name;
    this.className = node.className;
    this.explainable = explainable;
    this.maps = maps;
  }
}

export function isSpatial(n: GraphNode): boolean {
  return n.outputShape.length === 3;
}

