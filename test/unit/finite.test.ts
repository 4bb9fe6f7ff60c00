// Non-finite class scores on the product's path (ONNX Runtime): the error names the first layer
// in model order whose output is not finite, found from one more run that returns every node's
// output (finite.ts nodeOutputsOrt). hostile-explain.test.ts covers the CLI's message.
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomInput, tinyVgg } from '../helpers/graphs';
import { setup } from '../helpers/backend';
import { explain } from '../../src/engine/explain';
import { nodeOutputsOrt } from '../../src/engine/finite';
import { nodeByName, type Graph } from '../../src/engine/model/graph';

before(setup);

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** tinyVgg with every weight of `layer`'s op set to NaN. */
function broken(layer: string): Graph {
  const g = tinyVgg(4);
  const op = nodeByName(g, layer).op as { weight: { data: Float32Array } };
  op.weight.data.fill(NaN);
  return g;
}

test('NaN weights in a middle conv: the error names that conv, not an earlier or later layer', async () => {
  for (const layer of ['b1_conv1', 'b2_conv2', 'fc1']) {
    const g = broken(layer);
    const n = nodeByName(g, layer);
    await assert.rejects(
      explain(g, randomInput(g), { base: 'gradcam', denoise: false }),
      new RegExp(`the class scores \\(logits\\) contain NaN or infinite values\\. The first layer whose output is not finite is '${esc(layer)}' \\(${esc(n.className)}\\)`),
    );
  }
});

test('an infinite input is named as the input (the preprocessing), with Score-CAM too', async () => {
  const g = tinyVgg(4);
  const x = randomInput(g);
  x[5] = Infinity;
  for (const base of ['gradcam', 'scorecam'] as const) {
    await assert.rejects(explain(g, x, { base, denoise: false }), /contain NaN or infinite values\. The input itself is not finite/);
  }
});

test('every node output, in model order, with its full size (a healthy model: all finite)', async () => {
  const g = tinyVgg(4);
  const out = await nodeOutputsOrt(g, randomInput(g));
  assert.deepEqual([...out.keys()], g.nodes.map((n) => n.name));
  for (const n of g.nodes) {
    const a = out.get(n.name)!;
    assert.equal(a.length, n.outputShape.reduce((p, d) => p * d, 1), n.name);
    assert.ok(a.every(Number.isFinite), n.name);
  }
});
