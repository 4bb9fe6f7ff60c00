// The plain gradient as a composite: each rule is the vector-Jacobian product of its op, so
// the reverse pass from a one-hot seed at the logits gives ∂y_c/∂A at any layer (Grad-CAM,
// Grad-CAM++, XGrad-CAM, LayerCAM). Max-pool routes to the first max (PyTorch's rule).
import type { Activation, Op } from '../model/graph';
import type { Composite, Rule, RuleContext } from '../compile/reverse';
import { fromFlat, toFlat } from '../compile/forward';
import type { OnnxBuilder } from '../compile/onnx-builder';
import { linearMap } from './linear';
import { maxPoolWithIndices, routeToIndices, splitConcat, uncrop, unpad, windowCounts, windowSums } from './tensors';

function mask(b: OnnxBuilder, cond: string): string {
  return b.op('Cast', [cond], { to: 1 });
}

/** g ⊙ act'(pre), with out = act(pre). */
function throughActivation(b: OnnxBuilder, g: string, act: Activation | undefined, pre: string, out: string, spatial: boolean): string {
  if (!act) return g;
  const zero = b.scalar(0);
  const one = b.scalar(1);
  switch (act.fn) {
    case 'linear':
      return g;
    case 'relu':
      return b.op('Mul', [g, mask(b, b.op('Greater', [pre, zero]))]);
    case 'relu6':
      return b.op('Mul', [g, b.op('Mul', [mask(b, b.op('Greater', [pre, zero])), mask(b, b.op('LessOrEqual', [pre, b.scalar(6)]))])]);
    case 'leakyrelu':
      return b.op('Where', [b.op('Greater', [pre, zero]), g, b.op('Mul', [g, b.scalar(act.alpha)])]);
    case 'elu':
      return b.op('Where', [b.op('Greater', [pre, zero]), g, b.op('Mul', [g, b.op('Add', [out, b.scalar(act.alpha)])])]);
    case 'sigmoid':
      return b.op('Mul', [g, b.op('Mul', [out, b.op('Sub', [one, out])])]);
    case 'hardsigmoid': {
      const u = b.op('Add', [b.op('Mul', [pre, b.scalar(act.alpha)]), b.scalar(act.beta)]);
      const inside = b.op('Mul', [mask(b, b.op('Greater', [u, zero])), mask(b, b.op('Less', [u, one]))]);
      return b.op('Mul', [g, b.op('Mul', [inside, b.scalar(act.alpha)])]);
    }
    case 'hardswish': {
      // x·relu6(x+3)/6: 0 below −3, 1 above 3, (2x+3)/6 between.
      const mid = b.op('Div', [b.op('Add', [b.op('Mul', [pre, b.scalar(2)]), b.scalar(3)]), b.scalar(6)]);
      const d = b.op('Where', [b.op('Less', [pre, b.scalar(-3)]), zero, b.op('Where', [b.op('Greater', [pre, b.scalar(3)]), one, mid])]);
      return b.op('Mul', [g, d]);
    }
    case 'swish': {
      const s = b.op('Sigmoid', [pre]);
      return b.op('Mul', [g, b.op('Add', [s, b.op('Mul', [pre, b.op('Mul', [s, b.op('Sub', [one, s])])])])]);
    }
    case 'tanh':
      return b.op('Mul', [g, b.op('Sub', [one, b.op('Mul', [out, out])])]);
    case 'softmax': {
      const axis = spatial ? 1 : -1;
      const dot = b.op('ReduceSum', [b.op('Mul', [g, out]), b.constI([axis])], { keepdims: 1 });
      return b.op('Mul', [out, b.op('Sub', [g, dot])]);
    }
  }
}

