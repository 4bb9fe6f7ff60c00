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
  /** Added to the message when the folder is not writable (the CLI: "use --out <folder>"). */
  readOnlyHint?: string;
}

/** `<file>.tmp-<pid>-<8 hex>`: the temp names writeFileAtomic uses. */
const TEMP_NAME = /\.tmp-(\d+)-[0-9a-f]{8}$/;
const swept = new Set<string>();

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/**
 * Removes temp files that a killed run (SIGKILL, power loss) left in `dir`: ours by name,
 * whose process is gone. Files of live processes are left alone. Returns what it removed.
 */
export function removeStaleTemps(dir: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    const f = path.join(dir, name);
    try {
      if (fs.lstatSync(f).isFile()) {
        fs.rmSync(f);
        removed.push(f);
      }
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

function writeError(file: string, e: unknown, hint?: string): NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException).code;
  const readOnly = code === 'EACCES' || code === 'EROFS' || code === 'EPERM';
  const why = readOnly
    ? `the folder ${path.dirname(file)} is not writable (${code})${hint ? `; ${hint}` : ''}`
    : code === 'ENOENT' ? `the folder ${path.dirname(file)} does not exist (ENOENT)`
      : code === 'ENOSPC' ? 'the disk is full (ENOSPC)' : `${code ?? (e as Error).message}`;
  const err: NodeJS.ErrnoException = new Error(`cannot write ${file}: ${why}.`);
  err.code = code;
  err.path = file;
  return err;
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
 * without hard links fall back to exists-check + rename. The temp file is removed on every
 * error; one left by a killed process is removed by the next run that writes into its folder.
 * Errors name `file` (never the temp name).
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string, opts: WriteOptions = {}): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  if (!swept.has(dir)) {
    swept.add(dir);
    removeStaleTemps(dir);
  }
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    if (!opts.overwrite && fs.existsSync(file)) throw existsError(file); // fail early, before writing
    await writeTemp(tmp, data, file, opts.readOnlyHint);
    if (opts.overwrite) {
      await fs.promises.rename(tmp, file).catch((e) => {
        throw writeError(file, e, opts.readOnlyHint);
      });
      return;
    }
    try {
      await fs.promises.link(tmp, file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw existsError(file);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw writeError(file, e, opts.readOnlyHint);
      if (fs.existsSync(file)) throw existsError(file);
      await fs.promises.rename(tmp, file).catch((e2) => {
        throw writeError(file, e2, opts.readOnlyHint);
      });
    }
  } finally {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
  }
}

async function writeTemp(tmp: string, data: Uint8Array | string, file: string, hint?: string): Promise<void> {
  try {
    await fs.promises.writeFile(tmp, data, { flag: 'wx' });
  } catch (e) {
    throw writeError(file, e, hint);
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

/** The image's file name without its extension: the usual stem of its outputs. */
export function plainStem(imagePath: string): string {
  return path.basename(imagePath, path.extname(imagePath));
}

/**
 * The output stem of every image of one run, so that no two inputs write the same file:
 * the name without its extension, except when several images of the run (going to the same
 * folder) share that stem, compared case-insensitively, e.g. x.png and x.JPG: then each keeps
 * its extension (x.png.fgcam-..., x.JPG.fgcam-...). Names that still collide (x.png from two
 * folders into one output folder) are refused before anything is written, naming both images.
 */
export function outputStems(images: readonly string[], outDir?: string): Map<string, string> {
  const target = (img: string, stem: string) => path.join(outDir ?? path.dirname(img), stem).toLowerCase();
  const byStem = new Map<string, string[]>();
  for (const img of images) {
    const k = target(img, plainStem(img));
    byStem.set(k, [...(byStem.get(k) ?? []), img]);
  }
  const stems = new Map<string, string>();
  for (const group of byStem.values()) for (const img of group) stems.set(img, group.length > 1 ? path.basename(img) : plainStem(img));
  const taken = new Map<string, string>();
  for (const [img, stem] of stems) {
    const k = target(img, stem);
    const other = taken.get(k);
    if (other !== undefined) {
      throw new Error(`${other} and ${img} would write the same output files (${path.join(outDir ?? path.dirname(img), stem)}.fgcam-...); explain them in separate runs or into different output folders. Nothing was written.`);
    }
    taken.set(k, img);
  }
  return stems;
}

/**
 * `<dir>/<stem>.fgcam-<tag>.<layer>.png` (heatmap), `... .<layer>.overlay.png` (overlay) or
 * `... .<layer>.npy` (raw), with `tag` from methodTag / fgcamTag: FG-CAM is `<base>[-denoised]`,
 * any other method `baseline-<id>`. dir: outDir if given, else the image's folder.
 * stem: the image's name without extension, unless outputStems gave another for this run.
 */
export function outputName(imagePath: string, tag: string, layer: string, kind: OutputKind, outDir?: string, stem = plainStem(imagePath)): string {
  const suffix = kind === 'overlay' ? '.overlay.png' : kind === 'raw' ? '.npy' : '.png';
  const name = `${stem}${OUTPUT_MARK}${tag}.${sanitizeLayerName(layer)}${suffix}`;
  return path.join(outDir ?? path.dirname(imagePath), name);
}
