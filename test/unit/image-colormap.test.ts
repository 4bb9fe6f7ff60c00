import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { applyColormap, COLORMAPS, encodePng, normalizeMap, overlay, renderHeatmap, renderOverlay } from '../../src/engine/image';

const rgb = (d: Uint8Array, i = 0) => Array.from(d.subarray(i * 4, i * 4 + 3));

test('normalizeMap: ReLU then min-max; degenerate maps are all zero', () => {
  assert.deepEqual(Array.from(normalizeMap([-2, 0, 1, 3])), [0, 0, Math.fround(1 / 3), 1]);
  assert.deepEqual(Array.from(normalizeMap([2, 4, 6])), [0, 0.5, 1]);
  assert.deepEqual(Array.from(normalizeMap([0, 0, 0])), [0, 0, 0]);
  assert.deepEqual(Array.from(normalizeMap([-1, -5])), [0, 0]);
  assert.deepEqual(Array.from(normalizeMap([3, 3])), [0, 0]);
  assert.deepEqual(Array.from(normalizeMap([NaN, 1])), [0, 1]);
});

test('colormap end points match matplotlib', () => {
  assert.deepEqual([...COLORMAPS], ['jet', 'viridis', 'inferno', 'turbo', 'gray']);
  const ends = (name: string) => {
    const c = applyColormap([0, 1], name);
    return [rgb(c, 0), rgb(c, 1)];
  };
  assert.deepEqual(ends('jet'), [[0, 0, 128], [128, 0, 0]]);
  assert.deepEqual(ends('viridis'), [[68, 1, 84], [253, 231, 37]]);
  assert.deepEqual(ends('inferno'), [[0, 0, 4], [252, 255, 164]]);
  assert.deepEqual(ends('turbo'), [[48, 18, 59], [122, 4, 3]]);
  assert.deepEqual(ends('gray'), [[0, 0, 0], [255, 255, 255]]);
  // viridis(0.5) = (0.127568, 0.566949, 0.550556) in matplotlib
  const mid = rgb(applyColormap([0.5], 'viridis'));
  [33, 145, 140].forEach((v, i) => assert.ok(Math.abs(mid[i] - v) <= 3, `viridis(0.5) ${mid}`));
  // jet middle is green-ish cyan/yellow boundary: full green
  assert.equal(rgb(applyColormap([0.5], 'jet'))[1], 255);
  assert.throws(() => applyColormap([0], 'rainbow'), /Unknown colormap "rainbow"/);
});

test('applyColormap is opaque and clamps', () => {
  const c = applyColormap([-1, 2], 'gray');
  assert.deepEqual(Array.from(c), [0, 0, 0, 255, 255, 255, 255, 255]);
});

test('overlay blends by opacity', () => {
  const img = { width: 1, height: 1, data: new Uint8Array([100, 0, 200, 10]) };
  const heat = { width: 1, height: 1, data: new Uint8Array([0, 255, 0, 255]) };
  assert.deepEqual(Array.from(overlay(img, heat, 0.4).data), [60, 102, 120, 255]);
  assert.throws(() => overlay(img, { width: 2, height: 1, data: new Uint8Array(8) }, 0.5), /differ in size/);
});

test('renderHeatmap/renderOverlay give image-sized pictures that encode to PNG', () => {
  const map = { layer: 'conv', width: 2, height: 2, raw: new Float32Array([0, 1, 2, -3]) };
  const h = renderHeatmap(map, 5, 3, 'gray');
  assert.equal(h.data.length, 5 * 3 * 4);
  const back = PNG.sync.read(encodePng(h));
  assert.equal(back.width, 5);
  assert.equal(back.height, 3);
  assert.deepEqual(Array.from(back.data), Array.from(h.data));
  const img = { width: 5, height: 3, data: new Uint8Array(60).fill(255) };
  assert.equal(renderOverlay(img, map, 'jet', 0.5).width, 5);
});
