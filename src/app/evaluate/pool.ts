// Scores a folder's images for `fgcam evaluate`: on `jobs` engine workers (the extension's
// worker and protocol, one EngineClient each, the cores shared out between them: the workers
// are the parallelism), or in this thread when jobs is 1 or no worker bundle sits next to the CLI.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendPreference } from '../../engine/backend';
import { EngineClient } from '../engineClient';
import { readImage, type ModelSession } from '../session';
import { scoreImageFile, type EvaluateJob, type ImageResult } from './job';

export interface Outcome {
  i: number;
  result?: ImageResult;
  error?: string;
}

export interface PoolOptions {
  jobs: number;
  backend: BackendPreference;
  /** Folder of worker.js and the .wasm files (the CLI bundle's own folder). */
  distDir: string;
  /** The session of this thread, used when scoring here. */
  session: ModelSession;
  log?: (line: string) => void;
}

/** Whether worker threads can run here (the bundled worker exists). */
export function workersAvailable(distDir: string): boolean {
  return fs.existsSync(path.join(distDir, 'worker.js'));
}

/** Scores every image; outcomes arrive in completion order. Resolves to the backend name used. */
export async function scoreImages(o: PoolOptions, job: EvaluateJob, images: string[], onStart: (i: number) => void, onDone: (r: Outcome) => void): Promise<string | undefined> {
  if (o.jobs <= 1 || !workersAvailable(o.distDir)) {
    for (let i = 0; i < images.length; i++) {
      onStart(i);
      try {
        onDone({ i, result: await scoreImageFile(o.session, images[i], readImage(images[i]), job) });
      } catch (e) {
        onDone({ i, error: (e as Error).message });
      }
    }
    return undefined;
  }
  // ONNX Runtime threads per worker (FGCAM_THREADS), unless the user chose: jobs workers each
  // on all cores would fight over them.
  const threads = process.env.FGCAM_THREADS ?? String(Math.max(1, Math.floor(os.cpus().length / o.jobs)));
  const clients = Array.from(
    { length: o.jobs },
    () =>
      new EngineClient({
        distDir: o.distDir,
        backend: () => o.backend,
        log: (line) => o.log?.(line),
        // An image of a big model with Score-CAM can take long; a crash still ends the request.
        timeoutMs: 24 * 3600_000,
        env: { ...process.env, FGCAM_THREADS: threads },
      }),
  );
  let next = 0;
  try {
    await Promise.all(
      clients.map(async (c) => {
        while (next < images.length) {
          const i = next++;
          onStart(i);
          try {
            onDone({ i, result: await c.score(job, images[i]) });
          } catch (e) {
            // A crashed worker is restarted by the client on its next request.
            onDone({ i, error: (e as Error).message });
          }
        }
      }),
    );
    return clients.map((c) => c.backendName).find(Boolean);
  } finally {
    for (const c of clients) c.dispose();
  }
}
