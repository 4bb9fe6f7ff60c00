// ONNX helpers for the importer: tensor and attribute decoding (protobuf messages
// from onnx-proto), and constant folding of the small integer "shape chains"
// (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) that torch.onnx.export emits.
import { onnx } from 'onnx-proto';

/** A constant tensor: float data (weights) or integer data (shapes, indices). */
export interface Const {
  dims: number[];
  data: Float32Array | number[];
}

/** Long (from protobufjs) or number -> number. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

const DT = onnx.TensorProto.DataType;

function viewOrCopy<T>(raw: Uint8Array, bytes: number, make: (b: ArrayBuffer, off: number, n: number) => T, n: number): T {
  // Views need an aligned offset; weights in a protobuf usually are not aligned, so copy then.
  if (raw.byteOffset % bytes === 0) return make(raw.buffer as ArrayBuffer, raw.byteOffset, n);
  const copy = new Uint8Array(n * bytes);
  copy.set(raw.subarray(0, n * bytes));
  return make(copy.buffer, 0, n);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Bytes per element in raw_data, by data type (what the importer reads). */
const ELEM_BYTES = new Map<number, number>([
  [DT.FLOAT, 4], [DT.DOUBLE, 8], [DT.FLOAT16, 2], [DT.INT64, 8], [DT.INT32, 4],
  [DT.INT16, 2], [DT.UINT16, 2], [DT.INT8, 1], [DT.UINT8, 1], [DT.BOOL, 1],
]);

/** Largest constant tensor we decode, in elements (VGG16's fc6 is 103M). */
export const MAX_CONST_ELEMENTS = 2 ** 28;

/**
 * Decodes an initializer / Constant value. Floats become Float32Array, integers number[].
 * The data must hold exactly dims' product of elements: raw_data of that many bytes, or a
 * typed field of that length; anything else is an error naming the tensor.
 */
export function tensorToConst(t: onnx.ITensorProto, where: string, what = 'tensor'): Const {
  const name = `${what} "${t.name}"`;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new Error(`${where}: ${name} keeps its data in an external file; re-export the model with the weights inside the .onnx file.`);
  }
  const dims = (t.dims ?? []).map(num);
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`${where}: ${name} has dims [${dims}]; expected non-negative integers.`);
  const n = dims.reduce((a, b) => a * b, 1);
  if (n > MAX_CONST_ELEMENTS) throw new Error(`${where}: ${name} has dims [${dims}] (${n} elements), more than this tool reads (${MAX_CONST_ELEMENTS}).`);
  const size = ELEM_BYTES.get(t.dataType ?? -1);
  if (size === undefined) throw new Error(`${where}: ${name} has data type ${t.dataType}, which the importer does not read.`);
  const raw = t.rawData && t.rawData.length ? t.rawData : undefined;
  if (raw && raw.length !== n * size) {
    throw new Error(`${where}: ${name} has ${raw.length} bytes of raw_data, but its dims [${dims}] of ${DT[t.dataType!]} need ${n * size} bytes (${n} x ${size}); the file is corrupt.`);
  }
  const typed = (field: string, len: number): void => {
    if (len !== n) throw new Error(`${where}: ${name} has ${len} values in ${field}, but its dims [${dims}] need ${n}; the file is corrupt.`);
  };
  switch (t.dataType) {
    case DT.FLOAT:
      if (raw) return { dims, data: viewOrCopy(raw, 4, (b, o, k) => new Float32Array(b, o, k), n) };
      typed('float_data', t.floatData?.length ?? 0);
      return { dims, data: Float32Array.from(t.floatData ?? []) };
    case DT.DOUBLE:
      if (raw) return { dims, data: Float32Array.from(viewOrCopy(raw, 8, (b, o, k) => new Float64Array(b, o, k), n)) };
      typed('double_data', t.doubleData?.length ?? 0);
      return { dims, data: Float32Array.from(t.doubleData ?? []) };
    case DT.FLOAT16: {
      if (!raw) typed('int32_data', t.int32Data?.length ?? 0);
      const h = raw ? viewOrCopy(raw, 2, (b, o, k) => new Uint16Array(b, o, k), n) : (t.int32Data ?? []);
      return { dims, data: Float32Array.from(h as ArrayLike<number>, halfToFloat) };
    }
    case DT.INT64:
      if (raw) return { dims, data: Array.from(viewOrCopy(raw, 8, (b, o, k) => new BigInt64Array(b, o, k), n), Number) };
      typed('int64_data', t.int64Data?.length ?? 0);
      return { dims, data: (t.int64Data ?? []).map(num) };
    default: {
      if (!raw) {
        typed('int32_data', t.int32Data?.length ?? 0);
        return { dims, data: (t.int32Data ?? []).map(num) };
      }
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const o = i * size;
        out.push(
          t.dataType === DT.INT32 ? dv.getInt32(o, true) : t.dataType === DT.INT16 ? dv.getInt16(o, true)
            : t.dataType === DT.UINT16 ? dv.getUint16(o, true) : t.dataType === DT.INT8 ? dv.getInt8(o) : dv.getUint8(o),
        );
      }
      return { dims, data: out };
    }
  }
}

