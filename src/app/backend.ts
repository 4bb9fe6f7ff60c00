// Starting the compute backend and which of its warnings a user should see.
import { initBackend, type BackendInfo, type BackendPreference } from '../engine/backend';

export type { BackendInfo, BackendPreference } from '../engine/backend';

export function startBackend(pref: BackendPreference): Promise<BackendInfo> {
  return initBackend(pref);
}

/**
 * The warnings worth showing: all of them when the user asked for a backend, none in auto
 * mode (there a missing native runtime is normal: WebAssembly runs the same graphs).
 */
export function warningsToShow(pref: BackendPreference, info: BackendInfo): string[] {
  return pref !== 'auto' ? info.warnings : [];
}
