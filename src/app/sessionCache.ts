// The worker's memory between requests: one model session, reloaded when its file changes
// (path + mtime + size), its labels reread when theirs changes, and the last decoded image
// (the panel re-explains the same image for class, denoise and base changes).
import * as fs from 'node:fs';
import { parseInputSize } from '../engine/model/load';
import { loadLabels } from './labels';
import { ModelSession, readImage, type RgbaImage } from './session';

/** Where the model is and how to read it: the worker's job spec and the panel's settings. */
export interface ModelSource {
  path: string;
  labelsPath?: string;
  /** "HxW" for models without a fixed input size. */
  inputSize?: string;
}

export type CacheErrorKind = 'model-not-found' | 'model';

/** An Error with the kind the panel reacts to. */
export function tagged<K extends string>(e: unknown, kind: K): Error & { kind?: K } {
  const err = (e instanceof Error ? e : new Error(String(e))) as Error & { kind?: K };
  err.kind ??= kind;
  return err;
}

function fileKey(p: string): string {
  const st = fs.statSync(p);
  return `${p}|${st.mtimeMs}|${st.size}`;
}

export class SessionCache {
  private model: { key: string; session: ModelSession; labelsKey: string } | undefined;
  private image: { key: string; img: RgbaImage } | undefined;

  async session(src: ModelSource): Promise<ModelSession> {
    if (!fs.existsSync(src.path)) throw tagged(new Error(`Model file not found: ${src.path}`), 'model-not-found');
    const key = `${fileKey(src.path)}|${src.inputSize ?? ''}`;
    const labelsKey = src.labelsPath && fs.existsSync(src.labelsPath) ? fileKey(src.labelsPath) : '';
    if (this.model?.key !== key) {
      let session: ModelSession;
      try {
        session = await ModelSession.open(src.path, { inputSize: parseInputSize(src.inputSize) });
      } catch (e) {
        throw tagged(e, 'model');
      }
      this.model?.session.dispose();
      this.model = { key, session, labelsKey: '\0' }; // forces the labels load below
    }
    if (this.model.labelsKey !== labelsKey) {
      this.model.session.labels = src.labelsPath ? loadLabels(src.labelsPath, { classes: this.model.session.numClasses }) : undefined;
      this.model.labelsKey = labelsKey;
    }
    return this.model.session;
  }

  imageAt(file: string): RgbaImage {
    const key = fileKey(file);
    if (this.image?.key !== key) this.image = { key, img: readImage(file) };
    return this.image.img;
  }
}
