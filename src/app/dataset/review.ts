// A dataset review from end to end, for the CLI and the extension alike: list the folder,
// find the truth, take this shard's slice, score what the cache does not hold, summarise,
// write the report files. `mergeReviews` combines the review.json of several shards.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Graph } from '../../engine/model/graph';
import type { Preprocess } from '../../engine/types';
import { ReviewCache, modelFingerprint } from './cache';
import { listDatasetImages } from './listing';
import { prepareOutputFolder, REVIEW_JSON } from './outdir';
import { scoreImages, type ScoreProgress } from './score';
import { shardSlice, type Shard } from './shard';
import { resultOf, summarize, type ImageResult, type Summary } from './summary';
import { truthFromCsv, truthFromFolders, type Truth } from './truth';
import { writeReview } from './writers';

export const REVIEW_FORMAT = 'fgcam-review/1';

export interface Failed {
  path: string;
  error: string;
}

/** What `--json` prints and review.json holds. Paths are relative to `root`, '/'-separated. */
export interface ReviewDocument extends Summary {
  format: typeof REVIEW_FORMAT;
  /** The dataset folder (absolute). */
  root: string;
  model: string;
  /** Fingerprint of the model files, preprocessing and input size (the cache key). */
  modelKey: string;
  truthSource: 'folders' | 'csv';
  /** This run's slice, or null for the whole folder. */
  shard: Shard | null;
  /** The shards a merged document was made from (empty otherwise). */
  shards: Shard[];
  failed: Failed[];
  unmatched: Truth['unmatched'];
  missing: string[];
  results: ImageResult[];
}

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
  onProgress?: (p: ScoreProgress & { truth: Map<string, number> }) => void;
  /** Called once the listing and truth are known, before any scoring. */
  onStart?: (info: { files: string[]; truth: Truth; cached: number }) => void;
  signal?: AbortSignal;
}

export interface ReviewRun {
  doc: ReviewDocument;
  cancelled: boolean;
  /** Images taken from the cache, of doc.images + doc.failed.length. */
  cached: number;
  written: string[];
}

/** Results, failures and summary from per-image outcomes. */
export function buildDocument(
  base: Omit<ReviewDocument, keyof Summary | 'format' | 'failed' | 'results'>,
  classes: string[],
  results: ImageResult[],
  failed: Failed[],
): ReviewDocument {
  // Path order everywhere: a merge of shards then equals the whole-folder run.
  const cmp = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  results = [...results].sort(cmp);
  const unmatched = [...base.unmatched].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { format: REVIEW_FORMAT, ...base, unmatched, ...summarize(classes, results), failed: [...failed].sort(cmp), results };
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
    onProgress: o.onProgress && ((p) => o.onProgress!({ ...p, truth: truth.of })),
  });
  const results: ImageResult[] = [];
  const failed: Failed[] = first ? listing.unreadable.map((u) => ({ path: u.path, error: `${u.path}: ${u.error}` })) : [];
  for (const s of run.items) {
    if ('logits' in s) results.push(resultOf(s.path, s.logits, truth.of.get(s.path) ?? null));
    else failed.push({ path: s.path, error: s.error });
  }
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

/** Reads `<dir>/review.json`, checking it is one. */
export function readReview(dir: string): ReviewDocument {
  const file = path.join(dir, REVIEW_JSON);
  let doc: ReviewDocument;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${dir} has no ${REVIEW_JSON}: not a finished review (did that shard complete?)` : `${file}: ${(e as Error).message}`);
  }
  if (doc.format !== REVIEW_FORMAT || !Array.isArray(doc.results)) throw new Error(`${file} is not a review written by fgcam predict`);
  return doc;
}

/** One document from shard outputs: the same model, classes and split; every shard present, none twice. */
export function mergeReviews(docs: { dir: string; doc: ReviewDocument }[]): ReviewDocument {
  if (!docs.length) throw new Error('nothing to merge');
  const [first] = docs;
  for (const { dir, doc } of docs) {
    if (doc.modelKey !== first.doc.modelKey) throw new Error(`${dir} was scored with another model or preprocessing than ${first.dir}; merge only shards of one run`);
    if (JSON.stringify(doc.classes) !== JSON.stringify(first.doc.classes)) throw new Error(`${dir} has other class names than ${first.dir}`);
    if (doc.truthSource !== first.doc.truthSource) throw new Error(`${dir} took its truth from ${doc.truthSource}, ${first.dir} from ${first.doc.truthSource}`);
  }
  const parts = docs.flatMap(({ dir, doc }) => (doc.shards.length ? doc.shards : doc.shard ? [doc.shard] : []).map((s) => ({ dir, s })));
  if (parts.length) {
    const n = parts[0].s.count;
    if (parts.length !== docs.length && docs.some((d) => !d.doc.shard && !d.doc.shards.length)) throw new Error('cannot merge whole-folder reviews with shards');
    if (parts.some((p) => p.s.count !== n)) throw new Error(`the shards were cut in different numbers of slices (${[...new Set(parts.map((p) => p.s.count))].join(', ')})`);
    const seen = new Map<number, string>();
    for (const p of parts) {
      if (seen.has(p.s.index)) throw new Error(`shard ${p.s.index}/${n} is given twice (${seen.get(p.s.index)} and ${p.dir})`);
      seen.set(p.s.index, p.dir);
    }
    const absent = Array.from({ length: n }, (_, i) => i).filter((i) => !seen.has(i));
    if (absent.length) throw new Error(`shard${absent.length > 1 ? 's' : ''} ${absent.map((i) => `${i}/${n}`).join(', ')} missing: merge the outputs of all ${n} shards`);
  }
  const byPath = new Map<string, string>();
  const results: ImageResult[] = [];
  const failed: Failed[] = [];
  for (const { dir, doc } of docs) {
    for (const r of [...doc.results, ...doc.failed]) {
      if (byPath.has(r.path)) throw new Error(`${r.path} is in both ${byPath.get(r.path)} and ${dir}`);
      byPath.set(r.path, dir);
    }
    results.push(...doc.results);
    failed.push(...doc.failed);
  }
  const unmatched = new Map<string, Truth['unmatched'][number]>();
  for (const { doc } of docs) {
    for (const u of doc.unmatched) {
      const e = unmatched.get(u.name);
      unmatched.set(u.name, e ? { ...e, images: e.images + u.images } : { ...u });
    }
  }
  return buildDocument(
    {
      root: first.doc.root,
      model: first.doc.model,
      modelKey: first.doc.modelKey,
      truthSource: first.doc.truthSource,
      shard: null,
      shards: parts.map((p) => p.s).sort((a, b) => a.index - b.index),
      unmatched: [...unmatched.values()],
      missing: docs.flatMap((d) => d.doc.missing),
    },
    first.doc.classes,
    results,
    failed,
  );
}
