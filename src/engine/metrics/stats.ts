// Means with 95% confidence intervals over images (Student's t, n − 1 degrees of freedom).

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export function tQuantile975(df: number): number {
  if (df < 1) return NaN;
  if (df <= 30) return T975[df - 1];
  if (df <= 60) return 2.042 + ((2.0 - 2.042) * (df - 30)) / 30;
  if (df <= 120) return 2.0 + ((1.98 - 2.0) * (df - 60)) / 60;
  return 1.96;
}

export interface MeanCI {
  n: number;
  mean: number;
  /** Half-width of the 95% interval (NaN for n < 2). */
  half: number;
}

export function meanCI(values: ArrayLike<number>): MeanCI {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, half: NaN };
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  const mean = s / n;
  if (n < 2) return { n, mean, half: NaN };
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i] - mean) ** 2;
  const sd = Math.sqrt(v / (n - 1));
  return { n, mean, half: (tQuantile975(n - 1) * sd) / Math.sqrt(n) };
}

/** Pointwise mean of equally long curves. */
export function meanCurve(curves: ArrayLike<number>[]): Float32Array {
  if (curves.length === 0) return new Float32Array(0);
  const out = new Float32Array(curves[0].length);
  for (const c of curves) {
    if (c.length !== out.length) throw new Error('meanCurve: curves of different lengths');
    for (let i = 0; i < out.length; i++) out[i] += c[i] / curves.length;
  }
  return out;
}
