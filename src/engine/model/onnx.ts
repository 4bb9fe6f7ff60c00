// ONNX importer: a .onnx file (NCHW, as PyTorch exports it) -> Graph (NHWC).
// Parsing is onnx-proto's generated protobufjs code. Every tensor's NCHW shape is
// tracked while importing, which lets us fold torch's shape chains, resolve
// SAME_LOWER / ceil_mode pads, and reorder the dense weights that follow a flatten
// (our flatten is NHWC-ordered, the file's is NCHW-ordered).
import { onnx } from 'onnx-proto';
import type { Activation, Graph, GraphNode, Op, Padding, Weight } from './graph';
import { disposeGraph, weight } from './graph';
import type { Importer, LoadOptions } from './importer';
import { foldBN } from './canonicalise';
import { readRegularFile } from '../read-file';
import { Attrs, Const, FOLDABLE, foldConst, num, tensorToConst } from './onnx-values';

export const SUPPORTED_ONNX_OPS = [
  'Conv', 'BatchNormalization', 'Relu', 'LeakyRelu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Elu',
  'Softmax', 'Mul', 'Add', 'Sub', 'Div', 'Sum', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Pad', 'Concat',
  'Flatten', 'Reshape', 'Gemm', 'MatMul', 'Dropout', 'Identity', 'Constant',
  'Shape/Gather/Unsqueeze/Squeeze/Concat/Slice/Cast (constant shape chains)',
];

/** What a tensor name stands for while importing. */
interface Val {
  /** Graph node producing it (activations); absent for constants. */
  node?: string;
  /** NCHW shape with batch 1. */
  shape: number[];
  konst?: Const;
  /** A [1, C*H*W] tensor that our flatten laid out in HWC order (the file assumes CHW). */
  hwc?: [number, number, number];
}

/** Largest .onnx file we read: protobuf's own limit (weights in external files are refused). */
export const MAX_ONNX_BYTES = 2 * 2 ** 30 - 1;

export const onnxImporter: Importer = {
  format: 'onnx',
  // A protobuf ModelProto starts with field 1 (ir_version, varint): byte 0x08.
  match: (ext, head) => ext === '.onnx' || (ext !== '.json' && head.length > 0 && head[0] === 0x08),
  open: async (p, opts) => onnxGraphFromBuffer(readRegularFile(p, 'ONNX model', { maxBytes: MAX_ONNX_BYTES }), p, opts),
};

/** Operator domains that mean the standard ONNX operator set. */
const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);

export function onnxGraphFromBuffer(buf: Uint8Array, source: string, opts: LoadOptions = {}): Graph {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(buf);
  } catch (e) {
    throw new Error(`"${source}" is not a valid ONNX model (protobuf decoding failed: ${(e as Error).message}).`);
  }
  if (!model.graph || !model.graph.node?.length) throw new Error(`"${source}" is not an ONNX model (no graph / no nodes).`);
  const b = new Builder(source, opts);
  try {
    return b.build(model.graph);
  } catch (e) {
    b.dispose();
    throw e;
  }
}

const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);
const isZero = (p: number[]) => p.every((v) => v === 0);

class Builder {
  private vals = new Map<string, Val>();
  private nodes: GraphNode[] = [];
  private names = new Set<string>();
  private uses = new Map<string, number>();

  constructor(private source: string, private opts: LoadOptions) {}

  dispose(): void {
    disposeGraph({ nodes: this.nodes } as Graph);
  }

  build(g: onnx.IGraphProto): Graph {
    for (const t of g.initializer ?? []) {
      const c = tensorToConst(t, this.source, 'initializer');
      this.vals.set(t.name as string, { shape: c.dims, konst: c });
    }
    for (const n of g.node ?? []) for (const i of n.input ?? []) if (i) this.uses.set(i, (this.uses.get(i) ?? 0) + 1);
    const inputs = (g.input ?? []).filter((i) => !this.vals.has(i.name as string));
    if (inputs.length !== 1) {
      throw new Error(`"${this.source}": the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); FG-CAM needs exactly one image input.`);
    }
    const inputShape = this.addInput(inputs[0]);
    for (const n of g.node ?? []) this.convert(n);
    const outs = g.output ?? [];
    if (outs.length !== 1) throw new Error(`"${this.source}": the model has ${outs.length} outputs; FG-CAM needs exactly one.`);
    const out = this.vals.get(outs[0].name as string);
    if (!out?.node) throw new Error(`"${this.source}": the output "${outs[0].name}" is not computed from the input.`);
    return {
      nodes: this.nodes,
      output: out.node,
      inputShape,
      format: 'onnx',
      defaultPreprocess: 'imagenet',
      source: this.source,
    };
  }

