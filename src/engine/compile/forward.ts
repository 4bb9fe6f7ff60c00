// The forward pass of an IR Graph as ONNX nodes. Inside the graph, a node whose output is a
// spatial map ([h, w, c] in the IR) is stored NCHW, [N, c, h, w]; any other output keeps the
// IR's own (NHWC-flattened) layout. The boundary stays NHWC: the input is transposed once.
// Every node's output (and, for fused activations, the value before them) stays addressable,
// so reverse passes and taps can read any activation.
import type { Activation, Graph, GraphNode, Op, Weight } from '../model/graph';
import { resolvePadding } from '../model/graph';
import { OnnxBuilder } from './onnx-builder';

type Pads = [number, number, number, number];

export function isSpatialShape(shape: number[]): boolean {
  return shape.length === 3;
}

/** Shape of a node's output inside the graph, batch as `n`. */
export function innerShape(node: GraphNode, n: number | string = 'N'): Array<number | string> {
  const s = node.outputShape;
  return isSpatialShape(s) ? [n, s[2], s[0], s[1]] : [n, ...s];
}

export interface Forward {
  b: OnnxBuilder;
  g: Graph;
  byName: Map<string, GraphNode>;
  /** Constants shared between the forward and the rules (weights by node and sign). */
  consts: Map<string, string>;
  /** Tensor name of each node's output (inner layout). */
  out: Map<string, string>;
  /** Tensor name of each node's value before its fused activation (absent: same as out). */
  pre: Map<string, string>;
  /** The model input, NCHW. */
  x: string;
  /** Pre-softmax scores, [N, classes]. */
  logits: string;
}

export function windowPads(op: Extract<Op, { padding: unknown }>, inShape: number[], size: [number, number]): Pads {
  const dil = 'dilations' in op ? op.dilations : ([1, 1] as [number, number]);
  return resolvePadding(op.padding, inShape[0], inShape[1], size, op.strides, dil);
}

/** ONNX pads [top, left, bottom, right] from ours [top, bottom, left, right]. */
export function onnxPads(p: Pads): number[] {
  return [p[0], p[2], p[1], p[3]];
}

/**
 * A conv / depthwise weight (HWIO) as ONNX OIHW (depthwise: [C·m, 1, kh, kw], channel c·m + j).
 * One pass writing the output in order; VGG16's 14.7M conv weights take ~50 ms.
 */
export function oihw(op: Extract<Op, { kind: 'conv' | 'depthwise' }>): Float32Array {
  const [kh, kw, ci, co] = op.weight.shape;
  const w = op.weight.data;
  const hw = kh * kw;
  const data = new Float32Array(w.length);
  let k = 0;
  if (op.kind === 'depthwise') {
    // out channel a·co + o reads input channel a, multiplier o: src (p·ci + a)·co + o
    for (let a = 0; a < ci; a++) for (let o = 0; o < co; o++) for (let p = 0; p < hw; p++) data[k++] = w[(p * ci + a) * co + o];
  } else {
    for (let o = 0; o < co; o++) for (let a = 0; a < ci; a++) for (let p = 0; p < hw; p++) data[k++] = w[(p * ci + a) * co + o];
  }
  return data;
}

export type ConvNode = GraphNode & { op: Extract<Op, { kind: 'conv' | 'depthwise' }> };

/** W, W⁺, W⁻, or zβ's stack [W, −W⁺, −W⁻] on three times the input channels (one conv for its three). */
export type ConvSign = 'all' | 'pos' | 'neg' | 'beta';

/** OIHW [o, i, kh, kw] -> [o, 3i, kh, kw]: per output channel W, then −W⁺, then −W⁻. */
function betaStack(w: Float32Array, [o, i, kh, kw]: number[]): Float32Array {
  const n = i * kh * kw;
  const out = new Float32Array(3 * w.length);
  for (let oc = 0; oc < o; oc++) {
    for (let k = 0; k < n; k++) {
      const v = w[oc * n + k];
      out[oc * 3 * n + k] = v;
      out[oc * 3 * n + n + k] = v > 0 ? -v : 0;
      out[oc * 3 * n + 2 * n + k] = v < 0 ? -v : 0;
    }
  }
  return out;
}

