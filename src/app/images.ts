// Which image files the inputs name: files as given, folders expanded (not recursive, sorted,
// without our own outputs) to files with an image extension (a corrupt one is then reported)
// or an image signature. The CLI's explain and evaluate and the extension's Export Folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectFormat, looksLikeImagePath } from '../engine/image/format';
import { isOwnOutput } from './files';

export { looksLikeImagePath } from '../engine/image/format';

export interface Failure {
  image: string;
  error: string;
}

export interface ImageList {
  images: string[];
  /** Missing paths, folders without images. */
  failures: Failure[];
  hadFolder: boolean;
}

function readHead(file: string): Uint8Array {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(16);
    const n = fs.readSync(fd, b, 0, 16, 0);
    return b.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function isImageFile(file: string): boolean {
  if (looksLikeImagePath(file)) return true;
  try {
    return detectFormat(readHead(file)) !== undefined;
  } catch {
    return false;
  }
}

/** The images directly in `folder`, sorted by name. */
export function imagesInFolder(folder: string): string[] {
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .filter((d) => d.isFile() && !isOwnOutput(d.name))
    .map((d) => d.name)
    .sort()
    .map((name) => path.join(folder, name))
    .filter(isImageFile);
}

export function listImages(inputs: string[]): ImageList {
  const images: string[] = [];
  const failures: Failure[] = [];
  let hadFolder = false;
  for (const input of inputs) {
    let st: fs.Stats;
    try {
      st = fs.statSync(input);
    } catch {
      failures.push({ image: input, error: `${input}: no such file or folder` });
      continue;
    }
    if (!st.isDirectory()) {
      images.push(input);
      continue;
    }
    hadFolder = true;
    const found = imagesInFolder(input);
    if (found.length === 0) failures.push({ image: input, error: `${input}: folder has no PNG, JPEG or BMP images` });
    images.push(...found);
  }
  // One entry per file, however it was spelled (a.png, ./a.png).
  return { images: [...new Map(images.map((i) => [path.resolve(i), i])).values()], failures, hadFolder };
}
