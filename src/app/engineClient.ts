// Host side of the engine worker: request/response by id, timeouts, and cancellation by
// terminating the worker (a running session cannot be interrupted any other way). A fresh worker is
// started lazily on the next request, so a cancel costs one model reload.
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import type { BackendPreference } from '../engine/backend';
import type { Colormap, ErrorKind, EvaluateJob, ExplainJob, ExplainReply, FaithfulnessReply, ImageResult, MethodsReply, RenderReply, WorkerError, WorkerMessage, WorkerProgress, WorkerRequest, ReviewDocument, ReviewJob } from './protocol';
import type { LayerMap } from '../engine/types';

export class EngineError extends Error implements WorkerError {
  constructor(
    message: string,
    readonly kind: ErrorKind,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: EngineError): void;
  timer?: NodeJS.Timeout;
  op: string;
  onProgress?: (p: WorkerProgress) => void;
}

export interface EngineClientOptions {
  /** Folder holding worker.js (the bundle's __dirname). */
  distDir: string;
  backend: () => BackendPreference;
  log: (line: string) => void;
  /** The worker's JS heap limit in MB (resourceLimits.maxOldGenerationSizeMb); default DEFAULT_ENGINE_MEMORY_MB. */
  memoryMb?: () => number | undefined;
  /** Per-request timeout in ms (explanations of big models on WebAssembly are slow). */
  timeoutMs?: number;
  /** Environment of the worker thread (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** Default JS heap limit of the engine worker (weights and ONNX Runtime's buffers live outside it). */
export const DEFAULT_ENGINE_MEMORY_MB = 4096;

export class EngineClient {
  private worker: Worker | undefined;
  private backendPref: BackendPreference | undefined;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  /** Set once the backend is initialised in the current worker. */
  backendName: string | undefined;

  constructor(private readonly opts: EngineClientOptions) {}

  /** `onProgress`: long steps inside (Score-CAM's masked forwards). */
  explain(job: ExplainJob, displayMax: number, onProgress?: (p: WorkerProgress) => void): Promise<ExplainReply> {
    return this.request({ op: 'explain', job, displayMax }, onProgress) as Promise<ExplainReply>;
  }

  baseMap(job: ExplainJob, layer: string): Promise<LayerMap | undefined> {
    return this.request({ op: 'baseMap', job, layer }) as Promise<LayerMap | undefined>;
  }

  render(imagePath: string, map: LayerMap, colormap: Colormap, opacity: number): Promise<RenderReply> {
    return this.request({ op: 'render', imagePath, map, colormap, opacity }) as Promise<RenderReply>;
  }

  explainAndRender(job: ExplainJob, layer: string, colormap: Colormap, opacity: number): Promise<RenderReply> {
    return this.request({ op: 'explainAndRender', job, layer, colormap, opacity }) as Promise<RenderReply>;
  }

  /** Deletion / insertion curves, areas, AD and IC of FG-CAM at `layer` (`map`: the cached one). */
  faithfulness(job: ExplainJob, layer: string, map?: LayerMap): Promise<FaithfulnessReply> {
    return this.request({ op: 'faithfulness', job, layer, map }) as Promise<FaithfulnessReply>;
  }

  /** The method comparison table at `layer`; `onProgress` after each method. */
  compareMethods(job: ExplainJob, layer: string, onProgress?: (p: WorkerProgress) => void): Promise<MethodsReply> {
    return this.request({ op: 'compareMethods', job, layer }, onProgress) as Promise<MethodsReply>;
  }

  /** `fgcam evaluate`: one image scored by every method of the job. */
  score(job: EvaluateJob, image: string): Promise<ImageResult> {
    return this.request({ op: 'score', job, image }) as Promise<ImageResult>;
  }

