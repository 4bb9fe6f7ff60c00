// The compiled explanation graph: one session serves every switch the panel offers (class,
// base, denoising, layers shown), and what it computes in one run equals the two-step path
// (components from the gradient graph, then the separate walk graph) for every base.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomInput, tinyVgg } from '../helpers/graphs';
import { resnetLike } from '../helpers/arch-graphs';
import { maxRelErr } from '../helpers/backend';
import { detectCamLayer, explain, fgcamWalk, INPUT } from '../../src/engine/explain';
import { gradientsOrt } from '../../src/engine/compute';
import { cachedPrograms, initRuntime } from '../../src/engine/runtime';
import { GRADIENT_BASES } from '../../src/engine/rules/cam-weights';
import type { BaseMethod } from '../../src/engine/types';

before(async () => {
  await initRuntime('native');
});

describe('one compiled explanation per model', () => {
  it('class, base and denoise switches build no new session', async () => {
    const g = tinyVgg(3);
    const x = randomInput(g, 5);
    const run = (base: BaseMethod, denoise: boolean, classIndex?: number) => explain(g, x, { base, denoise, classIndex });
    await run('gradcam', false);
    await run('gradcam', true);
    await run('scorecam', false);
    const built = cachedPrograms(g);
    // explain, gradient (components at the CAM layer), gradient (activations), Score-CAM's masks
    assert.equal(built, 4);
    const maps = new Map<string, Float32Array>();
    for (const base of [...GRADIENT_BASES, 'scorecam'] as const) {
      for (const denoise of [false, true]) {
        for (const c of [0, 2]) maps.set(`${base} ${denoise} ${c}`, (await run(base, denoise, c)).maps[INPUT].raw);
      }
    }
    assert.equal(cachedPrograms(g), built);
    // The inputs were used: every base, class and denoise setting gave its own map.
    const distinct = new Set([...maps.values()].map((m) => Array.from(m.subarray(0, 16), (v) => v.toPrecision(6)).join()));
    assert.equal(distinct.size, maps.size);
  });

  for (const [name, g] of [
    ['VGG-shaped', tinyVgg(4)],
    ['residual', resnetLike(11, 32)],
  ] as const) {
    it(`${name}: one run equals components then walk, for every gradient-based base (1e-5)`, async () => {
      const x = randomInput(g, 9);
      const cam = detectCamLayer(g);
      for (const base of GRADIENT_BASES) {
        const one = await explain(g, x, { base, denoise: false, classIndex: 1 });
        const fw = await gradientsOrt(g, x, 1, [cam], false, [], base);
        const comp = fw.comps.get(cam)!;
        assert.ok(comp.data.some((v) => v !== 0), `${base}: components not all zero`);
        const two = await fgcamWalk(g, x, cam, comp.data, comp.shape);
        for (const [layer, m] of Object.entries(two)) {
          const err = maxRelErr(one.maps[layer].raw, m.raw);
          assert.ok(err < 1e-5, `${base} at ${layer}: rel err ${err}`);
        }
      }
    });
  }
});