/** W, W⁺ or W⁻. A plain loop: TypedArray.map with a callback took 0.3 s for VGG16's kernels. */
function signed(d: Float32Array, sign: 'all' | 'pos' | 'neg'): Float32Array {
  if (sign === 'all') return d;
  const out = new Float32Array(d.length);
  if (sign === 'pos') for (let i = 0; i < d.length; i++) out[i] = d[i] > 0 ? d[i] : 0;
  else for (let i = 0; i < d.length; i++) out[i] = d[i] < 0 ? d[i] : 0;
  return out;
}

/**
 * W, W⁺ or W⁻ of a conv node as an OIHW constant, emitted once per graph. `adjoint`: the
 * kernel of its adjoint as a stride-1 conv, flipped in space with in and out swapped per
 * group ([I, O/group, kh, kw]), so convᵀ runs as a Conv: ONNX Runtime's ConvTranspose was
 * half of a VGG16 walk.
 */
export function convWeight(f: Forward, node: ConvNode, sign: ConvSign, adjoint = false): { name: string; dims: number[]; group: number } {
  const key = `conv:${node.name}:${sign}${adjoint ? ':adj' : ''}`;
  const base = oihwShape(node.op);
  // 'beta' stacks [W, −W⁺, −W⁻] along the input channels (groups of 1 only).
  const w = sign === 'beta' ? { dims: [base.dims[0], 3 * base.dims[1], base.dims[2], base.dims[3]], group: 1 } : base;
  const [o, ig, kh, kw] = w.dims;
  const dims = adjoint ? [ig * w.group, o / w.group, kh, kw] : w.dims;
  let name = f.consts.get(key);
  if (!name) {
    const all = () => laidOut(node.op.weight, 'all', () => oihw(node.op));
    const plain = () => laidOut(node.op.weight, sign, () => (sign === 'beta' ? betaStack(all(), base.dims) : signed(all(), sign)));
    const data = adjoint ? laidOut(node.op.weight, `${sign}:adj`, () => flipTransposed(plain(), w.dims, w.group)) : plain();
    name = f.b.constF(data, dims, `${node.name}_W${sign}${adjoint ? 'T' : ''}`);
    f.consts.set(key, name);
  }
  return { name, dims, group: w.group };
}

// Re-laid-out copies of a weight, made once per weight for all the graphs built from it.
const layouts = new WeakMap<Weight, Map<string, Float32Array>>();

function laidOut(w: Weight, key: string, make: () => Float32Array): Float32Array {
  let m = layouts.get(w);
  if (!m) layouts.set(w, (m = new Map()));
  let d = m.get(key);
  if (!d) m.set(key, (d = make()));
  return d;
}

/** OIHW [o, ig, kh, kw] in `group` groups -> the flipped adjoint kernel [ig·group, o/group, kh, kw]. */
function flipTransposed(src: Float32Array, [o, ig, kh, kw]: number[], group: number): Float32Array {
  const og = o / group;
  const hw = kh * kw;
  const dst = new Float32Array(src.length);
  for (let oc = 0; oc < o; oc++) {
    const gi = Math.floor(oc / og);
    const oj = oc % og;
    for (let i = 0; i < ig; i++) {
      const from = (oc * ig + i) * hw;
      const to = ((gi * ig + i) * og + oj) * hw;
      for (let p = 0; p < hw; p++) dst[to + hw - 1 - p] = src[from + p];
    }
  }
  return dst;
}

function oihwShape(op: ConvNode['op']): { dims: number[]; group: number } {
  const [kh, kw, ci, co] = op.weight.shape;
  return op.kind === 'depthwise' ? { dims: [ci * co, 1, kh, kw], group: ci } : { dims: [co, ci, kh, kw], group: op.groups };
}

