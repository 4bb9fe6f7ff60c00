// Images: one 100-megapixel limit for every format, read from the header before decoding;
// EXIF orientation honoured for all eight values (synthetic JPEGs with an APP1 block built
// here); pipes refused without blocking.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { decodeImage, readImageFile, ImageError } from '../../src/engine/image';
import { exifOrientation } from '../../src/engine/image/jpeg-header';
import { buildBmp24, buildPng } from './imageHelpers';
import { tempDir } from '../helpers/hostile';

const R = [255, 0, 0];
const G = [0, 255, 0];
const B = [0, 0, 255];
const W = [255, 255, 255];

/** 32 x 16 JPEG, quadrants: top-left red, top-right green, bottom-left blue, bottom-right white. */
function quadrantJpeg(): Buffer {
  const w = 32;
  const h = 16;
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const c = y < h / 2 ? (x < w / 2 ? R : G) : x < w / 2 ? B : W;
    data.set([...c, 255], (y * w + x) * 4);
  }
  return Buffer.from(jpeg.encode({ width: w, height: h, data }, 100).data);
}

/** An APP1 Exif segment with IFD0 holding one tag, Orientation = o, in either byte order. */
function exifApp1(o: number, bigEndian: boolean): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  const u16 = (v: number, at: number) => (bigEndian ? tiff.writeUInt16BE(v, at) : tiff.writeUInt16LE(v, at));
  const u32 = (v: number, at: number) => (bigEndian ? tiff.writeUInt32BE(v, at) : tiff.writeUInt32LE(v, at));
  tiff.write(bigEndian ? 'MM' : 'II', 0, 'latin1');
  u16(42, 2);
  u32(8, 4); // IFD0 right after the header
  u16(1, 8); // one entry
  u16(0x0112, 10); // Orientation
  u16(3, 12); // SHORT
  u32(1, 14); // count
  u16(o, 18); // value, left-justified in the 4-byte field
  u32(0, 22); // no next IFD
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

const withExif = (j: Buffer, app1: Buffer) => Buffer.concat([j.subarray(0, 2), app1, j.subarray(2)]);

/** Colour at the centre of each displayed quadrant: [TL, TR, BL, BR]. */
function quadrants(img: { width: number; height: number; data: Uint8Array }): number[][] {
  const at = (fx: number, fy: number) => {
    const i = (Math.floor(fy * img.height) * img.width + Math.floor(fx * img.width)) * 4;
    return [img.data[i], img.data[i + 1], img.data[i + 2]].map((v) => (v > 127 ? 255 : 0));
  };
  return [at(0.25, 0.25), at(0.75, 0.25), at(0.25, 0.75), at(0.75, 0.75)];
}

// How each orientation displays the stored quadrants (from the EXIF 2.3 definitions:
// 2 mirror horizontal, 3 rotate 180, 4 mirror vertical, 5 mirror horizontal + rotate 270 CW,
// 6 rotate 90 CW, 7 mirror horizontal + rotate 90 CW, 8 rotate 270 CW).
const DISPLAYED: Record<number, number[][]> = {
  1: [R, G, B, W], 2: [G, R, W, B], 3: [W, B, G, R], 4: [B, W, R, G],
  5: [R, B, G, W], 6: [B, R, W, G], 7: [W, G, B, R], 8: [G, W, R, B],
};

test('EXIF orientation: all eight values, both byte orders, give the displayed image', () => {
  const plain = quadrantJpeg();
  assert.deepEqual(quadrants(decodeImage(plain, 'plain.jpg')), DISPLAYED[1]);
  for (let o = 1; o <= 8; o++) {
    for (const be of [false, true]) {
      const img = decodeImage(withExif(plain, exifApp1(o, be)), `o${o}.jpg`);
      const [w, h] = o >= 5 ? [16, 32] : [32, 16];
      assert.deepEqual([img.width, img.height], [w, h], `orientation ${o}: size`);
      assert.deepEqual(quadrants(img), DISPLAYED[o], `orientation ${o} (${be ? 'MM' : 'II'})`);
    }
  }
});

test('EXIF parsing is bounds-checked: truncated or bogus blocks mean orientation 1', () => {
  const seg = exifApp1(6, false).subarray(4);
  assert.equal(exifOrientation(seg), 6);
  for (let n = 0; n < seg.length; n++) assert.ok([1, 6].includes(exifOrientation(seg.subarray(0, n))));
  const bogus = Buffer.from(seg);
  bogus.writeUInt32LE(0xfffffff0, 6 + 4); // IFD offset far outside
  assert.equal(exifOrientation(bogus), 1);
  const nine = exifApp1(9, true).subarray(4);
  assert.equal(exifOrientation(nine), 1);
  // A JPEG with a truncated EXIF block still decodes.
  const j = quadrantJpeg();
  const cut = exifApp1(6, false).subarray(0, 12);
  cut.writeUInt16BE(10, 2);
  assert.equal(decodeImage(withExif(j, cut), 'cut.jpg').width, 32);
});

/** The SOF0 frame of a JPEG rewritten to claim width x height (the header check must refuse it unread). */
function claimSize(j: Buffer, width: number, height: number): Buffer {
  const b = Buffer.from(j);
  for (let o = 2; o < b.length; ) {
    const marker = b[o + 1];
    const len = b.readUInt16BE(o + 2);
    if (marker === 0xc0) {
      b.writeUInt16BE(height, o + 5);
      b.writeUInt16BE(width, o + 7);
      return b;
    }
    o += 2 + len;
  }
  throw new Error('no SOF0');
}

test('JPEG, PNG and BMP share the 100 MP limit, checked from the header before decoding', () => {
  const tooBig = /too large \(10001x10000 = 100\.0 megapixels; the limit is 100 megapixels\)/;
  const expectErr = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof ImageError && re.test(e.message));
  expectErr(() => decodeImage(claimSize(quadrantJpeg(), 10001, 10000), 'big.jpg'), tooBig);
  const png = buildPng(1, 1, 8, 2, [Buffer.from([1, 2, 3])]);
  png.writeUInt32BE(10001, 16);
  png.writeUInt32BE(10000, 20);
  expectErr(() => decodeImage(png, 'big.png'), tooBig);
  const bmp = buildBmp24(1, 1, () => [1, 2, 3]);
  bmp.writeInt32LE(10001, 18);
  bmp.writeInt32LE(10000, 22);
  expectErr(() => decodeImage(bmp, 'big.bmp'), tooBig);
  // 8000 x 8000 (64 MP) is within the limit for JPEG too: the header check passes it on to
  // the decoder (here the claimed frame has no data for it, so the decoder, not the limit, fails).
  assert.throws(() => decodeImage(claimSize(quadrantJpeg(), 8000, 8000), 'x.jpg'), (e: unknown) => e instanceof ImageError && !/too large/.test(e.message));
  expectErr(() => decodeImage(Buffer.from([0xff, 0xd8, 0xff, 0xd9]), 'empty.jpg'), /cannot decode JPEG \(corrupt or truncated file: no frame header\)/);
});

test('an image path that is a named pipe is refused without blocking', { timeout: 10_000 }, () => {
  const dir = tempDir('image');
  try {
    const p = path.join(dir, 'pipe.png');
    execFileSync('mkfifo', [p]);
    assert.throws(() => readImageFile(p), /pipe\.png: cannot read: the file is a named pipe, not a regular file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
