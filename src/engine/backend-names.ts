// The backend names a user can give (--backend, fgcam.backend), and the tfjs-era names that
// were removed, each with what replaces it. Plain data: the extension host reads settings
// with it without loading a runtime.
import type { RuntimePreference } from './runtime';

export type BackendPreference = RuntimePreference;
export const BACKEND_PREFERENCES = ['auto', 'native', 'wasm', 'cuda', 'directml', 'coreml'] as const satisfies readonly BackendPreference[];
// Every runtime preference is offered (the list above may not fall behind runtime.ts).
const everyOne: Exclude<BackendPreference, (typeof BACKEND_PREFERENCES)[number]> extends never ? true : false = true;
void everyOne;

/** The tfjs-era backend names, each with the ONNX Runtime choice that replaces it. */
const RETIRED: Record<string, { use: BackendPreference; was: string }> = {
  'wasm-tfjs': { use: 'wasm', was: 'TensorFlow.js on WebAssembly' },
  node: { use: 'native', was: 'tfjs-node' },
  cpu: { use: 'native', was: "TensorFlow.js's JavaScript cpu backend" },
};

/**
 * For a backend name that was removed with the tfjs path: why it is gone and what to use
 * instead (the front ends say it as an error or a warning); undefined for any other value.
 */
export function retiredBackend(value: string): { use: BackendPreference; message: string } | undefined {
  const r = Object.prototype.hasOwnProperty.call(RETIRED, value) ? RETIRED[value] : undefined;
  if (!r) return undefined;
  return {
    use: r.use,
    message: `backend "${value}" (${r.was}) was removed with the TensorFlow.js compute path: everything runs on ONNX Runtime now. Use "${r.use}" instead (or "auto").`,
  };
}

/**
 * The fgcam.backend setting as the engine takes it: a known backend as it is; a removed
 * (tfjs-era) or unknown name falls back to auto, with the warning to show the user.
 */
export function backendSetting(value: unknown): { backend: BackendPreference; warning?: string } {
  if (typeof value === 'string' && (BACKEND_PREFERENCES as readonly string[]).includes(value)) return { backend: value as BackendPreference };
  const retired = typeof value === 'string' ? retiredBackend(value) : undefined;
  const warning = retired
    ? `fgcam.backend: ${retired.message} Using "auto" for now.`
    : `fgcam.backend: unknown backend ${JSON.stringify(value)} (one of ${BACKEND_PREFERENCES.join(', ')}). Using "auto".`;
  return { backend: 'auto', warning };
}
