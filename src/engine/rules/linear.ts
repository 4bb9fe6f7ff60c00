// Conv and dense as one thing: a linear map with its adjoint. z+ and zβ are written once over
// it; the gradient composite uses the adjoint alone.
import type { GraphNode } from '../model/graph';
import { ConvNode, convAttrs, convWeight, denseWeight, fromFlat, toFlat, type ConvSign } from '../compile/forward';
import type { RuleContext } from '../compile/reverse';
import { safeDiv } from './tensors';

export type Sign = 'all' | 'pos' | 'neg';

export interface LinearMap {
  /** Convs of one group: zβ's three maps as one, on [X, L, H] stacked along channels. */
  stacked: boolean;
  /** The map without bias, with W, W⁺ or W⁻ (or, stacked, 'beta'), on a tensor of the node's input shape. */
  apply(x: string, sign: ConvSign): string;
  /** Its adjoint (the gradient of apply w.r.t. x), back in the input's layout. */
  adjoint(s: string, sign: ConvSign): string;
}

export function isLinear(n: GraphNode): boolean {
  return n.op.kind === 'conv' || n.op.kind === 'depthwise' || n.op.kind === 'dense';
}

export function linearMap(c: RuleContext): LinearMap {
  const { b, f, node } = c;
  const inShape = c.inShapes[0];
  if (node.op.kind === 'dense') {
    const weight = (sign: ConvSign) => {
      if (sign === 'beta') throw new Error(`${node.name}: a dense map has no stacked form`);
      return denseWeight(f, node, sign);
    };
    return {
      stacked: false,
      apply: (x, sign) => b.op('MatMul', [toFlat(b, x, inShape), weight(sign)]),
      // The same initializer, transposed by Gemm: no second copy of the weights.
      adjoint: (s, sign) => fromFlat(b, b.op('Gemm', [s, weight(sign)], { transB: 1 }), inShape),
    };
  }
  if (node.op.kind !== 'conv' && node.op.kind !== 'depthwise') throw new Error(`${node.name} is not a linear map`);
  const cn = node as ConvNode;
  const attrs = convAttrs(f, cn);
  // ConvTranspose's output size: s·(in−1) + ((k−1)·d + 1) − pads + output_padding; the
  // output padding gives back the rows and columns the forward's stride skipped.
  const [h, w] = inShape;
  const [ho, wo] = node.outputShape;
  const [kh, kw] = cn.op.weight.shape;
  const pads = attrs.pads as number[];
  const extra = (size: number, out: number, k: number, s: number, d: number, p0: number, p1: number) => size - (s * (out - 1) + (k - 1) * d + 1 - p0 - p1);
  const outputPadding = [
    extra(h, ho, kh, cn.op.strides[0], cn.op.dilations[0], pads[0], pads[2]),
    extra(w, wo, kw, cn.op.strides[1], cn.op.dilations[1], pads[1], pads[3]),
  ];
  // Stride 1: convᵀ is a conv with the flipped, transposed kernel and pads d·(k−1) − p (the
  // same values; ONNX Runtime's Conv is much faster than its ConvTranspose).
  const [dh, dw] = cn.op.dilations;
  const adjPads = [dh * (kh - 1) - pads[0], dw * (kw - 1) - pads[1], dh * (kh - 1) - pads[2], dw * (kw - 1) - pads[3]];
  const asConv = cn.op.strides[0] === 1 && cn.op.strides[1] === 1 && adjPads.every((p) => p >= 0);
  return {
    stacked: attrs.group === 1,
    apply: (x, sign) => b.op('Conv', [x, convWeight(f, cn, sign).name], attrs),
    adjoint: (s, sign) =>
      asConv
        ? b.op('Conv', [s, convWeight(f, cn, sign, true).name], { ...attrs, pads: adjPads })
        : b.op('ConvTranspose', [s, convWeight(f, cn, sign).name], { ...attrs, output_padding: outputPadding }),
  };
}

/**
 * z+: Z = map(X⁺, W⁺) + map(X⁻, W⁻) (no bias); S = R ⊘ Z; R_in = X⁺ ⊙ mapᵀ(S, W⁺) + X⁻ ⊙ mapᵀ(S, W⁻).
 * When X ≥ 0 by construction the W⁻ branch is exactly zero and is left out.
 */
export function zPlus(c: RuleContext, m: LinearMap, x: string, mayBeNegative: boolean): string {
  const { b, rOut } = c;
  const xp = mayBeNegative ? b.op('Relu', [x]) : x;
  let z = m.apply(xp, 'pos');
  const xn = mayBeNegative ? b.op('Min', [x, b.scalar(0)]) : undefined;
  if (xn) z = b.op('Add', [z, m.apply(xn, 'neg')]);
  const s = safeDiv(b, rOut, z);
  const rin = b.op('Mul', [xp, m.adjoint(s, 'pos')]);
  return xn ? b.op('Add', [rin, b.op('Mul', [xn, m.adjoint(s, 'neg')])]) : rin;
}

/**
 * zβ: Z = map(X, W) − map(L, W⁺) − map(H, W⁻); S = R ⊘ Z;
 * R_in = X ⊙ mapᵀ(S, W) − L ⊙ mapᵀ(S, W⁺) − H ⊙ mapᵀ(S, W⁻).
 */
export function zBeta(c: RuleContext, m: LinearMap, x: string, low: string, high: string): string {
  const { b, rOut } = c;
  if (m.stacked) {
    // One conv each way on [X, L, H] with [W, −W⁺, −W⁻]: the same sums, a third of the
    // passes over the largest tensors of the walk.
    const xlh = b.op('Concat', [x, low, high], { axis: 1 });
    const s = safeDiv(b, rOut, m.apply(xlh, 'beta'));
    const [h, w, ch] = c.inShapes[0];
    const parts = b.op('Reshape', [b.op('Mul', [xlh, m.adjoint(s, 'beta')]), b.constI([1, 3, ch, h, w])]);
    return b.op('ReduceSum', [parts, b.constI([1])], { keepdims: 0 });
  }
  const z = b.op('Sub', [b.op('Sub', [m.apply(x, 'all'), m.apply(low, 'pos')]), m.apply(high, 'neg')]);
  const s = safeDiv(b, rOut, z);
  const t = b.op('Sub', [b.op('Mul', [x, m.adjoint(s, 'all')]), b.op('Mul', [low, m.adjoint(s, 'pos')])]);
  return b.op('Sub', [t, b.op('Mul', [high, m.adjoint(s, 'neg')])]);
}
