// Messages between the review panel's host (extension/reviewPanel.ts) and its browser code
// (review.ts), and the host's check of everything the webview sends: a webview is untrusted
// input, so a message is used only when parseReviewRequest accepts it, and paths only when
// they are results of the review (never a file the webview makes up).
import type { Failed, ReviewResult, ReviewDocument, Summary } from '../app/protocol';

export type HostToReview =
  /** A review starts (or restarts): where thumbnails come from and what is known so far. */
  | { type: 'start'; folder: string; thumbBase: string; classes: string[] }
  | { type: 'progress'; done: number; total: number; cached: number; results: ReviewResult[]; failed: Failed[]; summary: Summary }
  /** The finished review (all results). */
  | { type: 'done'; doc: ReviewDocument; seconds: number }
  | { type: 'stopped'; message: string; cancelled: boolean }
  | { type: 'exported'; message: string };

export type ReviewRequest =
  | { type: 'ready' }
  | { type: 'cancel' }
  | { type: 'rerun' }
  /** Explain this image (relative path, as in the results). */
  | { type: 'open'; path: string }
  /** Export explanations of these images (relative paths). */
  | { type: 'export'; paths: string[] };

/** Paths in messages are relative, '/'-separated, without "." or ".." steps. */
function isRelativePath(p: unknown): p is string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 4096) return false;
  if (p.startsWith('/') || p.includes('\\') || p.includes('\0') || /^[A-Za-z]:/.test(p)) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/**
 * A webview message as a ReviewRequest, or undefined when it is not one. `known`: the
 * review's result paths; open/export name only those.
 */
export function parseReviewRequest(m: unknown, known: (path: string) => boolean): ReviewRequest | undefined {
  if (!m || typeof m !== 'object') return undefined;
  const t = (m as { type?: unknown }).type;
  if (t === 'ready' || t === 'cancel' || t === 'rerun') return { type: t };
  if (t === 'open') {
    const p = (m as { path?: unknown }).path;
    return isRelativePath(p) && known(p) ? { type: 'open', path: p } : undefined;
  }
  if (t === 'export') {
    const ps = (m as { paths?: unknown }).paths;
    if (!Array.isArray(ps) || ps.length === 0 || ps.length > 100_000) return undefined;
    if (!ps.every((p) => isRelativePath(p) && known(p))) return undefined;
    return { type: 'export', paths: [...new Set(ps as string[])] };
  }
  return undefined;
}
