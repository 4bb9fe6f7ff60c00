// A small writer of ONNX graphs: nodes, constants (initializers), inputs and outputs, encoded
// as a ModelProto with onnx-proto. The compile/ modules emit into it; runtime.ts runs the bytes.
import { onnx } from 'onnx-proto';

export const OPSET = 17;

export type Attr = number | number[] | string | { floats: number[] } | { float: number } | { tensor: onnx.ITensorProto };

/** A dimension: a number, or a symbolic name (the batch). */
export type Dim = number | string;

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

export class OnnxBuilder {
  private nodes: onnx.INodeProto[] = [];
  private inits: onnx.ITensorProto[] = [];
  private ins: onnx.IValueInfoProto[] = [];
  private outs: onnx.IValueInfoProto[] = [];
  private count = 0;
  private scalars = new Map<string, string>();

  /** A fresh tensor name with a readable stem. */
  fresh(stem: string): string {
    return `${stem.replace(/[^A-Za-z0-9_]/g, '_')}__${this.count++}`;
  }

  input(name: string, dims: Dim[], elemType = onnx.TensorProto.DataType.FLOAT): string {
    this.ins.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Marks a tensor as a graph output under `name` (an Identity when the names differ). */
  output(name: string, from: string, elemType = onnx.TensorProto.DataType.FLOAT): string {
    if (from !== name) this.op('Identity', [from], {}, name);
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
    this.nodes.push({
      opType: type,
      input: inputs,
      output: names,
      name: this.fresh(`n_${type}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return names;
  }

  /** A float32 constant. */
  constF(data: Float32Array | number[], dims: number[], stem = 'c'): string {
    const name = this.fresh(stem);
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    this.inits.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) });
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

  encode(): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: 8,
      producerName: 'fgcam-explorer',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: { name: 'fgcam', node: this.nodes, initializer: this.inits, input: this.ins, output: this.outs },
    };
    return onnx.ModelProto.encode(model).finish();
  }
}

export { onnx };
