// SVD denoising of the components (method doc, step 1): centre each channel's row,
// keep the d = floor(0.1·min(K, hw)) largest singular values, do NOT add the means
// back (as the reference). Ours: at least one value is kept, since for CAM maps of
// fewer than 10 positions the formula gives d = 0, i.e. an all-zero explanation.
// Float64 in plain JS: the Gram matrix of the thinner
// side, diagonalised by cyclic Jacobi, whose top-d eigenvectors span the kept part.

/** Symmetric eigen-decomposition (cyclic Jacobi). Returns eigenvalues and column eigenvectors (row-major n x n). */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i] * m[i * n + i];
      for (let j = i + 1; j < n; j++) off += m[i * n + j] * m[i * n + j];
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = m[i * n + i];
  return { values, vectors: v };
}

/**
 * Denoises components given as HWC data (h*w positions x K channels, channel fastest).
 * Returns the rank-d reconstruction of the row-centred K x hw matrix, in the same layout.
 */
/** Singular values kept: floor(0.1·min(K, hw)) as the paper, but at least 1 (ours). */
export function svdRank(k: number, hw: number): number {
  return Math.max(1, Math.floor(Math.min(k, hw) / 10));
}

export function denoiseComponents(e: Float32Array, hw: number, k: number): Float32Array {
  const d = svdRank(k, hw);
  // M[c][p] = e[p*k + c], rows centred; NaN/Inf become 0 first.
  const m = new Float64Array(k * hw);
  for (let c = 0; c < k; c++) {
    let sum = 0;
    for (let p = 0; p < hw; p++) {
      const val = e[p * k + c];
      const x = Number.isFinite(val) ? val : 0;
      m[c * hw + p] = x;
      sum += x;
    }
    const mean = sum / hw;
    for (let p = 0; p < hw; p++) m[c * hw + p] -= mean;
  }
  const out = new Float32Array(k * hw);
  // Thinner side: project onto top-d eigenvectors of MᵀM (hw ≤ K) or MMᵀ (K < hw).
  const byCols = hw <= k;
  const n = byCols ? hw : k;
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      if (byCols) for (let c = 0; c < k; c++) s += m[c * hw + i] * m[c * hw + j];
      else for (let p = 0; p < hw; p++) s += m[i * hw + p] * m[j * hw + p];
      gram[i * n + j] = s;
      gram[j * n + i] = s;
    }
  }
  const { values, vectors } = symmetricEigen(gram, n);
  const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a]).slice(0, d);
  // Projector P = V_d V_dᵀ (n x n).
  const proj = new Float64Array(n * n);
  for (const col of order) {
    for (let i = 0; i < n; i++) {
      const vi = vectors[i * n + col];
      if (vi === 0) continue;
      for (let j = 0; j < n; j++) proj[i * n + j] += vi * vectors[j * n + col];
    }
  }
  for (let c = 0; c < k; c++) {
    for (let p = 0; p < hw; p++) {
      let s = 0;
      if (byCols) for (let q = 0; q < hw; q++) s += m[c * hw + q] * proj[q * n + p];
      else for (let r = 0; r < k; r++) s += proj[c * n + r] * m[r * hw + p];
      out[p * k + c] = s;
    }
  }
  return out;
}
