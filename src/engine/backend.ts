// Starts the compute runtime. ONNX Runtime (runtime.ts) runs every explanation: 'auto' /
// 'native' (onnxruntime-node, CPU), 'wasm' (onnxruntime-web), 'cuda' / 'directml' / 'coreml'
// (GPU providers, where the user has them). The tfjs path is still selectable while it is
// migrated away ('wasm-tfjs', 'node' = tfjs-node, 'cpu'); tfjs also still backs model loading.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients (the tfjs umbrella package does).
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as path from 'path';
import * as fs from 'fs';

import { initRuntime, runtimeLabel, type RuntimePreference } from './runtime';
import { setComputePath } from './explain-path';

export type BackendPreference = RuntimePreference | 'wasm-tfjs' | 'node' | 'cpu';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'native', 'wasm', 'cuda', 'directml', 'coreml', 'wasm-tfjs', 'node', 'cpu'];
const TFJS_PREFERENCES = new Set<BackendPreference>(['wasm-tfjs', 'node', 'cpu']);

export interface BackendInfo {
  name: string;
  /** Threads the backend computes with (wasm: its XNNPACK pool; 1 when unthreaded). */
  threads: number;
  /** Why a preferred backend was not used (empty when the first choice loaded). */
  warnings: string[];
}

let current: BackendInfo | undefined;
let wasmThreadCount = 1;

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

/**
 * Multithreaded wasm in Node (ours). tfjs-backend-wasm turns threads off under Node
 * (its emscripten pthread workers are Blob URLs, which Node's Worker cannot load), and its
 * C side caps the pool at os.cpus().length / 2. So, for the duration of the init only: the
 * worker script and the module factory are written to real files (the worker reads the
 * factory from a file instead of a Blob), URL.createObjectURL hands out the worker file's
 * path, and os.cpus() reports twice the cores. A tiny conv is then checked against the cpu
 * backend before the threaded backend is accepted; any failure falls back to one thread.
 * FGCAM_WASM_THREADS=1 turns it off, =N asks for N threads.
 */
const WORKER_NEEDLE = 'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}';

function threadFiles(): { worker: string; main: string } {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string };
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const factoryMod = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const factory = (factoryMod.default ?? factoryMod) as (...a: unknown[]) => unknown;
  if (typeof wasmWorkerContents !== 'string' || !wasmWorkerContents.includes(WORKER_NEEDLE)) throw new Error('unexpected tfjs-backend-wasm worker script');
  const mainSrc = `var WasmBackendModuleThreadedSimd = (function () { var _scriptDir; return (${factory.toString()}); })();\n`;
  const crypto = require('crypto') as typeof import('crypto');
  const os = require('os') as typeof import('os');
  const tag = crypto.createHash('sha1').update(wasmWorkerContents).update(mainSrc).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `fgcam-wasm-threads-${tag}`);
  const main = path.join(dir, 'main.js');
  const worker = path.join(dir, 'worker.js');
  // Emscripten's template literal holds "\n" escapes as real newlines: escape them back (as tfjs does).
  const workerSrc = wasmWorkerContents.replace(WORKER_NEEDLE, `if(true){importScripts(${JSON.stringify(main)})}`).replace(/\n/g, '\\n');
  const vm = require('vm') as typeof import('vm');
  new vm.Script(workerSrc); // syntax errors would kill the process from inside a worker: check here
  new vm.Script(mainSrc);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, src] of [[main, mainSrc], [worker, workerSrc]]) {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === src) continue;
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, src);
    fs.renameSync(tmp, file);
  }
  return { worker, main };
}

function wantedThreads(): number {
  const env = Number(process.env.FGCAM_WASM_THREADS);
  if (Number.isInteger(env) && env > 0) return Math.min(env, 8);
  const os = require('os') as typeof import('os');
  return Math.min(os.cpus().length, 8);
}

