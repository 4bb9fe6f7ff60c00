// The bundled demo model (issue 4): it classifies the shipped samples as recorded,
// and `fgcam demo` writes the expected files.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { setup } from '../helpers/backend';
import { explain, loadModel } from '../../src/engine/explain';
import { decodeImage } from '../../src/engine/image/decode';
import { toModelInput } from '../../src/engine/image/preprocess';
import type { Graph } from '../../src/engine/model/graph';
import { tmpDir } from '../helpers/tmp';

const ROOT = path.join(__dirname, '..', '..', '..');
const MODEL = path.join(ROOT, 'models', 'fashion-vgg', 'model.json');
const samples: Array<{ file: string; labelIndex: number; predicted: string; probability: number }> = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'samples', 'samples.json'), 'utf8'),
);
const labels: string[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'fashion-vgg', 'labels.json'), 'utf8'));

let g: Graph;
before(async () => {
  await setup();
  g = await loadModel(MODEL);
});

describe('bundled demo model', () => {
  it('has the Fashion-MNIST input and 10 classes, weights under 5 MB', () => {
    assert.deepEqual(g.inputShape, [28, 28, 1]);
    assert.equal(g.defaultPreprocess, 'unit'); // recorded in its model.json
    const bin = fs.statSync(path.join(ROOT, 'models', 'fashion-vgg', 'group1-shard1of1.bin')).size;
    assert.ok(bin < 5 * 1024 * 1024);
    assert.equal(labels.length, 10);
  });
  for (const s of samples) {
    it(`classifies ${s.file} as recorded (${s.predicted})`, async () => {
      const img = decodeImage(fs.readFileSync(path.join(ROOT, 'samples', s.file)), s.file);
      const ex = await explain(g, toModelInput(img, g.inputShape, { preset: 'unit' }), { base: 'gradcam', denoise: false }, labels);
      assert.equal(ex.top[0].label, s.predicted);
      assert.equal(ex.classIndex, s.labelIndex);
      assert.ok(Math.abs(ex.top[0].prob - s.probability) < 1e-3, `${ex.top[0].prob} vs ${s.probability}`);
    });
  }
});

describe('fgcam demo', () => {
  it('writes heatmap and overlay PNGs at the input and every pooling layer, next to copies of the samples', () => {
    const cli = path.join(ROOT, 'dist', 'cli.js');
    if (!fs.existsSync(cli)) spawnSync(process.execPath, [path.join(ROOT, 'esbuild.mjs')], { cwd: ROOT, stdio: 'inherit' });
    const out = tmpDir('fgcam-demo-');
    fs.rmdirSync(out);
    const r = spawnSync(process.execPath, [cli, 'demo', '--out', out], { encoding: 'utf8', cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(r.stdout, /top-3: 9 Ankle boot/);
    // First the review of samples/fashion-review: accuracy, worst mistakes, a report.
    if (fs.existsSync(path.join(ROOT, 'samples', 'fashion-review'))) {
      assert.match(r.stdout, /500 images scored, 500 with truth: accuracy \d+\.\d\d% \(\d+\/500\)/);
      assert.match(r.stdout, /most confident mistakes:\n  \S+\.png: .+ predicted as /);
      assert.ok(fs.existsSync(path.join(out, 'review', 'report.md')));
    }
    const files = new Set(fs.readdirSync(out));
    for (const s of samples) {
      const stem = s.file.replace(/\.png$/, '');
      assert.ok(files.has(s.file), `copy of ${s.file}`);
      for (const layer of ['input', 'block1_pool', 'block2_pool', 'block3_pool']) {
        for (const suffix of ['png', 'overlay.png']) {
          const f = `${stem}.fgcam-gradcam.${layer}.${suffix}`;
          assert.ok(files.has(f), `missing ${f}`);
          const img = decodeImage(fs.readFileSync(path.join(out, f)), f);
          assert.deepEqual([img.width, img.height], [28, 28]);
        }
      }
    }
    fs.rmSync(out, { recursive: true, force: true });
  });
});
