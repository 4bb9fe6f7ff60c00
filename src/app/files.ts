// Output files shared by the CLI and the extension's export: atomic, never clobbering
// unless asked, and one naming scheme (whose ".fgcam-" marks our own files in a folder).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fgcamId, fileTag, findMethod } from '../engine/methods';
import type { BaseMethod } from '../engine/types';

export interface WriteOptions {
  /** Replace an existing file. Default false: an existing file is an EEXIST error. */
  overwrite?: boolean;
}

function existsError(file: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${file} already exists; not overwriting it (use --force to overwrite).`);
  e.code = 'EEXIST';
  e.path = file;
  return e;
}

/**
 * Writes data to `<file>.tmp-<pid>-<rand>` in the same folder, then moves it into place,
 * so readers never see a half-written file. Without overwrite the move is a hard link,
 * which fails atomically when the target exists (no check-then-write race); file systems
 * without hard links fall back to exists-check + rename. The temp file never survives.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string, opts: WriteOptions = {}): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    if (!opts.overwrite && fs.existsSync(file)) throw existsError(file); // fail early, before writing
    await fs.promises.writeFile(tmp, data, { flag: 'wx' });
    if (opts.overwrite) {
      await fs.promises.rename(tmp, file);
      return;
    }
    try {
      await fs.promises.link(tmp, file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw existsError(file);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw e;
      if (fs.existsSync(file)) throw existsError(file);
      await fs.promises.rename(tmp, file);
    }
  } finally {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
  }
}

/** Layer names become file-name safe: anything outside [A-Za-z0-9_.-] becomes '_'. */
export function sanitizeLayerName(layer: string): string {
  return layer.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** Every file we write next to an image or a folder carries this in its name. */
export const OUTPUT_MARK = '.fgcam-';

/** Our own outputs live next to the images: never feed them back in. */
export function isOwnOutput(name: string): boolean {
  return path.basename(name).includes(OUTPUT_MARK);
}

export type OutputKind = 'heatmap' | 'overlay' | 'raw';

/** The method part of output names (engine/methods.ts fileTag) of a catalogue id or alias. */
export function methodTag(method: string): string {
  const m = findMethod(method);
  if (!m) throw new Error(`unknown method "${method}"`);
  return fileTag(m);
}

/** The tag of FG-CAM from `base`: `<base>[-denoised]`. */
export function fgcamTag(base: BaseMethod, denoise: boolean): string {
  return methodTag(fgcamId(base, denoise));
}

/**
 * `<dir>/<stem>.fgcam-<tag>.<layer>.png` (heatmap), `... .<layer>.overlay.png` (overlay) or
 * `... .<layer>.npy` (raw), with `tag` from methodTag / fgcamTag: FG-CAM is `<base>[-denoised]`,
 * any other method `baseline-<id>`. dir: outDir if given, else the image's folder.
 */
export function outputName(imagePath: string, tag: string, layer: string, kind: OutputKind, outDir?: string): string {
  const ext = path.extname(imagePath);
  const stem = path.basename(imagePath, ext);
  const suffix = kind === 'overlay' ? '.overlay.png' : kind === 'raw' ? '.npy' : '.png';
  const name = `${stem}${OUTPUT_MARK}${tag}.${sanitizeLayerName(layer)}${suffix}`;
  return path.join(outDir ?? path.dirname(imagePath), name);
}
