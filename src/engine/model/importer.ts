// The one interface every model importer implements (one importer per format, as netron
// does): `match` says whether it reads a file, `open` turns the file into an IR Graph.
// Format-independent rewrites happen afterwards, once, in canonicalise.ts.
import type { Graph } from './graph';

import type { LoadOptions } from './options';

export type { LoadOptions } from './options';

export interface Importer {
  /** The Graph format this importer produces (also its name in messages). */
  readonly format: Graph['format'];
  /** Reads this file? `ext` is the lower-case extension, `head` the file's first bytes. */
  match(ext: string, head: Uint8Array): boolean;
  /** Reads the file into a Graph whose nodes may still include parts the output does not need. */
  open(file: string, opts: LoadOptions): Promise<Graph>;
}
