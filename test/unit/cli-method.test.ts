// `fgcam explain --method`: every catalogued method through the built CLI, its raw maps
// checked against the engine's own numbers for the same input (engine/metrics methodMaps,
// explain), and the layer rules of the catalogue as usage errors.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeNpy, readImageFile, toModelInput } from '../../src/engine/image';
import { explain, loadModel } from '../../src/engine/explain';
import { methodMaps } from '../../src/engine/metrics';
import { parseMethod } from '../../src/engine/methods';
import type { LayerMap } from '../../src/engine/types';
import { setup } from '../helpers/backend';
import { fgcam, MODEL, noModel, SAMPLES } from '../helpers/cli';
import { tmpDir } from './imageHelpers';

const IMAGE = path.join(SAMPLES, 'ankle-boot-0.png');

/** Largest difference relative to the largest magnitude of the expected map. */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
  }
  assert.ok(scale > 0, 'the expected map is all zero');
  return diff / scale;
}

test('--method writes each method\'s raw map as the engine computes it, under the documented names', { skip: noModel }, async () => {
  const dir = tmpDir();
  try {
    const r = fgcam('explain', IMAGE, '--model', MODEL, '--method', 'gradcam++', '--method', 'layercam', '--method', 'lrp', '--method', 'fgcam',
      '--method', 'random', '--layer', 'block2_pool', '--layer', 'input', '--raw', '--out', dir, '--json', '--method', 'xgradcam');
    // gradcam++/layercam/xgradcam have no map at the input: a usage error naming where they do.
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /Grad-CAM\+\+ \(--method gradcampp\) has no map at layer "input"\. It gives maps at: block1_conv1, .*block2_pool/);
    assert.deepEqual(fs.readdirSync(dir), [], 'a usage error writes nothing');

    const ok = fgcam('explain', IMAGE, '--model', MODEL, '--method', 'gradcam++', '--method', 'layercam', '--method', 'xgradcam', '--method', 'gradcam',
      '--layer', 'block2_pool', '--raw', '--out', dir, '--json');
    assert.equal(ok.code, 0, ok.err);
    const atInput = fgcam('explain', IMAGE, '--model', MODEL, '--method', 'lrp', '--method', 'fgcam', '--method', 'random', '--layer', 'input', '--layer', 'block2_pool',
      '--raw', '--out', dir, '--json', '--base', 'gradcam');
    // random has no map at block2_pool
    assert.equal(atInput.code, 2);
    assert.match(atInput.err, /Random map \(--method random\) has no map at layer "block2_pool"\. It gives maps at: input$/m);
    const walk = fgcam('explain', IMAGE, '--model', MODEL, '--method', 'lrp', '--method', 'fgcam', '--layer', 'input', '--layer', 'block2_pool', '--raw', '--out', dir, '--json');
    assert.equal(walk.code, 0, walk.err);
    const rnd = fgcam('explain', IMAGE, '--model', MODEL, '--method', 'random', '--raw', '--out', dir);
    assert.equal(rnd.code, 0, rnd.err);
    const doc = JSON.parse(ok.out);
    assert.deepEqual(doc.methods, ['gradcampp', 'layercam', 'xgradcam', 'gradcam']);
    const c = doc.results[0].classIndex;
    assert.equal(c, 9); // Ankle boot, as samples.json records

    await setup();
    const g = await loadModel(MODEL);
    const x = toModelInput(readImageFile(IMAGE), g.inputShape, { preset: 'unit' });
    const ids = ['gradcampp', 'layercam', 'xgradcam', 'gradcam', 'lrp', 'random'];
    const mm = await methodMaps(g, x, ids.map(parseMethod), ['input', 'block2_pool'], { classIndex: c });
    const fg = await explain(g, x, { base: 'gradcam', denoise: false, classIndex: c });
    const want: [string, string, LayerMap][] = [
      ...['gradcampp', 'layercam', 'xgradcam', 'gradcam'].map((id): [string, string, LayerMap] => [`baseline-${id}`, 'block2_pool', mm.maps[id].block2_pool]),
      ['baseline-lrp', 'input', mm.maps.lrp.input],
      ['baseline-lrp', 'block2_pool', mm.maps.lrp.block2_pool],
      ['baseline-random', 'input', mm.maps.random.input],
      ['gradcam', 'input', fg.maps.input],
      ['gradcam', 'block2_pool', fg.maps.block2_pool],
    ];
    for (const [tag, layer, map] of want) {
      const file = path.join(dir, `ankle-boot-0.fgcam-${tag}.${layer}.npy`);
      assert.ok(fs.existsSync(file), `missing ${path.basename(file)}; have ${fs.readdirSync(dir).join(', ')}`);
      const npy = decodeNpy(fs.readFileSync(file));
      assert.deepEqual(npy.shape, [map.height, map.width], file);
      const e = relErr(npy.data, map.raw);
      assert.ok(e < 1e-4, `${path.basename(file)}: relative error ${e}`);
    }
    // The methods differ from each other: the files are not one map under many names.
    const a = decodeNpy(fs.readFileSync(path.join(dir, 'ankle-boot-0.fgcam-baseline-gradcampp.block2_pool.npy'))).data;
    const b = decodeNpy(fs.readFileSync(path.join(dir, 'ankle-boot-0.fgcam-baseline-layercam.block2_pool.npy'))).data;
    assert.ok(relErr(a, b) > 1e-3, 'Grad-CAM++ and LayerCAM wrote the same map');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--method: default layer is the input, else the CAM layer; unknown methods and FG-CAM above the CAM layer are usage errors', { skip: noModel }, () => {
  const dir = tmpDir();
  try {
    const r = fgcam('explain', IMAGE, '--model', MODEL, '--method', 'scorecam', '--method', 'fgcam', '--out', dir, '--json');
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out);
    const cam = doc.results[0].camLayer;
    assert.deepEqual(doc.results[0].files.map((f: string) => path.basename(f)).sort(), [`ankle-boot-0.fgcam-baseline-scorecam.${cam}.png`, 'ankle-boot-0.fgcam-gradcam.input.png'].sort());
    const bad = fgcam('explain', IMAGE, '--model', MODEL, '--method', 'gradcam-denoised');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unknown --method "gradcam-denoised"\. Methods: fgcam, .*gradcam\+\+/);
    const above = fgcam('explain', IMAGE, '--model', MODEL, '--cam-layer', 'block2_pool', '--layer', 'block3_conv1');
    assert.equal(above.code, 2);
    assert.match(above.err, /FG-CAM \(Grad-CAM\) \(--method fgcam-gradcam\) has no map at layer "block3_conv1"\. It gives maps at: input, .*block2_pool \(the CAM layer block2_pool and below; --cam-layer moves it\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
