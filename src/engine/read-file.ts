// Reading files someone else made (models, shards, labels, images): only regular files,
// only up to a stated size, and, for files a model names itself, only inside its folder.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** An error about one input file; `file` is the path as the user (or the manifest) gave it. */
export class InputFileError extends Error {
  /** The problem without the file's name ("is a named pipe, not a regular file"). */
  readonly reason: string;
  constructor(message: string, readonly file: string, reason?: string) {
    super(message);
    this.name = 'InputFileError';
    this.reason = reason ?? message;
  }
}

const fileError = (what: string, shown: string, reason: string) => new InputFileError(`${what} "${shown}" ${reason}.`, shown, reason);

const MB = 2 ** 20;
export const fmtBytes = (n: number): string => (n >= 10 * MB ? `${(n / MB).toFixed(0)} MB` : `${n} bytes`);

/**
 * Opens `file` without blocking (a FIFO with no writer would otherwise hang the open) and
 * checks that it is a regular file. `shown` is the name used in messages (default `file`).
 * The caller closes the returned fd.
 */
export function openRegular(file: string, what: string, shown = file): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw fileError(what, shown, code === 'ENOENT' ? 'does not exist (ENOENT)' : `cannot be opened (${code ?? (e as Error).message})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      const kind = st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a named pipe' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw fileError(what, shown, `is ${kind}, not a regular file`);
    }
    return { fd, size: st.size };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** Reads exactly `size` bytes from an fd openRegular gave (never more, even if the file grew). */
export function readOpened(fd: number, size: number, shown: string, what: string): Buffer;
export function readOpened(fd: number, size: number, shown: string, what: string, into: Uint8Array): Uint8Array;
/** Reads exactly `size` bytes from fd, into a new Buffer or into the start of `into`. */
export function readOpened(fd: number, size: number, shown: string, what: string, into?: Uint8Array): Uint8Array {
  const buf = into ?? Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const n = fs.readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  if (off !== size) throw fileError(what, shown, `shrank while it was read (${off} of ${size} bytes)`);
  return buf;
}

/** Reads a regular file of at most `maxBytes`, checking kind and size before reading a byte. */
export function readRegularFile(file: string, what: string, limits: { maxBytes: number }): Buffer {
  const { fd, size } = openRegular(file, what);
  try {
    if (size > limits.maxBytes) {
      throw fileError(what, file, `is too large (${fmtBytes(size)}; the limit is ${fmtBytes(limits.maxBytes)})`);
    }
    return readOpened(fd, size, file, what);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Resolves a path a model file names (a weight shard) against the model's folder, and refuses
 * anything that is absolute, climbs out with "..", or is a symlink leading out of the folder.
 * Returns the real path to open.
 */
export function resolveInside(dir: string, rel: string, what: string, listedIn: string): string {
  if (typeof rel !== 'string' || rel === '') throw new InputFileError(`${listedIn}: ${what} path ${JSON.stringify(rel)} is not a file name.`, listedIn);
  if (rel.includes('\0')) throw new InputFileError(`${listedIn}: ${what} path ${JSON.stringify(rel)} contains a NUL byte.`, listedIn);
  if (path.isAbsolute(rel) || path.win32.isAbsolute(rel)) {
    throw new InputFileError(`${listedIn}: ${what} "${rel}" is an absolute path; shards must be files in the model's folder.`, listedIn);
  }
  if (rel.split(/[\\/]+/).includes('..')) {
    throw new InputFileError(`${listedIn}: ${what} "${rel}" leads out of the model's folder (".."); shards must be files in the model's folder.`, listedIn);
  }
  const joined = path.join(dir, rel);
  let real: string;
  let realDir: string;
  try {
    realDir = fs.realpathSync(dir);
    real = fs.realpathSync(joined);
  } catch {
    throw new InputFileError(`${what} "${joined}" listed in "${listedIn}" is missing; keep model.json next to its shards.`, joined);
  }
  const relReal = path.relative(realDir, real);
  if (relReal === '' || relReal.startsWith('..') || path.isAbsolute(relReal)) {
    throw new InputFileError(`${what} "${joined}" listed in "${listedIn}" is a link to "${real}", outside the model's folder; shards must be files in the model's folder.`, joined);
  }
  return real;
}
