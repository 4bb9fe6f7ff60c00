import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { decodeImage, readImageFile, ImageError, MAX_FILE_BYTES, MAX_PIXELS } from '../../src/engine/image';
import { buildBmp24, buildPng, tmpDir } from './imageHelpers';

const px = (d: Uint8Array, i: number) => Array.from(d.subarray(i * 4, i * 4 + 4));

test('limits are exported: 100 MP, 200 MB', () => {
  assert.equal(MAX_PIXELS, 100_000_000);
  assert.equal(MAX_FILE_BYTES, 200 * 1024 * 1024);
});

test('PNG 8-bit RGBA round trip (pngjs written)', () => {
  const png = new PNG({ width: 3, height: 2 });
  for (let i = 0; i < 6; i++) png.data.set([i * 40, 255 - i * 40, i, 100 + i], i * 4);
  const img = decodeImage(PNG.sync.write(png), 'rgba.png');
  assert.equal(img.width, 3);
  assert.equal(img.height, 2);
  assert.deepEqual(px(img.data, 4), [160, 95, 4, 104]);
});

test('PNG grayscale 8-bit and gray+alpha expand to RGBA', () => {
  const g = decodeImage(buildPng(2, 1, 8, 0, [Buffer.from([10, 200])]), 'gray.png');
  assert.deepEqual(px(g.data, 0), [10, 10, 10, 255]);
  assert.deepEqual(px(g.data, 1), [200, 200, 200, 255]);
  const ga = decodeImage(buildPng(1, 1, 8, 4, [Buffer.from([77, 33])]), 'ga.png');
  assert.deepEqual(px(ga.data, 0), [77, 77, 77, 33]);
});

test('PNG 1-bit grayscale', () => {
  const img = decodeImage(buildPng(8, 1, 1, 0, [Buffer.from([0b10100000])]), 'bits.png');
  assert.deepEqual(px(img.data, 0), [255, 255, 255, 255]);
  assert.deepEqual(px(img.data, 1), [0, 0, 0, 255]);
  assert.deepEqual(px(img.data, 2), [255, 255, 255, 255]);
});

test('PNG 16-bit RGB is rescaled to 8-bit', () => {
  const row = Buffer.alloc(12);
  [0xffff, 0x8000, 0x0000, 0x1234, 0xabcd, 0x00ff].forEach((v, i) => row.writeUInt16BE(v, i * 2));
  const img = decodeImage(buildPng(2, 1, 16, 2, [row]), 'deep.png');
  assert.deepEqual(px(img.data, 0), [255, 128, 0, 255]);
  // 16->8: round(v * 255 / 65535)
  assert.deepEqual(px(img.data, 1), [Math.round((0x1234 * 255) / 65535), Math.round((0xabcd * 255) / 65535), Math.round((0xff * 255) / 65535), 255]);
});

test('PNG palette (8-bit and 4-bit) with tRNS', () => {
  const plte = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255]);
  const p8 = decodeImage(buildPng(3, 1, 8, 3, [Buffer.from([2, 0, 1])], { plte, trns: Buffer.from([128]) }), 'pal.png');
  assert.deepEqual(px(p8.data, 0), [0, 0, 255, 255]);
  assert.deepEqual(px(p8.data, 1), [255, 0, 0, 128]);
  assert.deepEqual(px(p8.data, 2), [0, 255, 0, 255]);
  const p4 = decodeImage(buildPng(2, 1, 4, 3, [Buffer.from([0x12])], { plte }), 'pal4.png');
  assert.deepEqual(px(p4.data, 0), [0, 255, 0, 255]);
  assert.deepEqual(px(p4.data, 1), [0, 0, 255, 255]);
});

