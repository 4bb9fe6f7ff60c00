// TF.js weight shards: the manifest in model.json says which files hold which weights.
// Before a byte is read, every shard must be a regular file inside the model's folder, and
// the shards' sizes must add up to exactly what the listed weights need.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputFileError, readOpened, openRegular, resolveInside } from '../read-file';

/** A decoded weight: float32 data in the file's shape. */
export interface RawWeight {
  data: Float32Array;
  shape: number[];
}

/** Largest total of weight bytes we read for one model (VGG16 is 528 MB). */
export const MAX_WEIGHT_BYTES = 2 * 2 ** 30;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

interface Spec {
  name: string;
  shape: number[];
  bytes: number;
  /** Stored as: a dtype, or a quantization. */
  stored: 'float32' | 'int32' | 'bool' | 'uint8' | 'uint16' | 'float16';
  /** Dequantization v = q * scale + min (uint8 / uint16). */
  scale: number;
  min: number;
}

function checkSpec(w: Json, where: string, source: string): Spec {
  if (!w || typeof w !== 'object' || typeof w.name !== 'string') throw new Error(`"${source}": ${where} is not a weight entry with a "name".`);
  const what = `${where} ("${w.name}")`;
  if (!Array.isArray(w.shape) || !w.shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new Error(`"${source}": ${what} has shape ${JSON.stringify(w.shape)}; expected a list of non-negative integers.`);
  }
  const q = w.quantization;
  let size: number | undefined;
  let scale = 1;
  let min = 0;
  if (q != null) {
    size = typeof q === 'object' && Object.hasOwn(QUANT_BYTES, q.dtype) ? QUANT_BYTES[q.dtype] : undefined;
    if (size === undefined) throw new Error(`"${source}": ${what} uses quantization ${JSON.stringify(q?.dtype ?? q)}; supported: ${Object.keys(QUANT_BYTES).join(', ')}.`);
    if (q.dtype !== 'float16') {
      scale = q.scale;
      min = q.min;
      if (!Number.isFinite(scale) || !Number.isFinite(min)) throw new Error(`"${source}": ${what} is ${q.dtype}-quantized without a finite "scale" and "min".`);
    }
  } else {
    size = Object.hasOwn(DTYPE_BYTES, w.dtype) ? DTYPE_BYTES[w.dtype] : undefined;
    if (size === undefined) throw new Error(`"${source}": ${what} has dtype ${JSON.stringify(w.dtype)}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}.`);
  }
  let bytes = size;
  for (const d of w.shape as number[]) {
    bytes *= d;
    if (bytes > MAX_WEIGHT_BYTES) throw new Error(`"${source}": ${what} of shape [${w.shape}] needs more than ${MAX_WEIGHT_BYTES} bytes, more than this tool reads for a model.`);
  }
  return { name: w.name, shape: w.shape, bytes, stored: q != null ? q.dtype : w.dtype, scale, min };
}

/** Reads every shard group of the manifest and decodes it (float32, float16, uint8/16 quantized). */
export function readWeightShards(manifest: Json, dir: string, source: string): Map<string, RawWeight> {
  const out = new Map<string, RawWeight>();
  if (manifest == null) return out;
  if (!Array.isArray(manifest)) throw new Error(`"${source}": "weightsManifest" must be a list of shard groups.`);
  let total = 0;
  manifest.forEach((group: Json, gi: number) => {
    const where = `weightsManifest[${gi}]`;
    if (!group || typeof group !== 'object') throw new Error(`"${source}": ${where} is not a shard group.`);
    if (typeof group.paths === 'string') {
      throw new Error(`"${source}": ${where}.paths must be a list of shard file names, not the string "${group.paths}"; write "paths": ["${group.paths}"].`);
    }
    if (!Array.isArray(group.paths) || !group.paths.every((p: unknown) => typeof p === 'string')) {
      throw new Error(`"${source}": ${where}.paths must be a list of shard file names.`);
    }
    if (!Array.isArray(group.weights)) throw new Error(`"${source}": ${where}.weights must be a list of weight entries.`);
    const specs = group.weights.map((w: Json, i: number) => checkSpec(w, `${where}.weights[${i}]`, source)) as Spec[];
    const need = specs.reduce((s, w) => s + w.bytes, 0);
    total += need;
    if (total > MAX_WEIGHT_BYTES) throw new Error(`"${source}": the manifest lists more than ${MAX_WEIGHT_BYTES / 2 ** 30} GB of weights, more than this tool reads for a model.`);
    const bytes = readGroup(group.paths as string[], specs, need, dir, source);
    let off = 0;
    for (const spec of specs) {
      out.set(spec.name, { data: decode(bytes, off, spec), shape: spec.shape.slice() });
      off += spec.bytes;
    }
  });
  return out;
}

