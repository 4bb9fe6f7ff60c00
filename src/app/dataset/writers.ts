// The review's files: predictions.csv (one row per scored image), report.md (summary
// tables), confusion.png (the matrix, counts drawn in a 3x5 pixel font where they fit) and
// review.json (the whole document, which `--merge` reads back).
import * as path from 'node:path';
import { encodePng } from '../../engine/image/encode';
import { colormapTable } from '../../engine/image/colormap';
import { Canvas, type Rgb } from '../../engine/metrics/plot';
import type { RgbaImage } from '../../engine/image/types';
import { writeFileAtomic } from '../files';
import type { ReviewDocument } from './document';
import { CONFUSION_PNG, PREDICTIONS_CSV, REPORT_MD, REVIEW_JSON } from './outdir';

const csvField = (s: string) => (/[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s);
const num = (x: number | null, d = 6) => (x === null ? '' : Number.isFinite(x) ? x.toFixed(d) : String(x));

export function predictionsCsv(doc: ReviewDocument): string {
  const name = (i: number | null) => (i === null ? '' : doc.classes[i] ?? String(i));
  const rows = [['path', 'truth', 'predicted', 'p_predicted', 'p_truth', 'loss', 'margin', 'top5'].join(',')];
  for (const r of doc.results) {
    const top = r.top5.map((t) => `${name(t.index)}:${t.prob.toFixed(4)}`).join(';');
    rows.push([r.path, name(r.truth), name(r.predicted), num(r.prob), num(r.pTruth), num(r.loss), num(r.margin), top].map(csvField).join(','));
  }
  return rows.join('\n') + '\n';
}

/** Larger matrices are no table a person reads: the picture and review.json carry them. */
const MAX_TABLE_CLASSES = 40;

const md = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);
const frac = (x: number | null) => (x === null ? '-' : x.toFixed(3));

export function reportMarkdown(doc: ReviewDocument): string {
  const cls = (i: number) => `${i} ${md(doc.classes[i] ?? String(i))}`;
  const out: string[] = [];
  out.push(`# Dataset review: ${md(doc.root)}`, '');
  out.push(`Model \`${md(doc.model)}\`; truth from ${doc.truthSource === 'csv' ? 'a CSV file' : doc.truthSource === 'folders' ? 'the class folders' : 'nowhere (predictions only)'}` +
    `${doc.shards.length ? `; merged from shards ${doc.shards.map((s) => `${s.index}/${s.count}`).join(', ')}` : doc.shard ? `; shard ${doc.shard.index}/${doc.shard.count}` : ''}.`, '');
  out.push('| images scored | with truth | accuracy | top-5 accuracy | failed |', '|---:|---:|---:|---:|---:|');
  out.push(`| ${doc.images} | ${doc.labelled} | ${pct(doc.accuracy)} | ${pct(doc.top5)} | ${doc.failed.length} |`, '');
  if (doc.unmatched.length) {
    out.push('## Not counted: names that match no class', '', '| folder or label | images | why |', '|---|---:|---|');
    for (const u of doc.unmatched) out.push(`| ${md(u.name)} | ${u.images} | ${md(u.why)} |`);
    out.push('');
  }
  if (doc.labelled) {
    out.push('## Per class', '', '| class | images | predicted as | precision | recall | F1 |', '|---|---:|---:|---:|---:|---:|');
    for (const c of doc.perClass) out.push(`| ${cls(c.index)} | ${c.support} | ${c.predicted} | ${frac(c.precision)} | ${frac(c.recall)} | ${frac(c.f1)} |`);
    out.push('', '## Confusion matrix', '', 'Rows: true class; columns: predicted class (by index).', '', `![confusion matrix](${CONFUSION_PNG})`, '');
    if (doc.classes.length <= MAX_TABLE_CLASSES) {
      out.push(`| truth \\ predicted | ${doc.classes.map((_, i) => i).join(' | ')} |`, `|---|${doc.classes.map(() => '---:').join('|')}|`);
      doc.confusion.forEach((row, t) => out.push(`| ${cls(t)} | ${row.join(' | ')} |`));
    } else {
      out.push(`(${doc.classes.length} classes: the counts are in ${REVIEW_JSON}, field \`confusion\`; the most confused pairs follow.)`);
    }
    out.push('');
    if (doc.confusedPairs.length) {
      out.push('## Most confused pairs', '', '| true class | predicted as | images |', '|---|---|---:|');
      for (const p of doc.confusedPairs) out.push(`| ${cls(p.truth)} | ${cls(p.predicted)} | ${p.count} |`);
      out.push('');
    }
    if (doc.confidentMistakes.length) {
      out.push('## Most confident mistakes', '', '| image | true class | predicted | p(predicted) | p(true) | loss |', '|---|---|---|---:|---:|---:|');
      for (const r of doc.confidentMistakes) {
        out.push(`| ${md(r.path)} | ${cls(r.truth!)} | ${cls(r.predicted)} | ${r.prob.toFixed(4)} | ${(r.pTruth ?? 0).toFixed(4)} | ${num(r.loss, 3)} |`);
      }
      out.push('');
    }
  }
  if (doc.missing.length) {
    out.push(`## In the truth file but not in the folder (${doc.missing.length})`, '');
    for (const m of doc.missing.slice(0, 50)) out.push(`- ${md(m)}`);
    if (doc.missing.length > 50) out.push(`- ... and ${doc.missing.length - 50} more`);
    out.push('');
  }
  if (doc.failed.length) {
    out.push(`## Images that could not be read (${doc.failed.length})`, '');
    for (const f of doc.failed) out.push(`- ${md(f.error)}`);
    out.push('');
  }
  return out.join('\n');
}

