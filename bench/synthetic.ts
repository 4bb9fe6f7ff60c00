// Seeded synthetic images for the bench, made once under $FGCAM_CACHE/bench.
import * as fs from 'fs';
import * as path from 'path';
import { cacheDir } from '../test/helpers/cache';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** A folder made once under $FGCAM_CACHE/bench (a `.complete` file marks it finished). */
export function ensureDataset(name: string, make: (dir: string) => void): string {
  const dir = path.join(cacheDir('bench'), name);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  make(dir);
  fs.writeFileSync(path.join(dir, '.complete'), '');
  return dir;
}

/** Seeded RGB scenes: a gradient sky, a few discs; `w` x `h` RGBA. */
export function scene(seed: number, w: number, h: number): Uint8Array {
  const r = rng(seed * 2654435761);
  const px = new Uint8Array(w * h * 4);
  const base = [r() * 255, r() * 255, r() * 255];
  const discs = Array.from({ length: 3 }, () => ({ x: r() * w, y: r() * h, rad: (0.1 + 0.25 * r()) * w, c: [r() * 255, r() * 255, r() * 255] }));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      let c = base.map((b, k) => b * (0.5 + (0.5 * (k === 0 ? x : y)) / w));
      for (const d of discs) if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.rad ** 2) c = d.c;
      px[i] = c[0];
      px[i + 1] = c[1];
      px[i + 2] = c[2];
      px[i + 3] = 255;
    }
  return px;
}

