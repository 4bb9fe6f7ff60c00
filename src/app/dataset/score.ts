// The scoring run: every listed image decoded, preprocessed and forwarded in batches;
// what the cache already holds (same size and mtime) is not scored again. Unreadable
// images are results too (with their reason), so they never stop the run. Cancelling
// stops after the batch in flight; everything finished is in the cache.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Graph } from '../../engine/model/graph';
import type { Preprocess } from '../../engine/types';
import { readImageFile } from '../../engine/image/decode';
import { toModelInput } from '../../engine/image/preprocess';
import { predictBatch } from '../../engine/predict';
import type { ReviewCache } from './cache';

export type Scored = { path: string; logits: Float32Array } | { path: string; error: string };

export interface ScoreProgress {
  /** Images finished (scored now, from the cache, or failed) of `total`. */
  done: number;
  total: number;
  /** Of `done`, how many came from the cache. */
  cached: number;
  /** What finished since the last report, in listing order within the report. */
  items: Scored[];
}

export interface ScoreOptions {
  graph: Graph;
  root: string;
  /** Relative paths under root. */
  files: string[];
  preprocess: Preprocess;
  /** Inputs per forward pass. */
  batch: number;
  cache: ReviewCache;
  onProgress?: (p: ScoreProgress) => void;
  signal?: AbortSignal;
}

export interface ScoreRun {
  /** One entry per finished file, in listing order. */
  items: Scored[];
  cached: number;
  cancelled: boolean;
}

const reason = (e: unknown, abs: string, rel: string) => {
  const m = e instanceof Error ? e.message : String(e);
  // Engine messages start with the absolute path; the review names images relative to the folder.
  return m.startsWith(abs) ? rel + m.slice(abs.length) : `${rel}: ${m}`;
};

/** Lets timers, signals and worker messages through between batches. */
const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

export async function scoreImages(o: ScoreOptions): Promise<ScoreRun> {
  const { graph: g } = o;
  const per = g.inputShape[0] * g.inputShape[1] * g.inputShape[2];
  const batchSize = Math.max(1, Math.floor(o.batch));
  const input = new Float32Array(batchSize * per);
  const done = new Map<string, Scored>();
  let pending: { rel: string; size: number; mtimeMs: number }[] = [];
  let fresh: Scored[] = [];
  let cached = 0;
  let lastReport = 0;
  const report = (force: boolean) => {
    const now = performance.now();
    if (!o.onProgress || (!force && now - lastReport < 100)) return;
    lastReport = now;
    o.onProgress({ done: done.size, total: o.files.length, cached, items: fresh });
    fresh = [];
  };
  const finish = (s: Scored) => {
    done.set(s.path, s);
    fresh.push(s);
  };
  const runBatch = async () => {
    if (!pending.length) return;
    const n = pending.length;
    const { logits } = await predictBatch(g, n === batchSize ? input : input.subarray(0, n * per), n);
    const k = logits.length / n;
    pending.forEach((p, i) => {
      const l = logits.slice(i * k, (i + 1) * k);
      o.cache.put(p.rel, { size: p.size, mtimeMs: p.mtimeMs, logits: l });
      finish({ path: p.rel, logits: l });
    });
    pending = [];
    o.cache.flush();
    report(true);
    await yieldToLoop();
  };

  for (const rel of o.files) {
    if (o.signal?.aborted) break;
    const abs = path.join(o.root, ...rel.split('/'));
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (e) {
      finish({ path: rel, error: `${rel}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
      continue;
    }
    const hit = o.cache.get(rel, st.size, st.mtimeMs);
    if (hit) {
      cached++;
      finish(hit.logits ? { path: rel, logits: hit.logits } : { path: rel, error: hit.error ?? `${rel}: unreadable` });
      if (cached % 512 === 0) {
        report(false);
        await yieldToLoop();
      }
      continue;
    }
    try {
      const x = toModelInput(readImageFile(abs), g.inputShape, o.preprocess);
      input.set(x, pending.length * per);
      pending.push({ rel, size: st.size, mtimeMs: st.mtimeMs });
    } catch (e) {
      const error = reason(e, abs, rel);
      o.cache.put(rel, { size: st.size, mtimeMs: st.mtimeMs, error });
      finish({ path: rel, error });
    }
    if (pending.length === batchSize) await runBatch();
  }
  const cancelled = Boolean(o.signal?.aborted);
  if (!cancelled) await runBatch();
  o.cache.flush();
  report(true);
  return { items: o.files.filter((f) => done.has(f)).map((f) => done.get(f)!), cached, cancelled };
}
