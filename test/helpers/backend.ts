// Tests run the product on ONNX Runtime (FGCAM_BACKEND, default auto); the tfjs reference
// (test/reference/) runs on tfjs's cpu backend.
import { tf } from '../reference/tfjs';
import { initBackend } from '../../src/engine/backend';

/** Starts ONNX Runtime for the product's compute path; returns its name. */
export async function setup(): Promise<string> {
  const info = await initBackend((process.env.FGCAM_BACKEND as 'auto') ?? 'auto');
  return info.name;
}

/** Runs fn on the cpu backend (tf's own autograd there), returning plain data. */
export async function onCpu<T>(fn: () => T): Promise<T> {
  const prev = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    return fn();
  } finally {
    await tf.setBackend(prev);
  }
}

export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return scale === 0 ? err : err / scale;
}

export function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}
