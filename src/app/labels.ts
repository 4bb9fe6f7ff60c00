// Class labels file: a JSON array of names, a JSON object {"0": name | [id, name]}
// (Keras' imagenet_class_index.json), or plain text with one label per line.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function parseLabels(text: string, source = 'labels'): string[] {
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
    if (keys.every((k) => /^\d+$/.test(k))) {
      const out: string[] = [];
      for (const k of keys) out[Number(k)] = name(obj[k]);
      return Array.from(out, (x, i) => x ?? String(i));
    }
    throw new Error(`${source}: a JSON labels file must be an array of names or an object keyed by class index.`);
  }
  const lines = t.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.map((l) => l.trim());
}

export function loadLabels(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`Cannot read the labels file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  return parseLabels(text, file);
}

/** The labels file next to a model when none is given: labels.json, else labels.txt. */
export function labelsBesideModel(modelPath: string): string | undefined {
  for (const n of ['labels.json', 'labels.txt']) {
    const p = path.join(path.dirname(modelPath), n);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}
