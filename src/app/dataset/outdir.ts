// The review's output folder. It is ours when it carries the marker file: then a re-run
// replaces the report files in it. Anywhere else an existing file of the same name is the
// user's, and nothing replaces it without `force`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_FILE } from './cache';

export const MARKER = '.fgcam-review';
export const REVIEW_JSON = 'review.json';
export const PREDICTIONS_CSV = 'predictions.csv';
export const REPORT_MD = 'report.md';
export const CONFUSION_PNG = 'confusion.png';
export const OUTPUT_FILES = [REVIEW_JSON, PREDICTIONS_CSV, REPORT_MD, CONFUSION_PNG, CACHE_FILE];

/** `<folder>.fgcam-review`, next to the dataset; shards get a subfolder each. */
export function defaultOutputFolder(root: string, shard?: { index: number; count: number }): string {
  const base = path.resolve(root).replace(/[\\/]+$/, '') + '.fgcam-review';
  return shard ? path.join(base, `shard-${shard.index}-of-${shard.count}`) : base;
}

export function isReviewFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, MARKER));
}

/** Creates the folder (and marks it ours), or checks that writing into it clobbers nothing of the user's. */
export function prepareOutputFolder(dir: string, force: boolean): void {
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new Error(`the output folder ${dir} is a file; pass --out <folder>`);
  if (st && !isReviewFolder(dir) && !force) {
    const clash = OUTPUT_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
    if (clash.length) {
      throw new Error(`${dir} already has ${clash.join(', ')}, not written by a review; not overwriting them (pass --out <another folder>, or --force to replace them).`);
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  if (!isReviewFolder(dir)) {
    fs.writeFileSync(path.join(dir, MARKER), 'Written by `fgcam predict` (dataset review): a re-run replaces the report files and reuses cache.jsonl.\n');
  }
}
