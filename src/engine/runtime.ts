// ONNX Runtime sessions: onnxruntime-node (native CPU, or a GPU provider where the user has
// one) by default, onnxruntime-web (WebAssembly) as the fallback that runs the same graphs.
// A compiled program is built once per model and request shape and cached on the graph, so
// switching layer, class or denoising never rebuilds a session.
import * as os from 'os';
import type * as ortTypes from 'onnxruntime-common';
import type { Compiled } from './compile/onnx-builder';

export type RuntimePreference = 'auto' | 'native' | 'wasm' | 'cuda' | 'directml' | 'coreml';
export const RUNTIME_PREFERENCES: readonly RuntimePreference[] = ['auto', 'native', 'wasm', 'cuda', 'directml', 'coreml'];

export interface RuntimeInfo {
  /** 'onnxruntime-node' or 'onnxruntime-web'. */
  runtime: string;
  /** Execution provider: 'cpu', 'wasm', 'cuda', 'dml', 'coreml'. */
  provider: string;
  threads: number;
  /** Why a preferred runtime or provider was not used. */
  warnings: string[];
}

type Ort = typeof ortTypes;

let current: { info: RuntimeInfo; ort: Ort } | undefined;

function threadCount(): number {
  const env = Number(process.env.FGCAM_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, os.cpus().length);
}

// Bundles keep both runtimes external (their native addon / wasm files load at run time).
function loadNative(): Ort {
  // onnxruntime-node 1.30 carries Microsoft's telemetry: a device ID and an event database
  // under ~/.cache/Microsoft/DeveloperTools/.onnxruntime, an empty mat-debug-<pid>.log in the
  // temp folder per process, HTTPS uploads. An explainer of the user's own models sends and
  // leaves nothing: off before the addon starts, unless the user set the variable.
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require('onnxruntime-node') as Ort;
}

function loadWeb(): Ort {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ort = require('onnxruntime-web') as Ort;
  ort.env.wasm.numThreads = threadCount();
  return ort;
}

const PROVIDER: Record<string, string> = { native: 'cpu', cuda: 'cuda', directml: 'dml', coreml: 'coreml' };

/** Picks and loads a runtime once; later calls return the same info. */
export async function initRuntime(pref: RuntimePreference = 'auto'): Promise<RuntimeInfo> {
  if (current) return current.info;
  const warnings: string[] = [];
  if (pref !== 'wasm') {
    try {
      const ort = loadNative();
      const provider = PROVIDER[pref === 'auto' ? 'native' : pref];
      if (provider !== 'cpu') {
        // A provider the binary lacks fails at session creation: probe it with a one-node graph.
        await probe(ort, provider).catch((e) => {
          throw new Error(`the ${provider} execution provider is not available (${String((e as Error).message).split('\n')[0]})`);
        });
      }
      current = { ort, info: { runtime: 'onnxruntime-node', provider, threads: threadCount(), warnings } };
      return current.info;
    } catch (e) {
      warnings.push(`onnxruntime-node unavailable: ${String((e as Error).message).split('\n')[0]}; using WebAssembly`);
    }
  }
  const ort = loadWeb();
  current = { ort, info: { runtime: 'onnxruntime-web', provider: 'wasm', threads: ort.env.wasm.numThreads as number, warnings } };
  return current.info;
}

async function probe(ort: Ort, provider: string): Promise<void> {
  const { OnnxBuilder } = await import('./compile/onnx-builder');
  const b = new OnnxBuilder();
  b.output('y', b.op('Relu', [b.input('x', [1])]));
  const s = await ort.InferenceSession.create(b.encode(), { executionProviders: [provider] });
  await s.release();
}

export function runtimeInfo(): RuntimeInfo | undefined {
  return current?.info;
}

/** "onnxruntime-node (cpu)": what every output names. */
export function runtimeLabel(): string {
  const i = current?.info;
  return i ? `${i.runtime} (${i.provider})` : 'onnxruntime (not started)';
}

