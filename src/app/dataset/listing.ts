// Every image under a dataset folder, recursively, as sorted relative paths with '/'
// separators: the order shards slice and reports list. Hidden folders, our own outputs
// (names containing ".fgcam-") and the review's output folder are skipped.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { looksLikeImagePath } from '../images';
import { isOwnOutput } from '../files';

export interface Listing {
  /** Relative paths ('/'-separated), sorted by code unit. */
  files: string[];
  /** Folders that could not be read, with the reason (the rest of the listing still counts). */
  unreadable: { path: string; error: string }[];
}

/** Lists PNG/JPEG/BMP files (by extension) under `root`; `exclude` are absolute folders to skip. */
export function listDatasetImages(root: string, exclude: string[] = []): Listing {
  const st = fs.statSync(root, { throwIfNoEntry: false });
  if (!st) throw new Error(`${root}: no such folder. Give the dataset's top folder (one subfolder per class).`);
  if (!st.isDirectory()) throw new Error(`${root} is a file; give the dataset's top folder (one subfolder per class).`);
  const skip = new Set(exclude.map((d) => path.resolve(d)));
  const files: string[] = [];
  const unreadable: Listing['unreadable'] = [];
  const seen = new Set<string>(); // real paths: a symlink loop is walked once
  const walk = (abs: string, rel: string) => {
    const real = fs.realpathSync(abs);
    if (seen.has(real)) return;
    seen.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      unreadable.push({ path: rel || '.', error: `cannot list the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
      return;
    }
    for (const d of entries) {
      if (d.name.startsWith('.') || isOwnOutput(d.name)) continue;
      const a = path.join(abs, d.name);
      const r = rel ? `${rel}/${d.name}` : d.name;
      let dir = d.isDirectory();
      if (d.isSymbolicLink()) dir = fs.statSync(a, { throwIfNoEntry: false })?.isDirectory() ?? false;
      if (dir) {
        if (!skip.has(path.resolve(a))) walk(a, r);
      } else if (looksLikeImagePath(d.name)) files.push(r);
    }
  };
  walk(path.resolve(root), '');
  files.sort(compareCodeUnits);
  return { files, unreadable };
}

/** Locale-independent order, the same on every machine of a sharded run. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
