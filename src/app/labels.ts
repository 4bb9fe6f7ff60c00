// Class labels file: a JSON array of names, a JSON object {"0": name | [id, name]}
// (Keras' imagenet_class_index.json), or plain text with one label per line.
// The file is someone else's: its size is bounded, and an object's keys are only used when
// they are class indices of the model (others are ignored with a warning), so a key such
// as "4294967294" never sizes an allocation.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRegularFile } from '../engine/read-file';

/** Largest labels file we read (ImageNet-21k's names are about 1 MB). */
export const MAX_LABELS_BYTES = 16 * 2 ** 20;
/** Largest class index a labels object may use when the model's class count is not known. */
export const MAX_CLASSES = 1_000_000;

export interface LabelOptions {
  /** The model's class count: keys at or above it are ignored (with a warning). */
  classes?: number;
  /** Where warnings go (default: nowhere). */
  warn?: (message: string) => void;
}

export function parseLabels(text: string, source = 'labels', opts: LabelOptions = {}): string[] {
  const t = text.replace(/^\uFEFF/, '');
  const first = t.trimStart()[0];
  if (first === '[' || first === '{') {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new Error(`${source}: invalid JSON (${(e as Error).message}). Use a JSON array of names or one label per line.`);
    }
    const name = (x: unknown): string => (Array.isArray(x) ? String(x[x.length - 1]) : String(x));
    if (Array.isArray(v)) return v.map(name);
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (!keys.every((k) => /^\d+$/.test(k))) {
      throw new Error(`${source}: a JSON labels file must be an array of names or an object keyed by class index.`);
    }
    const limit = opts.classes ?? MAX_CLASSES;
    const inRange = keys.filter((k) => k.length <= 9 && Number(k) < limit);
    const outside = keys.filter((k) => !(k.length <= 9 && Number(k) < limit));
    if (outside.length) {
      const shown = outside.slice(0, 3).join(', ') + (outside.length > 3 ? ', ...' : '');
      const msg = opts.classes !== undefined
        ? `${source}: ignoring ${outside.length} label key(s) outside the model's classes 0..${limit - 1} (${shown})`
        : `${source}: label key(s) ${shown} are beyond ${MAX_CLASSES - 1}, larger than any classifier's class index`;
      if (opts.classes === undefined) throw new Error(msg + '.');
      opts.warn?.(msg);
    }
    // Sized by the model (or by the largest key in range), never by a key from the file alone.
    const size = opts.classes ?? inRange.reduce((m, k) => Math.max(m, Number(k) + 1), 0);
    const out = Array.from({ length: size }, (_, i) => String(i));
    for (const k of inRange) out[Number(k)] = name(obj[k]);
    return out;
  }
  const lines = t.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.map((l) => l.trim());
}

export function loadLabels(file: string, opts: LabelOptions = {}): string[] {
  return parseLabels(readRegularFile(file, 'Labels file', { maxBytes: MAX_LABELS_BYTES }).toString('utf8'), file, opts);
}

/** The labels file next to a model when none is given: labels.json, else labels.txt. */
export function labelsBesideModel(modelPath: string): string | undefined {
  for (const n of ['labels.json', 'labels.txt']) {
    const p = path.join(path.dirname(modelPath), n);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}