  private addInput(i: onnx.IValueInfoProto): [number, number, number] {
    const dims = i.type?.tensorType?.shape?.dim ?? [];
    const d = dims.map((x) => (x.dimValue != null && num(x.dimValue) > 0 ? num(x.dimValue) : (x.dimParam || '?')));
    if (d.length !== 4) {
      throw new Error(`"${this.source}": input "${i.name}" has shape [${d.join(', ')}]; FG-CAM needs an image input [batch, channels, height, width].`);
    }
    let [, c, h, w] = d;
    if (this.opts.inputSize) [h, w] = this.opts.inputSize;
    if (typeof h !== 'number' || typeof w !== 'number') {
      throw new Error(`"${this.source}": input "${i.name}" has no fixed height/width (shape [${d.join(', ')}]); set an input size (CLI --input-size HxW, API loadGraph(path, {inputSize: [h, w]})).`);
    }
    if (typeof c !== 'number') throw new Error(`"${this.source}": input "${i.name}" has no fixed channel count.`);
    const name = this.unique(i.name as string);
    this.nodes.push({ name, className: 'Input', op: { kind: 'input' }, inputs: [], outputShape: [] });
    this.vals.set(i.name as string, { node: name, shape: [1, c, h, w] });
    return [h, w, c];
  }

