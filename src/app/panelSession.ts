// The panel's state machine, without VS Code: what it shows (the view), its status, the
// explanation cache by base|denoise|class, the second class of a "why X and not Y" view
// (view.compareClass, explained with the same base and denoise), base maps, faithfulness and
// comparison tables, building the worker jobs, and the webview's messages. extension/panel.ts
// is the thin VS Code shell around it; tests drive it directly (test/unit/panelSession.test.ts).
// Design choice: ONE panel, reused for every image (like the built-in preview): explaining
// another image replaces its content. The host owns the explanation cache; the webview owns
// purely visual state and tells us.
import * as path from 'node:path';
import type { LayerMap } from '../engine/types';
import { EngineError, type EngineClient } from './engineClient';
import type { ExplainJob, ExplainReply, FaithfulnessReply, MethodsReply, ModelSpec } from './protocol';
import { checkWebviewMessage, InvalidMessage, type HostKnowledge } from './panelMessages';
import { classTitle, faithfulnessKey, methodsKey, type HostToWebview, type ResultPayload, type ViewState, type WebviewToHost } from './panelProtocol';

/** Longest side of the image copy sent to the webview (the original may be huge). */
const DISPLAY_MAX = 1024;

export type PanelStatus = 'idle' | 'running' | 'done' | 'error';

/** What activate() exposes to tests: plain data only. */
export interface PanelState {
  imagePath?: string;
  layer: string;
  denoise: boolean;
  base: string;
  classIndex?: number;
  /** The second class shown beside it ("why X and not Y"), when one is. */
  compareClass?: number;
  /** The image's true class, when the review panel opened it. */
  trueClass?: number;
  /** The title above each map shown: "predicted: X (p%)", "true: Y (p%)" or "class: Z (p%)". */
  titles: string[];
  status: PanelStatus;
  error?: string;
  layers: { name: string; className: string; shape: number[]; spatial: boolean }[];
  mapLayers: string[];
  top: { index: number; prob: number; label?: string }[];
  backend?: string;
  timingsMs: Record<string, number>;
  colormap: string;
  opacity: number;
  sideBySide: boolean;
}

export interface PanelHooks {
  /** Model to use, resolved from settings (may prompt when `interactive`). Throws EngineError. */
  resolveModel(interactive: boolean): Promise<ModelSpec | undefined>;
  /** Error notification with actions. */
  reportError(e: unknown, imagePath?: string): void;
  exportCurrent(): void;
  log(line: string): void;
}

/** What the session needs of the engine (EngineClient). */
export type PanelEngine = Pick<EngineClient, 'explain' | 'baseMap' | 'faithfulness' | 'compareMethods' | 'cancel'>;

export interface PanelDeps {
  engine: PanelEngine;
  hooks: PanelHooks;
  scoreBatch(): number | undefined;
  /** Sends a message to the webview. */
  post(m: HostToWebview): void;
  setTitle(title: string): void;
}

/** A layer's map by name: own properties only, so a layer named "__proto__" is just a name. */
function mapAt(maps: Record<string, LayerMap>, layer: string): LayerMap | undefined {
  return Object.hasOwn(maps, layer) ? maps[layer] : undefined;
}

