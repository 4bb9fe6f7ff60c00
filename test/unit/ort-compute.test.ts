// The compiled ONNX graphs on ONNX Runtime against the tfjs reference of the same engine
// (test/reference/: an independent computation, other kernels, other code): forward logits and
// activations, gradients at every spatial layer, and the FG-CAM and LRP reverse passes.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf } from '../reference/tfjs';
import { randomInput, tinyVgg } from '../helpers/graphs';
import { densenetLike, mobilenetV2Like, resnetLike } from '../helpers/arch-graphs';
import { maxRelErr, onCpu, setup, sum } from '../helpers/backend';
import { runForward, disposeForward } from '../reference/forward';
import { gradientsAt } from '../reference/components';
import { walk } from '../reference/walk';
import { isSpatial } from '../../src/engine/fgcam/walk';
import { lrp } from '../reference/methods';
import { detectCamLayer } from '../../src/engine/explain';
import { gradientsOrt, predictOrt, walkOrt } from '../../src/engine/compute';
import { FGCAM } from '../../src/engine/rules/fgcam';
import { LRP } from '../../src/engine/rules/lrp';
import { initRuntime } from '../../src/engine/runtime';
import type { Graph } from '../../src/engine/model/graph';
import { methodMaps, parseMethod } from '../../src/engine/metrics/compare';
import { methodMapsTfjs } from '../reference/explain';

before(async () => {
  await setup();
  await initRuntime('native');
});

const GRAPHS: Array<[string, () => Graph]> = [
  ['VGG-shaped chain', () => tinyVgg(3)],
  ['residual (ResNet-like)', () => resnetLike(11, 32)],
  ['concat (DenseNet-like)', () => densenetLike(12, 32)],
  ['depthwise, relu6, linear bottlenecks (MobileNetV2-like)', () => mobilenetV2Like(13, 32)],
];

const spatialLayers = (g: Graph) => g.nodes.filter((n) => isSpatial(n) && n.op.kind !== 'input').map((n) => n.name);