/** The matrix, each row coloured by the share of its images (viridis), counts in the cells. */
export function confusionImage(doc: ReviewDocument): RgbaImage {
  const k = doc.classes.length;
  // 1000 classes: one pixel per cell (a 1000 px picture); 10 classes: 48 px cells with counts.
  const cell = Math.max(1, Math.min(48, Math.floor(720 / Math.max(k, 1))));
  const scale = cell >= 24 ? 2 : 1;
  const names = doc.classes.map((c, i) => `${i} ${c}`.slice(0, 18));
  const left = k <= 40 ? 12 + Math.max(...names.map((n) => n.length)) * 4 * scale : 12;
  const top = 34;
  const cv = new Canvas(left + k * cell + 12, top + k * cell + 12);
  const ink: Rgb = [40, 40, 40];
  cv.text(6, 6, 'rows: truth  columns: predicted', ink, 2);
  const lut = colormapTable('viridis');
  for (let t = 0; t < k; t++) {
    const rowSum = doc.confusion[t].reduce((a, b) => a + b, 0);
    if (k <= 40) cv.text(6, top + t * cell + (cell - 5 * scale) / 2, names[t], ink, scale);
    for (let p = 0; p < k; p++) {
      const n = doc.confusion[t][p];
      const v = rowSum ? Math.round((255 * n) / rowSum) : 0;
      const c: Rgb = n ? [lut[v * 3], lut[v * 3 + 1], lut[v * 3 + 2]] : [245, 245, 245];
      cv.rect(left + p * cell, top + t * cell, Math.max(1, cell - 1), Math.max(1, cell - 1), c);
      const s = String(n);
      const w = s.length * 4 * scale - scale;
      if (n && w <= cell - 3 && 5 * scale <= cell - 3) {
        const light = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] > 140;
        cv.text(left + p * cell + (cell - 1 - w) / 2, top + t * cell + (cell - 1 - 5 * scale) / 2, s, light ? [0, 0, 0] : [255, 255, 255], scale);
      }
    }
    if (k <= 40) cv.text(left + t * cell + (cell - 1 - String(t).length * 4 * scale + scale) / 2, top - 6 - 5 * scale + 4, String(t), ink, scale);
  }
  return cv.image();
}

/** Writes the four report files into `dir` (ours: replaced atomically). */
export async function writeReview(dir: string, doc: ReviewDocument): Promise<string[]> {
  const files: [string, string | Uint8Array][] = [
    [REVIEW_JSON, JSON.stringify(doc) + '\n'],
    [PREDICTIONS_CSV, predictionsCsv(doc)],
    [REPORT_MD, reportMarkdown(doc)],
  ];
  if (doc.classes.length) files.push([CONFUSION_PNG, encodePng(confusionImage(doc))]);
  const written: string[] = [];
  for (const [name, data] of files) {
    const f = path.join(dir, name);
    await writeFileAtomic(f, data, { overwrite: true });
    written.push(f);
  }
  return written;
}