/** The same small conv on the current backend and on cpu: the threaded pool must agree. */
function threadedConvAgrees(): boolean {
  const x = tf.tidy(() => tf.sin(tf.reshape(tf.range(0, 2 * 20 * 20 * 8), [2, 20, 20, 8])));
  const w = tf.tidy(() => tf.cos(tf.reshape(tf.range(0, 3 * 3 * 8 * 16), [3, 3, 8, 16])));
  try {
    const a = tf.tidy(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').dataSync());
    const xd = x.dataSync();
    const wd = w.dataSync();
    const prev = tf.getBackend();
    let b: Float32Array | Int32Array | Uint8Array;
    tf.engine().setBackend('cpu'); // synchronous: cpu is already initialised by the import above
    try {
      b = tf.tidy(() => tf.conv2d(tf.tensor4d(xd, x.shape as number[] as [number, number, number, number]), tf.tensor4d(wd, w.shape as [number, number, number, number]), 1, 'same').dataSync());
    } finally {
      tf.engine().setBackend(prev);
    }
    let err = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      err = Math.max(err, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    return a.length === b.length && err <= 1e-4 * Math.max(1, scale);
  } finally {
    x.dispose();
    w.dispose();
  }
}

async function tryThreadedWasm(wasm: typeof import('@tensorflow/tfjs-backend-wasm'), threads: number, warnings: string[]): Promise<boolean> {
  const os = require('os') as { cpus: () => unknown[] };
  const cpus = os.cpus;
  const createObjectURL = URL.createObjectURL;
  const workerDesc = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  let workerClass: unknown = workerDesc?.value;
  try {
    const files = threadFiles();
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);
    // The C side uses min(requested, os.cpus().length / 2) threads.
    os.cpus = () => {
      const c = cpus.call(os);
      return Array.from({ length: Math.max(2 * threads, c.length) }, (_, i) => c[i % c.length]);
    };
    // Emscripten sets global.Worker to worker_threads' Worker and ref()s a worker while its
    // pthread runs: XNNPACK's pool threads run forever, which would keep Node from exiting.
    // The main thread waits for them synchronously, so they need no ref: make ref() a no-op.
    Object.defineProperty(globalThis, 'Worker', {
      configurable: true,
      get: () => workerClass,
      set: (v: unknown) => {
        workerClass =
          typeof v === 'function'
            ? class extends (v as new (...a: unknown[]) => { ref(): unknown }) {
                ref(): this {
                  return this;
                }
              }
            : v;
      },
    });
    URL.createObjectURL = (obj: Blob | MediaSource) =>
      obj instanceof Blob && obj.type === 'application/javascript' ? files.worker : createObjectURL(obj);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 30000);
      timer.unref();
    });
    const ok = await Promise.race([tf.setBackend('wasm'), timeout]);
    clearTimeout(timer);
    if (!ok) throw new Error('the threaded module did not start');
    const got = wasm.getThreadsCount();
    if (got < 2) throw new Error(`the pool has ${got} thread`);
    if (!threadedConvAgrees()) throw new Error('threaded conv disagrees with the cpu backend');
    wasmThreadCount = got;
    return true;
  } catch (e) {
    warnings.push(`wasm threads unavailable, using one thread (${(e as Error).message})`);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    // Drop the threaded instance (if it started) but keep the factory: the next setBackend
    // makes a fresh, unthreaded module.
    const reg = (tf.engine() as unknown as { registryFactory: Record<string, { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number }> }).registryFactory.wasm;
    if (reg && tf.findBackend('wasm')) {
      if (tf.getBackend() === 'wasm') tf.engine().setBackend('cpu');
      tf.removeBackend('wasm');
      tf.registerBackend('wasm', reg.factory, reg.priority);
    }
    return false;
  } finally {
    os.cpus = cpus;
    URL.createObjectURL = createObjectURL;
    if (workerClass !== undefined) Object.defineProperty(globalThis, 'Worker', { value: workerClass, writable: true, configurable: true });
    else if (workerDesc) Object.defineProperty(globalThis, 'Worker', workerDesc);
    else delete (globalThis as { Worker?: unknown }).Worker;
  }
}

async function tryWasm(warnings: string[], wasmDir?: string): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = findWasmDir(wasmDir);
    if (!dir) throw new Error('the .wasm files were not found');
    wasm.setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
    const threads = wantedThreads();
    if (threads > 1 && fs.existsSync(path.join(dir, 'tfjs-backend-wasm-threaded-simd.wasm'))) {
      if (await tryThreadedWasm(wasm, threads, warnings)) return true;
    } else {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    }
    return await tf.setBackend('wasm');
  } catch (e) {
    warnings.push(`wasm backend unavailable (${(e as Error).message})`);
    return false;
  }
}

/** Initialises the backend once; later calls return the same info. */
export async function initBackend(pref: BackendPreference = 'auto', wasmDir?: string): Promise<BackendInfo> {
  if (current) return current;
  if (TFJS_PREFERENCES.has(pref)) {
    setComputePath('tfjs');
    return initTfjs(pref === 'wasm-tfjs' ? 'wasm' : (pref as 'node' | 'cpu'), wasmDir);
  }
  setComputePath('onnxruntime');
  // On this path tfjs only names the first non-finite layer of a broken model (finite.ts):
  // the plain cpu backend serves that without a start-up cost.
  const tfInfo = await initTfjs('cpu', wasmDir);
  const rt = await initRuntime(pref as RuntimePreference);
  current = { name: runtimeLabel(), threads: rt.threads, warnings: [...rt.warnings, ...tfInfo.warnings] };
  return current;
}

async function initTfjs(pref: 'auto' | 'node' | 'wasm' | 'cpu', wasmDir?: string): Promise<BackendInfo> {
  // The cpu backend greets its first use in Node with an "install tfjs-node" banner; we use it
  // for checks and as the last resort, and say which backend runs ourselves.
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | undefined;
  if (cpu) cpu.firstUse = false;
  const warnings: string[] = [];
  let ok = false;
  if (pref === 'auto' || pref === 'node') ok = tryNode(warnings) && (await tf.setBackend('tensorflow'));
  if (!ok && pref !== 'cpu') ok = await tryWasm(warnings, wasmDir);
  if (!ok) {
    await tf.setBackend('cpu');
    if (pref !== 'cpu') warnings.push('falling back to the plain cpu backend: explanations will be slow');
  }
  await tf.ready();
  const name = tf.getBackend();
  current = { name, warnings, threads: name === 'wasm' ? wasmThreadCount : name === 'cpu' ? 1 : require('os').cpus().length };
  return current;
}

export function backendName(): string {
  return current?.name ?? tf.getBackend();
}