/** Typed access to a node's attributes (proto2 defaults make every field look set, so go by `type`). */
export class Attrs {
  private m = new Map<string, onnx.IAttributeProto>();
  constructor(node: onnx.INodeProto) {
    for (const a of node.attribute ?? []) this.m.set(a.name as string, a);
  }
  has(name: string): boolean {
    return this.m.has(name);
  }
  int(name: string, def: number): number {
    const a = this.m.get(name);
    return a ? num(a.i) : def;
  }
  float(name: string, def: number): number {
    const a = this.m.get(name);
    return a ? (a.type === onnx.AttributeProto.AttributeType.INT ? num(a.i) : (a.f as number)) : def;
  }
  ints(name: string, def: number[]): number[] {
    const a = this.m.get(name);
    return a ? (a.ints ?? []).map(num) : def;
  }
  string(name: string, def: string): string {
    const a = this.m.get(name);
    return a && a.s ? Buffer.from(a.s).toString('utf8') : def;
  }
  tensor(name: string): onnx.ITensorProto | undefined {
    return this.m.get(name)?.t ?? undefined;
  }
  names(): string[] {
    return [...this.m.keys()];
  }
}

const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);
const ints = (c: Const) => Array.from(c.data as ArrayLike<number>);

/** Ops evaluated at import time when all their inputs are constant. */
export const FOLDABLE = new Set(['Constant', 'Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Cast', 'Slice', 'Identity', 'Reshape', 'Add', 'Sub', 'Mul', 'Div', 'ConstantOfShape']);

/**
 * Evaluates a small constant op. `ins` are the constant inputs (undefined for an absent optional
 * input); `shapeOf` gives the static shape of the (non-constant) first input, for Shape.
 */
export function foldConst(node: onnx.INodeProto, ins: (Const | undefined)[], inShape: number[] | undefined, where: string): Const {
  const at = new Attrs(node);
  const op = node.opType as string;
  const vec = (d: number[]): Const => ({ dims: [d.length], data: d });
  switch (op) {
    case 'Constant': {
      const t = at.tensor('value');
      if (t) return tensorToConst(t, where, `Constant node "${node.name || node.output?.[0]}" tensor`);
      if (at.has('value_float')) return { dims: [], data: Float32Array.of(at.float('value_float', 0)) };
      if (at.has('value_int')) return { dims: [], data: [at.int('value_int', 0)] };
      if (at.has('value_ints')) return vec(at.ints('value_ints', []));
      break;
    }
    case 'Shape': {
      if (!inShape) break;
      const r = inShape.length;
      const norm = (v: number) => (v < 0 ? v + r : v);
      const s = norm(at.int('start', 0));
      const e = at.has('end') ? norm(at.int('end', r)) : r;
      return vec(inShape.slice(Math.max(0, s), Math.min(r, e)));
    }
    case 'Identity': case 'Cast':
      return ins[0]!;
    case 'Gather': {
      const [data, idx] = ins as Const[];
      const axis = at.int('axis', 0);
      if (data.dims.length !== 1 || axis !== 0) break;
      const d = ints(data);
      const pick = ints(idx).map((i) => d[i < 0 ? i + d.length : i]);
      return { dims: idx.dims, data: pick };
    }
    case 'Unsqueeze': case 'Squeeze': {
      const axes = ins[1] ? ints(ins[1]) : at.ints('axes', []);
      const c = ins[0]!;
      let dims = c.dims.slice();
      if (op === 'Unsqueeze') {
        const r = dims.length + axes.length;
        for (const a of axes.map((x) => (x < 0 ? x + r : x)).sort((x, y) => x - y)) dims.splice(a, 0, 1);
      } else {
        const r = dims.length;
        const drop = new Set((axes.length ? axes : dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((x) => (x < 0 ? x + r : x)));
        dims = dims.filter((_, i) => !drop.has(i));
      }
      return { dims, data: c.data };
    }
    case 'Concat': {
      const cs = ins as Const[];
      if (cs.some((c) => c.dims.length > 1)) break;
      const all: number[] = [];
      for (const c of cs) all.push(...ints(c));
      return vec(all);
    }
    case 'Slice': {
      const [data, starts, ends, axes, steps] = ins;
      if (!data || data.dims.length !== 1 || !starts || !ends) break;
      if ((axes && ints(axes).some((a) => a !== 0 && a !== -1)) || (steps && ints(steps)[0] !== 1)) break;
      const d = ints(data);
      const clamp = (v: number) => Math.max(0, Math.min(d.length, v < 0 ? v + d.length : v));
      return vec(d.slice(clamp(ints(starts)[0]), clamp(ints(ends)[0])));
    }
    case 'Reshape': {
      const [data, shape] = ins as Const[];
      const s = ints(shape).map((v, i) => (v === 0 ? data.dims[i] : v));
      const known = prod(s.filter((v) => v >= 0));
      return { dims: s.map((v) => (v < 0 ? prod(data.dims) / known : v)), data: data.data };
    }
    case 'ConstantOfShape': {
      const shape = ints(ins[0]!);
      if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0) || prod(shape) > MAX_CONST_ELEMENTS) break;
      const v = at.tensor('value');
      const fill = v ? tensorToConst(v, where).data[0] : 0;
      return { dims: shape, data: new Array(prod(shape)).fill(fill) };
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': {
      const [a, b] = ins as Const[];
      if (prod(b.dims) !== 1 && prod(a.dims) !== prod(b.dims)) break;
      const av = ints(a);
      const bv = ints(b);
      const isInt = Array.isArray(a.data) && Array.isArray(b.data);
      const f = { Add: (x: number, y: number) => x + y, Sub: (x: number, y: number) => x - y, Mul: (x: number, y: number) => x * y, Div: (x: number, y: number) => (isInt ? Math.trunc(x / y) : x / y) }[op];
      const out = av.map((x, i) => f(x, bv.length === 1 ? bv[0] : bv[i]));
      return { dims: a.dims, data: isInt ? out : Float32Array.from(out) };
    }
  }
  throw new Error(`${where}: cannot evaluate the constant ${op} node "${node.name || node.output?.[0]}" at import time.`);
}