/** Conv attributes of a node: its own kernel, stride, dilation, padding and groups. */
export function convAttrs(f: Forward, node: ConvNode): Record<string, number[] | number> {
  const op = node.op;
  const [kh, kw] = op.weight.shape;
  const pads = windowPads(op, inShape(f, node), [kh, kw]);
  return { kernel_shape: [kh, kw], strides: op.strides, dilations: op.dilations, pads: onnxPads(pads), group: oihwShape(op).group };
}

/** W, W⁺ or W⁻ of a dense node ([in, out]), emitted once per graph. */
export function denseWeight(f: Forward, node: GraphNode, sign: 'all' | 'pos' | 'neg'): string {
  const key = `dense:${node.name}:${sign}`;
  let name = f.consts.get(key);
  if (!name) {
    const op = node.op as Extract<Op, { kind: 'dense' }>;
    const w = op.weight.data;
    const data = laidOut(op.weight, sign, () => signed(w, sign));
    name = f.b.constF(data, op.weight.shape, `${node.name}_W${sign}`, true);
    f.consts.set(key, name);
  }
  return name;
}

/** The IR input shape ([h,w,c] or [n]) of a node's k-th input. */
export function inShape(f: { byName: Map<string, GraphNode> }, node: GraphNode, k = 0): number[] {
  return f.byName.get(node.inputs[k])!.outputShape;
}

/** NCHW -> the IR's NHWC-flattened order [N, h·w·c] (non-spatial tensors are flattened as they are). */
export function toFlat(b: OnnxBuilder, t: string, shape: number[]): string {
  const nhwc = isSpatialShape(shape) ? b.op('Transpose', [t], { perm: [0, 2, 3, 1] }) : t;
  return b.op('Flatten', [nhwc], { axis: 1 });
}

/** Inverse of toFlat: [N, n] -> the inner layout of `shape`. */
export function fromFlat(b: OnnxBuilder, t: string, shape: number[]): string {
  const r = b.op('Reshape', [t, b.constI([-1, ...shape])]);
  return isSpatialShape(shape) ? b.op('Transpose', [r], { perm: [0, 3, 1, 2] }) : r;
}

/** A tensor of `shape` broadcast against a spatial one: a flat [N, C] becomes [N, C, 1, 1]. */
function broadcastable(b: OnnxBuilder, t: string, shape: number[], target: number[]): string {
  if (isSpatialShape(target) && shape.length === 1) return b.op('Unsqueeze', [t, b.constI([2, 3])]);
  return t;
}

export function emitActivation(b: OnnxBuilder, x: string, act: Activation | undefined, spatial: boolean): string {
  if (!act) return x;
  switch (act.fn) {
    case 'linear':
      return x;
    case 'relu':
      return b.op('Relu', [x]);
    case 'relu6':
      return b.op('Clip', [x, b.scalar(0), b.scalar(6)]);
    case 'leakyrelu':
      return b.op('LeakyRelu', [x], { alpha: { float: act.alpha } });
    case 'elu':
      return b.op('Elu', [x], { alpha: { float: act.alpha } });
    case 'sigmoid':
      return b.op('Sigmoid', [x]);
    case 'hardsigmoid':
      return b.op('HardSigmoid', [x], { alpha: { float: act.alpha }, beta: { float: act.beta } });
    case 'hardswish':
      return b.op('Div', [b.op('Mul', [x, b.op('Clip', [b.op('Add', [x, b.scalar(3)]), b.scalar(0), b.scalar(6)])]), b.scalar(6)]);
    case 'swish':
      return b.op('Mul', [x, b.op('Sigmoid', [x])]);
    case 'tanh':
      return b.op('Tanh', [x]);
    case 'softmax':
      return b.op('Softmax', [x], { axis: spatial ? 1 : -1 });
  }
}

