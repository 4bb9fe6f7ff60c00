import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf } from '../reference/tfjs';
import { resizeBilinear, resizeRgba } from '../../src/engine/image';
import { rng } from './imageHelpers';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('hand-computed: 2x2 -> 3x3 upsampling, half-pixel centres, edge clamp', () => {
  // out x=0: src -1/6 -> clamped 0; x=1: src 0.5; x=2: src 7/6 -> clamped 1.
  close(resizeBilinear(new Float32Array([1, 2, 3, 4]), 2, 2, 1, 3, 3), [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
});

test('hand-computed: 1-D 2 -> 4 and 4 -> 2', () => {
  close(resizeBilinear(new Float32Array([0, 8]), 2, 1, 1, 4, 1), [0, 2, 6, 8]);
  close(resizeBilinear(new Float32Array([0, 10, 20, 30]), 4, 1, 1, 2, 1), [5, 25]);
});

test('interleaved channels are resized independently; uint8 input gives floats', () => {
  const src = new Uint8Array([0, 100, 255, 10, 200, 50]); // 2x1, 3 channels
  close(resizeBilinear(src, 2, 1, 3, 4, 1), [0, 100, 255, 2.5, 125, 203.75, 7.5, 175, 101.25, 10, 200, 50]);
});

test('identity size returns the same values', () => {
  const r = rng(3);
  const src = Float32Array.from({ length: 5 * 7 * 2 }, r);
  close(resizeBilinear(src, 7, 5, 2, 7, 5), src, 0);
});

test('matches tf.image.resizeBilinear(halfPixelCenters=true) on random cases', async () => {
  await tf.setBackend('cpu');
  const r = rng(42);
  for (const [h, w, c, oh, ow] of [
    [7, 5, 3, 16, 11],
    [13, 17, 1, 4, 9],
    [6, 6, 4, 6, 15],
  ]) {
    const src = Float32Array.from({ length: h * w * c }, () => r() * 10 - 5);
    const want = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(src, [1, h, w, c]), [oh, ow], false, true).dataSync());
    close(resizeBilinear(src, w, h, c, ow, oh), want, 1e-5);
  }
});

test('resizeRgba rounds back to uint8', () => {
  const img = { width: 2, height: 1, data: new Uint8Array([0, 0, 0, 255, 1, 3, 255, 255]) };
  const out = resizeRgba(img, 4, 1);
  assert.deepEqual(Array.from(out.data.subarray(4, 8)), [0, 1, 64, 255]); // 0.25 of the way
});
