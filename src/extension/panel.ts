// The panel's VS Code shell: creates, reveals, restores and disposes the one webview panel and
// passes messages both ways. Everything the panel knows and does lives in PanelSession
// (app/panelSession.ts), which runs and is tested without VS Code.
import * as vscode from 'vscode';
import type { EngineClient } from '../app/engineClient';
import { EngineError } from '../app/engineClient';
import type { LayerMap } from '../engine/types';
import type { FaithfulnessReply, MethodsReply, ModelSpec } from '../app/protocol';
import { PanelSession, title, type PanelHooks, type PanelState } from '../app/panelSession';
import type { ViewState, WebviewToHost } from '../webview/protocol';
import { panelHtml } from './html';

export type { PanelHooks, PanelState, PanelStatus } from '../app/panelSession';

export const PANEL_TYPE = 'fgcam.panel';

export interface PanelContext {
  extensionUri: vscode.Uri;
  engine: EngineClient;
  hooks: PanelHooks;
  scoreBatch(): number | undefined;
}

export class PanelController {
  private static current: PanelController | undefined;
  readonly session: PanelSession;
  private readonly disposables: vscode.Disposable[] = [];

  static get active(): PanelController | undefined {
    return PanelController.current;
  }

  /** Shows (creating or reusing) the panel and explains `imagePath`; with an Error, shows that instead. */
  static show(ctx: PanelContext, imagePath: string, defaults: ViewState, model: ModelSpec | Error): PanelController {
    let c = PanelController.current;
    if (!c) {
      const panel = vscode.window.createWebviewPanel(PANEL_TYPE, title(imagePath), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(ctx.extensionUri));
      c = new PanelController(ctx, panel, defaults);
    } else {
      c.panel.reveal(c.panel.viewColumn, true); // stay where the user put it
    }
    c.session.open(imagePath, defaults, model);
    return c;
  }

  /** Restores a panel after a window reload from the webview's saved state. */
  static revive(ctx: PanelContext, panel: vscode.WebviewPanel, saved: Partial<ViewState> | undefined, defaults: ViewState): PanelController {
    PanelController.current?.dispose();
    panel.webview.options = webviewOptions(ctx.extensionUri);
    const c = new PanelController(ctx, panel, { ...defaults, ...(saved ?? {}) });
    const s = c.session;
    const imagePath = s.currentView.imagePath;
    if (imagePath) {
      void ctx.hooks.resolveModel(false).then(
        (m) => (m ? s.open(imagePath, s.currentView, m) : s.fail(new EngineError('No model is set (fgcam.modelPath).', 'model-not-found'))),
        (e) => s.fail(e),
      );
    }
    return c;
  }

  private constructor(
    ctx: PanelContext,
    readonly panel: vscode.WebviewPanel,
    defaults: ViewState,
  ) {
    PanelController.current = this;
    this.session = new PanelSession(
      {
        engine: ctx.engine,
        hooks: ctx.hooks,
        scoreBatch: () => ctx.scoreBatch(),
        post: (m) => void panel.webview.postMessage(m),
        setTitle: (t) => (panel.title = t),
      },
      defaults,
    );
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'icon.svg');
    panel.webview.html = panelHtml(panel.webview, ctx.extensionUri);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => this.session.onMessage(m)),
    );
  }

  state(): PanelState {
    return this.session.state();
  }

  get busy(): boolean {
    return this.session.busy;
  }

  waitForIdle(): Promise<void> {
    return this.session.waitForIdle();
  }

  faithfulness(layer?: string): Promise<FaithfulnessReply> {
    return this.session.faithfulness(layer);
  }

  compareMethods(layer?: string): Promise<MethodsReply> {
    return this.session.compareMethods(layer);
  }

  currentExport(): { imagePath: string; map: LayerMap; view: ViewState } | undefined {
    return this.session.currentExport();
  }

  notifyExported(files: string[]): void {
    this.session.notifyExported(files);
  }

  dispose(): void {
    if (PanelController.current === this) PanelController.current = undefined;
    this.session.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}
