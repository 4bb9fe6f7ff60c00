// Reads fgcam.* settings (the single source of configuration) and resolves paths.
// Model and labels paths may be absolute or relative to the first workspace folder.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { BackendPreference } from '../engine/backend';
import type { BaseMethod, Preprocess } from '../engine/types';
import type { PreprocessPreset } from '../engine/model/graph';
import type { Colormap, ModelSpec } from '../app/protocol';
import { labelsBesideModel } from '../app/labels';
import { backendSetting } from '../app/backendSetting';

export interface Settings {
  modelPath: string;
  labelsPath: string;
  preprocess: PreprocessPreset | 'auto';
  mean?: number[];
  std?: number[];
  base: BaseMethod;
  denoise: boolean;
  layer: string;
  colormap: Colormap;
  opacity: number;
  backend: BackendPreference;
  scoreBatch?: number;
  /** The engine worker's JS heap limit in MB (fgcam.engineMemoryMb). */
  engineMemoryMb?: number;
  inputSize: string;
  /** Review Dataset: images per forward pass (`fgcam predict --batch`). */
  batch: number;
}

export function readSettings(scope?: vscode.Uri): Settings {
  const c = vscode.workspace.getConfiguration('fgcam', scope);
  const nums = (v: unknown) => (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined);
  const opacity = Number(c.get('opacity', 0.5));
  const scoreBatch = c.get<number | null>('scoreBatch', null);
  const engineMemoryMb = c.get<number | null>('engineMemoryMb', null);
  return {
    modelPath: c.get('modelPath', '').trim(),
    labelsPath: c.get('labelsPath', '').trim(),
    preprocess: c.get('preprocess', 'auto'),
    mean: nums(c.get('mean')),
    std: nums(c.get('std')),
    base: c.get('base', 'gradcam'),
    denoise: c.get('denoise', false),
    layer: c.get('layer', 'input') || 'input',
    colormap: c.get('colormap', 'jet'),
    opacity: Number.isFinite(opacity) ? Math.min(1, Math.max(0, opacity)) : 0.5,
    backend: backendFrom(c.get('backend', 'auto')),
    scoreBatch: typeof scoreBatch === 'number' && scoreBatch > 0 ? Math.floor(scoreBatch) : undefined,
    engineMemoryMb: typeof engineMemoryMb === 'number' && engineMemoryMb >= 256 ? Math.floor(engineMemoryMb) : undefined,
    inputSize: c.get('inputSize', '').trim(),
    batch: Math.max(1, Math.floor(Number(c.get('batch', 32)) || 32)),
  };
}

/** Backend values already warned about (settings are read on every request: say it once). */
const warnedBackends = new Set<string>();

/** fgcam.backend; a removed or unknown value warns (once) and runs as auto. */
function backendFrom(value: unknown): BackendPreference {
  const r = backendSetting(value);
  if (r.warning && !warnedBackends.has(String(value))) {
    warnedBackends.add(String(value));
    void vscode.window.showWarningMessage(r.warning);
  }
  return r.backend;
}

export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** Absolute path for a setting value: absolute stays, relative is taken from the workspace root. */
export function resolvePath(p: string): string {
  if (!p) return p;
  const expanded = p.startsWith('~/') ? path.join(process.env.HOME ?? '', p.slice(2)) : p;
  if (path.isAbsolute(expanded)) return expanded;
  return path.resolve(workspaceRoot() ?? process.cwd(), expanded);
}

/** Workspace-relative form of a path when it lies inside the workspace (what Use This Model stores). */
export function toSettingPath(abs: string): string {
  const root = workspaceRoot();
  if (root) {
    const rel = path.relative(root, abs);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  }
  return abs;
}

/** The bundled demo model (a small VGG-style net on Fashion-MNIST, inputs scaled to 0..1). */
export function demoModel(extensionPath: string): { model: string; labels: string } {
  const dir = path.join(extensionPath, 'models', 'fashion-vgg');
  return { model: path.join(dir, 'model.json'), labels: path.join(dir, 'labels.json') };
}

/**
 * What the worker needs to load the model. `modelPath` is absolute (already resolved, maybe the
 * demo). Without a user setting, the model's own preprocessing applies ('auto').
 */
export function modelSpec(s: Settings, modelPath: string): ModelSpec {
  const labelsPath = s.labelsPath ? resolvePath(s.labelsPath) : labelsBesideModel(modelPath);
  let preprocess: Preprocess | 'auto';
  if (s.mean || s.std) {
    preprocess = { preset: s.preprocess === 'auto' ? undefined : s.preprocess, mean: s.mean, std: s.std };
  } else if (s.preprocess !== 'auto') {
    preprocess = { preset: s.preprocess };
  } else {
    preprocess = 'auto';
  }
  return { path: modelPath, labelsPath, preprocess, inputSize: s.inputSize || undefined };
}
