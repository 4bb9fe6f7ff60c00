// The review panel's host: runs a dataset review in the engine worker (results stream into
// the panel as batches finish; the cache next to the dataset makes a reopened folder instant),
// checks every webview message (reviewProtocol.ts), and turns clicks into the explain panel
// and Export Folder-style exports. One panel, reused.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { defaultOutputFolder } from '../app/dataset/outdir';
import { EngineError, type EngineClient } from '../app/engineClient';
import type { ReviewResult, ModelSpec, ReviewDocument } from '../app/protocol';
import { parseReviewRequest, type HostToReview } from '../webview/reviewProtocol';
import { panelHtml } from './html';

export const REVIEW_PANEL_TYPE = 'fgcam.review';

export interface ReviewHooks {
  /**
   * Opens the explain panel on an image. For a mistake (`truth` known and not the prediction)
   * it shows the predicted class and the true class side by side at the same layer.
   */
  explain(imagePath: string, mistake?: { predicted: number; truth: number }): Promise<void>;
  exportImages(images: string[], label: string): Promise<unknown>;
  reportError(e: unknown): void;
  log(line: string): void;
}

export interface ReviewContext {
  extensionUri: vscode.Uri;
  engine: EngineClient;
  hooks: ReviewHooks;
  /** Images per forward pass. */
  batch(): number;
}

export type ReviewStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

/** What activate() exposes to tests: plain data only. */
export interface ReviewPanelState {
  folder?: string;
  outDir?: string;
  status: ReviewStatus;
  error?: string;
  done: number;
  total: number;
  images: number;
  accuracy: number | null;
  top5: number | null;
  failed: number;
  classes: string[];
  confusion: number[][];
  seconds?: number;
}

export class ReviewPanel {
  private static current: ReviewPanel | undefined;
  private folder = '';
  private model: ModelSpec | undefined;
  private status: ReviewStatus = 'idle';
  private error: string | undefined;
  private progress = { done: 0, total: 0 };
  private results = new Map<string, ReviewResult>();
  private doc: ReviewDocument | undefined;
  private generation = 0;
  private running: Promise<void> | undefined;
  private seconds: number | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static get active(): ReviewPanel | undefined {
    return ReviewPanel.current;
  }