/** One node's op (no activation) on its input tensors. */
function emitOp(f: Forward, node: GraphNode, ins: string[]): string {
  const { b } = f;
  const op = node.op;
  const spatial = isSpatialShape(node.outputShape);
  const x = ins[0];
  switch (op.kind) {
    case 'input':
    case 'activation':
    case 'identity':
      return x;
    case 'conv':
    case 'depthwise': {
      const w = convWeight(f, node as ConvNode, 'all');
      const inputs = [x, w.name];
      if (op.bias) inputs.push(b.constF(op.bias.data, [w.dims[0]], `${node.name}_B`));
      return b.op('Conv', inputs, convAttrs(f, node as ConvNode));
    }
    case 'dense': {
      const nout = op.weight.shape[1];
      const flat = toFlat(b, x, inShape(f, node));
      const y = b.op('MatMul', [flat, denseWeight(f, node, 'all')]);
      return op.bias ? b.op('Add', [y, b.constF(op.bias.data, [nout], `${node.name}_B`)]) : y;
    }
    case 'batchnorm': {
      const c = node.outputShape[node.outputShape.length - 1];
      const dims = spatial ? [c, 1, 1] : [c];
      const scale = b.constF(op.scale.data, dims, `${node.name}_scale`);
      const offset = b.constF(op.offset.data, dims, `${node.name}_offset`);
      return b.op('Add', [b.op('Mul', [x, scale]), offset]);
    }
    case 'maxpool':
    case 'avgpool': {
      const pads = onnxPads(windowPads(op, inShape(f, node), op.size));
      if (op.kind === 'maxpool') return b.op('MaxPool', [x], { kernel_shape: op.size, strides: op.strides, pads });
      return b.op('AveragePool', [x], { kernel_shape: op.size, strides: op.strides, pads, count_include_pad: 0 });
    }
    case 'globalavgpool':
      return b.op('ReduceMean', [x], { axes: [2, 3], keepdims: op.keepDims ? 1 : 0 });
    case 'pad': {
      const [t, bo, l, r] = op.pads;
      return b.op('Pad', [x, b.constI([0, 0, t, l, 0, 0, bo, r])]);
    }
    case 'crop': {
      const [t, bo, l, r] = op.crops;
      const [h, w] = inShape(f, node);
      return b.op('Slice', [x, b.constI([t, l]), b.constI([h - bo, w - r]), b.constI([2, 3])]);
    }
    case 'add':
    case 'mul': {
      const ts = ins.map((t, k) => broadcastable(b, t, inShape(f, node, k), node.outputShape));
      return ts.slice(1).reduce((a, t) => b.op(op.kind === 'add' ? 'Add' : 'Mul', [a, t]), ts[0]);
    }
    case 'concat': {
      let axis = op.axis < 0 ? op.axis + node.outputShape.length + 1 : op.axis;
      if (spatial) axis = [0, 2, 3, 1][axis];
      return b.op('Concat', ins, { axis });
    }
    case 'flatten':
      return toFlat(b, x, inShape(f, node));
    case 'reshape':
      return fromFlat(b, toFlat(b, x, inShape(f, node)), node.outputShape);
  }
}

/**
 * Emits the forward pass of g into b, reading `x`: [N, h, w, c], or, with `nchw`, a tensor
 * already inside the graph's layout. Every node is emitted (ORT drops what no output needs).
 */
export function emitForward(b: OnnxBuilder, g: Graph, x: string, nchw = false): Forward {
  const f: Forward = { b, g, byName: new Map(g.nodes.map((n) => [n.name, n])), consts: new Map(), out: new Map(), pre: new Map(), x: '', logits: '' };
  f.x = nchw ? x : b.op('Transpose', [x], { perm: [0, 3, 1, 2] });
  let logits: string | undefined;
  for (const n of g.nodes) {
    if (n.op.kind === 'input') {
      f.out.set(n.name, f.x);
      continue;
    }
    const ins = n.inputs.map((i) => f.out.get(i)!);
    const pre = emitOp(f, n, ins);
    const y = emitActivation(b, pre, n.activation, isSpatialShape(n.outputShape));
    if (y !== pre) f.pre.set(n.name, pre);
    f.out.set(n.name, y);
    if (n.name === g.output && n.activation?.fn === 'softmax') logits = pre;
  }
  const outNode = f.byName.get(g.output)!;
  logits ??= f.out.get(g.output)!;
  f.logits = isSpatialShape(outNode.outputShape) || outNode.outputShape.length !== 1 ? toFlat(b, logits, outNode.outputShape) : logits;
  return f;
}
