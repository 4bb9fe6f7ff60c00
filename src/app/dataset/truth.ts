// Ground truth for a dataset review: the ImageFolder convention (an image's parent folder
// names its class) or a CSV of `path,label`. A name matches a class when it equals the
// label ignoring case and every non-alphanumeric character, or when it is the class index.
import * as path from 'node:path';
import { looksLikeImagePath } from '../images';

export interface Truth {
  /** Relative image path -> class index. Images not in it have no truth (predictions only). */
  of: Map<string, number>;
  /** Folder names (or CSV labels) that match no class, with how many images carry them. */
  unmatched: { name: string; images: number; why: string }[];
  /** CSV rows naming an image that is not in the folder. */
  missing: string[];
}

/** "T-shirt/top" -> "tshirttop": what two spellings of one class have in common. */
export function normalizeLabel(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

export type LabelMatch = { index: number } | { why: string };

/** Builds the matcher once per label list; ambiguous spellings fall back to an exact match. */
export function labelMatcher(labels: string[]): (name: string) => LabelMatch {
  const byNorm = new Map<string, number[]>();
  labels.forEach((l, i) => {
    const k = normalizeLabel(l);
    if (k) byNorm.set(k, [...(byNorm.get(k) ?? []), i]);
  });
  return (name: string) => {
    const hits = byNorm.get(normalizeLabel(name)) ?? [];
    if (hits.length === 1) return { index: hits[0] };
    if (hits.length > 1) {
      const exact = hits.filter((i) => labels[i] === name);
      if (exact.length === 1) return { index: exact[0] };
      return { why: `matches several classes (${hits.map((i) => `${i} "${labels[i]}"`).join(', ')})` };
    }
    const t = name.trim();
    if (/^\d+$/.test(t) && Number(t) < labels.length) return { index: Number(t) };
    return { why: 'matches no class name or index' };
  };
}

function tally(map: Map<string, { images: number; why: string }>, name: string, why: string): void {
  const e = map.get(name) ?? { images: 0, why };
  e.images++;
  map.set(name, e);
}

const listOf = (m: Map<string, { images: number; why: string }>) => [...m].map(([name, e]) => ({ name, ...e }));

/** ImageFolder: the parent folder of each image is its class; top-level images have none. */
export function truthFromFolders(files: string[], labels: string[]): Truth {
  const match = labelMatcher(labels);
  const of = new Map<string, number>();
  const bad = new Map<string, { images: number; why: string }>();
  const memo = new Map<string, LabelMatch>();
  for (const f of files) {
    const slash = f.lastIndexOf('/');
    if (slash < 0) {
      tally(bad, '.', 'images at the top of the dataset have no class folder');
      continue;
    }
    const folder = f.slice(0, slash);
    const name = folder.slice(folder.lastIndexOf('/') + 1);
    let m = memo.get(name);
    if (!m) memo.set(name, (m = match(name)));
    if ('index' in m) of.set(f, m.index);
    else tally(bad, folder, m.why);
  }
  return { of, unmatched: listOf(bad), missing: [] };
}

/** RFC 4180 CSV: quoted fields, "" inside quotes, CRLF or LF, newlines inside quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw new Error('unterminated quoted field at the end of the file');
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0].trim() === ''));
}

/** A CSV path as a listing key: relative to the dataset root, '/'-separated, no "./". */
export function csvKey(root: string, p: string): string {
  const abs = path.isAbsolute(p) ? p : path.join(root, p);
  return path.relative(root, abs).split(path.sep).join('/').replace(/\\/g, '/');
}

/**
 * `--truth file.csv`: rows `path,label` (header optional), paths relative to the dataset
 * folder or absolute, labels by name or index. Throws on a malformed file (naming the line).
 */
export function truthFromCsv(text: string, source: string, root: string, files: string[], labels: string[]): Truth {
  let rows: string[][];
  try {
    rows = parseCsv(text);
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }
  const match = labelMatcher(labels);
  const listed = new Set(files);
  // A first row is a header when its path is no image and its label no class.
  const header = rows.length > 0 && !looksLikeImagePath(rows[0][0] ?? '') && !('index' in match(rows[0][1] ?? ''));
  if (header) rows = rows.slice(1);
  const of = new Map<string, number>();
  const bad = new Map<string, { images: number; why: string }>();
  const missing: string[] = [];
  rows.forEach((r, i) => {
    if (r.length < 2 || r[0].trim() === '') throw new Error(`${source}: row ${i + (header ? 2 : 1)} is not "path,label" (got ${JSON.stringify(r.join(','))})`);
    const key = csvKey(root, r[0].trim());
    if (!listed.has(key)) {
      missing.push(r[0].trim());
      return;
    }
    const m = match(r[1]);
    if ('index' in m) of.set(key, m.index);
    else tally(bad, r[1], m.why);
  });
  return { of, unmatched: listOf(bad), missing };
}
