// The one reverse-pass builder. It visits nodes in reverse topological order and asks a
// composite (a rule per op kind, passed in) how a node's output relevance / gradient maps to
// its inputs; a tensor read by several nodes receives the sum of their shares before it is
// visited. FG-CAM, LRP and the plain gradient are three composites over this builder.
import type { GraphNode, OpKind } from '../model/graph';
import type { Forward } from './forward';
import type { OnnxBuilder } from './onnx-builder';

export interface RuleContext {
  b: OnnxBuilder;
  f: Forward;
  node: GraphNode;
  /** Relevance (or gradient) at the node's output, inner layout. */
  rOut: string;
  /** The node's input activations (forward tensors). */
  ins: string[];
  /** IR shapes of the inputs. */
  inShapes: number[][];
  producers: GraphNode[];
  /** True when the start relevance was placed before the node's fused activation (a final softmax). */
  atPre: boolean;
}

/** Relevance for each input (null: that input gets none). */
export type Rule = (c: RuleContext) => Array<string | null>;

export interface Composite {
  name: string;
  rules: Partial<Record<OpKind, Rule>>;
}

/** A node the composite cannot pass: the builder stops there. */
export class RuleError extends Error {
  constructor(readonly node: GraphNode, readonly cause: Error) {
    super(cause.message);
  }
}

export interface ReverseOptions {
  /** Called with every visited node's complete output relevance (before its rule). */
  visit?: (node: GraphNode, rOut: string) => void;
  /** Nodes whose start relevance is before the fused activation. */
  atPre?: Set<string>;
}

/**
 * Carries `start` (tensor names at node outputs) from node index `from` down to `to`
 * (inclusive) through `composite`. Returns what is still pending below `to`. A rule that
 * fails throws a RuleError naming the node (the nodes already visited were emitted).
 */
export function reversePass(f: Forward, composite: Composite, start: Map<string, string>, from: number, to: number, opts: ReverseOptions = {}): Map<string, string> {
  const { b, g } = f;
  const pending = new Map<string, string[]>([...start].map(([k, v]) => [k, [v]]));
  for (let i = from; i >= to; i--) {
    const node = g.nodes[i];
    const shares = pending.get(node.name);
    if (!shares) continue;
    pending.delete(node.name);
    const rOut = shares.length === 1 ? shares[0] : b.op('Sum', shares);
    opts.visit?.(node, rOut);
    if (node.op.kind === 'input') continue;
    const rule = composite.rules[node.op.kind];
    let rIns: Array<string | null>;
    try {
      if (!rule) throw new Error(`there is no relevance rule for its op kind '${node.op.kind}'`);
      rIns = rule({
        b,
        f,
        node,
        rOut,
        ins: node.inputs.map((n) => f.out.get(n)!),
        inShapes: node.inputs.map((n) => f.byName.get(n)!.outputShape),
        producers: node.inputs.map((n) => f.byName.get(n)!),
        atPre: opts.atPre?.has(node.name) ?? false,
      });
    } catch (e) {
      throw new RuleError(node, e as Error);
    }
    node.inputs.forEach((name, k) => {
      const r = rIns[k];
      if (!r) return;
      const list = pending.get(name);
      if (list) list.push(r);
      else pending.set(name, [r]);
    });
  }
  return new Map([...pending].map(([k, v]) => [k, v.length === 1 ? v[0] : b.op('Sum', v)]));
}
