// Picks the fastest tfjs backend that loads here: tfjs-node, else wasm, else cpu.
// The engine only uses tfjs-core ops, so the choice changes speed, never results.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients (the tfjs umbrella package does).
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as path from 'path';
import * as fs from 'fs';

export type BackendPreference = 'auto' | 'node' | 'wasm' | 'cpu';

export interface BackendInfo {
  name: string;
  /** Why a preferred backend was not used (empty when the first choice loaded). */
  warnings: string[];
}

let current: BackendInfo | undefined;

/** tfjs-node's native binding, if its install script ever fetched it. */
function nodeBindingPresent(): boolean {
  try {
    const lib = path.join(path.dirname(require.resolve('@tensorflow/tfjs-node/package.json')), 'lib');
    return fs.readdirSync(lib).some((d) => fs.existsSync(path.join(lib, d, 'tfjs_binding.node')));
  } catch {
    return false;
  }
}

function tryNode(warnings: string[]): boolean {
  // Requiring tfjs-node without its binding half-loads a second tfjs that
  // registers its own gradients globally: look before loading.
  if (!nodeBindingPresent()) {
    warnings.push('tfjs-node is not installed with its native library');
    return false;
  }
  try {
    // Optional dependency: absent or without its native library on many machines.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    require('@tensorflow/tfjs-node');
    return tf.findBackend('tensorflow') !== undefined;
  } catch (e) {
    warnings.push(`tfjs-node unavailable (${String((e as Error).message).split('\n')[0]})`);
    return false;
  }
}

function findWasmDir(hint?: string): string | undefined {
  const candidates = [hint, __dirname, path.join(__dirname, '..', '..', 'dist')];
  try {
    candidates.push(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')));
  } catch {
    // not resolvable from a bundle: the copies next to the bundle serve
  }
  return candidates.find((d) => d && fs.existsSync(path.join(d, 'tfjs-backend-wasm.wasm')));
}

async function tryWasm(warnings: string[], wasmDir?: string): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = findWasmDir(wasmDir);
    if (!dir) throw new Error('the .wasm files were not found');
    wasm.setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
    return await tf.setBackend('wasm');
  } catch (e) {
    warnings.push(`wasm backend unavailable (${(e as Error).message})`);
    return false;
  }
}

/** Initialises the backend once; later calls return the same info. */
export async function initBackend(pref: BackendPreference = 'auto', wasmDir?: string): Promise<BackendInfo> {
  if (current) return current;
  const warnings: string[] = [];
  let ok = false;
  if (pref === 'auto' || pref === 'node') ok = tryNode(warnings) && (await tf.setBackend('tensorflow'));
  if (!ok && pref !== 'cpu') ok = await tryWasm(warnings, wasmDir);
  if (!ok) {
    await tf.setBackend('cpu');
    if (pref !== 'cpu') warnings.push('falling back to the plain cpu backend: explanations will be slow');
  }
  await tf.ready();
  current = { name: tf.getBackend(), warnings };
  return current;
}

export function backendName(): string {
  return current?.name ?? tf.getBackend();
}
