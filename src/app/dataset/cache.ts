// The resume cache of a dataset review: one JSON line per scored image (its logits, or why
// it could not be read), keyed by file size and mtime, under a header naming the model
// fingerprint. Lines are appended as batches finish, so an interrupted run keeps its work;
// a torn last line is ignored. A different fingerprint starts the cache afresh.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const CACHE_FILE = 'cache.jsonl';
const FORMAT = 'fgcam-review-cache/1';

export interface CacheEntry {
  size: number;
  mtimeMs: number;
  logits?: Float32Array;
  error?: string;
}

interface Line {
  p: string;
  s: number;
  m: number;
  l?: string;
  e?: string;
}

/** The model's files (model.json and its weight shards, or the .onnx), hashed with `extra` (preprocessing, input size). */
export function modelFingerprint(modelPath: string, extra: unknown): string {
  const h = crypto.createHash('sha256');
  const files = [modelPath];
  if (modelPath.toLowerCase().endsWith('.json')) {
    try {
      const j = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
      for (const g of j.weightsManifest ?? []) for (const p of g.paths ?? []) files.push(path.join(path.dirname(modelPath), p));
    } catch {
      // unreadable manifest: the model loader reports it; the bytes alone key the cache
    }
  }
  for (const f of files) {
    h.update(path.basename(f) + '\0');
    h.update(fs.readFileSync(f));
  }
  h.update(JSON.stringify(extra));
  return h.digest('hex').slice(0, 32);
}

const encode = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function decode(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b.subarray(0, out.length * 4));
  return out;
}

const toLine = (p: string, e: CacheEntry): string =>
  JSON.stringify({ p, s: e.size, m: e.mtimeMs, ...(e.logits ? { l: encode(e.logits) } : {}), ...(e.error !== undefined ? { e: e.error } : {}) } satisfies Line);

export class ReviewCache {
  private readonly entries = new Map<string, CacheEntry>();
  private pending: string[] = [];
  /** Entries read from disk when the cache was opened (0: a fresh cache). */
  readonly loaded: number;

  private constructor(
    readonly file: string,
    readonly key: string,
    fresh: boolean,
  ) {
    if (!fresh) this.read();
    this.loaded = this.entries.size;
    if (fresh || !fs.existsSync(file)) fs.writeFileSync(file, JSON.stringify({ format: FORMAT, key }) + '\n');
  }

  /** Opens `<dir>/cache.jsonl`, keeping its entries only when they were made with `key`. */
  static open(dir: string, key: string): ReviewCache {
    const file = path.join(dir, CACHE_FILE);
    let same = false;
    try {
      const head = fs.readFileSync(file, 'utf8').split('\n', 1)[0];
      const h = JSON.parse(head);
      same = h.format === FORMAT && h.key === key;
    } catch {
      same = false;
    }
    return new ReviewCache(file, key, !same);
  }

  private read(): void {
    const lines = fs.readFileSync(this.file, 'utf8').split('\n');
    for (const text of lines.slice(1)) {
      if (!text) continue;
      let l: Line;
      try {
        l = JSON.parse(text);
      } catch {
        continue; // a torn line from an interrupted write
      }
      if (typeof l.p !== 'string' || typeof l.s !== 'number' || typeof l.m !== 'number') continue;
      this.entries.set(l.p, { size: l.s, mtimeMs: l.m, ...(l.l !== undefined ? { logits: decode(l.l) } : {}), ...(l.e !== undefined ? { error: l.e } : {}) });
    }
  }

  /** The cached result for this file, if it has not changed since. */
  get(rel: string, size: number, mtimeMs: number): CacheEntry | undefined {
    const e = this.entries.get(rel);
    return e && e.size === size && e.mtimeMs === mtimeMs ? e : undefined;
  }

  put(rel: string, e: CacheEntry): void {
    this.entries.set(rel, e);
    this.pending.push(toLine(rel, e));
  }

  /** Appends what was put since the last flush (one write: a crash tears at most one line). */
  flush(): void {
    if (!this.pending.length) return;
    fs.appendFileSync(this.file, this.pending.join('\n') + '\n');
    this.pending = [];
  }

  /** Rewrites the file with only the entries of `keep` (atomically), dropping stale lines. */
  compact(keep: Iterable<string>): void {
    this.flush();
    const lines = [JSON.stringify({ format: FORMAT, key: this.key })];
    for (const rel of keep) {
      const e = this.entries.get(rel);
      if (e) lines.push(toLine(rel, e));
    }
    const tmp = `${this.file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, lines.join('\n') + '\n');
    fs.renameSync(tmp, this.file);
  }
}
