// Command handlers. IDs are a contract with package.json and the integration tests.
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { looksLikeImagePath } from '../app/images';
import { EngineError, type EngineClient } from '../app/engineClient';
import { PanelController, type PanelContext } from './panel';
import { demoModel, modelSpec, readSettings, resolvePath, toSettingPath, workspaceRoot } from './settings';
import { exportExplanation, exportFolder, exportImages } from './export';
import { ReviewPanel, type ReviewContext } from './reviewPanel';
import type { ModelSpec } from '../app/protocol';
import type { ViewState } from '../webview/protocol';

const USE_DEMO_KEY = 'fgcam.useDemoModel';
const CHOOSE_MODEL = 'Choose Model File...';
const OPEN_SETTINGS = 'Open Settings';
const SHOW_LOG = 'Show Log';
const USE_DEMO = 'Use Demo Model';

export class Commands {
  readonly panelContext: PanelContext;
  readonly reviewContext: ReviewContext;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly engine: EngineClient,
    private readonly output: vscode.OutputChannel,
  ) {
    this.panelContext = {
      extensionUri: ctx.extensionUri,
      engine,
      scoreBatch: () => readSettings().scoreBatch,
      hooks: {
        resolveModel: (interactive) => this.resolveModel(interactive),
        reportError: (e, img) => this.reportError(e, img),
        exportCurrent: () => void vscode.commands.executeCommand('fgcam.exportExplanation'),
        log: (l) => this.log(l),
      },
    };
    this.reviewContext = {
      extensionUri: ctx.extensionUri,
      engine,
      batch: () => readSettings().batch,
      hooks: {
        // A mistake: why the predicted class and not the true one, both at the same layer.
        explain: (img, mistake) => this.explainImage(vscode.Uri.file(img), mistake ? { classIndex: mistake.predicted, compareClass: mistake.truth, trueClass: mistake.truth } : {}),
        exportImages: async (images, label) => {
          const model = await this.resolveModel(true);
          return model && exportImages(images, label, model, readSettings(), this.engine, (l) => this.log(l));
        },
        reportError: (e) => this.reportError(e),
        log: (l) => this.log(l),
      },
    };
  }

  log(line: string): void {
    this.output.appendLine(`[${new Date().toISOString()}] ${line}`);
  }

  /** Commands still running (waitForIdle in the test API waits for them). */
  pending = 0;

  /** Runs a handler: counted for waitForIdle, errors become notifications. */
  async track<T>(f: () => Promise<T>): Promise<T | undefined> {
    this.pending++;
    try {
      return await f();
    } catch (e) {
      this.reportError(e);
      return undefined;
    } finally {
      this.pending--;
    }
  }

  register(): vscode.Disposable[] {
    const reg = (id: string, f: (...a: never[]) => unknown) =>
      vscode.commands.registerCommand(id, (...args: never[]) => this.track(async () => f(...args)));
    return [
      reg('fgcam.explainImage', (uri?: vscode.Uri) => this.explainImage(uri)),
      reg('fgcam.exportExplanation', () => exportExplanation(PanelController.active, this.engine, (l) => this.log(l))),
      reg('fgcam.exportFolder', (uri?: vscode.Uri) => this.exportFolder(uri)),
      reg('fgcam.reviewDataset', (uri?: vscode.Uri) => this.reviewDataset(uri)),
      reg('fgcam.useModel', (uri?: vscode.Uri) => this.useModel(uri)),
      reg('fgcam.showLog', () => this.output.show(true)),
    ];
  }

  /** Panel defaults from settings (an explicit Explain starts from the configured view). */
  defaultView(): ViewState {
    const s = readSettings();
    return {
      base: s.base,
      denoise: s.denoise,
      layer: s.layer,
      colormap: s.colormap,
      opacity: s.opacity,
      sideBySide: PanelController.active?.state().sideBySide ?? false,
    };
  }

  /** `patch`: view settings for this explanation (the review panel's class and contrast class). */
  async explainImage(uri?: vscode.Uri, patch: Partial<ViewState> = {}): Promise<void> {
    const imagePath = uri?.fsPath ?? activeImagePath() ?? (await pickFile('Explain Image', { Images: ['png', 'jpg', 'jpeg', 'bmp'] }));
    if (!imagePath) return;
    // Model errors are shown in the panel too (and as a notification with actions).
    let model: ModelSpec | Error | undefined;
    try {
      model = await this.resolveModel(true);
    } catch (e) {
      model = e instanceof Error ? e : new Error(String(e));
    }
    if (!model) return;
    const panel = PanelController.show(this.panelContext, imagePath, { ...this.defaultView(), ...patch }, model);
    await panel.waitForIdle();
  }

  /** Opens the review panel on a dataset folder (one subfolder per class) and scores it. */
  async reviewDataset(uri?: vscode.Uri): Promise<void> {
    const folder = uri?.fsPath ?? (await pickFolder('Review Dataset'));
    if (!folder) return;
    if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new Error(`${folder} is not a folder: Review Dataset takes the dataset's top folder (one subfolder per class).`);
    const model = await this.resolveModel(true);
    if (!model) return;
    const panel = ReviewPanel.show(this.reviewContext, folder, model);
    await panel.waitForIdle();
  }

  async exportFolder(uri?: vscode.Uri): Promise<unknown> {
    const folder = uri?.fsPath ?? (await pickFolder());
    if (!folder) return undefined;
    const model = await this.resolveModel(true);
    if (!model) return undefined;
    return exportFolder(folder, model, readSettings(), this.engine, (l) => this.log(l));
  }

  async useModel(uri?: vscode.Uri): Promise<void> {
    const file = uri?.fsPath ?? (await pickFile('Use Model', { Models: ['json', 'onnx'] }));
    if (!file) return;
    await this.setModelPath(file);
    void vscode.window.showInformationMessage(`FG-CAM: using model ${toSettingPath(file)}.`);
  }

  private async setModelPath(file: string): Promise<void> {
    // Workspace setting when a folder is open (relative inside it); user setting otherwise.
    const target = workspaceRoot() ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration('fgcam').update('modelPath', toSettingPath(file), target);
    await this.ctx.workspaceState.update(USE_DEMO_KEY, undefined);
  }

  /**
   * The model to use: fgcam.modelPath, else the demo model if chosen before in this workspace,
   * else (interactive) a notification offering the demo, a file picker or the settings.
   * A configured but missing file throws "Model file not found: <path>".
   */
  async resolveModel(interactive: boolean): Promise<ModelSpec | undefined> {
    const s = readSettings();
    const demo = demoModel(this.ctx.extensionPath);
    if (s.modelPath) {
      const p = resolvePath(s.modelPath);
      if (!fs.existsSync(p)) throw new EngineError(`Model file not found: ${p}`, 'model-not-found');
      return modelSpec(s, p);
    }
    if (!this.ctx.workspaceState.get<boolean>(USE_DEMO_KEY)) {
      if (!interactive) return undefined;
      const pick = await vscode.window.showInformationMessage('FG-CAM: no model is set (fgcam.modelPath). Try the bundled demo model (Fashion-MNIST) or choose a TF.js model.json / ONNX file.', USE_DEMO, CHOOSE_MODEL, OPEN_SETTINGS);
      if (pick === CHOOSE_MODEL) return this.chooseModel(s);
      if (pick === OPEN_SETTINGS) void openSettings();
      if (pick !== USE_DEMO) return undefined;
      await this.ctx.workspaceState.update(USE_DEMO_KEY, true);
    }
    if (!fs.existsSync(demo.model)) throw new EngineError(`Model file not found: ${demo.model} (the bundled demo model is missing)`, 'model-not-found');
    return { ...modelSpec(s, demo.model), labelsPath: s.labelsPath ? resolvePath(s.labelsPath) : demo.labels };
  }

  private async chooseModel(s = readSettings()): Promise<ModelSpec | undefined> {
    const file = await pickFile('Use Model', { Models: ['json', 'onnx'] });
    if (!file) return undefined;
    await this.setModelPath(file);
    return modelSpec({ ...s, modelPath: file }, file);
  }

  /** Error notification with actions; the panel shows the text itself. */
  reportError(e: unknown, imagePath?: string): void {
    const kind = (e as EngineError)?.kind;
    if (kind === 'cancelled') return;
    const msg = String((e as Error)?.message ?? e);
    this.log(`error${kind ? ` (${kind})` : ''}${imagePath ? ` for ${imagePath}` : ''}: ${(e as Error)?.stack ?? msg}`);
    const actions = kind === 'image' ? [SHOW_LOG] : [OPEN_SETTINGS, CHOOSE_MODEL, SHOW_LOG];
    void vscode.window.showErrorMessage(`FG-CAM: ${msg}`, ...actions).then(async (a) => {
      if (a === OPEN_SETTINGS) await openSettings();
      else if (a === SHOW_LOG) this.output.show(true);
      else if (a === CHOOSE_MODEL && (await this.chooseModel()) && imagePath && PanelController.active?.state().imagePath !== imagePath) {
        // (A panel showing this image re-explains by itself on the settings change.)
        await this.track(() => this.explainImage(vscode.Uri.file(imagePath)));
      }
    });
  }
}

function openSettings(): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.action.openSettings', 'fgcam.');
}

/** The active tab's file when it is an image: the image preview is a custom editor, not a text editor. */
function activeImagePath(): string | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input as { uri?: vscode.Uri } | undefined;
  const candidates = [input?.uri, vscode.window.activeTextEditor?.document.uri];
  for (const u of candidates) if (u && u.scheme === 'file' && looksLikeImagePath(u.fsPath)) return u.fsPath;
  return undefined;
}

async function pickFile(label: string, filters: Record<string, string[]>): Promise<string | undefined> {
  const r = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: label, filters, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
  return r?.[0]?.fsPath;
}

async function pickFolder(openLabel = 'Export Folder'): Promise<string | undefined> {
  const r = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, openLabel, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
  return r?.[0]?.fsPath;
}
