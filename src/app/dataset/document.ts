// The review document: what `fgcam predict --json` prints and review.json holds, built from
// per-image results alone (so merged shards and a whole-folder run give the same document).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Shard } from './shard';
import { summarize, type ImageResult, type Summary } from './summary';
import type { Truth } from './truth';
import { REVIEW_JSON } from './outdir';

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

