// Test-only: part of the independent tfjs reference the compiled ONNX graphs are checked against (see tfjs.ts).
// Window (pooling) routing of our own, the same exact arithmetic on every backend:
// wasm's MaxPoolGrad drops windows whose values are all <= 0 and breaks ties to the
// last element, and its conv2dTranspose is slow. Max-pool routing runs as plain loops
// over the data; sum-pool spreading and stride zero-interleaving as tensor ops.
import { tf } from './tfjs';

type Pads = [number, number, number, number];

function padSpec(p: Pads): Array<[number, number]> {
  return [[0, 0], [p[0], p[1]], [p[2], p[3]], [0, 0]];
}

/** Output size of a window op along one axis. */
function outSize(inSize: number, k: number, s: number, padBefore: number, padAfter: number, d = 1): number {
  return Math.floor((inSize + padBefore + padAfter - d * (k - 1) - 1) / s) + 1;
}

/**
 * Places v [b, ho, wo, c] at rows di + i*sh, cols dj + j*sw
 * of a zero tensor [b, hp, wp, c].
 */
export function windowPlace(v: tf.Tensor4D, di: number, dj: number, strides: [number, number], hp: number, wp: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, ho, wo, c] = v.shape;
    const [sh, sw] = strides;
    let u: tf.Tensor4D = v;
    if (sh > 1 || sw > 1) {
      // Interleave zeros: [b,ho,1,wo,1,c] padded to [b,ho,sh,wo,sw,c].
      const e = tf.reshape(v, [b, ho, 1, wo, 1, c]);
      u = tf.reshape(tf.pad(e, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]), [b, ho * sh, wo * sw, c]);
    }
    const padded = tf.pad(u, [[0, 0], [di, Math.max(0, hp - di - ho * sh)], [dj, Math.max(0, wp - dj - wo * sw)], [0, 0]]);
    return tf.slice(padded, [0, 0, 0, 0], [b, hp, wp, c]) as tf.Tensor4D;
  });
}

export interface WindowGeometry {
  pads: Pads;
  ho: number;
  wo: number;
  hp: number;
  wp: number;
}

export function windowGeometry(x: tf.Tensor, size: [number, number], strides: [number, number], pads: Pads, dilations: [number, number] = [1, 1]): WindowGeometry {
  const h = x.shape[1]!;
  const w = x.shape[2]!;
  return {
    pads,
    ho: outSize(h, size[0], strides[0], pads[0], pads[1], dilations[0]),
    wo: outSize(w, size[1], strides[1], pads[2], pads[3], dilations[1]),
    hp: h + pads[0] + pads[1],
    wp: w + pads[2] + pads[3],
  };
}

function cropPads(t: tf.Tensor4D, pads: Pads): tf.Tensor4D {
  const [, hp, wp] = t.shape;
  return tf.slice(t, [0, pads[0], pads[2], 0], [-1, hp - pads[0] - pads[1], wp - pads[2] - pads[3], -1]);
}

/**
 * Sends r [b, ho, wo, c] to the first maximum of each max-pool window of x
 * (row-major order, PyTorch's tie rule; padding counts as -Infinity). Returns a tensor of
 * x's shape. Plain loops over the data: the same exact arithmetic on every backend, and
 * far cheaper than one strided slice, compare and place per window offset (wasm's
 * StridedSlice is a slow generic loop). Where windows overlap, a position's shares are
 * added in the order of the window offsets (di, dj), in float32, as the tensor form did.
 */
