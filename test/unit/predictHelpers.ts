// Dataset-review test helpers: synthetic labelled folders of 28x28 grayscale PNGs (seeded
// blobs and bars, so the demo model gives varied answers), and predictions made the plain
// way, one image per forward pass, to check the review against.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../reference/tfjs';
import { PNG } from 'pngjs';
import type { Graph } from '../../src/engine/model/graph';
import { disposeForward, runForward } from '../reference/forward';
import { readImageFile } from '../../src/engine/image/decode';
import { toModelInput } from '../../src/engine/image/preprocess';
import { rng } from './imageHelpers';

/** A 28x28 gray PNG: an ellipse or a bar pattern whose shape follows the seed. */
export function syntheticPng(seed: number): Buffer {
  const r = rng(seed * 7919 + 13);
  const png = new PNG({ width: 28, height: 28 });
  const kind = Math.floor(r() * 3);
  const cx = 10 + r() * 8, cy = 10 + r() * 8, rx = 3 + r() * 10, ry = 3 + r() * 10, level = 120 + r() * 135;
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      let v = 0;
      if (kind === 0) v = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1 ? level : 0;
      else if (kind === 1) v = Math.abs(x - cx) < rx / 2 && y > 2 && y < 26 ? level : 0;
      else v = Math.abs(y - cy) < ry / 2 && Math.abs(x - cx) < rx ? level : (x + y) % 7 === 0 ? level / 3 : 0;
      const i = (y * 28 + x) * 4;
      png.data[i] = png.data[i + 1] = png.data[i + 2] = Math.round(v);
      png.data[i + 3] = 255;
    }
  return PNG.sync.write(png);
}

/** Writes `count` images into each folder of `layout` under root; returns their relative paths. */
export function makeDataset(root: string, layout: Record<string, number>, seed = 1): string[] {
  const out: string[] = [];
  let s = seed * 1000;
  for (const [folder, count] of Object.entries(layout)) {
    fs.mkdirSync(path.join(root, folder), { recursive: true });
    for (let i = 0; i < count; i++) {
      const rel = `${folder}/img${String(i).padStart(3, '0')}.png`;
      fs.writeFileSync(path.join(root, rel), syntheticPng(s++));
      out.push(rel);
    }
  }
  return out;
}

/** Top-1 class and softmax of one image, by one batch-1 forward pass (not predictBatch). */
export function predictOne(g: Graph, file: string): { top: number; probs: Float32Array } {
  const x = toModelInput(readImageFile(file), g.inputShape, { preset: g.defaultPreprocess ?? 'imagenet' });
  const xt = tf.tensor4d(x, [1, ...g.inputShape]);
  const fwd = runForward(g, xt, false);
  const probs = tf.tidy(() => tf.softmax(fwd.logits).dataSync() as Float32Array);
  disposeForward(fwd, [xt]);
  xt.dispose();
  let top = 0;
  for (let c = 1; c < probs.length; c++) if (probs[c] > probs[top]) top = c;
  return { top, probs };
}
