// The dataset-review cases of `npm run bench`: `fgcam predict`'s work (list, decode,
// preprocess, batched forward, summary, report files) on
//   - 10,000 images at 28x28 with the demo model (the whole Fashion-MNIST test split when
//     Debian's dataset-fashion-mnist is installed, else seeded synthetic PNGs), target < 60 s;
//   - 1,000 synthetic 224x224 JPEGs with the seeded torchvision ResNet-50 export, target < 2 min.
// Each case also times a slice at batch 1 in the same run (the batching speed-up, as a ratio)
// and the re-run that finds everything in the cache (reopening a reviewed folder).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { disposeModel, loadModel } from '../src/engine/explain';
import type { Graph } from '../src/engine/model/graph';
import { reviewDataset } from '../src/app/dataset/review';
import { cacheDir } from '../test/helpers/cache';
import { ensureDataset, scene } from './synthetic';

const root = path.resolve(__dirname, '..');
const log = (s: string) => process.stderr.write(s + '\n');

function fashion10k(): string {
  return ensureDataset('review-fashion-10k', (dir) => {
    if (fs.existsSync('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz')) {
      const r = spawnSync(process.execPath, [path.join(root, 'tools', 'make_fashion_review.mjs'), '--per-class', '1000', '--out', dir], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error('tools/make_fashion_review.mjs failed');
      return;
    }
    log('bench: no dataset-fashion-mnist: 10,000 seeded synthetic 28x28 images instead');
    for (let i = 0; i < 10_000; i++) {
      const sub = path.join(dir, String(i % 10));
      fs.mkdirSync(sub, { recursive: true });
      const png = new PNG({ width: 28, height: 28 });
      png.data = Buffer.from(scene(i, 28, 28));
      fs.writeFileSync(path.join(sub, `${i}.png`), PNG.sync.write(png));
    }
  });
}

function jpegs224(): string {
  return ensureDataset('review-224-1k', (dir) => {
    for (let i = 0; i < 1000; i++) {
      const sub = path.join(dir, String(i % 10));
      fs.mkdirSync(sub, { recursive: true });
      const img = jpeg.encode({ width: 224, height: 224, data: scene(i + 1, 224, 224) }, 90);
      fs.writeFileSync(path.join(sub, `${String(i).padStart(4, '0')}.jpg`), img.data);
    }
  });
}

/** The seeded torchvision ResNet-50 (tools/make_onnx_fixtures.py, needs python3-torch). */
function resnet50(): string | undefined {
  const f = path.join(cacheDir('onnx'), 'resnet50.onnx');
  if (!fs.existsSync(f)) spawnSync('/usr/bin/python3', [path.join(root, 'tools', 'make_onnx_fixtures.py'), 'big', 'resnet50'], { stdio: 'inherit' });
  return fs.existsSync(f) ? f : undefined;
}

export interface ReviewCase {
  name: string;
  images: number;
  batch: number;
  seconds: number;
  images_per_s: number;
  limit_s: number;
  within: boolean;
  batch1_images_per_s: number;
  batching_speedup: number;
  cached_rerun_s: number;
  accuracy: number | null;
}

async function runCase(name: string, dataset: string, model: string, batch: number, limit: number, slices: number): Promise<ReviewCase> {
  const g: Graph = await loadModel(model);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fgcam-bench-review-'));
  try {
    const labels = Array.from({ length: g.nodes.find((n) => n.name === g.output)!.outputShape.slice(-1)[0] }, (_, i) => String(i));
    const besides = path.join(path.dirname(model), 'labels.json');
    const names = fs.existsSync(besides) ? (JSON.parse(fs.readFileSync(besides, 'utf8')) as string[]) : labels;
    const pre = { preset: g.defaultPreprocess ?? 'imagenet' } as const;
    const run = (outDir: string, b: number, shard?: { index: number; count: number }) =>
      reviewDataset({ root: dataset, graph: g, modelPath: model, labels: names, preprocess: pre, batch: b, outDir, shard });
    // Warm-up: sessions built, kernels compiled (a small slice, its own folder).
    await run(path.join(tmp, 'warm'), batch, { index: 0, count: slices * 4 });
    let t0 = performance.now();
    const one = await run(path.join(tmp, 'b1'), 1, { index: 1, count: slices });
    const b1 = one.doc.images / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    const full = await run(path.join(tmp, 'full'), batch);
    const seconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const again = await run(path.join(tmp, 'full'), batch);
    const cached = (performance.now() - t0) / 1000;
    if (again.cached !== full.doc.images + full.doc.failed.length) throw new Error('the re-run did not find everything in the cache');
    const rate = full.doc.images / seconds;
    return {
      name,
      images: full.doc.images,
      batch,
      seconds: +seconds.toFixed(1),
      images_per_s: +rate.toFixed(0),
      limit_s: limit,
      within: seconds < limit,
      batch1_images_per_s: +b1.toFixed(1),
      batching_speedup: +(rate / b1).toFixed(2),
      cached_rerun_s: +cached.toFixed(2),
      accuracy: full.doc.accuracy,
    };
  } finally {
    disposeModel(g);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function benchReview(json: boolean): Promise<ReviewCase[]> {
  const cases: ReviewCase[] = [];
  const demo = path.join(root, 'models', 'fashion-vgg', 'model.json');
  log('bench: dataset review, 10,000 images at 28x28 with the demo model...');
  cases.push(await runCase('fashion-vgg, 10,000 x 28x28 PNG', fashion10k(), demo, 64, 60, 20));
  const rn = resnet50();
  if (!rn) log('bench: skipping the ResNet-50 review: no resnet50.onnx (tools/make_onnx_fixtures.py needs python3-torch)');
  else {
    log('bench: dataset review, 1,000 images at 224x224 with ResNet-50...');
    cases.push(await runCase('ResNet-50 (seeded), 1,000 x 224x224 JPEG', jpegs224(), rn, 32, 120, 20));
  }
  if (!json) {
    process.stdout.write('\nDataset review (fgcam predict: list, decode, preprocess, batched forward, report):\n');
    for (const c of cases) {
      process.stdout.write(
        `  ${c.name.padEnd(42)} ${c.seconds} s (${c.images_per_s} images/s, batch ${c.batch}; limit ${c.limit_s} s: ${c.within ? 'met' : 'MISSED'}); ` +
          `batch 1: ${c.batch1_images_per_s} images/s, batching x${c.batching_speedup}; re-run from the cache ${c.cached_rerun_s} s` +
          `${c.accuracy !== null && c.name.startsWith('fashion') ? `; accuracy ${(100 * c.accuracy).toFixed(2)}%` : ''}\n`,
      );
    }
  }
  return cases;
}
