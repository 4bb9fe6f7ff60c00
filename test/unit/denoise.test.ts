// SVD denoising against independent facts: exact low-rank inputs come back unchanged,
// the kept part is the best rank-d approximation (Eckart-Young: residual ⟂ kept part).
import { it } from 'node:test';
import * as assert from 'node:assert/strict';
import { denoiseComponents, svdRank, symmetricEigen } from '../../src/engine/fgcam/denoise';
import { rng, randn } from '../helpers/graphs';

/** HWC components (hw positions x k channels) of a centred rank-r matrix. */
function lowRank(hw: number, k: number, r: number, seed: number): Float32Array {
  const g = rng(seed);
  const u = randn(g, k * r);
  const v = randn(g, r * hw);
  const e = new Float32Array(hw * k);
  for (let c = 0; c < k; c++) {
    for (let p = 0; p < hw; p++) {
      let s = 0;
      for (let j = 0; j < r; j++) s += u[c * r + j] * (v[j * hw + p] - v.slice(j * hw, (j + 1) * hw).reduce((a, b) => a + b, 0) / hw);
      e[p * k + c] = s;
    }
  }
  return e;
}

it('keeps floor(0.1·min(K, hw)) values, at least one', () => {
  assert.equal(svdRank(512, 49), 4);
  assert.equal(svdRank(64, 9), 1);
  assert.equal(svdRank(32, 64), 3);
});

it('returns a centred matrix of rank <= d unchanged', () => {
  for (const [hw, k] of [[49, 64], [64, 20]]) {
    const d = svdRank(k, hw);
    const e = lowRank(hw, k, d, 3);
    const out = denoiseComponents(e, hw, k);
    const err = Math.max(...out.map((v, i) => Math.abs(v - e[i])));
    assert.ok(err < 1e-4, `err ${err}`);
  }
});

it('drops the row means and gives a residual orthogonal to the kept part', () => {
  const hw = 36;
  const k = 50;
  const e = randn(rng(5), hw * k).map((v, i) => v + (i % k)); // rows with non-zero means
  const out = denoiseComponents(e, hw, k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let p = 0; p < hw; p++) s += out[p * k + c];
    assert.ok(Math.abs(s) < 1e-3, `row ${c} mean ${s / hw}`);
  }
  // <centred(E) - out, out> = 0
  let dot = 0;
  for (let c = 0; c < k; c++) {
    let mean = 0;
    for (let p = 0; p < hw; p++) mean += e[p * k + c] / hw;
    for (let p = 0; p < hw; p++) dot += (e[p * k + c] - mean - out[p * k + c]) * out[p * k + c];
  }
  assert.ok(Math.abs(dot) < 1e-2, `dot ${dot}`);
});

it('Jacobi eigen-decomposition reconstructs a symmetric matrix', () => {
  const n = 7;
  const g = rng(8);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = g() - 0.5;
  const { values, vectors } = symmetricEigen(a, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < n; q++) s += vectors[i * n + q] * values[q] * vectors[j * n + q];
      assert.ok(Math.abs(s - a[i * n + j]) < 1e-10);
    }
  }
});