/** Sums a broadcast gradient back to an input's shape ([N, C] against a spatial output). */
function unbroadcast(b: OnnxBuilder, g: string, inShape: number[], outShape: number[]): string {
  if (outShape.length === 3 && inShape.length === 1) return b.op('ReduceSum', [g, b.constI([2, 3])], { keepdims: 0 });
  if (outShape.length === 3 && inShape.length === 3 && (inShape[0] !== outShape[0] || inShape[1] !== outShape[1])) {
    return b.op('ReduceSum', [g, b.constI([2, 3])], { keepdims: 1 });
  }
  return g;
}

function broadcastable(b: OnnxBuilder, t: string, inShape: number[], outShape: number[]): string {
  return outShape.length === 3 && inShape.length === 1 ? b.op('Unsqueeze', [t, b.constI([2, 3])]) : t;
}

type OpRule = (c: RuleContext, g: string) => Array<string | null>;

const pass: OpRule = (_c, g) => [g];

const OPS: Record<Op['kind'], OpRule> = {
  input: pass,
  activation: pass,
  identity: pass,
  conv: (c, g) => [linearMap(c).adjoint(g, 'all')],
  depthwise: (c, g) => [linearMap(c).adjoint(g, 'all')],
  dense: (c, g) => [linearMap(c).adjoint(g, 'all')],
  batchnorm: ({ b, node }, g) => {
    const s = node.outputShape;
    const scale = (node.op as Extract<Op, { kind: 'batchnorm' }>).scale.data;
    return [b.op('Mul', [g, b.constF(scale, s.length === 3 ? [s[2], 1, 1] : [s[s.length - 1]], `${node.name}_scale_g`)])];
  },
  maxpool: ({ b, node, ins, inShapes }, g) => {
    const [, idx] = maxPoolWithIndices(b, ins[0], node, inShapes[0]);
    return [routeToIndices(b, g, idx, ins[0])];
  },
  avgpool: ({ b, node, inShapes }, g) => [windowSums(b, node, inShapes[0]).spread(b.op('Div', [g, windowCounts(b, node, inShapes[0])]))],
  globalavgpool: ({ b, node, ins, inShapes }, g) => {
    const [h, w] = inShapes[0];
    const g4 = (node.op as { keepDims: boolean }).keepDims ? g : b.op('Unsqueeze', [g, b.constI([2, 3])]);
    return [b.op('Expand', [b.op('Div', [g4, b.scalar(h * w)]), b.op('Shape', [ins[0]])])];
  },
  pad: ({ b, node, inShapes }, g) => [unpad(b, g, (node.op as { pads: number[] }).pads, inShapes[0])],
  crop: ({ b, node }, g) => [uncrop(b, g, (node.op as { crops: number[] }).crops)],
  add: ({ b, node, inShapes }, g) => inShapes.map((s) => unbroadcast(b, g, s, node.outputShape)),
  mul: ({ b, node, ins, inShapes }, g) =>
    ins.map((_, i) => {
      const others = ins.filter((_, j) => j !== i).map((t, j) => broadcastable(b, t, inShapes[j >= i ? j + 1 : j], node.outputShape));
      const prod = others.reduce((a, t) => b.op('Mul', [a, t]), g);
      return unbroadcast(b, prod, inShapes[i], node.outputShape);
    }),
  concat: ({ b, node, inShapes }, g) => splitConcat(b, g, node, inShapes),
  flatten: ({ b, inShapes }, g) => [fromFlat(b, g, inShapes[0])],
  reshape: ({ b, node, inShapes }, g) => [fromFlat(b, toFlat(b, g, node.outputShape), inShapes[0])],
};

const vjp: Rule = (c) => {
  const { b, f, node, rOut } = c;
  const out = f.out.get(node.name)!;
  const g = c.atPre ? rOut : throughActivation(b, rOut, node.activation, f.pre.get(node.name) ?? out, out, node.outputShape.length === 3);
  return OPS[node.op.kind](c, g);
};

export const GRADIENT: Composite = {
  name: 'gradient',
  rules: Object.fromEntries(Object.keys(OPS).map((k) => [k, vjp])) as Composite['rules'],
};
