// Starting the compute backend and which of its warnings a user should see.
import { initBackend, type BackendInfo, type BackendPreference } from '../engine/backend';

export type { BackendInfo, BackendPreference } from '../engine/backend';

export function startBackend(pref: BackendPreference, wasmDir?: string): Promise<BackendInfo> {
  return initBackend(pref, wasmDir);
}

/**
 * The warnings worth showing: all of them when the user asked for a backend, else only the
 * slow cpu fallback (in auto mode a missing native backend is normal).
 */
export function warningsToShow(pref: BackendPreference, info: BackendInfo): string[] {
  return pref !== 'auto' || info.name === 'cpu' ? info.warnings : [];
}
