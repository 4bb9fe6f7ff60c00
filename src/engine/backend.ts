// Starts the compute runtime: ONNX Runtime (runtime.ts) runs every explanation. 'auto' /
// 'native' (onnxruntime-node, CPU), 'wasm' (onnxruntime-web), 'cuda' / 'directml' / 'coreml'
// (GPU providers, where the user has them). The TensorFlow.js path and its backend names
// ('wasm-tfjs', 'node', 'cpu') are gone; a setting or flag that still names one is told what
// to use instead (backend-names.ts).
import { initRuntime, runtimeLabel } from './runtime';
import { BACKEND_PREFERENCES, retiredBackend, type BackendPreference } from './backend-names';

export { BACKEND_PREFERENCES, backendSetting, retiredBackend, type BackendPreference } from './backend-names';

export interface BackendInfo {
  name: string;
  /** Threads the runtime computes with. */
  threads: number;
  /** Why a preferred runtime or provider was not used (empty when the first choice loaded). */
  warnings: string[];
}

let current: BackendInfo | undefined;

/** Initialises the runtime once; later calls return the same info. */
export async function initBackend(pref: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (current) return current;
  const retired = retiredBackend(pref);
  if (retired) throw new Error(retired.message);
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(pref)) throw new Error(`unknown backend "${pref}" (one of ${BACKEND_PREFERENCES.join(', ')})`);
  const rt = await initRuntime(pref);
  current = { name: runtimeLabel(), threads: rt.threads, warnings: rt.warnings };
  return current;
}

export function backendName(): string {
  return runtimeLabel();
}
