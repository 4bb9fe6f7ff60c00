// Agreement with an independent PyTorch implementation of the method (float64 walk)
// on a VGG16-BN-shaped network: raw maps at several layers, both bases, ± denoising,
// plus the plain base CAMs. Fixtures: python3 tools/make_fixtures.py.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { setup, maxRelErr } from '../helpers/backend';
import { explain, loadModel } from '../../src/engine/explain';
import { decodeNpy } from '../../src/engine/image/npy';
import type { Graph } from '../../src/engine/model/graph';

const DIR = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'vgg16bn-small');
const npy = (f: string) => decodeNpy(fs.readFileSync(path.join(DIR, f)));
const expected = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8'));
const TOL = 1e-4; // max |ours - torch| / max |torch|, per map

let g: Graph;
let x: Float32Array;
before(async () => {
  await setup();
  g = await loadModel(path.join(DIR, 'model.json'));
  x = npy('input.npy').data;
});

describe('FG-CAM raw maps agree with the PyTorch reference', () => {
  // Cases whose CAM map has < 10 positions have d = 0 in the paper's formula (all-zero
  // maps); we keep one singular value there (ours), so they are not comparable.
  for (const c of expected.cases.filter((k: { svd_d?: number }) => k.svd_d !== 0)) {
    it(`${c.id}: every stored layer`, async () => {
      const ex = await explain(g, x, { base: c.base, denoise: c.denoise, camLayer: c.cam_layer });
      assert.equal(ex.classIndex, c.target_class);
      for (const [layer, m] of Object.entries(c.maps) as Array<[string, { file: string; shape: number[] }]>) {
        const ref = npy(m.file);
        const ours = ex.maps[layer];
        assert.ok(ours, `map at ${layer}`);
        assert.deepEqual([ours.height, ours.width], ref.shape);
        const err = maxRelErr(ours.raw, ref.data);
        assert.ok(err < TOL, `${c.id} ${layer}: rel err ${err}`);
      }
    });
  }
});

describe('plain base CAMs agree with the PyTorch reference', () => {
  for (const b of expected.basecam) {
    it(`${b.base} at ${b.layer}`, async () => {
      const ex = await explain(g, x, { base: b.base, denoise: false, baseCamLayers: [b.layer] });
      const err = maxRelErr(ex.baseMaps[b.layer].raw, npy(b.file).data);
      assert.ok(err < TOL, `rel err ${err}`);
    });
  }
});

it('logits agree with PyTorch', async () => {
  const ex = await explain(g, x, { base: 'gradcam', denoise: false });
  const logits = npy('logits.npy').data;
  const soft = Array.from(logits, (v) => Math.exp(v - Math.max(...logits)));
  const z = soft.reduce((a, b) => a + b, 0);
  assert.ok(maxRelErr(ex.probs, soft.map((v) => v / z)) < 1e-5);
});
