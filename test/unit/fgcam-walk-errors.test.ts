// Layers the walk cannot pass: a clear error that names them and lists what can still be explained.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { tf } from '../reference/tfjs';
import { GraphBuilder, randomInput } from '../helpers/graphs';
import { setup } from '../helpers/backend';
import { detectCamLayer, explain, fgcamWalk } from '../../src/engine/explain';
import { WalkError } from '../../src/engine/fgcam/walk';
import { FGCAM } from '../../src/engine/rules/fgcam';
import { nodeByName, type Graph } from '../../src/engine/model/graph';

before(setup);

/**
 * in -> conv_a -> flatten -> fc -> reshape [4,4,2] -> conv_b -> conv_c -> GAP -> logits:
 * a dense bottleneck below the last spatial map (as in some autoencoder-style heads).
 * standaloneRelu: conv_c's ReLU as its own node 'relu_c' (then the CAM layer).
 */
function denseBelowCam(standaloneRelu = false): Graph {
  const b = new GraphBuilder([4, 4, 3], 5);
  let cur = b.conv('conv_a', 'in', 3, 2, 3, { act: { fn: 'relu' } });
  cur = b.add('flatten', { kind: 'flatten' }, [cur]);
  cur = b.dense('fc', cur, 32, 32, { fn: 'relu' });
  cur = b.add('reshape', { kind: 'reshape', shape: [4, 4, 2] }, [cur]);
  cur = b.conv('conv_b', cur, 2, 4, 3, { act: { fn: 'relu' } });
  if (standaloneRelu) cur = b.relu('relu_c', b.conv('conv_c', cur, 4, 4, 3));
  else cur = b.conv('conv_c', cur, 4, 4, 3, { act: { fn: 'relu' } });
  cur = b.add('gap', { kind: 'globalavgpool', keepDims: false }, [cur]);
  return b.build(b.dense('logits', cur, 4, 3));
}

/**
 * Two branches from conv_a: one through flatten/dense/reshape, one plain conv; joined by an add.
 * conv_side does not feed the dense branch, so it can still be explained; conv_a cannot.
 */
function branchy(): Graph {
  const b = new GraphBuilder([4, 4, 3], 6);
  const a = b.conv('conv_a', 'in', 3, 2, 3, { act: { fn: 'relu' } });
  let d = b.add('flatten', { kind: 'flatten' }, [a]);
  d = b.dense('fc', d, 32, 32, { fn: 'relu' });
  d = b.add('reshape', { kind: 'reshape', shape: [4, 4, 2] }, [d]);
  const s = b.conv('conv_side', a, 2, 2, 3, { act: { fn: 'relu' } });
  let cur = b.add('join', { kind: 'add' }, [d, s]);
  cur = b.conv('conv_top', cur, 2, 4, 3, { act: { fn: 'relu' } });
  cur = b.add('gap', { kind: 'globalavgpool', keepDims: false }, [cur]);
  return b.build(b.dense('logits', cur, 4, 3));
}

async function walkError(g: Graph, camLayer?: string): Promise<WalkError> {
  try {
    await explain(g, randomInput(g), { base: 'gradcam', denoise: false, camLayer });
  } catch (e) {
    assert.ok(e instanceof WalkError, `expected a WalkError, got ${(e as Error).message}`);
    return e;
  }
  throw new Error('explain() did not fail');
}

describe('layers the walk cannot pass', () => {
  it('reshape/dense below the CAM layer: names the layer and the layers above it', async () => {
    const g = denseBelowCam();
    assert.equal(detectCamLayer(g), 'conv_c');
    const e = await walkError(g);
    assert.equal(e.layer, 'reshape');
    assert.equal(e.className, 'reshape');
    assert.deepEqual(e.explainable, ['reshape', 'conv_b', 'conv_c']);
    assert.match(e.message, /cannot walk down through layer 'reshape' \(reshape\): reshape belongs above the CAM layer\./);
    assert.match(e.message, /can still be explained \(3, between it and the CAM layer 'conv_c'\): reshape, conv_b, conv_c\./);
    assert.match(e.message, /or a CAM layer below 'reshape'/);
    // The maps the walk finished are kept on the error.
    assert.deepEqual(Object.keys(e.maps).sort(), ['conv_b', 'conv_c', 'reshape']);
  });

  it('with a CAM layer override, lists only the layers up to that CAM layer', async () => {
    const e = await walkError(denseBelowCam(), 'conv_b');
    assert.deepEqual(e.explainable, ['reshape', 'conv_b']);
    assert.match(e.message, /CAM layer 'conv_b'/);
  });

  it('branches: layers beside the failing one stay explainable, the ones feeding it do not', async () => {
    const g = branchy();
    const e = await walkError(g);
    assert.equal(e.layer, 'reshape');
    assert.deepEqual(e.explainable, ['reshape', 'conv_side', 'join', 'conv_top']);
    assert.ok(!e.explainable.includes('conv_a'));
  });

  it('an op kind without a rule is named as such', async () => {
    // ReLUs fused into convs need no rule of their own: use a standalone activation node, and a
    // composite (the walk's parameter) that lacks the activation rule.
    const g = denseBelowCam(true);
    const cam = detectCamLayer(g);
    const shape = nodeByName(g, cam).outputShape as [number, number, number];
    const { activation: _dropped, ...rules } = FGCAM.rules;
    const e = await fgcamWalk(g, randomInput(g), cam, new Float32Array(shape[0] * shape[1] * shape[2]).fill(1), shape, { name: 'no activation rule', rules }).then(
      () => assert.fail('the walk did not fail'),
      (err: Error) => err,
    );
    assert.ok(e instanceof WalkError, e.message);
    assert.equal(e.layer, 'relu_c');
    assert.match(e.message, /'relu_c' \(activation\): there is no relevance rule for its op kind 'activation'\./);
    assert.deepEqual(e.explainable, ['relu_c']);
  });

  it('leaks no tensors when the walk fails', async () => {
    const g = branchy();
    await walkError(g);
    const start = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await walkError(g);
    assert.equal(tf.memory().numTensors, start);
  });
});
