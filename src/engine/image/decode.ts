// Image decoding: PNG (pngjs), JPEG (jpeg-js), BMP (24/32-bit, uncompressed).
// The format is detected by magic bytes, never by extension.
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { ImageError, type RgbaImage } from './types';
import { detectFormat } from './format';
import { readJpegHeader } from './jpeg-header';
import { applyOrientation } from './orient';
import { InputFileError, readRegularFile } from '../read-file';

export { detectFormat, IMAGE_EXTENSIONS, looksLikeImagePath, type ImageFormat } from './format';

export { ImageError, type RgbaImage } from './types';

/**
 * Largest image we decode, in pixels, for every format, checked from the header before
 * decoding (RGBA at this size is already 400 MB). Decoder memory per pixel, on top of the file:
 * PNG at most 12 bytes (inflated rows, 16-bit RGBA: 8, plus the RGBA result), JPEG at most
 * 24 by jpeg-js's own accounting (coefficient blocks, planes, RGBA; its per-block objects come
 * on top: measured peak RSS 2.1 GB for 64 MP), BMP 4. See docs/security.md.
 */
export const MAX_PIXELS = 100_000_000;
/** JPEG decoder bytes per pixel we allow (see MAX_PIXELS). */
const JPEG_BYTES_PER_PIXEL = 24;
/** Largest image file we read, in bytes. */
export const MAX_FILE_BYTES = 200 * 1024 * 1024;
export const SUPPORTED_FORMATS = 'PNG, JPEG, BMP (24/32-bit uncompressed)';

/** Short human names for formats we recognise but do not decode (better message than "unknown"). */
function sniffOther(b: Uint8Array): string | undefined {
  const ascii = (o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return 'WebP';
  if (ascii(0, 3) === 'GIF') return 'GIF';
  if (ascii(4, 4) === 'ftyp') return 'HEIF/AVIF';
  if ((b[0] === 0x49 && b[1] === 0x49) || (b[0] === 0x4d && b[1] === 0x4d)) return 'TIFF';
  return undefined;
}

function tooLarge(name: string, w: number, h: number): ImageError {
  return new ImageError(
    `${name}: image is too large (${w}x${h} = ${((w * h) / 1e6).toFixed(1)} megapixels; the limit is ${MAX_PIXELS / 1e6} megapixels). Downscale it first.`,
    name,
  );
}

function checkSize(name: string, w: number, h: number): void {
  if (!(w > 0 && h > 0)) throw new ImageError(`${name}: image has no pixels (${w}x${h}); the file is corrupt.`, name);
  if (w * h > MAX_PIXELS) throw tooLarge(name, w, h);
}

function decodePng(bytes: Uint8Array, name: string): RgbaImage {
  // Read the IHDR size first so a huge image fails before pngjs allocates it.
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const ihdr = String.fromCharCode(...bytes.subarray(12, 16));
  if (bytes.length < 33 || sig.some((b, i) => bytes[i] !== b) || ihdr !== 'IHDR') {
    throw new ImageError(`${name}: cannot decode PNG (corrupt or truncated file: bad signature or header).`, name);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkSize(name, dv.getUint32(16), dv.getUint32(20));
  let png: PNG;
  try {
    // Default options: 16-bit is rescaled to 8-bit; gray, palette, alpha all expand to RGBA.
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new ImageError(`${name}: cannot decode PNG (corrupt or truncated file: ${(e as Error).message}).`, name);
  }
  checkSize(name, png.width, png.height);
  return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
}

function decodeJpeg(bytes: Uint8Array, name: string): RgbaImage {
  // Size from the frame header first, so the limit is the same 100 MP as for PNG and BMP.
  const head = readJpegHeader(bytes);
  if (!head) throw new ImageError(`${name}: cannot decode JPEG (corrupt or truncated file: no frame header).`, name);
  checkSize(name, head.width, head.height);
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_PIXELS / 1e6,
      // The decoder's blocks and planes plus RGBA, for this image's size (the stated bound).
      maxMemoryUsageInMB: Math.ceil((head.width * head.height * JPEG_BYTES_PER_PIXEL) / 2 ** 20) + 16,
    });
  } catch (e) {
    const msg = String((e as Error).message ?? e);
    const m = /maxResolutionInMP limit exceeded by ([\d.]+)MP/.exec(msg);
    if (m || /maxMemoryUsageInMB/.test(msg)) {
      throw new ImageError(`${name}: image is too large (limit ${MAX_PIXELS / 1e6} megapixels). Downscale it first.`, name);
    }
    throw new ImageError(`${name}: cannot decode JPEG (corrupt or truncated file: ${msg}).`, name);
  }
  checkSize(name, img.width, img.height);
  return applyOrientation(img, head.orientation);
}