export interface Feed {
  data: Float32Array | BigInt64Array | Uint8Array;
  dims: number[];
  /** Uint8Array data: 'bool' (default 'uint8'). */
  type?: 'bool';
}

export interface Fetched {
  data: Float32Array;
  dims: number[];
}

function tensorOf(ort: Ort, v: Feed): ortTypes.Tensor {
  if (v.data instanceof BigInt64Array) return new ort.Tensor('int64', v.data, v.dims);
  if (v.data instanceof Uint8Array) return new ort.Tensor(v.type ?? 'uint8', v.data, v.dims);
  return new ort.Tensor('float32', v.data, v.dims);
}

/** One compiled graph with its session. */
export class Program {
  /** What the builder said about the graph (e.g. a walk's layers). */
  meta: unknown;
  /** The graph's constants fed with every run (tensors over the model's own arrays, made once). */
  private consts: Record<string, ortTypes.Tensor> = {};
  constructor(private session: ortTypes.InferenceSession, private ort: Ort, consts: Compiled['feeds']) {
    for (const [k, v] of consts) this.consts[k] = new ort.Tensor('float32', v.data, v.dims);
  }

  async run(feeds: Record<string, Feed>, outputs?: string[]): Promise<Record<string, Fetched>> {
    const t: Record<string, ortTypes.Tensor> = { ...this.consts };
    for (const [k, v] of Object.entries(feeds)) t[k] = tensorOf(this.ort, v);
    const res = outputs ? await this.session.run(t, outputs) : await this.session.run(t);
    const out: Record<string, Fetched> = {};
    for (const [k, v] of Object.entries(res)) {
      const tensor = v as ortTypes.Tensor;
      const d = tensor.data;
      out[k] = { data: d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>, Number), dims: tensor.dims.slice() };
      tensor.dispose?.();
    }
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** Builds a session from a compiled graph on the current runtime (started with 'auto' if none yet). */
export async function createProgram(compiled: Compiled): Promise<Program> {
  if (!current) await initRuntime();
  const { ort, info } = current!;
  // Fed constants only on the native CPU provider: elsewhere each run would copy them again.
  const feed = info.runtime === 'onnxruntime-node' && info.provider === 'cpu';
  const session = await ort.InferenceSession.create(compiled.encode(!feed), {
    executionProviders: [info.provider],
    graphOptimizationLevel: 'all',
    // Errors only: ORT's warnings (e.g. about initializers its optimiser drops) are no news to a user.
    logSeverityLevel: 3,
    intraOpNumThreads: info.threads,
    interOpNumThreads: 1,
  });
  return new Program(session, ort, feed ? compiled.feeds : new Map());
}

// Programs cached per graph object and request key; a graph that is garbage collected takes
// its sessions along (releaseGraph frees them at once).
const cache = new WeakMap<object, Map<string, Promise<Program>>>();

export function cachedProgram(owner: object, key: string, build: () => Compiled | { compiled: Compiled; meta: unknown }): Promise<Program> {
  let m = cache.get(owner);
  if (!m) {
    m = new Map();
    cache.set(owner, m);
  }
  let p = m.get(key);
  if (!p) {
    p = Promise.resolve().then(async () => {
      const built = build();
      const prog = await createProgram('compiled' in built ? built.compiled : built);
      if ('compiled' in built) prog.meta = built.meta;
      return prog;
    });
    // A failed build is not cached: the next request tries again (and reports again).
    p.catch(() => m!.delete(key));
    m.set(key, p);
  }
  return p;
}

/** Number of sessions cached for a graph (tests: switches must not add any). */
export function cachedPrograms(owner: object): number {
  return cache.get(owner)?.size ?? 0;
}

export async function releasePrograms(owner: object): Promise<void> {
  const m = cache.get(owner);
  if (!m) return;
  cache.delete(owner);
  for (const p of m.values()) await (await p.catch(() => undefined))?.release();
}
