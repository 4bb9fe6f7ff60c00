// The PyTorch FG-CAM walker of the architecture bench (bench/torch_arch_bench.py, rules in
// tools/torch_arch_fgcam.py) against the engine, on two small seeded nets built from
// torchvision's own blocks at 32x32: residual (Bottleneck with projection and identity
// shortcuts, MobileNetV2 inverted residual) and concat (dense block + transition, Inception A
// and B). The script writes each net's ONNX export, input and raw input map; the engine
// explains the export (Grad-CAM base, walked to the input) and both maps must agree within
// 1e-4 (max |diff| / max |torch|). Once as exported, once bias-free, where the PyTorch walker
// must also conserve relevance exactly (sum of the input map = sum of the components).
//
//   node test/build.mjs test/slow && node --test out/test/slow/torch-arch-walker.test.js
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { maxRelErr, setup, sum } from '../helpers/backend';
import { ROOT, torchPython } from '../helpers/onnx-fixtures';
import { tmpDir } from '../helpers/tmp';
import { disposeModel, explain, INPUT, loadModel } from '../../src/engine/explain';
import { decodeNpy } from '../../src/engine/image/npy';

const TOL = 1e-4;
const NETS = ['tiny_residual', 'tiny_concat'];
const py = torchPython();
const skip = py ? false : 'no python3 with torch + torchvision (/usr/bin/python3: Debian python3-torch, python3-torchvision): the PyTorch walker cannot run';

/** NCHW (batch 1) to the engine's NHWC. */
function toNhwc(d: Float32Array, [, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(d.length);
  for (let k = 0; k < c; k++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[(i * w + j) * c + k] = d[(k * h + i) * w + j];
  return out;
}

before(async () => {
  await setup();
});

for (const biasFree of [false, true]) {
  describe(`PyTorch architecture walker = engine${biasFree ? ' (bias-free)' : ''}`, { skip }, () => {
    let dir = '';
    before(() => {
      dir = tmpDir('fgcam-torch-arch-');
      const args = [path.join(ROOT, 'bench', 'torch_arch_bench.py'), '--models', NETS.join(','), '--runs', '0', '--map-out', dir];
      if (biasFree) args.push('--bias-free');
      const r = spawnSync(py!, args, { encoding: 'utf8' });
      assert.equal(r.status, 0, `torch_arch_bench.py failed:\n${r.stderr}`);
    });
    for (const net of NETS) {
      it(net, async (t) => {
        const file = (ext: string) => path.join(dir, net + ext);
        const ref = JSON.parse(fs.readFileSync(file('.json'), 'utf8')) as { class: number; sum_E: number; sum_R_input: number };
        const input = decodeNpy(fs.readFileSync(file('.input.npy')));
        const map = decodeNpy(fs.readFileSync(file('.map.npy')));
        const g = await loadModel(file('.onnx'));
        try {
          assert.deepEqual(g.inputShape, [32, 32, 3]);
          const ex = await explain(g, toNhwc(input.data as Float32Array, input.shape), { base: 'gradcam', denoise: false, layers: [INPUT] });
          assert.equal(ex.classIndex, ref.class, 'target class');
          const ours = ex.maps[INPUT];
          assert.deepEqual([ours.height, ours.width], map.shape);
          const err = maxRelErr(ours.raw, map.data);
          const msg = `max |engine - torch| / max |torch| = ${err.toExponential(2)}; sum(E) ${ref.sum_E.toExponential(4)}, sum(input map) torch ${ref.sum_R_input.toExponential(4)}, engine ${sum(ours.raw).toExponential(4)}`;
          t.diagnostic(msg);
          console.log(`[${net}${biasFree ? ', bias-free' : ''}] ${msg}`);
          assert.ok(err < TOL, msg);
          if (biasFree) assert.ok(Math.abs(ref.sum_R_input - ref.sum_E) <= 1e-5 * Math.abs(ref.sum_E), `PyTorch walker conservation: ${msg}`);
        } finally {
          disposeModel(g);
        }
      });
    }
  });
}
