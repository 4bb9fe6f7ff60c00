import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { toModelInput, parsePreprocess, PRESETS, PRESET_NAMES } from '../../src/engine/image';

const one = (r: number, g: number, b: number, a = 255) => ({ width: 1, height: 1, data: new Uint8Array([r, g, b, a]) });
const close = (a: ArrayLike<number>, b: number[], tol = 1e-5) => {
  assert.equal(a.length, b.length);
  b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) <= tol, `index ${i}: ${a[i]} vs ${v}`));
};

test('preset names', () => {
  assert.deepEqual([...PRESET_NAMES].sort(), ['caffe', 'imagenet', 'raw', 'symmetric', 'unit']);
  assert.deepEqual(PRESETS.imagenet.mean, [0.485, 0.456, 0.406]);
  assert.deepEqual(PRESETS.caffe.mean, [103.939, 116.779, 123.68]);
});

test('imagenet, unit, symmetric, raw on one pixel', () => {
  const px = one(255, 0, 128);
  close(toModelInput(px, [1, 1, 3], { preset: 'imagenet' }), [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (128 / 255 - 0.406) / 0.225]);
  close(toModelInput(px, [1, 1, 3], { preset: 'unit' }), [1, 0, 128 / 255]);
  close(toModelInput(px, [1, 1, 3], { preset: 'symmetric' }), [1, -1, 128 / 127.5 - 1]);
  close(toModelInput(px, [1, 1, 3], { preset: 'raw' }), [255, 0, 128]);
});

test('caffe: BGR order, BGR mean on 0..255', () => {
  close(toModelInput(one(255, 0, 128), [1, 1, 3], { preset: 'caffe' }), [128 - 103.939, 0 - 116.779, 255 - 123.68], 1e-4);
});

test('explicit mean/std (0..1 scale) override the preset', () => {
  const out = toModelInput(one(51, 102, 204), [1, 1, 3], { preset: 'caffe', mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2] });
  close(out, [(0.2 - 0.1) / 0.5, (0.4 - 0.2) / 0.25, (0.8 - 0.3) / 2]);
  // mean alone: std 1; a single value broadcasts.
  close(toModelInput(one(51, 102, 204), [1, 1, 3], { mean: [0.2] }), [0, 0.2, 0.6]);
});

test('one channel: BT.601 luminance; mean/std use their first entries', () => {
  const y = 0.299 * 200 + 0.587 * 100 + 0.114 * 50;
  close(toModelInput(one(200, 100, 50), [1, 1, 1], { preset: 'unit' }), [y / 255]);
  close(toModelInput(one(200, 100, 50), [1, 1, 1], { preset: 'imagenet' }), [(y / 255 - 0.485) / 0.229]);
  close(toModelInput(one(200, 100, 50), [1, 1, 1], { mean: [0.5, 0.1, 0.1], std: [0.25, 9, 9] }), [(y / 255 - 0.5) / 0.25]);
});

test('alpha is ignored (RGB used as is)', () => {
  close(toModelInput(one(10, 20, 30, 0), [1, 1, 3], { preset: 'raw' }), [10, 20, 30]);
});

test('resizes bilinearly to h x w before normalising; layout is NHWC', () => {
  // 2x2 -> 1x1: the half-pixel centre lands in the middle: mean of the four pixels.
  const img = { width: 2, height: 2, data: new Uint8Array([0, 0, 0, 255, 100, 0, 0, 255, 0, 40, 0, 255, 0, 0, 8, 255]) };
  close(toModelInput(img, [1, 1, 3], { preset: 'raw' }), [25, 10, 2]);
  const wide = toModelInput(img, [2, 4, 3], { preset: 'raw' });
  assert.equal(wide.length, 2 * 4 * 3);
  close(wide.subarray(0, 3), [0, 0, 0]); // top-left
  close(wide.subarray(21, 24), [0, 0, 8]); // bottom-right
});

test('parsePreprocess: presets, numbers, errors', () => {
  assert.deepEqual(parsePreprocess('caffe'), { preset: 'caffe' });
  assert.deepEqual(parsePreprocess(undefined, '0.5,0.5,0.5', '0.2, 0.2, 0.2'), { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] });
  assert.throws(() => parsePreprocess('vgg'), /Unknown preprocessing preset "vgg".*imagenet/);
  assert.throws(() => parsePreprocess(undefined, '0.5,x'), /--mean expects comma-separated numbers/);
  assert.throws(() => parsePreprocess(undefined, undefined, '0,1,1'), /non-zero/);
  assert.throws(() => toModelInput(one(1, 2, 3), [1, 1, 3], { mean: [0.1, 0.2] }), /mean has 2 values/);
});
