// The panel's browser-side state: what it shows (the view, saved with vscode.setState), the
// explanation it shows, the caches of base maps, faithfulness curves and comparison tables,
// and the one way to talk to the host. Views read and update it; main.ts dispatches messages.
import type { LayerMap } from '../engine/types';
import type { FaithfulnessReply, MethodsReply, ResultPayload, ViewState, WebviewToHost } from './protocol';

declare function acquireVsCodeApi(): { postMessage(m: WebviewToHost): void; getState(): unknown; setState(s: unknown): void };
export const vscode = acquireVsCodeApi();

export const DEFAULT_VIEW: ViewState = { base: 'gradcam', denoise: false, layer: 'input', colormap: 'jet', opacity: 0.5, sideBySide: false };

/** The panel's mutable state, one object so every view module reads the same. */
export const S = {
  view: { ...DEFAULT_VIEW, ...((vscode.getState() as Partial<ViewState> | undefined) ?? {}) } as ViewState,
  result: undefined as ResultPayload | undefined,
  running: false,
  renderCount: 0,
  faithError: undefined as { key: string; message: string } | undefined,
  faithTimer: undefined as ReturnType<typeof setTimeout> | undefined,
  /** The comparison running (one at a time). */
  tableRun: undefined as { key: string; layer: string; done: number; total: number; what: string } | undefined,
  tableError: undefined as { key: string; message: string } | undefined,
};

export const baseMaps = new Map<string, { map?: LayerMap; error?: string } | 'pending'>();
/** Faithfulness per view key (faithfulnessKey); errors are not kept, so a revisit retries. */
export const faith = new Map<string, FaithfulnessReply | 'pending'>();
/** Debounce of faithfulness requests while the user steps through layers. */
export const FAITH_DEBOUNCE_MS = 250;
/** Comparison tables per methodsKey. */
export const tables = new Map<string, MethodsReply>();

/**
 * Changing the view, bound by views/controls.ts: views that offer a choice (the layer tiles)
 * call it without importing the controls, which import them.
 */
export const actions = {
  setView: (_patch: Partial<ViewState>, _recompute: boolean): void => undefined,
};

export function post(m: WebviewToHost): void {
  vscode.postMessage(m);
}

export function fileName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

export function labelOf(i: number): string {
  return S.result?.labels?.[i] ?? `class ${i}`;
}
