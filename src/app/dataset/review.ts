// A dataset review from end to end, for the CLI and the extension alike: list the folder,
// find the truth, take this shard's slice, score what the cache does not hold, summarise,
// write the report files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Graph } from '../../engine/model/graph';
import type { Preprocess } from '../../engine/types';
import { ReviewCache, modelFingerprint } from './cache';
import { buildDocument, type Failed, type ReviewDocument } from './document';
import { listDatasetImages } from './listing';
import { prepareOutputFolder } from './outdir';
import { scoreImages, type Scored } from './score';
import { shardSlice, type Shard } from './shard';
import { resultOf, type ImageResult } from './summary';
import { truthFromCsv, truthFromFolders, type Truth } from './truth';
import { writeReview } from './writers';

export type { ReviewDocument } from './document';

export interface ReviewOptions {
  root: string;
  graph: Graph;
  modelPath: string;
  /** One name per model class. */
  labels: string[];
  preprocess: Preprocess;
  batch: number;
  /** A CSV of path,label instead of the class folders. */
  truthCsv?: string;
  shard?: Shard;
  outDir: string;
  force?: boolean;
  /** Write the report files (default true). */
  write?: boolean;
  /** As batches finish: counts, and the results and failures new since the last call. */
  onProgress?: (p: ReviewProgress) => void;
  /** Called once the listing and truth are known, before any scoring. */
  onStart?: (info: { files: string[]; truth: Truth; cached: number }) => void;
  signal?: AbortSignal;
}

export interface ReviewProgress {
  done: number;
  total: number;
  cached: number;
  results: ImageResult[];
  failed: Failed[];
}

export interface ReviewRun {
  doc: ReviewDocument;
  cancelled: boolean;
  /** Images taken from the cache, of doc.images + doc.failed.length. */
  cached: number;
  written: string[];
}

export async function reviewDataset(o: ReviewOptions): Promise<ReviewRun> {
  const root = path.resolve(o.root);
  const outDir = path.resolve(o.outDir);
  const listing = listDatasetImages(root, [outDir]);
  let truth: Truth;
  if (o.truthCsv) {
    let text: string;
    try {
      text = fs.readFileSync(o.truthCsv, 'utf8');
    } catch (e) {
      throw new Error(`cannot read the truth file ${o.truthCsv} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    truth = truthFromCsv(text, o.truthCsv, root, listing.files, o.labels);
  } else truth = truthFromFolders(listing.files, o.labels);
  const files = o.shard ? shardSlice(listing.files, o.shard) : listing.files;
  // Findings about the folder as a whole belong to one shard only, so that merged shards add up.
  const first = !o.shard || o.shard.index === 0;
  const unmatched = o.shard ? tallyIn(truth, files, o.truthCsv !== undefined, first) : truth.unmatched;

  prepareOutputFolder(outDir, Boolean(o.force));
  const key = modelFingerprint(o.modelPath, { preprocess: o.preprocess, input: o.graph.inputShape });
  const cache = ReviewCache.open(outDir, key);
  o.onStart?.({ files, truth, cached: cache.loaded });
  const run = await scoreImages({
    graph: o.graph,
    root,
    files,
    preprocess: o.preprocess,
    batch: o.batch,
    cache,
    signal: o.signal,
    onProgress: o.onProgress && ((p) => o.onProgress!({ done: p.done, total: p.total, cached: p.cached, ...outcomes(p.items, truth) })),
  });
  const { results, failed } = outcomes(run.items, truth);
  if (first) failed.unshift(...listing.unreadable.map((u) => ({ path: u.path, error: `${u.path}: ${u.error}` })));
  const doc = buildDocument(
    {
      root,
      model: o.modelPath,
      modelKey: key,
      truthSource: o.truthCsv ? 'csv' : 'folders',
      shard: o.shard ?? null,
      shards: [],
      unmatched,
      missing: first ? truth.missing : [],
    },
    o.labels,
    results,
    failed,
  );
  let written: string[] = [];
  if (!run.cancelled) {
    cache.compact(files);
    if (o.write !== false) written = await writeReview(outDir, doc);
  }
  return { doc, cancelled: run.cancelled, cached: run.cached, written };
}

/** Scored images as results (with their truth), unreadable ones as failures. */
function outcomes(items: Scored[], truth: Truth): { results: ImageResult[]; failed: Failed[] } {
  const results: ImageResult[] = [];
  const failed: Failed[] = [];
  for (const s of items) {
    if ('logits' in s) results.push(resultOf(s.path, s.logits, truth.of.get(s.path) ?? null));
    else failed.push({ path: s.path, error: s.error });
  }
  return { results, failed };
}

/** The unmatched names counted over this shard's files only (so merged shards add up). */
function tallyIn(truth: Truth, files: string[], csv: boolean, first: boolean): Truth['unmatched'] {
  if (csv) return first ? truth.unmatched : []; // CSV rows, not folders: reported by the first shard
  const counts = new Map<string, number>();
  for (const f of files) {
    if (truth.of.has(f)) continue;
    const folder = f.includes('/') ? f.slice(0, f.lastIndexOf('/')) : '.';
    counts.set(folder, (counts.get(folder) ?? 0) + 1);
  }
  return truth.unmatched.filter((u) => counts.has(u.name)).map((u) => ({ ...u, images: counts.get(u.name)! }));
}

