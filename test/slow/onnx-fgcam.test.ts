// FG-CAM on an ONNX model: the VGG16-BN-shaped fixture network exported by PyTorch to ONNX
// (tools/export_fixture_onnx.py, same seeded weights) must give the PyTorch reference maps
// of test/fixtures/vgg16bn-small at every stored layer, both bases, with and without denoising.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { maxRelErr, setup } from '../helpers/backend';
import { cacheDir } from '../helpers/cache';
import { explain, loadModel } from '../../src/engine/explain';
import { decodeNpy } from '../../src/engine/image/npy';
import type { Graph } from '../../src/engine/model/graph';

const ROOT = path.join(__dirname, '..', '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures', 'vgg16bn-small');
const ONNX = path.join(cacheDir('onnx'), 'vgg16bn-small.onnx');
const expected = JSON.parse(fs.readFileSync(path.join(FIX, 'expected.json'), 'utf8'));
const npy = (f: string) => decodeNpy(fs.readFileSync(path.join(FIX, f)));

if (!fs.existsSync(ONNX)) {
  fs.mkdirSync(path.dirname(ONNX), { recursive: true });
  spawnSync('/usr/bin/python3', [path.join(ROOT, 'tools', 'export_fixture_onnx.py'), ONNX], { stdio: 'inherit' });
}
const skip = !fs.existsSync(ONNX) && 'no ONNX export (needs Debian python3-torch)';

let g: Graph;
/** Keras-style fixture name -> ONNX node name, through the PyTorch module index. */
const onnxName = new Map<string, string>();
before(async () => {
  if (skip) return;
  await setup();
  g = await loadModel(ONNX);
  (expected.layers as string[]).forEach((name, i) => {
    const node = g.nodes.find((n) => n.name.startsWith(`/features/features.${i}/`));
    if (node) onnxName.set(name, node.name);
  });
  onnxName.set('input', 'input');
});

describe('FG-CAM on an ONNX export agrees with the PyTorch reference', { skip }, () => {
  it('maps every fixture layer to an ONNX node, NCHW input read as the same image', () => {
    assert.equal(onnxName.size, expected.layers.length + 1);
    assert.deepEqual(g.inputShape, expected.input_shape);
    assert.equal(g.defaultPreprocess, 'imagenet');
  });
  for (const c of expected.cases.filter((k: { svd_d?: number }) => k.svd_d !== 0)) {
    it(c.id, async () => {
      const ex = await explain(g, npy('input.npy').data, { base: c.base, denoise: c.denoise, camLayer: onnxName.get(c.cam_layer) });
      assert.equal(ex.classIndex, c.target_class);
      for (const [layer, m] of Object.entries(c.maps) as Array<[string, { file: string }]>) {
        const ours = ex.maps[onnxName.get(layer)!];
        assert.ok(ours, `no map at ${layer} (${onnxName.get(layer)})`);
        const err = maxRelErr(ours.raw, npy(m.file).data);
        assert.ok(err < 1e-4, `${c.id} ${layer}: rel err ${err}`);
      }
    });
  }
});
