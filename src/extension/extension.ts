// Entry point. Activation is lazy (the commands and the panel's restore, see package.json).
// activate() returns a small test API: plain data about the panel, and a way to wait for it.
import * as vscode from 'vscode';
import { EngineClient } from '../app/engineClient';
import { Commands } from './commands';
import { PANEL_TYPE, PanelController, type PanelState } from './panel';
import { readSettings } from './settings';
import { ReviewPanel, type ReviewPanelState } from './reviewPanel';
import type { FaithfulnessReply, MethodsReply, ViewState } from '../webview/protocol';

export interface FgcamApi {
  getPanelState(): PanelState;
  waitForIdle(): Promise<void>;
  /** The panel's Faithfulness view for `layer` (default: the shown one), by the path the webview uses. */
  requestFaithfulness(layer?: string): Promise<FaithfulnessReply>;
  /** The panel's Compare methods table for `layer` (default: the shown one). */
  compareMethods(layer?: string): Promise<MethodsReply>;
  /** The review panel's state (status, accuracy, confusion), or undefined when it is not open. */
  getReviewState(): ReviewPanelState | undefined;
  /** Resolves when the review panel's review has finished (or was cancelled). */
  waitForReview(): Promise<void>;
}

const MODEL_KEYS = ['modelPath', 'labelsPath', 'preprocess', 'mean', 'std', 'backend'].map((k) => `fgcam.${k}`);

export function activate(ctx: vscode.ExtensionContext): FgcamApi {
  const output = vscode.window.createOutputChannel('FG-CAM');
  // __dirname is dist/ in the bundle: worker.js sits next to it.
  const engine = new EngineClient({
    distDir: __dirname,
    backend: () => readSettings().backend,
    memoryMb: () => readSettings().engineMemoryMb,
    log: (l) => output.appendLine(`[${new Date().toISOString()}] ${l}`),
  });
  const commands = new Commands(ctx, engine, output);

  ctx.subscriptions.push(
    output,
    { dispose: () => engine.dispose() },
    { dispose: () => PanelController.active?.dispose() },
    { dispose: () => ReviewPanel.active?.dispose() },
    ...commands.register(),
    vscode.window.registerWebviewPanelSerializer(PANEL_TYPE, {
      deserializeWebviewPanel: async (panel, state: Partial<ViewState> | undefined) => {
        PanelController.revive(commands.panelContext, panel, state, commands.defaultView());
      },
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      // A different model (or preprocessing/backend) invalidates what the panel shows: redo it.
      if (MODEL_KEYS.some((k) => e.affectsConfiguration(k))) {
        const p = PanelController.active;
        const img = p?.state().imagePath;
        if (p && img) void commands.track(() => commands.explainImage(vscode.Uri.file(img)));
      }
    }),
  );
  commands.log('FG-CAM activated');

  return {
    getPanelState: () => PanelController.active?.state() ?? emptyState(commands.defaultView()),
    requestFaithfulness: (layer) => panelOrThrow().faithfulness(layer),
    compareMethods: (layer) => panelOrThrow().compareMethods(layer),
    getReviewState: () => ReviewPanel.active?.state(),
    waitForReview: async () => ReviewPanel.active?.waitForIdle(),
    waitForIdle: async () => {
      // Settle twice: a finished command may start panel work and vice versa.
      for (let i = 0; i < 50; i++) {
        await PanelController.active?.waitForIdle();
        if (commands.pending === 0 && !PanelController.active?.busy) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

function panelOrThrow(): PanelController {
  const p = PanelController.active;
  if (!p) throw new Error('The FG-CAM panel is not open.');
  return p;
}

function emptyState(v: ViewState): PanelState {
  return {
    layer: v.layer,
    denoise: v.denoise,
    base: v.base,
    status: 'idle',
    titles: [],
    layers: [],
    mapLayers: [],
    top: [],
    timingsMs: {},
    colormap: v.colormap,
    opacity: v.opacity,
    sideBySide: v.sideBySide,
  };
}

export function deactivate(): void {
  // Disposables registered in activate() stop the worker and the panel.
}
