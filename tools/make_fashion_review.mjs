#!/usr/bin/env node
// Writes samples/fashion-review/: the first 50 images of every class in the Fashion-MNIST
// test split, as 28x28 grayscale PNGs in one folder per class (folder names are the labels
// of models/fashion-vgg/labels.json spelled as slugs, which the review matches ignoring case
// and punctuation). Deterministic: the same files, byte for byte, on every run.
//
//   node tools/make_fashion_review.mjs [--per-class 50] [--out samples/fashion-review]
//
// Needs Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { PNG } = createRequire(path.join(ROOT, 'package.json'))('pngjs');
const DATA = '/usr/share/datasets/fashion-mnist';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const perClass = Number(opt('--per-class', '50'));
const out = path.resolve(ROOT, opt('--out', 'samples/fashion-review'));

function readIdx(name) {
  const file = path.join(DATA, name);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: apt-get install dataset-fashion-mnist`);
  const b = zlib.gunzipSync(fs.readFileSync(file));
  const magic = b.readUInt32BE(0);
  const n = b.readUInt32BE(4);
  if (magic === 2051) return { n, rows: b.readUInt32BE(8), cols: b.readUInt32BE(12), data: b.subarray(16) };
  if (magic === 2049) return { n, data: b.subarray(8) };
  throw new Error(`${file}: bad idx magic ${magic}`);
}

const labels = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'fashion-vgg', 'labels.json'), 'utf8'));
const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');
const images = readIdx('t10k-images-idx3-ubyte.gz');
const truth = readIdx('t10k-labels-idx1-ubyte.gz');
const px = images.rows * images.cols;

fs.rmSync(out, { recursive: true, force: true });
const taken = new Array(labels.length).fill(0);
const index = [];
for (let i = 0; i < images.n && taken.some((t) => t < perClass); i++) {
  const c = truth.data[i];
  if (taken[c] >= perClass) continue;
  taken[c]++;
  const png = new PNG({ width: images.cols, height: images.rows, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  png.data = Buffer.from(images.data.subarray(i * px, (i + 1) * px));
  const rel = `${slug(labels[c])}/${String(i).padStart(5, '0')}.png`;
  fs.mkdirSync(path.join(out, slug(labels[c])), { recursive: true });
  fs.writeFileSync(path.join(out, rel), PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, deflateLevel: 9 }));
  index.push(`${rel},${c}`);
}

// The MIT text as the other samples carry it (samples/LICENSE-fashion-mnist.txt).
const mit = fs.readFileSync(path.join(ROOT, 'samples', 'LICENSE-fashion-mnist.txt'), 'utf8');
fs.writeFileSync(
  path.join(out, 'LICENSE.txt'),
  `The images in this folder are from the test split (t10k-images-idx3-ubyte) of Fashion-MNIST
by Zalando Research, https://github.com/zalandoresearch/fashion-mnist, taken from Debian's
dataset-fashion-mnist package and written unchanged as 28x28 grayscale PNGs by
tools/make_fashion_review.mjs: the first ${perClass} images of each class, one folder per class,
each file named by its index in the test split.
Fashion-MNIST is distributed under the MIT licence:

${mit.slice(mit.indexOf('The MIT License'))}`,
);
console.log(`wrote ${index.length} images (${perClass} per class) to ${path.relative(ROOT, out)}`);
