// What both runners (run.mjs: code-server; electron.mjs: @vscode/test-electron) share: the
// test workspace and the bundled extension-host suite.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const requireRepo = createRequire(path.join(REPO, 'package.json'));

// ------------------------------------------------------------------ test workspace
/**
 * The bundled sample PNGs named in samples/samples.json (only those: other files in samples/,
 * such as earlier CLI outputs, never reach the tests), or generated ones when it is absent.
 */
export function sampleImages() {
  const dir = path.join(REPO, 'samples');
  let meta = [];
  try {
    meta = JSON.parse(fs.readFileSync(path.join(dir, 'samples.json'), 'utf8'));
  } catch {}
  const listed = meta.filter((m) => typeof m.file === 'string' && /^[\w.-]+\.png$/i.test(m.file) && fs.existsSync(path.join(dir, m.file)));
  if (listed.length >= 3) {
    return listed.map((m) => ({ name: m.file, src: path.join(dir, m.file), predicted: m.predicted, probability: m.probability }));
  }
  // Fallback: a blob on a dark background, like a Fashion-MNIST item.
  const { PNG } = requireRepo('pngjs');
  return ['blob-a.png', 'blob-b.png', 'blob-c.png'].map((name, k) => {
    const png = new PNG({ width: 28, height: 28 });
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        const d = Math.hypot((x - 14) / (6 + 2 * k), (y - 14) / (10 - 2 * k));
        const v = d < 1 ? Math.round(255 * (1 - d * 0.6)) : 0;
        const i = (y * 28 + x) * 4;
        png.data[i] = png.data[i + 1] = png.data[i + 2] = v;
        png.data[i + 3] = 255;
      }
    return { name, data: PNG.sync.write(png) };
  });
}

/**
 * `dataset/`, a class-per-folder dataset for Review Dataset: each sample in the folder of the
 * class the demo model gives it (samples.json), plus one copy of the first sample filed under
 * the second sample's class, so exactly one image is a mistake. Returns what a review must
 * find: images, correct, and the mislabelled file (relative to dataset/); undefined counts when
 * the samples are generated ones (no recorded predictions).
 */
export function makeDataset(dir, images) {
  const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const put = (img, to) => (img.src ? fs.copyFileSync(img.src, to) : fs.writeFileSync(to, img.data));
  const known = images.every((i) => i.predicted);
  const folderOf = (img, k) => (known ? slug(img.predicted) : String(k % 3));
  images.forEach((img, k) => {
    const sub = path.join(dir, folderOf(img, k));
    fs.mkdirSync(sub, { recursive: true });
    put(img, path.join(sub, img.name));
  });
  const wrongFolder = folderOf(images[1], 1);
  const mislabelled = `${wrongFolder}/zz-mislabelled-${images[0].name}`;
  put(images[0], path.join(dir, ...mislabelled.split('/')));
  return known && folderOf(images[0], 0) !== wrongFolder ? { images: images.length + 1, correct: images.length, mislabelled } : { images: images.length + 1, mislabelled };
}

/**
 * A fresh workspace: a few sample images at the top, `broken.png` (not an image), `batch/`
 * with two images for Export Folder, `dataset/` (makeDataset) for Review Dataset, and
 * workspace settings pointing at the demo model.
 */
export function makeWorkspace(dir, images) {
  fs.mkdirSync(path.join(dir, '.vscode'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'batch'), { recursive: true });
  for (const img of images) {
    const put = (to) => (img.src ? fs.copyFileSync(img.src, to) : fs.writeFileSync(to, img.data));
    put(path.join(dir, img.name));
  }
  for (const img of images.slice(0, 2)) {
    const to = path.join(dir, 'batch', img.name);
    img.src ? fs.copyFileSync(img.src, to) : fs.writeFileSync(to, img.data);
  }
  // Starts like a PNG (so nothing rejects it by its signature alone), then garbage.
  fs.writeFileSync(path.join(dir, 'broken.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('this is not a PNG stream, just text '.repeat(8))]));
  const settings = {
    'fgcam.modelPath': path.join(REPO, 'models', 'fashion-vgg', 'model.json'),
    'fgcam.preprocess': 'unit',
  };
  fs.writeFileSync(path.join(dir, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, '.vscode', 'dataset.json'), JSON.stringify(makeDataset(path.join(dir, 'dataset'), images)) + '\n');
  return dir;
}

/** Bundles test/integration/suite/index.ts (run() in the extension host) to `outfile`. */
export async function bundleSuite(outfile) {
  const esbuild = requireRepo('esbuild');
  await esbuild.build({
    entryPoints: [path.join(HERE, 'suite', 'index.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    outfile,
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}