function decodeBmp(bytes: Uint8Array, name: string): RgbaImage {
  const corrupt = (why: string) => new ImageError(`${name}: cannot decode BMP (${why}).`, name);
  if (bytes.length < 54) throw corrupt('truncated header');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = dv.getUint32(10, true);
  const headerSize = dv.getUint32(14, true);
  if (headerSize < 40) throw corrupt('old OS/2 header, not supported');
  const width = dv.getInt32(18, true);
  const rawH = dv.getInt32(22, true);
  const bpp = dv.getUint16(28, true);
  const compression = dv.getUint32(30, true);
  // BI_RGB = 0; BI_BITFIELDS = 3 is accepted for 32-bit only when it is the usual BGRA layout.
  if (!(compression === 0 || (compression === 3 && bpp === 32)) || (bpp !== 24 && bpp !== 32)) {
    throw new ImageError(
      `${name}: unsupported BMP variant (${bpp}-bit, compression ${compression}). Supported formats: ${SUPPORTED_FORMATS}. Convert it to PNG.`,
      name,
    );
  }
  const height = Math.abs(rawH);
  checkSize(name, width, height);
  const bottomUp = rawH > 0;
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (offset + stride * (height - 1) + (width * bpp) / 8 > bytes.length) throw corrupt('truncated pixel data');
  const out = new Uint8Array(width * height * 4);
  const step = bpp / 8;
  // 32-bit BMPs frequently carry an all-zero alpha byte that means "opaque".
  let anyAlpha = false;
  if (bpp === 32) {
    for (let y = 0; y < height && !anyAlpha; y++) {
      const row = offset + y * stride;
      for (let x = 0; x < width; x++) if (bytes[row + x * 4 + 3] !== 0) { anyAlpha = true; break; }
    }
  }
  for (let y = 0; y < height; y++) {
    const row = offset + (bottomUp ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const s = row + x * step;
      const d = (y * width + x) * 4;
      out[d] = bytes[s + 2];
      out[d + 1] = bytes[s + 1];
      out[d + 2] = bytes[s];
      out[d + 3] = bpp === 32 && anyAlpha ? bytes[s + 3] : 255;
    }
  }
  return { width, height, data: out };
}

/** Decodes PNG/JPEG/BMP bytes to RGBA. `name` is used in error messages. Throws ImageError. */
export function decodeImage(bytes: Uint8Array, name: string): RgbaImage {
  if (bytes.length === 0) throw new ImageError(`${name}: the file is empty.`, name);
  if (bytes.length > MAX_FILE_BYTES) {
    throw new ImageError(`${name}: file is too large (${(bytes.length / 2 ** 20).toFixed(0)} MB; the limit is ${MAX_FILE_BYTES / 2 ** 20} MB).`, name);
  }
  const fmt = detectFormat(bytes);
  if (fmt === 'png') return decodePng(bytes, name);
  if (fmt === 'jpeg') return decodeJpeg(bytes, name);
  if (fmt === 'bmp') return decodeBmp(bytes, name);
  const other = sniffOther(bytes);
  throw new ImageError(
    `${name}: ${other ? `${other} images are not supported` : 'not a recognised image (unknown or corrupt header)'}. Supported formats: ${SUPPORTED_FORMATS}.`,
    name,
  );
}

/** Reads and decodes an image file, checking its size before reading it. Throws ImageError. */
export function readImageFile(file: string): RgbaImage {
  let bytes: Buffer;
  try {
    // A regular file (a pipe or device is refused without blocking), size checked before reading.
    bytes = readRegularFile(file, 'Image', { maxBytes: MAX_FILE_BYTES });
  } catch (e) {
    if (!(e instanceof InputFileError)) throw e;
    throw new ImageError(`${file}: cannot read: the file ${e.reason}.`, file);
  }
  return decodeImage(bytes, file);
}