  private unique(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  private err(n: onnx.INodeProto, msg: string): Error {
    return new Error(`"${this.source}": ${n.opType} node "${n.name || n.output?.[0]}": ${msg}`);
  }

  private val(n: onnx.INodeProto, k: number): Val | undefined {
    const name = n.input?.[k];
    if (!name) return undefined;
    const v = this.vals.get(name);
    if (!v) throw this.err(n, `input "${name}" is not produced by any earlier node.`);
    return v;
  }

  /** An activation input (not a constant, not a permuted flatten unless allowed). */
  private act(n: onnx.INodeProto, k: number, allowHwc = false): Val & { node: string } {
    const v = this.val(n, k);
    if (!v || !v.node) throw this.err(n, `input ${k} must be computed from the image, not a constant.`);
    if (v.hwc && !allowHwc) {
      throw this.err(n, 'reads a flattened spatial map; only Gemm/MatMul (and elementwise ops) may follow a flatten of a map larger than 1x1.');
    }
    return v as Val & { node: string };
  }

  private konst(n: onnx.INodeProto, k: number, what: string): Const {
    const v = this.val(n, k);
    if (!v?.konst) throw this.err(n, `${what} (input ${k}) must be a constant (an initializer).`);
    return v.konst;
  }

  /** Forgets constants read only by this node, so their memory can go before the import ends. */
  private release(n: onnx.INodeProto, ...ks: number[]): void {
    for (const k of ks) {
      const name = n.input?.[k];
      if (name && this.uses.get(name) === 1) this.vals.delete(name);
    }
  }

  private emit(n: onnx.INodeProto, op: Op, inputs: string[], shape: number[], activation?: Activation, hwc?: Val['hwc'], name?: string): string {
    const nm = this.unique(name ?? (n.name || (n.output?.[0] as string)));
    const node: GraphNode = { name: nm, className: n.opType as string, op, inputs, outputShape: [] };
    if (activation) node.activation = activation;
    this.nodes.push(node);
    if (!name) this.vals.set(n.output?.[0] as string, { node: nm, shape, hwc });
    return nm;
  }

  private convert(n: onnx.INodeProto): void {
    const op = n.opType as string;
    const ins = n.input ?? [];
    // A custom domain's "Relu" is whatever that runtime says it is, not the standard op.
    if (n.domain && !DEFAULT_DOMAINS.has(n.domain)) {
      throw this.err(n, `is in operator domain "${n.domain}"; only standard ONNX operators (the default domain) are supported. Re-export the model without custom or contrib ops.`);
    }
    // Constant folding: every present input constant (Shape only needs its input's shape).
    if (FOLDABLE.has(op)) {
      const vs = ins.map((i) => (i ? this.vals.get(i) : undefined));
      const allConst = vs.every((v, k) => !ins[k] || v?.konst);
      if (op === 'Shape' || op === 'Constant' || allConst) {
        const c = foldConst(n, vs.map((v) => v?.konst), op === 'Shape' ? this.val(n, 0)?.shape : undefined, this.source);
        this.vals.set(n.output?.[0] as string, { shape: c.dims, konst: c });
        return;
      }
    }
    switch (op) {
      case 'Conv': return this.conv(n);
      case 'BatchNormalization': return this.batchNorm(n);
      case 'Relu': return this.activation(n, { fn: 'relu' });
      case 'LeakyRelu': return this.activation(n, { fn: 'leakyrelu', alpha: new Attrs(n).float('alpha', 0.01) });
      case 'Sigmoid': return this.activation(n, { fn: 'sigmoid' });
      case 'HardSigmoid': {
        const a = new Attrs(n);
        return this.activation(n, { fn: 'hardsigmoid', alpha: a.float('alpha', 0.2), beta: a.float('beta', 0.5) });
      }
      case 'HardSwish': return this.activation(n, { fn: 'hardswish' });
      case 'Tanh': return this.activation(n, { fn: 'tanh' });
      case 'Elu': return this.activation(n, { fn: 'elu', alpha: new Attrs(n).float('alpha', 1) });
      case 'Clip': return this.clip(n);
      case 'Softmax': {
        const x = this.act(n, 0);
        const axis = new Attrs(n).int('axis', -1);
        if (x.shape.length !== 2 || (axis !== -1 && axis !== 1)) throw this.err(n, 'softmax is supported over the classes of a [batch, classes] tensor only.');
        return this.activation(n, { fn: 'softmax' });
      }
      case 'Identity': case 'Dropout': {
        const x = this.act(n, 0, true);
        this.emit(n, { kind: 'identity' }, [x.node], x.shape, undefined, x.hwc);
        return;
      }
      case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Sum': return this.binary(n);
      case 'MaxPool': case 'AveragePool': return this.pool(n);
      case 'GlobalAveragePool': {
        const x = this.act(n, 0);
        this.emit(n, { kind: 'globalavgpool', keepDims: true }, [x.node], [1, x.shape[1], 1, 1]);
        return;
      }
      case 'Pad': return this.pad(n);
      case 'Concat': return this.concat(n);
      case 'Flatten': {
        const axis = new Attrs(n).int('axis', 1);
        if (axis !== 1 && axis !== 0) throw this.err(n, `flatten from axis ${axis} is not supported (only 1).`);
        return this.flatten(n, this.act(n, 0));
      }
      case 'Reshape': return this.reshape(n);
      case 'Gemm': case 'MatMul': return this.dense(n);
    }
    throw this.err(n, `op type "${op}" is not supported by FG-CAM; supported: ${SUPPORTED_ONNX_OPS.join(', ')}.`);
  }

  private activation(n: onnx.INodeProto, a: Activation): void {
    const x = this.act(n, 0, a.fn !== 'softmax');
    this.emit(n, { kind: 'activation' }, [x.node], x.shape, a, x.hwc);
  }

  private clip(n: onnx.INodeProto): void {
    const at = new Attrs(n);
    const bound = (k: number, name: string, def: number) => {
      if (n.input?.[k]) return Number(this.konst(n, k, `the ${name} bound`).data[0]);
      return at.float(name, def);
    };
    const lo = bound(1, 'min', -Infinity);
    const hi = bound(2, 'max', Infinity);
    if (lo === 0 && hi === 6) return this.activation(n, { fn: 'relu6' });
    if (lo === 0 && hi === Infinity) return this.activation(n, { fn: 'relu' });
    throw this.err(n, `Clip(${lo}, ${hi}) is not supported (only Clip(0, 6) = ReLU6 and Clip(0, inf) = ReLU).`);
  }

  /** Explicit ONNX pads [t, l, b, r] / auto_pad -> our Padding, for a window of `k` (dilated) on x. */
  private windowPadding(n: onnx.INodeProto, at: Attrs, inHW: number[], k: number[], s: number[], d: number[]): Padding {
    const auto = at.string('auto_pad', 'NOTSET');
    if (auto === 'VALID') return 'valid';
    if (auto === 'SAME_UPPER') return 'same';
    if (auto === 'SAME_LOWER') {
      const tot = [0, 1].map((i) => Math.max((Math.ceil(inHW[i] / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - inHW[i], 0));
      return [Math.ceil(tot[0] / 2), Math.floor(tot[0] / 2), Math.ceil(tot[1] / 2), Math.floor(tot[1] / 2)];
    }
    const p = at.ints('pads', [0, 0, 0, 0]);
    if (p.length !== 4) throw this.err(n, `pads ${JSON.stringify(p)} are not 2-D.`);
    return isZero(p) ? 'valid' : [p[0], p[2], p[1], p[3]];
  }

  private static outSize(inHW: number[], pad: Padding, k: number[], s: number[], d: number[]): number[] {
    return [0, 1].map((i) => {
      if (pad === 'same') return Math.ceil(inHW[i] / s[i]);
      const p = pad === 'valid' ? 0 : pad[2 * i] + pad[2 * i + 1];
      return Math.floor((inHW[i] + p - (k[i] - 1) * d[i] - 1) / s[i]) + 1;
    });
  }

  private conv(n: onnx.INodeProto): void {
    const x = this.act(n, 0);
    const w = this.konst(n, 1, 'the weight');
    const b = n.input?.[2] ? this.konst(n, 2, 'the bias') : undefined;
    const at = new Attrs(n);
    if (w.dims.length !== 4) throw this.err(n, `only 2-D convolutions are supported (weight shape [${w.dims}]).`);
    const [o, ig, kh, kw] = w.dims;
    const group = at.int('group', 1);
    const cIn = x.shape[1];
    if (ig * group !== cIn) throw this.err(n, `weight [${w.dims}] with group ${group} does not fit ${cIn} input channels.`);
    const strides = at.ints('strides', [1, 1]) as [number, number];
    const dilations = at.ints('dilations', [1, 1]) as [number, number];
    const inHW = x.shape.slice(2);
    const padding = this.windowPadding(n, at, inHW, [kh, kw], strides, dilations);
    const outHW = Builder.outSize(inHW, padding, [kh, kw], strides, dilations);
    const bias = b ? weight(Float32Array.from(b.data as ArrayLike<number>), [prod(b.dims)]) : undefined;
    const src = w.data as Float32Array;
    const hw = kh * kw;
    const dst = new Float32Array(src.length);
    let op: Op;
    if (group > 1 && group === cIn && ig === 1) {
      // Depthwise [C*mult, 1, kh, kw] -> [kh, kw, C, mult]: output channel c*mult + m reads input c, as in TF.
      const mult = o / cIn;
      for (let oc = 0; oc < o; oc++) for (let p = 0; p < hw; p++) dst[p * o + oc] = src[oc * hw + p];
      op = { kind: 'depthwise', weight: weight(dst, [kh, kw, cIn, mult]), bias, strides, dilations, padding };
    } else {
      // OIHW -> HWIO (in plain JS: tf transposes would grow the wasm heap by the weight size).
      for (let oc = 0; oc < o; oc++) for (let c = 0; c < ig; c++) for (let p = 0; p < hw; p++) dst[(p * ig + c) * o + oc] = src[(oc * ig + c) * hw + p];
      op = { kind: 'conv', weight: weight(dst, [kh, kw, ig, o]), bias, strides, dilations, padding, groups: group };
    }
    this.release(n, 1, 2);
    this.emit(n, op, [x.node], [1, o, ...outHW]);
  }

  private batchNorm(n: onnx.INodeProto): void {
    const x = this.act(n, 0);
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((k) => this.konst(n, k, 'a batch-norm parameter').data);
    if (x.shape.length !== 4 && x.shape.length !== 2) throw this.err(n, `batch norm of a rank-${x.shape.length} tensor is not supported.`);
    const { scale, offset } = foldBN(mean, variance, gamma, beta, new Attrs(n).float('epsilon', 1e-5));
    this.release(n, 1, 2, 3, 4);
    this.emit(n, { kind: 'batchnorm', scale: weight(scale, [scale.length]), offset: weight(offset, [offset.length]) }, [x.node], x.shape);
  }

  /** Per-channel values of a constant that broadcasts against x's channel axis, or undefined. */
  private static perChannel(c: Const, x: number[]): Float32Array | undefined {
    const dims = c.dims.slice();
    while (dims.length && dims[0] === 1 && dims.length > (x.length === 4 ? 3 : 1)) dims.shift();
    const C = x[1];
    const v = Float32Array.from(c.data as ArrayLike<number>);
    if (v.length === 1) return new Float32Array(C).fill(v[0]);
    const ok = x.length === 4 ? dims.length === 3 && dims[0] === C && dims[1] === 1 && dims[2] === 1 : dims.length === 1 && dims[0] === C;
    return ok ? v : undefined;
  }

  private binary(n: onnx.INodeProto): void {
    const op = n.opType as string;
    const vs = (n.input ?? []).map((_, k) => this.val(n, k)!);
    const consts = vs.filter((v) => v.konst);
    if (consts.length === 0) {
      if (op === 'Sub' || op === 'Div') throw this.err(n, `${op} of two computed tensors is not supported (only with a constant).`);
      const xs = vs.map((_, k) => this.act(n, k, false));
      const rank = Math.max(...xs.map((v) => v.shape.length));
      const shape = Array.from({ length: rank }, (_, i) => Math.max(...xs.map((v) => v.shape[i - rank + v.shape.length] ?? 1)));
      this.emit(n, { kind: op === 'Mul' ? 'mul' : 'add' }, xs.map((v) => v.node), shape);
      return;
    }
    if (vs.length !== 2 || consts.length !== 1) throw this.err(n, 'needs one computed and one constant input.');
    const k = vs[0].konst ? 1 : 0;
    const x = this.act(n, k, true);
    const c = Builder.perChannel(vs[1 - k].konst!, x.shape);
    if (!c || x.hwc) throw this.err(n, `the constant of shape [${vs[1 - k].shape}] is not a scalar or per-channel value for [${x.shape}].`);
    // Fold a bias into the dense node right before (MatMul + Add is how Linear exports on some paths).
    const prev = this.nodes.find((m) => m.name === x.node);
    if (op === 'Add' && prev?.op.kind === 'dense' && !prev.op.bias && this.uses.get(n.input![k]) === 1 && !prev.activation) {
      prev.op.bias = weight(Float32Array.from(c), [c.length]);
      this.vals.set(n.output?.[0] as string, { node: prev.name, shape: x.shape });
      return;
    }
    const C = c.length;
    const scale = new Float32Array(C).fill(1);
    const offset = new Float32Array(C);
    for (let i = 0; i < C; i++) {
      if (op === 'Add' || op === 'Sum') offset[i] = c[i];
      else if (op === 'Mul') scale[i] = c[i];
      else if (op === 'Sub' && k === 0) offset[i] = -c[i];
      else if (op === 'Sub') [scale[i], offset[i]] = [-1, c[i]];
      else if (op === 'Div' && k === 0) scale[i] = 1 / c[i];
      else throw this.err(n, 'dividing a constant by a computed tensor is not supported.');
    }
    this.emit(n, { kind: 'batchnorm', scale: weight(scale, [scale.length]), offset: weight(offset, [offset.length]) }, [x.node], x.shape);
  }

  private pool(n: onnx.INodeProto): void {
    const x = this.act(n, 0);
    const at = new Attrs(n);
    const max = n.opType === 'MaxPool';
    if ((n.output ?? []).length > 1 && n.output![1] && this.uses.get(n.output![1])) throw this.err(n, 'the indices output of MaxPool is not supported.');
    const size = at.ints('kernel_shape', []) as [number, number];
    if (size.length !== 2) throw this.err(n, 'only 2-D pooling is supported.');
    const strides = at.ints('strides', [1, 1]) as [number, number];
    if (at.ints('dilations', [1, 1]).some((d) => d !== 1)) throw this.err(n, 'dilated pooling is not supported.');
    const inHW = x.shape.slice(2);
    let padding = this.windowPadding(n, at, inHW, size, strides, [1, 1]);
    let outHW = Builder.outSize(inHW, padding, size, strides, [1, 1]);
    if (at.int('ceil_mode', 0) === 1) {
      // PyTorch/ONNX ceil mode: one more window when it starts inside the (left-padded) input.
      const p = padding === 'valid' ? [0, 0, 0, 0] : padding === 'same' ? undefined : padding;
      if (!p) throw this.err(n, 'ceil_mode with auto_pad SAME is not supported.');
      const ceilHW = [0, 1].map((i) => {
        let o = Math.ceil((inHW[i] + p[2 * i] + p[2 * i + 1] - size[i]) / strides[i]) + 1;
        if ((o - 1) * strides[i] >= inHW[i] + p[2 * i]) o--;
        return o;
      });
      if (ceilHW[0] !== outHW[0] || ceilHW[1] !== outHW[1]) {
        if (!max) throw this.err(n, 'AveragePool with ceil_mode=1 that changes the output size is not supported; export with ceil_mode=False.');
        // Max pooling ignores padding, so extra bottom/right padding gives the ceil-mode windows.
        const extra = [0, 1].map((i) => Math.max(0, (ceilHW[i] - 1) * strides[i] + size[i] - (inHW[i] + p[2 * i] + p[2 * i + 1])));
        padding = [p[0], p[1] + extra[0], p[2], p[3] + extra[1]];
        outHW = ceilHW;
      }
    }
    if (!max && at.int('count_include_pad', 0) === 1 && Array.isArray(padding)) {
      // Padding that counts in the average = a zero-pad node, then a 'valid' average.
      const base = n.name || (n.output?.[0] as string);
      const padName = this.emit(n, { kind: 'pad', pads: padding }, [x.node], [], undefined, undefined, `${base}/pad`);
      this.emit(n, { kind: 'avgpool', size, strides, padding: 'valid' }, [padName], [1, x.shape[1], ...outHW]);
      return;
    }
    this.emit(n, { kind: max ? 'maxpool' : 'avgpool', size, strides, padding }, [x.node], [1, x.shape[1], ...outHW]);
  }

  private pad(n: onnx.INodeProto): void {
    const x = this.act(n, 0);
    const at = new Attrs(n);
    if (at.string('mode', 'constant') !== 'constant') throw this.err(n, `pad mode "${at.string('mode', '')}" is not supported (constant zeros only).`);
    const p = n.input?.[1] ? (this.konst(n, 1, 'the pads').data as number[]).map(Number) : at.ints('pads', []);
    const value = n.input?.[2] ? Number(this.konst(n, 2, 'the pad value').data[0]) : at.float('value', 0);
    if (n.input?.[3]) throw this.err(n, 'Pad with axes is not supported.');
    if (p.length !== 8 || p[0] || p[1] || p[4] || p[5] || value !== 0) throw this.err(n, `only zero padding of height and width is supported (pads ${JSON.stringify(p)}, value ${value}).`);
    const tblr: [number, number, number, number] = [p[2], p[6], p[3], p[7]];
    const shape = [1, x.shape[1], x.shape[2] + p[2] + p[6], x.shape[3] + p[3] + p[7]];
    if (isZero(tblr)) this.vals.set(n.output?.[0] as string, x); // torch emits Pad(0) before some AvgPools
    else if (tblr.every((v) => v >= 0)) this.emit(n, { kind: 'pad', pads: tblr }, [x.node], shape);
    else if (tblr.every((v) => v <= 0)) this.emit(n, { kind: 'crop', crops: tblr.map((v) => -v) as typeof tblr }, [x.node], shape);
    else throw this.err(n, 'mixed positive and negative pads are not supported.');
  }

  private concat(n: onnx.INodeProto): void {
    const xs = (n.input ?? []).map((_, k) => this.act(n, k));
    const rank = xs[0].shape.length;
    let axis = new Attrs(n).int('axis', 1);
    if (axis < 0) axis += rank;
    const nhwc = rank === 4 ? [0, 3, 1, 2][axis] : axis;
    if (axis === 0 || (rank !== 4 && rank !== 2)) throw this.err(n, `concatenation along axis ${axis} of rank-${rank} tensors is not supported.`);
    const shape = xs[0].shape.slice();
    shape[axis] = xs.reduce((s, v) => s + v.shape[axis], 0);
    this.emit(n, { kind: 'concat', axis: nhwc }, xs.map((v) => v.node), shape);
  }

  private flatten(n: onnx.INodeProto, x: Val & { node: string }): void {
    if (x.shape.length === 2) {
      this.emit(n, { kind: 'identity' }, [x.node], x.shape, undefined, x.hwc);
      return;
    }
    if (x.shape.length !== 4) throw this.err(n, `flattening a rank-${x.shape.length} tensor is not supported.`);
    const [, c, h, w] = x.shape;
    this.emit(n, { kind: 'flatten' }, [x.node], [1, c * h * w], undefined, h * w > 1 && c > 1 ? [c, h, w] : undefined);
  }

  private reshape(n: onnx.INodeProto): void {
    const x = this.act(n, 0);
    const spec = (this.konst(n, 1, 'the target shape').data as number[]).map(Number);
    const allowZero = new Attrs(n).int('allowzero', 0) === 1;
    const s = spec.map((v, i) => (v === 0 && !allowZero ? x.shape[i] : v));
    const known = prod(s.filter((v) => v >= 0));
    const target = s.map((v) => (v < 0 ? prod(x.shape) / known : v));
    if (target[0] !== 1) throw this.err(n, `reshape to [${target}] changes the batch dimension.`);
    if (target.length === 2 && x.shape.length === 4) return this.flatten(n, x);
    if (target.join() === x.shape.join()) {
      this.emit(n, { kind: 'identity' }, [x.node], x.shape);
      return;
    }
    // [1, C] <-> [1, C, 1, 1]: the same order in NCHW and NHWC.
    const spatialOne = (t: number[]) => t.length === 2 || (t.length === 4 && t[2] === 1 && t[3] === 1);
    if (spatialOne(target) && spatialOne(x.shape)) {
      const nhwc = target.length === 4 ? [1, 1, target[1]] : [target[1]];
      this.emit(n, { kind: 'reshape', shape: nhwc }, [x.node], target);
      return;
    }
    throw this.err(n, `reshape from [${x.shape}] to [${target}] is not supported (only flatten-like reshapes).`);
  }

  private dense(n: onnx.INodeProto): void {
    const x = this.act(n, 0, true);
    if (x.shape.length !== 2) throw this.err(n, `the input must be a [batch, features] tensor (got [${x.shape}]); flatten it first.`);
    const at = new Attrs(n);
    const gemm = n.opType === 'Gemm';
    if (gemm && at.int('transA', 0) !== 0) throw this.err(n, 'transA=1 is not supported.');
    const B = this.konst(n, 1, 'the weight');
    const transB = gemm && at.int('transB', 0) === 1;
    const [K, M] = transB ? [B.dims[1], B.dims[0]] : [B.dims[0], B.dims[1]];
    if (B.dims.length !== 2 || K !== x.shape[1]) throw this.err(n, `weight [${B.dims}] does not fit ${x.shape[1]} input features.`);
    const alpha = gemm ? at.float('alpha', 1) : 1;
    // One pass: transpose to [in, out], scale by alpha, and move rows from the file's C,H,W
    // flatten order to our H,W,C order when a spatial map was flattened.
    const src = B.data as Float32Array;
    const dst = new Float32Array(K * M);
    const [c, h, w] = x.hwc ?? [K, 1, 1];
    const hw = h * w;
    const T = 64; // cache blocking: fc6 of VGG16 is 100M weights
    for (let k0 = 0; k0 < K; k0 += T) {
      for (let o0 = 0; o0 < M; o0 += T) {
        const k1 = Math.min(K, k0 + T);
        const o1 = Math.min(M, o0 + T);
        for (let k = k0; k < k1; k++) {
          const row = (x.hwc ? (k % hw) * c + Math.floor(k / hw) : k) * M;
          if (transB) for (let o = o0; o < o1; o++) dst[row + o] = src[o * K + k] * alpha;
          else for (let o = o0; o < o1; o++) dst[row + o] = src[k * M + o] * alpha;
        }
      }
    }
    const kernel = weight(dst, [K, M]);
    let bias: Weight | undefined;
    if (gemm && n.input?.[2]) {
      const C = this.konst(n, 2, 'the bias');
      if (prod(C.dims) !== M) throw this.err(n, `bias of shape [${C.dims}] is not a per-output vector.`);
      const beta = at.float('beta', 1);
      bias = weight(Float32Array.from(C.data as ArrayLike<number>, (v) => v * beta), [M]);
    }
    this.release(n, 1, 2);
    this.emit(n, { kind: 'dense', weight: kernel, bias }, [x.node], [1, M]);
  }
}
