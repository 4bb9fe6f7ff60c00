// A small writer of ONNX graphs: nodes, constants (initializers), inputs and outputs, encoded
// as a ModelProto with onnx-proto. The compile/ modules emit into it; runtime.ts runs the bytes.
import { onnx } from 'onnx-proto';

export const OPSET = 17;

export type Attr = number | number[] | string | { floats: number[] } | { float: number } | { tensor: onnx.ITensorProto };

/** A dimension: a number, or a symbolic name (the batch). */
export type Dim = number | string;

/** A value fed to a graph input. */
export interface ConstFeed {
  data: Float32Array;
  dims: number[];
}

/** A graph ready for a session: its bytes, with the fed constants inline or as inputs. */
export interface Compiled {
  /** inlineConsts: where each run would copy fed inputs anyway (a WebAssembly heap, a GPU). */
  encode(inlineConsts: boolean): Uint8Array;
  /** The fed constants, to feed when they are not inline. */
  feeds: Map<string, ConstFeed>;
}

function attribute(name: string, v: Attr): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.TENSOR, t: v.tensor };
}

function valueInfo(name: string, elemType: number, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function floatInit(name: string, f: Float32Array, dims: number[]): onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
}

export class OnnxBuilder {
  private nodes: onnx.INodeProto[] = [];
  private inits: onnx.ITensorProto[] = [];
  private ins: onnx.IValueInfoProto[] = [];
  private outs: onnx.IValueInfoProto[] = [];
  private count = 0;
  private scalars = new Map<string, string>();
  private feeds = new Map<string, ConstFeed>();
  /** Tensor -> the node that computes it; renamed outputs; the names already graph outputs. */
  private producer = new Map<string, onnx.INodeProto>();
  private alias = new Map<string, string>();
  private outNames = new Set<string>();

  /** A fresh tensor name with a readable stem. */
  fresh(stem: string): string {
    return `${stem.replace(/[^A-Za-z0-9_]/g, '_')}__${this.count++}`;
  }

  input(name: string, dims: Dim[], elemType = onnx.TensorProto.DataType.FLOAT): string {
    this.ins.push(valueInfo(name, elemType, dims));
    return name;
  }

  /**
   * Marks a tensor as a graph output under `name`. A tensor a node of this graph computed is
   * renamed in place (later uses follow the new name): an Identity would copy it, and the
   * walk's taps and maps are tens of MB per run. Inputs, constants and tensors that are
   * already outputs get an Identity.
   */
  output(name: string, from: string, elemType = onnx.TensorProto.DataType.FLOAT): string {
    const t = this.alias.get(from) ?? from;
    const node = this.producer.get(t);
    if (t !== name && node && !this.outNames.has(t)) {
      node.output = node.output!.map((o) => (o === t ? name : o));
      for (const n of this.nodes) n.input = n.input!.map((i) => (i === t ? name : i));
      this.producer.delete(t);
      this.producer.set(name, node);
      this.alias.set(from, name);
      this.alias.set(t, name);
    } else if (t !== name) {
      this.op('Identity', [t], {}, name);
    }
    this.outNames.add(name);
    this.outs.push({ name, type: { tensorType: { elemType } } });
    return name;
  }

  /** One node; returns its (first) output name. */
  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string): string {
    return this.opN(type, inputs, 1, attrs, out ? [out] : undefined)[0];
  }

  /** A node with several outputs. */
  opN(type: string, inputs: string[], n: number, attrs: Record<string, Attr> = {}, outs?: string[]): string[] {
    const names = outs ?? Array.from({ length: n }, () => this.fresh(type));
    const node: onnx.INodeProto = {
      opType: type,
      input: inputs.map((i) => this.alias.get(i) ?? i),
      output: names,
      name: this.fresh(`n_${type}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    };
    this.nodes.push(node);
    for (const o of names) this.producer.set(o, node);
    return names;
  }

  /**
   * A float32 constant. `fed`: a graph input fed with every run where the runtime allows
   * (see Compiled) instead of an initializer. For the big dense matrices: native ONNX Runtime
   * then neither copies nor re-packs them when it builds a session (VGG16-BN's 470 MB of
   * dense weights were copied three times: seconds, and 1.5 GB of fresh memory), and they
   * exist once, in the model's own arrays. Conv kernels stay initializers: their re-laid-out
   * (NCHWc) copies make convolutions faster, and they are small.
   */
  constF(data: Float32Array | number[], dims: number[], stem = 'c', fed = false): string {
    const name = this.fresh(stem);
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    if (fed) {
      this.feeds.set(name, { data: f, dims });
      return name;
    }
    this.inits.push(floatInit(name, f, dims));
    return name;
  }

  /** An int64 constant (shapes, axes, split sizes). */
  constI(data: number[], dims = [data.length], stem = 'i'): string {
    const name = this.fresh(stem);
    const a = BigInt64Array.from(data.map((v) => BigInt(v)));
    this.inits.push({ name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(a.buffer) });
    return name;
  }

  /** A float scalar, shared between uses. */
  scalar(v: number): string {
    const key = String(v);
    let name = this.scalars.get(key);
    if (!name) {
      name = this.constF([v], [], 's');
      this.scalars.set(key, name);
    }
    return name;
  }

  compile(): Compiled {
    return { encode: (inline) => this.encode(inline), feeds: this.feeds };
  }

  /** The ModelProto; fed constants inline (initializers) or as inputs. */
  encode(inlineConsts = true): Uint8Array {
    const big = [...this.feeds];
    const inits = inlineConsts ? [...this.inits, ...big.map(([name, v]) => floatInit(name, v.data, v.dims))] : this.inits;
    const ins = inlineConsts ? this.ins : [...this.ins, ...big.map(([name, v]) => valueInfo(name, onnx.TensorProto.DataType.FLOAT, v.dims))];
    const model: onnx.IModelProto = {
      irVersion: 8,
      producerName: 'fgcam-explorer',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: { name: 'fgcam', node: this.nodes, initializer: inits, input: ins, output: this.outs },
    };
    return onnx.ModelProto.encode(model).finish();
  }
}

export { onnx };