test('JPEG decodes to RGBA close to the source', () => {
  const w = 32, h = 16;
  const d = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d.set([x * 8, y * 16, 128, 255], (y * w + x) * 4);
  const bytes = jpeg.encode({ width: w, height: h, data: d }, 100).data;
  const img = decodeImage(bytes, 'photo.jpg');
  assert.equal(img.width, w);
  assert.equal(img.height, h);
  let maxErr = 0;
  for (let i = 0; i < w * h * 4; i++) if (i % 4 !== 3) maxErr = Math.max(maxErr, Math.abs(img.data[i] - d[i]));
  assert.ok(maxErr <= 12, `max error ${maxErr}`);
  assert.equal(img.data[3], 255);
});

test('BMP 24-bit bottom-up', () => {
  const img = decodeImage(buildBmp24(3, 2, (x, y) => [x * 50, y * 100, 7]), 'pic.bmp');
  assert.equal(img.width, 3);
  assert.equal(img.height, 2);
  assert.deepEqual(px(img.data, 0), [0, 0, 7, 255]);
  assert.deepEqual(px(img.data, 5), [100, 100, 7, 255]);
});

test('format comes from magic bytes, not the extension', () => {
  const img = decodeImage(buildPng(1, 1, 8, 0, [Buffer.from([9])]), 'really-a-png.jpg');
  assert.deepEqual(px(img.data, 0), [9, 9, 9, 255]);
});

function assertImageError(fn: () => unknown, name: string, re: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ImageError, `not an ImageError: ${e}`);
    assert.ok(e.message.includes(name), `message does not name the file: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

test('garbage bytes: ImageError naming the file and the supported formats', () => {
  assertImageError(() => decodeImage(Buffer.from('hello, world, not an image'), 'notes.png'), 'notes.png', /PNG, JPEG/);
  assertImageError(() => decodeImage(Buffer.from('RIFF\0\0\0\0WEBPVP8 '), 'x.webp'), 'x.webp', /WebP images are not supported/);
  assertImageError(() => decodeImage(new Uint8Array(0), 'empty.png'), 'empty.png', /empty/);
});

test('corrupt PNG body and truncated PNG/JPEG: ImageError', () => {
  const good = buildPng(16, 16, 8, 0, Array.from({ length: 16 }, (_, y) => Buffer.alloc(16, y * 10)));
  const corrupt = Buffer.from(good);
  for (let i = 40; i < corrupt.length - 12; i++) corrupt[i] ^= 0x5a;
  assertImageError(() => decodeImage(corrupt, 'corrupt.png'), 'corrupt.png', /corrupt or truncated/);
  assertImageError(() => decodeImage(good.subarray(0, good.length - 20), 'cut.png'), 'cut.png', /PNG/);
  const d = Buffer.alloc(32 * 32 * 4, 90);
  const j = jpeg.encode({ width: 32, height: 32, data: d }, 80).data;
  assertImageError(() => decodeImage(j.subarray(0, j.length >> 1), 'cut.jpg'), 'cut.jpg', /JPEG/);
});

test('oversized dimensions are refused before decoding', () => {
  const huge = buildPng(20000, 6000, 8, 0, [Buffer.alloc(1)]); // header claims 120 MP
  assertImageError(() => decodeImage(huge, 'huge.png'), 'huge.png', /too large.*100 megapixels/);
});

test('readImageFile: reads, and reports a missing file as ImageError', () => {
  const dir = tmpDir();
  const f = path.join(dir, 'a.png');
  fs.writeFileSync(f, buildPng(1, 1, 8, 0, [Buffer.from([5])]));
  assert.equal(readImageFile(f).width, 1);
  assertImageError(() => readImageFile(path.join(dir, 'missing.png')), 'missing.png', /cannot read.*ENOENT/);
  fs.rmSync(dir, { recursive: true });
});

test('readImageFile refuses a file over 200 MB before reading it', () => {
  const dir = tmpDir();
  const f = path.join(dir, 'big.png');
  fs.writeFileSync(f, buildPng(1, 1, 8, 0, [Buffer.from([5])]));
  fs.truncateSync(f, MAX_FILE_BYTES + 1); // sparse: no 200 MB actually written
  assertImageError(() => readImageFile(f), 'big.png', /too large.*limit is 200 MB/);
  fs.rmSync(dir, { recursive: true });
});
