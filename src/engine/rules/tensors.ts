// Small ONNX idioms the rules share: safe divide, window routing and spreading.
import type { GraphNode, Op } from '../model/graph';
import { onnxPads, windowPads } from '../compile/forward';
import { onnx, OnnxBuilder } from '../compile/onnx-builder';

/** a ⊘ b: a / b where b ≠ 0, else 0. */
export function safeDiv(b: OnnxBuilder, num: string, den: string): string {
  const zero = b.scalar(0);
  return b.op('Where', [b.op('Equal', [den, zero]), zero, b.op('Div', [num, den])]);
}

/** Zeros of the shape of t. */
export function zerosLike(b: OnnxBuilder, t: string): string {
  return b.op('ConstantOfShape', [b.op('Shape', [t])], { value: { tensor: { dims: [1], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [0] } } });
}

/**
 * Sends r (one value per max-pool window) to the window's max position: `indices` are
 * MaxPool's flat indices into x (first max on ties, row-major, as PyTorch). Overlapping
 * windows add up.
 */
export function routeToIndices(b: OnnxBuilder, r: string, indices: string, x: string): string {
  const row = b.constI([1, -1]);
  const flatX = b.op('Reshape', [x, row]);
  const scattered = b.op('ScatterElements', [zerosLike(b, flatX), b.op('Reshape', [indices, row]), b.op('Reshape', [r, row])], { axis: 1, reduction: 'add' });
  return b.op('Reshape', [scattered, b.op('Shape', [x])]);
}

type PoolOp = Extract<Op, { kind: 'maxpool' | 'avgpool' }>;

/** MaxPool with its indices output: [values, indices]. */
export function maxPoolWithIndices(b: OnnxBuilder, x: string, node: GraphNode, inShape: number[]): [string, string] {
  const op = node.op as PoolOp;
  const pads = onnxPads(windowPads(op, inShape, op.size));
  const [m, idx] = b.opN('MaxPool', [x], 2, { kernel_shape: op.size, strides: op.strides, pads });
  return [m, idx];
}

/**
 * Sum over each pooling window (zeros in the padding) and its adjoint, as a depthwise conv
 * with a ones kernel and its transpose.
 */
export function windowSums(b: OnnxBuilder, node: GraphNode, inShape: number[]): { sum: (x: string) => string; spread: (s: string) => string } {
  const op = node.op as PoolOp;
  const [h, w, c] = inShape;
  const [kh, kw] = op.size;
  const [ho, wo] = node.outputShape;
  const p = windowPads(op, inShape, op.size);
  const ones = b.constF(new Float32Array(c * kh * kw).fill(1), [c, 1, kh, kw], `${node.name}_ones`);
  const attrs = { kernel_shape: op.size, strides: op.strides, pads: onnxPads(p), group: c };
  const outputPadding = [h - (op.strides[0] * (ho - 1) + kh - p[0] - p[1]), w - (op.strides[1] * (wo - 1) + kw - p[2] - p[3])];
  return {
    sum: (x) => b.op('Conv', [x, ones], attrs),
    spread: (s) => b.op('ConvTranspose', [s, ones], { ...attrs, output_padding: outputPadding }),
  };
}

/** Per output position, how many real (not padding) pixels its window covers: [1, 1, ho, wo]. */
export function windowCounts(b: OnnxBuilder, node: GraphNode, inShape: number[]): string {
  const op = node.op as PoolOp;
  const [h, w] = inShape;
  const [ho, wo] = node.outputShape;
  const p = windowPads(op, inShape, op.size);
  const counts = new Float32Array(ho * wo);
  const span = (i: number, s: number, k: number, pad: number, size: number) => Math.min(i * s - pad + k, size) - Math.max(i * s - pad, 0);
  for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++) counts[i * wo + j] = span(i, op.strides[0], op.size[0], p[0], h) * span(j, op.strides[1], op.size[1], p[2], w);
  return b.constF(counts, [1, 1, ho, wo], `${node.name}_counts`);
}

const NONNEG_ACTIVATIONS = new Set(['relu', 'relu6', 'sigmoid', 'hardsigmoid', 'softmax']);

/**
 * True when a node's output is ≥ 0 by construction: a ReLU-like activation, or a max-pool,
 * zero padding, cropping or identity of such an output.
 */
export function nonNegative(byName: Map<string, GraphNode>, n: GraphNode | undefined, depth = 0): boolean {
  if (!n || depth > 64) return false;
  if (n.activation) return NONNEG_ACTIVATIONS.has(n.activation.fn);
  if (!['maxpool', 'pad', 'crop', 'identity', 'activation'].includes(n.op.kind)) return false;
  return nonNegative(byName, byName.get(n.inputs[0]), depth + 1);
}

/** The axis of an IR concat inside the graph. */
export function innerAxis(axis: number, outShape: number[]): number {
  const a = axis < 0 ? axis + outShape.length + 1 : axis;
  return outShape.length === 3 ? [0, 2, 3, 1][a] : a;
}

/** Splits r along a concat's axis into its inputs' parts. */
export function splitConcat(b: OnnxBuilder, r: string, node: GraphNode, inShapes: number[][]): string[] {
  const axis = (node.op as { axis: number }).axis;
  const a = axis < 0 ? axis + node.outputShape.length + 1 : axis;
  const sizes = inShapes.map((s) => s[a - 1]);
  return b.opN('Split', [r, b.constI(sizes)], sizes.length, { axis: innerAxis(axis, node.outputShape) });
}

/** Relevance through zero padding: the padded border is cut off. */
export function unpad(b: OnnxBuilder, r: string, pads: number[], inShape: number[]): string {
  const [t, , l] = pads;
  return b.op('Slice', [r, b.constI([t, l]), b.constI([t + inShape[0], l + inShape[1]]), b.constI([2, 3])]);
}

/** Relevance through a crop: zeros where the crop cut. */
export function uncrop(b: OnnxBuilder, r: string, crops: number[]): string {
  const [t, bo, l, rr] = crops;
  return b.op('Pad', [r, b.constI([0, 0, t, l, 0, 0, bo, rr])]);
}
