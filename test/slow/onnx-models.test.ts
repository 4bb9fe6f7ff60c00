// Slow: torchvision VGG16-BN, ResNet-50, MobileNetV2, DenseNet-121 (seeded weights) exported to
// ONNX by tools/make_onnx_fixtures.py into $FGCAM_CACHE/onnx/ (generated when missing and python3-torch
// is installed); the product's logits (the compiled predict graph on ONNX Runtime) must match
// PyTorch's within 1e-4 relative (max |diff| / max |logit|).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../src/engine/backend';
import { loadGraph } from '../../src/engine/model/load';
import { disposeModel } from '../../src/engine/explain';
import { predictOrt } from '../../src/engine/compute';
import { ensureOnnxFixtures, ONNX_CACHE } from '../helpers/onnx-fixtures';
import { decodeNpy } from '../../src/engine/image/npy';

const CACHE = ONNX_CACHE;
const MODELS: Record<string, { minNodes: number }> = {
  mobilenet_v2: { minNodes: 100 },
  resnet50: { minNodes: 120 },
  densenet121: { minNodes: 370 },
  vgg16_bn: { minNodes: 50 },
};

let skipReason: string | false = false;
before(async () => {
  await initBackend();
  skipReason = ensureOnnxFixtures(Object.keys(MODELS));
});

const readNpy = (p: string) => decodeNpy(fs.readFileSync(p));

/** PyTorch's NCHW input [1, c, h, w] as the engine takes it (NHWC). */
function nhwc(data: Float32Array, shape: number[]): Float32Array {
  const [, c, h, w] = shape;
  const out = new Float32Array(data.length);
  for (let k = 0; k < c; k++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[(i * w + j) * c + k] = data[(k * h + i) * w + j];
  return out;
}

for (const [name, exp] of Object.entries(MODELS)) {
  test(`ONNX ${name}: logits match PyTorch`, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const t0 = Date.now();
    const g = await loadGraph(path.join(CACHE, `${name}.onnx`));
    const loadMs = Date.now() - t0;
    assert.ok(g.nodes.length >= exp.minNodes, `${g.nodes.length} nodes`);
    assert.deepEqual(g.inputShape, [224, 224, 3]);
    const input = readNpy(path.join(CACHE, `${name}.input.npy`));
    const want = readNpy(path.join(CACHE, `${name}.logits.npy`)).data;
    const got = (await predictOrt(g, nhwc(input.data, input.shape), 1)).logits;
    let d = 0;
    let m = 0;
    for (let i = 0; i < want.length; i++) {
      d = Math.max(d, Math.abs(got[i] - want[i]));
      m = Math.max(m, Math.abs(want[i]));
    }
    t.diagnostic(`${name}: ${g.nodes.length} nodes, load ${loadMs} ms, rel err ${(d / m).toExponential(2)}`);
    assert.equal(got.length, 1000);
    assert.ok(d / m < 1e-4, `relative error ${d / m}`);
    disposeModel(g);
  });
}