export function routeToMax(x: tf.Tensor4D, r: tf.Tensor4D, size: [number, number], strides: [number, number], pads: Pads): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const g = windowGeometry(x, size, strides, pads);
  const { ho, wo } = g;
  if (r.shape[1] !== ho || r.shape[2] !== wo || r.shape[0] !== b || r.shape[3] !== c) {
    throw new Error(`routeToMax: relevance ${r.shape} does not match the pooled shape ${[b, ho, wo, c]}`);
  }
  const xv = x.dataSync() as Float32Array;
  const rv = r.dataSync() as Float32Array;
  const [kh, kw] = size;
  const [sh, sw] = strides;
  const [pt, , pl] = pads;
  const nWin = b * ho * wo * c;
  // Per window and channel: the offset (di*kw + dj) of the first maximum, or -1 (all padding / NaN).
  const best = new Int32Array(nWin).fill(-1);
  const bestV = new Float32Array(nWin).fill(-Infinity);
  for (let n = 0; n < b; n++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const wBase = ((n * ho + i) * wo + j) * c;
        for (let di = 0; di < kh; di++) {
          const y = i * sh + di - pt;
          if (y < 0 || y >= h) continue;
          for (let dj = 0; dj < kw; dj++) {
            const xx = j * sw + dj - pl;
            if (xx < 0 || xx >= w) continue;
            const k = di * kw + dj;
            const xBase = ((n * h + y) * w + xx) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = xv[xBase + ch];
              if (v > bestV[wBase + ch]) {
                bestV[wBase + ch] = v;
                best[wBase + ch] = k;
              }
            }
          }
        }
      }
    }
  }
  const out = new Float32Array(b * h * w * c);
  for (let di = 0; di < kh; di++) {
    for (let dj = 0; dj < kw; dj++) {
      const k = di * kw + dj;
      for (let n = 0; n < b; n++) {
        for (let i = 0; i < ho; i++) {
          const y = i * sh + di - pt;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < wo; j++) {
            const xx = j * sw + dj - pl;
            if (xx < 0 || xx >= w) continue;
            const wBase = ((n * ho + i) * wo + j) * c;
            const xBase = ((n * h + y) * w + xx) * c;
            for (let ch = 0; ch < c; ch++) if (best[wBase + ch] === k) out[xBase + ch] += rv[wBase + ch];
          }
        }
      }
    }
  }
  return tf.tensor4d(out, [b, h, w, c]);
}

/** Sum of x over each window (zeros in the padding): [b, ho, wo, c]. */
export function sumPool(x: tf.Tensor4D, size: [number, number], strides: [number, number], pads: Pads): tf.Tensor4D {
  return tf.tidy(() => tf.mul(tf.avgPool(tf.pad(x, padSpec(pads)) as tf.Tensor4D, size, strides, 'valid'), size[0] * size[1]) as tf.Tensor4D);
}

/** The adjoint of sumPool: every window's value added to each of its positions. */
export function spreadWindows(s: tf.Tensor4D, x: tf.Tensor4D, size: [number, number], strides: [number, number], pads: Pads): tf.Tensor4D {
  return tf.tidy(() => {
    const g = windowGeometry(x, size, strides, pads);
    let acc = tf.zeros([x.shape[0], g.hp, g.wp, x.shape[3]]) as tf.Tensor4D;
    for (let di = 0; di < size[0]; di++) {
      for (let dj = 0; dj < size[1]; dj++) acc = tf.add(acc, windowPlace(s, di, dj, strides, g.hp, g.wp));
    }
    return cropPads(acc, pads);
  });
}

/** Max pooling whose gradient goes to the first max of each window, on every backend. */
export function maxPoolFirstMax(x: tf.Tensor4D, size: [number, number], strides: [number, number], pads: Pads): tf.Tensor4D {
  const f = tf.customGrad(((xin: tf.Tensor, save: tf.GradSaveFunc) => {
    const xi = xin as tf.Tensor4D;
    save([xi]);
    const xp = pads.some((p) => p > 0) ? (tf.pad(xi, padSpec(pads), -Infinity) as tf.Tensor4D) : xi;
    const y = tf.maxPool(xp, size, strides, 'valid');
    return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => routeToMax(saved[0] as tf.Tensor4D, dy as tf.Tensor4D, size, strides, pads) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor4D;
}