  /** A dataset review; `onProgress` receives the results as batches finish. */
  review(job: ReviewJob, onProgress?: (p: WorkerProgress) => void): Promise<ReviewDocument> {
    return this.request({ op: 'review', job }, onProgress) as Promise<ReviewDocument>;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Rejects everything in flight with kind 'cancelled' and stops the worker. */
  cancel(reason = 'Cancelled.'): void {
    this.stop(new EngineError(reason, 'cancelled'));
  }

  dispose(): void {
    this.stop(new EngineError('The engine was shut down.', 'cancelled'));
  }

  private async request(req: WorkerRequest, onProgress?: (p: WorkerProgress) => void): Promise<unknown> {
    const pref = this.opts.backend();
    if (this.worker && this.backendPref !== pref) {
      // The runtime is chosen once per thread: a new preference needs a new worker.
      this.opts.log(`backend preference changed to ${pref}: restarting the engine worker`);
      this.stop(new EngineError('Restarted for a new backend.', 'cancelled'));
    }
    if (!this.worker) {
      this.start(pref);
      const info = (await this.send({ op: 'init', backend: pref })) as { name: string; warnings: string[] };
      this.backendName = info.name;
      this.opts.log(`engine backend: ${info.name}${info.warnings.length ? ` (${info.warnings.join('; ')})` : ''}`);
    }
    return this.send(req, onProgress);
  }

  private start(pref: BackendPreference): void {
    // A runaway job (a hostile model, a huge image) ends this worker, not the extension host.
    const memoryMb = this.opts.memoryMb?.() ?? DEFAULT_ENGINE_MEMORY_MB;
    const w = new Worker(path.join(this.opts.distDir, 'worker.js'), { resourceLimits: { maxOldGenerationSizeMb: memoryMb }, ...(this.opts.env ? { env: this.opts.env } : {}) });
    this.worker = w;
    this.backendPref = pref;
    this.backendName = undefined;
    w.on('message', (m: WorkerMessage) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if ('progress' in m) {
        this.arm(m.id, p); // a request that reports progress is alive: its timeout starts again
        try {
          p.onProgress?.(m.progress);
        } catch (e) {
          this.opts.log(`progress handler failed: ${(e as Error)?.message ?? e}`);
        }
        return;
      }
      this.pending.delete(m.id);
      if (p.timer) clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new EngineError(m.error.message, m.error.kind));
    });
    w.on('error', (e) => {
      this.opts.log(`engine worker crashed: ${e.stack ?? e.message}`);
      const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      const why = oom ? `ran out of memory (its limit is ${memoryMb} MB, setting fgcam.engineMemoryMb)` : `crashed (${e.message})`;
      if (this.worker === w) this.stop(new EngineError(`The engine ${why}; it restarts on the next request: press Retry or explain again.`, 'worker'));
    });
    w.on('exit', (code) => {
      if (this.worker === w) {
        this.opts.log(`engine worker exited with code ${code}`);
        this.stop(new EngineError(`The engine stopped unexpectedly (exit code ${code}); it restarts on the next request: press Retry or explain again.`, 'worker'));
      }
    });
  }

  private send(req: WorkerRequest, onProgress?: (p: WorkerProgress) => void): Promise<unknown> {
    const w = this.worker;
    if (!w) return Promise.reject(new EngineError('The engine is not running.', 'worker'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve, reject, op: req.op, onProgress };
      this.arm(id, p);
      this.pending.set(id, p);
      w.postMessage({ id, req });
    });
  }

  /** (Re)starts a request's timeout. */
  private arm(id: number, p: Pending): void {
    const ms = this.opts.timeoutMs ?? 10 * 60_000;
    if (p.timer) clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      this.opts.log(`engine request ${p.op} timed out after ${ms} ms: restarting the worker`);
      this.stop(new EngineError(`The engine did not answer within ${Math.round(ms / 1000)} s (${p.op}).`, 'timeout'));
    }, ms);
  }

  private stop(err: EngineError): void {
    const w = this.worker;
    this.worker = undefined;
    this.backendName = undefined;
    const pend = [...this.pending.values()];
    this.pending.clear();
    for (const p of pend) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    if (w) void w.terminate();
  }
}