export class PanelSession {
  private view: ViewState;
  private status: PanelStatus = 'idle';
  private error: string | undefined;
  private model: ModelSpec | undefined;
  private reply: ExplainReply | undefined;
  /** The compareClass explanation shown beside `reply`, if any. */
  private contrast: ExplainReply | undefined;
  /** Explanations of the current image by base|denoise|class, so toggling back is instant. */
  private cache = new Map<string, ExplainReply>();
  private baseMaps = new Map<string, LayerMap | undefined>();
  /** Faithfulness per view (faithfulnessKey) and comparison tables (methodsKey), finished or running. */
  private faith = new Map<string, Promise<FaithfulnessReply>>();
  private tables = new Map<string, Promise<MethodsReply>>();
  /** Bumped whenever the image or model changes: late metric results of the old one are dropped. */
  private epoch = 0;
  private generation = 0;
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly deps: PanelDeps,
    defaults: ViewState,
  ) {
    this.view = { ...defaults };
  }

  /** What the panel shows now (the webview's saved state restores it after a reload). */
  get currentView(): ViewState {
    return this.view;
  }

  /** Shows `imagePath` explained with `model` in `view`; with an Error, shows that instead. */
  open(imagePath: string, view: ViewState, model: ModelSpec | Error): void {
    if (model instanceof Error) {
      this.generation++;
      this.model = undefined;
      this.reply = undefined;
      this.contrast = undefined;
      this.cache.clear();
      this.baseMaps.clear();
      this.clearMetrics();
      this.view = { ...view, imagePath };
      this.deps.setTitle(title(imagePath));
      this.post({ type: 'view', view: this.view });
      this.fail(model);
      return;
    }
    const sameModel = JSON.stringify(model) === JSON.stringify(this.model);
    if (imagePath !== this.view.imagePath || !sameModel) {
      this.cache.clear();
      this.baseMaps.clear();
      this.clearMetrics();
      this.reply = undefined;
      this.contrast = undefined;
    }
    this.model = model;
    this.view = { ...view, imagePath };
    this.deps.setTitle(title(imagePath));
    this.post({ type: 'view', view: this.view });
    void this.run();
  }

  private clearMetrics(): void {
    this.epoch++;
    this.faith.clear();
    this.tables.clear();
  }

  private job(): ExplainJob | undefined {
    if (!this.model || !this.view.imagePath) return undefined;
    return {
      imagePath: this.view.imagePath,
      model: this.model,
      options: {
        base: this.view.base,
        denoise: this.view.denoise,
        classIndex: this.view.classIndex,
        scoreBatch: this.deps.scoreBatch(),
      },
    };
  }

  private cacheKey(classIndex: number | undefined): string {
    return `${this.view.base}|${this.view.denoise}|${classIndex ?? 'top'}`;
  }

  /** The class to explain beside `reply`, if the view asks for one other than its own. */
  private contrastClassOf(reply: ExplainReply): number | undefined {
    const c = this.view.compareClass;
    return c !== undefined && c !== reply.explanation.classIndex ? c : undefined;
  }

  /**
   * (Re-)explains with the current view: its class and, for a "why X and not Y" view, the
   * compare class with the same options. Both come from the cache when they were shown before
   * (the worker keeps the model's compiled sessions, so a new class costs one explanation, not
   * a reload). Stale results of superseded runs are dropped.
   */
  async run(): Promise<void> {
    const job = this.job();
    if (!job) return;
    const gen = ++this.generation;
    const cached = this.cache.get(this.cacheKey(this.view.classIndex));
    if (cached) {
      const c = this.contrastClassOf(cached);
      const contrast = c === undefined ? undefined : this.cache.get(this.cacheKey(c));
      if (c === undefined || contrast) {
        this.accept(cached, contrast);
        return;
      }
    }
    this.status = 'running';
    this.error = undefined;
    const what = `${job.options.base}${job.options.denoise ? ' + denoise' : ''}`;
    this.post({ type: 'running', imagePath: job.imagePath, what });
    await this.track(async () => {
      try {
        const reply = cached ?? (await this.explainOnce(job, gen, what));
        if (gen !== this.generation) return;
        const c = this.contrastClassOf(reply);
        let contrast: ExplainReply | undefined;
        if (c !== undefined) {
          contrast = this.cache.get(this.cacheKey(c)) ?? (await this.explainOnce({ ...job, options: { ...job.options, classIndex: c } }, gen, `${what}, class ${c}`));
          if (gen !== this.generation) return;
        }
        this.accept(reply, contrast);
      } catch (e) {
        if (gen !== this.generation) return;
        this.fail(e);
      }
    });
  }

  /** One explanation by the engine, cached by the class asked and the class explained. */
  private async explainOnce(job: ExplainJob, gen: number, what: string): Promise<ExplainReply> {
    const reply = await this.deps.engine.explain(job, DISPLAY_MAX, (p) => {
      if (gen === this.generation) this.post({ type: 'running', imagePath: job.imagePath, what: `${what}: ${p.what} ${p.done}/${p.total}` });
    });
    if (gen === this.generation) {
      this.cache.set(this.cacheKey(job.options.classIndex), reply);
      this.cache.set(this.cacheKey(reply.explanation.classIndex), reply);
      this.deps.hooks.log(`explained ${job.imagePath} (${reply.explanation.base}, denoise ${reply.explanation.denoise}, class ${reply.explanation.classIndex}) in ${Math.round(reply.explanation.timings.total ?? 0)} ms on ${reply.backend}`);
    }
    return reply;
  }

  private accept(reply: ExplainReply, contrast?: ExplainReply): void {
    this.reply = reply;
    this.contrast = contrast;
    this.status = 'done';
    this.error = undefined;
    const ex = reply.explanation;
    // The default layer may not be in this model's walk: fall back to the input.
    if (!mapAt(ex.maps, this.view.layer)) this.view.layer = mapAt(ex.maps, 'input') ? 'input' : ex.camLayer;
    this.view = { ...this.view, base: ex.base, denoise: ex.denoise };
    const result: ResultPayload = {
      imagePath: this.view.imagePath!,
      image: reply.image,
      layers: reply.layers,
      maps: ex.maps,
      top: ex.top,
      probs: ex.probs,
      labels: reply.labels,
      classIndex: ex.classIndex,
      camLayer: ex.camLayer,
      base: ex.base,
      denoise: ex.denoise,
      backend: reply.backend,
      timingsMs: ex.timings,
    };
    if (contrast) result.contrast = { classIndex: contrast.explanation.classIndex, maps: contrast.explanation.maps, timingsMs: contrast.explanation.timings };
    this.post({ type: 'result', result, view: this.view });
  }

  fail(e: unknown): void {
    this.status = 'error';
    this.error = String((e as Error)?.message ?? e);
    this.post({ type: 'error', message: this.error, imagePath: this.view.imagePath });
    if ((e as EngineError)?.kind !== 'cancelled') this.deps.hooks.reportError(e, this.view.imagePath);
  }

  private async requestBaseMap(key: string, layer: string): Promise<void> {
    if (this.baseMaps.has(key)) {
      this.post({ type: 'baseMap', key, map: this.baseMaps.get(key) });
      return;
    }
    const job = this.job();
    if (!job || !this.reply) return;
    // Base maps depend on the class actually explained, not on denoise.
    const classIndex = this.reply.explanation.classIndex;
    await this.track(async () => {
      try {
        const map = await this.deps.engine.baseMap({ ...job, options: { ...job.options, classIndex, denoise: false } }, layer);
        this.baseMaps.set(key, map);
        this.post({ type: 'baseMap', key, map });
      } catch (e) {
        this.post({ type: 'baseMap', key, error: String((e as Error)?.message ?? e) });
      }
    });
  }

  /**
   * Deletion / insertion curves and AD / IC of the shown FG-CAM map at `layer` (default: the
   * current one), computed once per view and cached. Posts the result to the webview (under
   * `asKey` too when the webview asked for a key that is no longer current).
   */
  async faithfulness(layer = this.view.layer, asKey?: string): Promise<FaithfulnessReply> {
    const job = this.job();
    const ex = this.reply?.explanation;
    if (!job || !ex) {
      const err = new Error('Nothing is explained yet.');
      if (asKey) this.post({ type: 'faithfulness', key: asKey, error: err.message });
      throw err;
    }
    const key = faithfulnessKey(job.imagePath, ex.base, ex.denoise, ex.classIndex, layer);
    if (asKey && asKey !== key) this.post({ type: 'faithfulness', key: asKey, error: 'The explanation changed since this was asked.' });
    let p = this.faith.get(key);
    if (!p) {
      const epoch = this.epoch;
      const fjob: ExplainJob = { ...job, options: { ...job.options, base: ex.base, denoise: ex.denoise, classIndex: ex.classIndex } };
      p = this.deps.engine.faithfulness(fjob, layer, mapAt(ex.maps, layer));
      this.faith.set(key, p);
      // A failure is not cached: asking again retries.
      p.catch(() => {
        if (this.faith.get(key) === p) this.faith.delete(key);
      });
      void this.track(async () => {
        try {
          const r = await p!;
          if (epoch === this.epoch) this.deps.hooks.log(`faithfulness of ${key}: deletion AUC ${r.deletionAuc.toFixed(4)}, insertion AUC ${r.insertionAuc.toFixed(4)}`);
        } catch {
          // reported below
        }
      });
    }
    const epoch = this.epoch;
    try {
      const r = await p;
      if (epoch === this.epoch) this.post({ type: 'faithfulness', key, result: r });
      return r;
    } catch (e) {
      if (epoch === this.epoch) this.post({ type: 'faithfulness', key, error: String((e as Error)?.message ?? e) });
      throw e;
    }
  }

  /** The method comparison table at `layer` (default: the current one) for the current image and class; cached. */
  async compareMethods(layer = this.view.layer): Promise<MethodsReply> {
    const job = this.job();
    const ex = this.reply?.explanation;
    if (!job || !ex) throw new Error('Nothing is explained yet.');
    const key = methodsKey(job.imagePath, ex.classIndex, layer);
    let p = this.tables.get(key);
    const epoch = this.epoch;
    if (!p) {
      const t0 = Date.now();
      p = this.deps.engine.compareMethods({ ...job, options: { ...job.options, classIndex: ex.classIndex } }, layer, (pr) => {
        if (epoch === this.epoch) this.post({ type: 'methodsProgress', key, ...pr });
      });
      this.tables.set(key, p);
      p.then(
        (t) => this.deps.hooks.log(`compared ${t.rows.length} methods on ${job.imagePath} at ${layer} in ${Date.now() - t0} ms`),
        () => {
          if (this.tables.get(key) === p) this.tables.delete(key);
        },
      );
    }
    let result: MethodsReply | undefined;
    await this.track(async () => {
      try {
        result = await p!;
        if (epoch === this.epoch) this.post({ type: 'methodsTable', key, table: result });
      } catch (e) {
        const cancelled = (e as EngineError)?.kind === 'cancelled';
        if (epoch === this.epoch) this.post({ type: 'methodsTable', key, error: String((e as Error)?.message ?? e), cancelled });
        throw e;
      }
    });
    return result!;
  }

  /** What the host has sent the webview: the only layer names and class range it may use. */
  knowledge(): HostKnowledge {
    const layers = new Set<string>(['input', this.view.layer]);
    for (const l of this.reply?.layers ?? []) layers.add(l.name);
    for (const l of Object.keys(this.reply?.explanation.maps ?? {})) layers.add(l);
    return { layers, classes: this.reply?.explanation.probs.length };
  }

  /** A message from the webview: checked against what the host sent (panelMessages.ts), else dropped. */
  onMessage(raw: unknown): void {
    let m: WebviewToHost;
    try {
      m = checkWebviewMessage(raw, this.knowledge());
    } catch (e) {
      if (!(e instanceof InvalidMessage)) throw e;
      this.deps.hooks.log(e.message);
      return;
    }
    switch (m.type) {
      case 'ready':
        this.post({ type: 'view', view: this.view });
        if (this.status === 'done' && this.reply) this.accept(this.reply, this.contrast);
        else if (this.status === 'error') this.post({ type: 'error', message: this.error ?? 'Error', imagePath: this.view.imagePath });
        else if (this.status === 'running') this.post({ type: 'running', imagePath: this.view.imagePath ?? '', what: this.view.base });
        break;
      case 'viewChanged':
        // The compare class needs the engine: only a recompute changes it.
        this.view = { ...m.view, imagePath: this.view.imagePath, trueClass: this.view.trueClass, compareClass: this.view.compareClass };
        break;
      case 'recompute':
        this.view = { ...m.view, imagePath: this.view.imagePath, trueClass: this.view.trueClass };
        void this.run();
        break;
      case 'requestBaseMap':
        void this.requestBaseMap(m.key, m.layer);
        break;
      case 'export':
        this.deps.hooks.exportCurrent();
        break;
      case 'cancel':
        this.deps.engine.cancel('Cancelled by the user.');
        break;
      case 'retry':
        void this.retry();
        break;
      case 'requestFaithfulness':
        this.faithfulness(m.layer, m.key).catch((e) => this.deps.hooks.log(`faithfulness at ${m.layer} failed: ${(e as Error)?.message ?? e}`));
        break;
      case 'compareMethods':
        this.compareMethods(m.layer).catch((e) => this.deps.hooks.log(`compare methods at ${m.layer} failed: ${(e as Error)?.message ?? e}`));
        break;
    }
  }

  /** Retry after an error: the model settings may have changed since. */
  private async retry(): Promise<void> {
    try {
      const m = await this.deps.hooks.resolveModel(true);
      if (m && this.view.imagePath) this.open(this.view.imagePath, this.view, m);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Counts work in flight for waitForIdle(). */
  private async track(f: () => Promise<void>): Promise<void> {
    this.inflight++;
    try {
      await f();
    } finally {
      this.inflight--;
      if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  get busy(): boolean {
    return this.inflight > 0;
  }

  waitForIdle(): Promise<void> {
    return this.inflight === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  /** The current view's FG-CAM map and what export needs to name and render it. */
  currentExport(): { imagePath: string; map: LayerMap; view: ViewState } | undefined {
    const ex = this.reply?.explanation;
    if (!ex || !this.view.imagePath) return undefined;
    const map = mapAt(ex.maps, this.view.layer) ?? mapAt(ex.maps, 'input');
    return map ? { imagePath: this.view.imagePath, map, view: { ...this.view, base: ex.base, denoise: ex.denoise } } : undefined;
  }

  notifyExported(files: string[]): void {
    this.post({ type: 'exported', files });
  }

  state(): PanelState {
    const ex = this.reply?.explanation;
    const done = this.status === 'done' && ex;
    const shown = done ? [ex.classIndex, ...(this.contrast ? [this.contrast.explanation.classIndex] : [])] : [];
    return {
      imagePath: this.view.imagePath,
      layer: this.view.layer,
      denoise: this.view.denoise,
      base: this.view.base,
      classIndex: done ? ex.classIndex : this.view.classIndex,
      compareClass: done ? this.contrast?.explanation.classIndex : this.view.compareClass,
      trueClass: this.view.trueClass,
      titles: done ? shown.map((c) => classTitle(c, ex.probs, this.reply?.labels, this.view.trueClass)) : [],
      status: this.status,
      error: this.error,
      layers: (this.reply?.layers ?? []).map((l) => ({ name: l.name, className: l.className, shape: [...l.shape], spatial: l.spatial })),
      mapLayers: ex ? Object.keys(ex.maps) : [],
      top: (ex?.top ?? []).map((t) => ({ index: t.index, prob: t.prob, label: t.label })),
      backend: this.reply?.backend,
      timingsMs: { ...(ex?.timings ?? {}) },
      colormap: this.view.colormap,
      opacity: this.view.opacity,
      sideBySide: this.view.sideBySide,
    };
  }

  private post(m: HostToWebview): void {
    this.deps.post(m);
  }

  /** Drops late results and releases waitForIdle. */
  dispose(): void {
    this.generation++;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

export function title(imagePath: string): string {
  return `FG-CAM: ${path.basename(imagePath)}`;
}
