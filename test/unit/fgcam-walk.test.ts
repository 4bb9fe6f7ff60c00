// Whole-network walks: conservation at every layer, explain() end to end, no leaks.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf } from '../reference/tfjs';
import { GraphBuilder, randomInput, tinyVgg } from '../helpers/graphs';
import { setup, sum } from '../helpers/backend';
import { explain, listLayers, detectCamLayer, fgcamWalk } from '../../src/engine/explain';
import { gradientsOrt } from '../../src/engine/compute';
import { scorecamComponents } from '../../src/engine/cam/weights';
import type { Graph } from '../../src/engine/model/graph';

before(setup);

/** A small residual + concat + depthwise + strided graph (ResNet/MobileNet/DenseNet pieces). */
function mixedNet(): Graph {
  const b = new GraphBuilder([16, 16, 3], 3);
  // A bias can switch a unit on whose z+ denominator is 0; that relevance is
  // dropped by definition, so exact conservation is checked without biases.
  b.noBias = true;
  const pad = b.add('stem_pad', { kind: 'pad', pads: [1, 1, 1, 1] }, ['in']);
  let cur = b.conv('stem', pad, 3, 8, 3, { strides: 2, padding: 'valid', act: { fn: 'relu' } });
  const a = b.conv('res_a', cur, 8, 8, 3, { act: { fn: 'relu' } });
  const bb = b.conv('res_b', a, 8, 8, 3);
  cur = b.add('res_add', { kind: 'add' }, [cur, bb], { fn: 'relu' });
  const dw = b.depthwise('dw', cur, 8, 1, 3, 2);
  const dwr = b.add('dw_relu6', { kind: 'activation' }, [dw], { fn: 'relu6' });
  const pw = b.conv('pw', dwr, 8, 6, 1, { act: { fn: 'relu' } });
  const side = b.conv('side', pw, 6, 4, 3, { act: { fn: 'relu' } });
  cur = b.add('cat', { kind: 'concat', axis: 3 }, [pw, side]);
  cur = b.conv('head_conv', cur, 10, 12, 3, { strides: 2, act: { fn: 'swish' } });
  cur = b.add('gap', { kind: 'globalavgpool', keepDims: false }, [cur]);
  cur = b.dense('logits', cur, 12, 4);
  return b.build(cur);
}

/** Components of class 1 at camLayer, carried down by the compiled FG-CAM walk. */
async function checkWalk(g: Graph, camLayer: string, base: 'gradcam' | 'scorecam') {
  const x = randomInput(g);
  const fw = await gradientsOrt(g, x, 1, [camLayer], false, [], base === 'gradcam' ? 'gradcam' : undefined);
  const a = fw.acts.get(camLayer)!;
  const e = base === 'gradcam' ? fw.comps.get(camLayer)!.data : await scorecamComponents(g, x, a, { classIndex: 1, batch: 4 });
  const total = sum(e);
  const maps = await fgcamWalk(g, x, camLayer, e, a.shape);
  return { total, maps };
}

describe('conservation down whole networks', () => {
  for (const base of ['gradcam', 'scorecam'] as const) {
    it(`VGG-shaped chain (${base}): sum(map) = sum(components) at every layer`, async () => {
      const g = tinyVgg();
      const { total, maps } = await checkWalk(g, detectCamLayer(g), base);
      assert.ok(Math.abs(total) > 1e-6, 'components are not all zero');
      const spatial = listLayers(g).filter((l) => l.spatial).map((l) => l.name);
      assert.deepEqual(Object.keys(maps).sort(), spatial.sort());
      for (const [layer, m] of Object.entries(maps)) {
        assert.ok(Math.abs(sum(m.raw) - total) < 1e-4 * Math.max(1, Math.abs(total)), `${layer}: ${sum(m.raw)} vs ${total}`);
      }
      const [h, w] = g.inputShape;
      assert.equal(maps.input.raw.length, h * w);
    });
  }
  it('residual, depthwise, concat, padding and strided TF-same convs', async () => {
    const g = mixedNet();
    assert.equal(detectCamLayer(g), 'head_conv');
    const { total, maps } = await checkWalk(g, 'head_conv', 'gradcam');
    assert.ok(Math.abs(total) > 1e-6);
    for (const layer of ['head_conv', 'cat', 'pw', 'dw', 'res_add', 'stem', 'stem_pad', 'input']) {
      // the cuts: all relevance passes through each of these
      assert.ok(maps[layer], `map at ${layer}`);
      const s = sum(maps[layer].raw);
      assert.ok(Math.abs(s - total) < 1e-3 * Math.max(1, Math.abs(total)), `${layer}: ${s} vs ${total}`);
    }
  });
});

describe('explain()', () => {
  it('gives top-5, maps at every layer, base CAMs, and finite numbers', async () => {
    const g = tinyVgg();
    const ex = await explain(g, randomInput(g), { base: 'gradcam', denoise: false, baseCamLayers: ['b2_pool'] }, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(ex.top.length, 5);
    assert.equal(ex.top[0].index, ex.classIndex);
    assert.ok(Math.abs(sum(ex.probs) - 1) < 1e-5);
    assert.equal(ex.top[0].label, 'abcde'[ex.classIndex]);
    assert.equal(ex.camLayer, 'b3_pool');
    assert.ok(ex.baseMaps.b2_pool.raw.every(Number.isFinite));
    // Base CAM at the CAM layer equals FG-CAM's map there (same components, summed).
    const again = await explain(g, randomInput(g), { base: 'gradcam', denoise: false, baseCamLayers: ['b3_pool'] });
    assert.deepEqual(Array.from(again.baseMaps.b3_pool.raw), Array.from(again.maps.b3_pool.raw));
  });
  it('denoising changes the components and keeps every map finite', async () => {
    const g = tinyVgg(2, 32, [8, 16, 16]);
    const x = randomInput(g);
    const plain = await explain(g, x, { base: 'gradcam', denoise: false });
    const den = await explain(g, x, { base: 'gradcam', denoise: true });
    assert.ok(Object.values(den.maps).every((m) => m.raw.every(Number.isFinite)));
    assert.notDeepEqual(Array.from(plain.maps.input.raw), Array.from(den.maps.input.raw));
  });
  it('rejects an out-of-range class with a clear message', async () => {
    const g = tinyVgg();
    await assert.rejects(explain(g, randomInput(g), { base: 'gradcam', denoise: false, classIndex: 99 }), /out of range.*5 classes/);
  });
  it('leaks no tensors over many explanations', async () => {
    const g = tinyVgg();
    const x = randomInput(g);
    await explain(g, x, { base: 'gradcam', denoise: true }); // warm caches (W⁺ copies)
    await explain(g, x, { base: 'scorecam', denoise: false, baseCamLayers: ['b1_pool'] });
    const start = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) {
      await explain(g, x, { base: i % 2 ? 'gradcam' : 'scorecam', denoise: i % 3 === 0, classIndex: i % 5, baseCamLayers: ['b1_pool', 'input'] });
    }
    assert.equal(tf.memory().numTensors, start);
  });
});
