// Slow: torchvision VGG16-BN, ResNet-50, MobileNetV2, DenseNet-121 (seeded weights) exported to
// ONNX by tools/make_onnx_fixtures.py into $FGCAM_CACHE/onnx/ (generated when missing and python3-torch
// is installed); our logits must match PyTorch's within 1e-4 relative (max |diff| / max |logit|).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../reference/tfjs';
import { initBackend } from '../../src/engine/backend';
import { disposeGraph } from '../../src/engine/model/graph';
import { loadGraph } from '../../src/engine/model/load';
import { runForward } from '../reference/forward';
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

for (const [name, exp] of Object.entries(MODELS)) {
  test(`ONNX ${name}: logits match PyTorch`, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const before = tf.memory().numTensors;
    const t0 = Date.now();
    const g = await loadGraph(path.join(CACHE, `${name}.onnx`), { inferShapes: false });
    const loadMs = Date.now() - t0;
    assert.ok(g.nodes.length >= exp.minNodes, `${g.nodes.length} nodes`);
    assert.deepEqual(g.inputShape, [224, 224, 3]);
    const input = readNpy(path.join(CACHE, `${name}.input.npy`));
    const want = readNpy(path.join(CACHE, `${name}.logits.npy`)).data;
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(input.data, input.shape as [number, number, number, number]), [0, 2, 3, 1]));
    const r = runForward(g, x, false);
    const got = r.logits.dataSync();
    let d = 0;
    let m = 0;
    for (let i = 0; i < want.length; i++) {
      d = Math.max(d, Math.abs(got[i] - want[i]));
      m = Math.max(m, Math.abs(want[i]));
    }
    t.diagnostic(`${name}: ${g.nodes.length} nodes, load ${loadMs} ms, rel err ${(d / m).toExponential(2)}`);
    assert.equal(got.length, 1000);
    assert.ok(d / m < 1e-4, `relative error ${d / m}`);
    tf.dispose([x, r.logits, ...r.acts.values()]);
    disposeGraph(g);
    assert.equal(tf.memory().numTensors, before);
  });
}
