// FG-CAM's composite (the method doc's table and "Beyond VGG"): z+ on every linear map, zβ on
// the conv that reads the model input, window rules for pooling, identity for elementwise
// activations and batch norm. No rule uses a bias, so sum(R_in) = sum(R_out) wherever no
// denominator is zero.
import type { Graph, GraphNode } from '../model/graph';
import type { Composite, Rule, RuleContext } from '../compile/reverse';
import { linearMap, zBeta, zPlus } from './linear';
import { maxPoolWithIndices, nonNegative, routeToIndices, safeDiv, splitConcat, uncrop, unpad, windowSums } from './tensors';

const identity: Rule = ({ rOut }) => [rOut];

/** The pad nodes between the model input and `node` (empty when it reads the input directly), or null. */
export function padChainFromInput(g: Graph, byName: Map<string, GraphNode>, node: GraphNode): GraphNode[] | null {
  const chain: GraphNode[] = [];
  let cur = byName.get(node.inputs[0])!;
  while (cur.op.kind === 'pad') {
    chain.unshift(cur);
    cur = byName.get(cur.inputs[0])!;
  }
  return cur.op.kind === 'input' ? chain : null;
}

/** zβ bounds: tensors of the conv input's shape filled with min / max of the whole model input, padded as the input is. */
function bounds(c: RuleContext, chain: GraphNode[]): { low: string; high: string } {
  const { b, f } = c;
  const shape = b.op('Shape', [f.x]);
  const fill = (v: string) =>
    chain.reduce((t, p) => {
      const [a, bo, l, r] = (p.op as { pads: number[] }).pads;
      return b.op('Pad', [t, b.constI([0, 0, a, l, 0, 0, bo, r])]);
    }, b.op('Expand', [v, shape]));
  return { low: fill(b.op('ReduceMin', [f.x], { keepdims: 0 })), high: fill(b.op('ReduceMax', [f.x], { keepdims: 0 })) };
}

/** z+ on any linear map (conv, depthwise, grouped, dense); zβ on the conv that reads the input. */
export const linearRule: Rule = (c) => {
  const m = linearMap(c);
  const x = c.ins[0];
  const chain = c.node.op.kind === 'dense' ? null : padChainFromInput(c.f.g, c.f.byName, c.node);
  if (chain) {
    const { low, high } = bounds(c, chain);
    return [zBeta(c, m, x, low, high)];
  }
  return [zPlus(c, m, x, !nonNegative(c.f.byName, c.producers[0]))];
};

/** Each window's relevance to its (first) max position of X⁺; a window whose max is 0 gives nothing. */
const maxPool: Rule = ({ b, node, rOut, ins, inShapes }) => {
  const p = b.op('Relu', [ins[0]]);
  const [m, idx] = maxPoolWithIndices(b, p, node, inShapes[0]);
  const zero = b.scalar(0);
  const r = b.op('Where', [b.op('Greater', [m, zero]), rOut, zero]);
  return [routeToIndices(b, r, idx, p)];
};

/** Relevance shared in proportion to X⁺ within each window. */
const avgPool: Rule = ({ b, node, rOut, ins, inShapes }) => {
  const p = b.op('Relu', [ins[0]]);
  const w = windowSums(b, node, inShapes[0]);
  return [b.op('Mul', [p, w.spread(safeDiv(b, rOut, w.sum(p)))])];
};

const globalAvgPool: Rule = ({ b, node, rOut, ins }) => {
  const p = b.op('Relu', [ins[0]]);
  const r = (node.op as { keepDims: boolean }).keepDims ? rOut : b.op('Unsqueeze', [rOut, b.constI([2, 3])]);
  return [b.op('Mul', [p, safeDiv(b, r, b.op('ReduceSum', [p, b.constI([2, 3])], { keepdims: 1 }))])];
};

/**
 * Residual joins: split in proportion to each addend's positive part (the method doc).
 * Ours: where no addend is positive (linear bottlenecks), split by the negative parts.
 */
const add: Rule = ({ b, rOut, ins }) => {
  const zero = b.scalar(0);
  const pos = ins.map((t) => b.op('Relu', [t]));
  const neg = ins.map((t) => b.op('Min', [t, zero]));
  const sumPos = pos.length === 1 ? pos[0] : b.op('Sum', pos);
  const sumNeg = neg.length === 1 ? neg[0] : b.op('Sum', neg);
  const usePos = b.op('Greater', [sumPos, zero]);
  const s = b.op('Where', [usePos, safeDiv(b, rOut, sumPos), safeDiv(b, rOut, sumNeg)]);
  return pos.map((p, i) => b.op('Mul', [b.op('Where', [usePos, p, neg[i]]), s]));
};

/** Gates (SE, swish written out): relevance stays with the gated signal. */
const mul: Rule = ({ node, rOut, inShapes, producers }) => {
  const full = inShapes.map((s) => s.join() === node.outputShape.join());
  const gate = (i: number) => ['sigmoid', 'hardsigmoid'].includes(producers[i].activation?.fn ?? '');
  let keep = full.findIndex((f, i) => f && !gate(i));
  if (keep < 0) keep = full.indexOf(true);
  if (keep < 0) throw new Error(`no input of ${node.className} has its output's shape`);
  return inShapes.map((_, i) => (i === keep ? rOut : null));
};

const concat: Rule = ({ b, node, rOut, inShapes }) => splitConcat(b, rOut, node, inShapes);
const pad: Rule = ({ b, node, rOut, inShapes }) => [unpad(b, rOut, (node.op as { pads: number[] }).pads, inShapes[0])];
const crop: Rule = ({ b, node, rOut }) => [uncrop(b, rOut, (node.op as { crops: number[] }).crops)];

const notWalked = (why: string): Rule => () => {
  throw new Error(why);
};

export const FGCAM_RULES: Composite['rules'] = {
  input: identity,
  activation: identity,
  identity,
  batchnorm: identity,
  conv: linearRule,
  depthwise: linearRule,
  maxpool: maxPool,
  avgpool: avgPool,
  globalavgpool: globalAvgPool,
  add,
  mul,
  concat,
  pad,
  crop,
  dense: notWalked('dense layers belong above the CAM layer'),
  flatten: notWalked('flatten belongs above the CAM layer'),
  reshape: notWalked('reshape belongs above the CAM layer'),
};

export const FGCAM: Composite = { name: 'FG-CAM', rules: FGCAM_RULES };