for (const [name, make] of GRAPHS) {
  describe(`ONNX Runtime agrees with tfjs: ${name}`, () => {
    const g = make();
    const x = randomInput(g, 5);
    const x2 = randomInput(g, 6);

    it('logits of a batch of 2 (1e-5 relative)', async () => {
      const both = new Float32Array(2 * x.length);
      both.set(x);
      both.set(x2, x.length);
      const ours = await predictOrt(g, both, 2);
      const ref = tf.tidy(() => runForward(g, tf.tensor4d(both, [2, ...g.inputShape]), false).logits.dataSync());
      assert.ok(maxRelErr(ours.logits, ref) < 1e-5, `rel err ${maxRelErr(ours.logits, ref)}`);
      const s0 = sum(ours.probs.subarray(0, ours.classes));
      assert.ok(Math.abs(s0 - 1) < 1e-5);
    });

    it('activations and ∂y_c/∂A at every spatial layer', async () => {
      const layers = spatialLayers(g);
      const ours = await gradientsOrt(g, x, -1, layers, true);
      // tfjs autograd on cpu: wasm lacks some gradient kernels (depthwise).
      const ref = await onCpu(() => {
        const xt = tf.tensor4d(x, [1, ...g.inputShape]);
        const fwd = runForward(g, xt, true);
        const c = tf.argMax(fwd.logits, 1).dataSync()[0];
        const grads = gradientsAt(g, xt, layers, c, fwd.acts);
        const out = { c, acts: new Map(layers.map((l) => [l, fwd.acts.get(l)!.dataSync()])), grads: new Map(layers.map((l) => [l, grads.get(l)!.dataSync()])) };
        grads.forEach((t) => t.dispose());
        disposeForward(fwd, [xt]);
        xt.dispose();
        return out;
      });
      assert.equal(ours.classIndex, ref.c);
      for (const l of layers) {
        const a = ref.acts.get(l)!;
        assert.ok(maxRelErr(ours.acts.get(l)!.data, a) < 1e-5, `${l} act: ${maxRelErr(ours.acts.get(l)!.data, a)}`);
        const gr = ref.grads.get(l)!;
        assert.ok(maxRelErr(ours.grads.get(l)!.data, gr) < 1e-4, `${l} grad: ${maxRelErr(ours.grads.get(l)!.data, gr)}`);
      }
    });

    it('FG-CAM and LRP maps at every layer from the CAM layer down', async () => {
      const cam = detectCamLayer(g);
      const xt = tf.tensor4d(x, [1, ...g.inputShape]);
      const fwd = runForward(g, xt, true);
      const c = tf.argMax(fwd.logits, 1).dataSync()[0];
      const a = fwd.acts.get(cam)!;
      // Relevance placed at the CAM layer: the activation itself (any non-trivial tensor serves).
      const ref = walk(g, fwd.acts, cam, a, xt);
      const ours = await walkOrt(g, x, FGCAM, cam, { r: { data: a.dataSync() as Float32Array, shape: a.shape.slice(1) as [number, number, number] } });
      const refLrp = lrp(g, fwd.acts, fwd.logits, xt, cam, c);
      const oursLrp = await walkOrt(g, x, LRP, cam, { classIndex: c });
      for (const [label, mine, theirs] of [['FG-CAM', ours.maps, ref], ['LRP', oursLrp.maps, refLrp]] as const) {
        assert.deepEqual(Object.keys(mine).sort(), Object.keys(theirs).map((k) => (k === 'input' ? g.nodes[0].name : k)).sort(), label);
        for (const [k, m] of Object.entries(theirs)) {
          const o = mine[k === 'input' ? g.nodes[0].name : k];
          assert.ok(maxRelErr(o.raw, m.raw) < 1e-4, `${label} ${k}: rel err ${maxRelErr(o.raw, m.raw)}`);
        }
      }
      disposeForward(fwd, [xt]);
      xt.dispose();
    });
  });
}

describe('methodMaps (Compare methods, --method, evaluate) on ONNX Runtime agrees with the tfjs reference', () => {
  for (const [name, make] of GRAPHS.slice(0, 2)) {
    it(`every method at every layer: ${name}`, async () => {
      const g = make();
      const x = randomInput(g, 7);
      const ids = ['fgcam-gradcam', 'fgcam-gradcam-denoised', 'fgcam-scorecam', 'gradcam', 'gradcampp', 'xgradcam', 'layercam', 'scorecam', 'lrp', 'random'];
      const layers = ['input', ...spatialLayers(g)];
      const ours = await methodMaps(g, x, ids.map(parseMethod), layers);
      const ref = await methodMapsTfjs(g, x, ids.map(parseMethod), layers);
      assert.equal(ours.classIndex, ref.classIndex);
      assert.ok(maxRelErr(ours.probs, ref.probs) < 1e-5);
      let compared = 0;
      for (const id of ids) {
        assert.deepEqual(Object.keys(ours.maps[id]).sort(), Object.keys(ref.maps[id]).sort(), id);
        for (const [layer, m] of Object.entries(ref.maps[id])) {
          const err = maxRelErr(ours.maps[id][layer].raw, m.raw);
          // Grad-CAM++ and XGrad-CAM divide by sums over the map (2g² + ΣA·g³, ΣA) that nearly
          // cancel at some low layers of the residual net: there they amplify the gradients'
          // float32 rounding (each within 1e-4, see above) up to ~2e-3.
          const bound = id === 'gradcampp' || id === 'xgradcam' ? 5e-3 : 1e-4;
          assert.ok(err < bound, `${id} at ${layer}: rel err ${err}`);
          compared++;
        }
      }
      assert.ok(compared > ids.length * 2, `${compared} maps compared`);
    });
  }
});