/** IEEE half -> float. */
function half(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const v = e === 0 ? m * 2 ** -24 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15);
  return h & 0x8000 ? -v : v;
}

/**
 * One weight's values. float32 at an aligned offset is a view of the shard bytes (no copy:
 * VGG16's 528 MB are read once and never duplicated); everything else is converted.
 */
function decode(bytes: Uint8Array, off: number, spec: Spec): Float32Array {
  const n = spec.bytes / (spec.stored === 'float32' || spec.stored === 'int32' ? 4 : spec.stored === 'bool' || spec.stored === 'uint8' ? 1 : 2);
  const at = bytes.byteOffset + off;
  if (spec.stored === 'float32') {
    return at % 4 === 0 ? new Float32Array(bytes.buffer, at, n) : new Float32Array(bytes.slice(off, off + spec.bytes).buffer);
  }
  const view = new DataView(bytes.buffer, at, spec.bytes);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (spec.stored) {
      case 'int32': out[i] = view.getInt32(4 * i, true); break;
      case 'bool': out[i] = view.getUint8(i) ? 1 : 0; break;
      case 'uint8': out[i] = view.getUint8(i) * spec.scale + spec.min; break;
      case 'uint16': out[i] = view.getUint16(2 * i, true) * spec.scale + spec.min; break;
      case 'float16': out[i] = half(view.getUint16(2 * i, true)); break;
    }
  }
  return out;
}

/** Opens every shard of a group, checks kinds and sizes against `need`, then reads them into one buffer. */
function readGroup(paths: string[], specs: Spec[], need: number, dir: string, source: string): Uint8Array {
  const shown = paths.map((p) => path.join(dir, p));
  const opened: { fd: number; size: number; file: string }[] = [];
  try {
    for (let i = 0; i < paths.length; i++) {
      const real = resolveInside(dir, paths[i], 'Weight shard', source);
      opened.push({ ...openRegular(real, 'Weight shard', shown[i]), file: shown[i] });
    }
    const have = opened.reduce((s, o) => s + o.size, 0);
    if (have !== need) throw sizeError(shown, specs, need, have, source);
    const buf = new Uint8Array(need);
    let off = 0;
    for (const o of opened) {
      readOpened(o.fd, o.size, o.file, 'Weight shard', buf.subarray(off, off + o.size));
      off += o.size;
    }
    return buf;
  } finally {
    for (const o of opened) fs.closeSync(o.fd);
  }
}

/** Names the shard(s), the first weight that does not fit, and the expected and actual sizes. */
function sizeError(shards: string[], specs: Spec[], need: number, have: number, source: string): InputFileError {
  const which = shards.length === 1 ? `Weight shard "${shards[0]}"` : `Weight shards ${shards.map((s) => `"${s}"`).join(', ')} (together)`;
  let detail: string;
  if (have < need) {
    let start = 0;
    const cut = specs.find((w) => (start += w.bytes) > have)!;
    const from = start - cut.bytes;
    detail = `; weight "${cut.name}" [${cut.shape}] needs bytes ${from}..${start} but the data ends at byte ${have}`;
  } else {
    detail = `; the last weight "${specs[specs.length - 1]?.name ?? '(none)'}" ends at byte ${need} and ${have - need} bytes follow it`;
  }
  return new InputFileError(
    `${which} listed in "${source}" has ${have} bytes, but the manifest's weights need ${need} bytes${detail}. The shard does not belong to this model.json (or is truncated); re-download or re-convert the model.`,
    shards[shards.length - 1],
  );
}