  static show(ctx: ReviewContext, folder: string, model: ModelSpec): ReviewPanel {
    let c = ReviewPanel.current;
    if (!c) {
      const panel = vscode.window.createWebviewPanel(REVIEW_PANEL_TYPE, title(folder), { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, options(ctx.extensionUri, folder));
      c = new ReviewPanel(ctx, panel);
    } else {
      c.panel.webview.options = options(ctx.extensionUri, folder);
      c.panel.reveal(c.panel.viewColumn, false);
    }
    c.start(folder, model);
    return c;
  }

  private constructor(
    private readonly ctx: ReviewContext,
    readonly panel: vscode.WebviewPanel,
  ) {
    ReviewPanel.current = this;
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'icon.svg');
    panel.webview.html = panelHtml(panel.webview, ctx.extensionUri, 'review.js', ['review.css'], 'FG-CAM Review');
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
    );
  }

  private start(folder: string, model: ModelSpec): void {
    this.folder = folder;
    this.model = model;
    this.panel.title = title(folder);
    void this.run();
  }

  private get outDir(): string {
    return defaultOutputFolder(this.folder);
  }

  private async run(): Promise<void> {
    const model = this.model;
    if (!model) return;
    const gen = ++this.generation;
    this.status = 'running';
    this.error = undefined;
    this.results.clear();
    this.doc = undefined;
    this.progress = { done: 0, total: 0 };
    this.postStart();
    const t0 = Date.now();
    const job = { folder: this.folder, model, outDir: this.outDir, batch: this.ctx.batch() };
    const p = (async () => {
      try {
        const doc = await this.ctx.engine.review(job, (pr) => {
          if (gen !== this.generation || !pr.review) return;
          for (const r of pr.review.results) this.results.set(r.path, r);
          this.progress = { done: pr.done, total: pr.total };
          this.post({ type: 'progress', done: pr.done, total: pr.total, cached: pr.review.cached, results: pr.review.results, failed: pr.review.failed, summary: pr.review.summary });
        });
        if (gen !== this.generation) return;
        this.doc = doc;
        this.results = new Map(doc.results.map((r) => [r.path, r]));
        this.status = 'done';
        this.seconds = (Date.now() - t0) / 1000;
        this.progress = { done: doc.images + doc.failed.length, total: doc.images + doc.failed.length };
        this.post({ type: 'done', doc, seconds: this.seconds });
        this.ctx.hooks.log(`reviewed ${this.folder}: ${doc.images} images, accuracy ${doc.accuracy === null ? '-' : (100 * doc.accuracy).toFixed(2) + '%'}, ${doc.failed.length} unreadable, in ${this.seconds.toFixed(1)} s; report in ${this.outDir}`);
      } catch (e) {
        if (gen !== this.generation) return;
        const cancelled = (e as EngineError)?.kind === 'cancelled';
        this.status = cancelled ? 'cancelled' : 'error';
        this.error = String((e as Error)?.message ?? e);
        const message = cancelled
          ? `Cancelled after ${this.progress.done} of ${this.progress.total} images; what was scored is cached: Re-run resumes.`
          : `The review failed: ${this.error}`;
        this.post({ type: 'stopped', message, cancelled });
        if (!cancelled) this.ctx.hooks.reportError(e);
      }
    })();
    this.running = p;
    await p;
  }

  private postStart(): void {
    const thumbBase = this.panel.webview.asWebviewUri(vscode.Uri.file(this.folder)).toString();
    this.post({ type: 'start', folder: this.folder, thumbBase, classes: [] });
  }

  private onMessage(raw: unknown): void {
    const m = parseReviewRequest(raw, (p) => this.results.has(p));
    if (!m) {
      this.ctx.hooks.log(`review panel: ignored an invalid message ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    switch (m.type) {
      case 'ready':
        // A reloaded webview: replay what is known.
        this.postStart();
        if (this.doc) this.post({ type: 'done', doc: this.doc, seconds: this.seconds ?? 0 });
        break;
      case 'cancel':
        if (this.status === 'running') this.ctx.engine.cancel('Review cancelled.');
        break;
      case 'rerun':
        if (this.status !== 'running') void this.run();
        break;
      case 'open': {
        const r = this.results.get(m.path)!;
        const mistake = r.truth !== null && r.truth !== r.predicted ? { predicted: r.predicted, truth: r.truth } : undefined;
        void this.ctx.hooks.explain(this.abs(m.path), mistake).catch((e) => this.ctx.hooks.reportError(e));
        break;
      }
      case 'export':
        void this.ctx.hooks.exportImages(m.paths.map((p) => this.abs(p)), `${m.paths.length} image${m.paths.length === 1 ? '' : 's'} of ${path.basename(this.folder)}`).then(
          () => this.post({ type: 'exported', message: `Exported explanations of ${m.paths.length} image${m.paths.length === 1 ? '' : 's'} (next to each image).` }),
          (e) => this.ctx.hooks.reportError(e),
        );
        break;
    }
  }

  private abs(rel: string): string {
    return path.join(this.folder, ...rel.split('/'));
  }

  /** Resolves once no review is running. */
  async waitForIdle(): Promise<void> {
    while (this.running) {
      const p = this.running;
      await p;
      if (this.running === p) this.running = undefined;
    }
  }

  state(): ReviewPanelState {
    const d = this.doc;
    return {
      folder: this.folder || undefined,
      outDir: this.folder ? this.outDir : undefined,
      status: this.status,
      error: this.error,
      done: this.progress.done,
      total: this.progress.total,
      images: d?.images ?? this.results.size,
      accuracy: d?.accuracy ?? null,
      top5: d?.top5 ?? null,
      failed: d?.failed.length ?? 0,
      classes: d?.classes ?? [],
      confusion: d?.confusion ?? [],
      seconds: this.seconds,
    };
  }

  private post(m: HostToReview): void {
    void this.panel.webview.postMessage(m);
  }

  dispose(): void {
    if (ReviewPanel.current === this) ReviewPanel.current = undefined;
    this.generation++;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

function title(folder: string): string {
  return `FG-CAM Review: ${path.basename(folder)}`;
}

/** The dataset folder is a resource root: thumbnails load from it (nothing remote). */
function options(extensionUri: vscode.Uri, folder: string): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.file(folder)],
  };
}
