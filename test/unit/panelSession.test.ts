// The panel without VS Code: a PanelSession on the real engine worker (dist/worker.js, made by
// `node esbuild.mjs`) and the bundled demo model, driven by the webview's messages. Checks
// what it posts, its state, which requests reach the engine (caches) and stale results.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../../src/app/engineClient';
import { PanelSession } from '../../src/app/panelSession';
import type { HostToWebview, ViewState } from '../../src/app/panelProtocol';
import type { ModelSpec } from '../../src/app/protocol';
import { LABELS, MODEL, noModel, ROOT, SAMPLES } from '../helpers/cli';
import { tmpDir } from './imageHelpers';
import { setup as setupBackend, maxRelErr } from '../helpers/backend';
import { disposeModel, explain, loadModel } from '../../src/engine/explain';
import { decodeImage } from '../../src/engine/image/decode';
import { toModelInput } from '../../src/engine/image/preprocess';
import type { Explanation, LayerMap } from '../../src/engine/types';

const DIST = path.join(ROOT, 'dist');
const skip = noModel || (fs.existsSync(path.join(DIST, 'worker.js')) ? false : 'dist/worker.js is not built (node esbuild.mjs)');
const VIEW: ViewState = { base: 'gradcam', denoise: false, layer: 'input', colormap: 'jet', opacity: 0.5, sideBySide: false };
const MODEL_SPEC: ModelSpec = { path: MODEL, labelsPath: LABELS, preprocess: 'auto' };

let engine: EngineClient;
const calls: string[] = [];

/** The real client, with every request to the worker counted. */
function countingEngine(): EngineClient {
  const c = new EngineClient({ distDir: DIST, backend: () => 'auto', log: () => undefined });
  for (const op of ['explain', 'baseMap', 'faithfulness', 'compareMethods'] as const) {
    const f = c[op].bind(c) as (...a: unknown[]) => Promise<unknown>;
    (c as unknown as Record<string, unknown>)[op] = (...a: unknown[]) => (calls.push(op), f(...a));
  }
  return c;
}

function session() {
  const posted: HostToWebview[] = [];
  const errors: string[] = [];
  const titles: string[] = [];
  const s = new PanelSession(
    {
      engine,
      hooks: { resolveModel: async () => MODEL_SPEC, reportError: (e) => errors.push(String((e as Error).message)), exportCurrent: () => undefined, log: () => undefined },
      scoreBatch: () => 8,
      post: (m) => posted.push(m),
      setTitle: (t) => titles.push(t),
    },
    VIEW,
  );
  return { s, posted, errors, titles, types: () => posted.map((m) => m.type) };
}

before(() => {
  if (!skip) engine = countingEngine();
});
after(() => engine?.dispose());

test('open: view, running, then the result with every layer of the walk; state and title follow', { skip }, async () => {
  const { s, posted, titles, types } = session();
  const img = path.join(SAMPLES, 'ankle-boot-0.png');
  calls.length = 0;
  s.open(img, VIEW, MODEL_SPEC);
  await s.waitForIdle();
  assert.deepEqual(types(), ['view', 'running', 'result']);
  assert.deepEqual(titles, ['FG-CAM: ankle-boot-0.png']);
  const r = posted[2] as Extract<HostToWebview, { type: 'result' }>;
  assert.equal(r.result.classIndex, 9); // Ankle boot, as samples.json records
  assert.equal(r.result.labels?.[9], JSON.parse(fs.readFileSync(LABELS, 'utf8'))[9]);
  assert.ok(r.result.maps.input && r.result.maps[r.result.camLayer], 'the walk has the input and the CAM layer');
  const st = s.state();
  assert.equal(st.status, 'done');
  assert.equal(st.classIndex, 9);
  assert.deepEqual(st.mapLayers, Object.keys(r.result.maps));
  assert.deepEqual(calls, ['explain']);
  // The webview reloads: it gets the view and the same result again, without a new request.
  s.onMessage({ type: 'ready' });
  assert.deepEqual(types().slice(3), ['view', 'result']);
  assert.deepEqual(calls, ['explain']);
  s.dispose();
});

test('recompute: a new denoise explains again, going back comes from the cache; visual changes only record', { skip }, async () => {
  const { s, posted, types } = session();
  s.open(path.join(SAMPLES, 'bag-18.png'), VIEW, MODEL_SPEC);
  await s.waitForIdle();
  calls.length = 0;
  s.onMessage({ type: 'recompute', view: { ...VIEW, denoise: true } });
  await s.waitForIdle();
  const denoised = posted[posted.length - 1] as Extract<HostToWebview, { type: 'result' }>;
  assert.equal(denoised.result.denoise, true);
  s.onMessage({ type: 'recompute', view: { ...VIEW, denoise: false } });
  await s.waitForIdle();
  assert.deepEqual(calls, ['explain'], 'going back to a shown explanation asks the engine again');
  assert.deepEqual(types().slice(-3), ['running', 'result', 'result']);
  s.onMessage({ type: 'viewChanged', view: { ...VIEW, layer: 'block1_pool', colormap: 'viridis' } });
  assert.equal(s.state().layer, 'block1_pool');
  assert.equal(s.state().colormap, 'viridis');
  assert.equal(s.currentExport()?.map.layer, 'block1_pool');
  assert.deepEqual(calls, ['explain']);
  s.dispose();
});

test('faithfulness and base maps are cached per view; a new image drops what was asked for the old one', { skip }, async () => {
  const { s, posted } = session();
  const img = path.join(SAMPLES, 'dress-13.png');
  s.open(img, VIEW, MODEL_SPEC);
  await s.waitForIdle();
  calls.length = 0;
  const f1 = await s.faithfulness('block1_pool');
  const f2 = await s.faithfulness('block1_pool');
  assert.equal(f1, f2);
  assert.ok(f1.deletionAuc >= 0 && f1.deletionAuc <= 1 && f1.deletion.length > 2);
  s.onMessage({ type: 'requestBaseMap', key: 'k1', layer: 'block2_pool' });
  await s.waitForIdle();
  s.onMessage({ type: 'requestBaseMap', key: 'k1', layer: 'block2_pool' });
  await s.waitForIdle();
  assert.deepEqual(calls, ['faithfulness', 'baseMap']);
  const base = posted.filter((m): m is Extract<HostToWebview, { type: 'baseMap' }> => m.type === 'baseMap');
  assert.equal(base.length, 2);
  assert.equal(base[0].map?.layer, 'block2_pool');
  // A request for a key that is no longer the current view gets an error under that key.
  const stale = `${img}|gradcam|true|9|block1_pool`;
  s.onMessage({ type: 'requestFaithfulness', key: stale, layer: 'block1_pool' });
  await s.waitForIdle();
  assert.ok(posted.some((m) => m.type === 'faithfulness' && m.key === stale && /changed/.test(m.error ?? '')));
  // Another image: the old caches go; asking again reaches the engine.
  s.open(path.join(SAMPLES, 'sandal-8.png'), VIEW, MODEL_SPEC);
  await s.waitForIdle();
  calls.length = 0;
  await s.faithfulness('block1_pool');
  assert.deepEqual(calls, ['faithfulness']);
  s.dispose();
});

test('a broken image: an error message, the hook told, the state says so; a model error is shown without asking the engine', { skip }, async () => {
  const dir = tmpDir();
  try {
    const broken = path.join(dir, 'broken.png');
    fs.writeFileSync(broken, 'not a png');
    const { s, posted, errors, types } = session();
    s.open(broken, VIEW, MODEL_SPEC);
    await s.waitForIdle();
    assert.deepEqual(types(), ['view', 'running', 'error']);
    assert.match((posted[2] as Extract<HostToWebview, { type: 'error' }>).message, /broken\.png/);
    assert.equal(errors.length, 1);
    assert.equal(s.state().status, 'error');
    assert.equal(s.currentExport(), undefined);
    calls.length = 0;
    s.open(path.join(SAMPLES, 'bag-18.png'), VIEW, new Error('Model file not found: /nowhere/model.json'));
    assert.deepEqual(types().slice(3), ['view', 'error']);
    assert.equal(s.state().error, 'Model file not found: /nowhere/model.json');
    assert.deepEqual(calls, []);
    s.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- why X and not Y
// A real mistake of the demo model: samples/fashion-review/coat/00017.png is filed under Coat
// (its truth, by the folder) and the model calls it something else. The review panel opens it
// with classIndex = predicted, compareClass = trueClass = truth.
const MISTAKE = path.join(SAMPLES, 'fashion-review', 'coat', '00017.png');
const skipMistake = skip || (fs.existsSync(MISTAKE) ? false : `${MISTAKE} is missing`);

/** The same explanations computed in this process by the engine itself, one call per class. */
async function reference(): Promise<{ of(classIndex: number | undefined, denoise: boolean): Promise<Explanation>; dispose(): void }> {
  await setupBackend();
  const g = await loadModel(MODEL);
  const x = toModelInput(decodeImage(fs.readFileSync(MISTAKE), MISTAKE), g.inputShape, { preset: g.defaultPreprocess ?? 'unit' });
  return { of: (classIndex, denoise) => explain(g, x, { base: 'gradcam', denoise, classIndex }), dispose: () => disposeModel(g) };
}

function assertSameMaps(got: Record<string, LayerMap>, want: Record<string, LayerMap>, what: string): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${what}: layers`);
  for (const l of Object.keys(want)) {
    assert.deepEqual([got[l].height, got[l].width], [want[l].height, want[l].width], `${what} at ${l}: shape`);
    const err = maxRelErr(got[l].raw, want[l].raw);
    assert.ok(err < 1e-4, `${what} at ${l}: max relative error ${err} against a separate explanation`);
  }
}

const lastResult = (posted: HostToWebview[]) => posted.filter((m): m is Extract<HostToWebview, { type: 'result' }> => m.type === 'result').at(-1)!.result;

test('why X and not Y: a mistake shows the predicted and the true class, each equal to its own explanation, switching together', { skip: skipMistake }, async () => {
  const labels: string[] = JSON.parse(fs.readFileSync(LABELS, 'utf8'));
  const truth = labels.indexOf('Coat');
  const ref = await reference();
  const predicted = (await ref.of(undefined, false)).classIndex;
  assert.notEqual(predicted, truth, 'the sample is no longer a mistake of the demo model: pick another');
  const [refX, refY, refXd, refYd] = [await ref.of(predicted, false), await ref.of(truth, false), await ref.of(predicted, true), await ref.of(truth, true)];
  ref.dispose();
  // The two classes' maps differ: a contrast that showed one map twice would fail below.
  assert.ok(maxRelErr(refX.maps.input.raw, refY.maps.input.raw) > 1e-2, 'the two classes explain alike');

  const { s, posted } = session();
  calls.length = 0;
  s.open(MISTAKE, { ...VIEW, classIndex: predicted, compareClass: truth, trueClass: truth }, MODEL_SPEC);
  await s.waitForIdle();
  let r = lastResult(posted);
  assert.equal(r.classIndex, predicted);
  assert.equal(r.contrast?.classIndex, truth);
  assertSameMaps(r.maps, refX.maps, 'predicted class');
  assertSameMaps(r.contrast!.maps, refY.maps, 'true class');
  assert.deepEqual(calls, ['explain', 'explain'], 'one explanation per class');
  const pct = (c: number) => `${(100 * refX.probs[c]).toFixed(1)}%`;
  let st = s.state();
  assert.deepEqual([st.classIndex, st.compareClass, st.trueClass], [predicted, truth, truth]);
  assert.deepEqual(st.titles, [`predicted: ${labels[predicted]} (${pct(predicted)})`, `true: Coat (${pct(truth)})`]);

  // The layer is visual: no engine work, and a view without compareClass does not drop it.
  const { compareClass: _c, ...noCompare } = { ...VIEW, classIndex: predicted, layer: 'block1_pool' };
  s.onMessage({ type: 'viewChanged', view: noCompare });
  assert.deepEqual([s.state().layer, s.state().compareClass, s.state().trueClass], ['block1_pool', truth, truth]);
  assert.deepEqual(calls, ['explain', 'explain']);

  // Denoise switches both; going back comes from the cache.
  s.onMessage({ type: 'recompute', view: { ...VIEW, layer: 'block1_pool', classIndex: predicted, compareClass: truth, denoise: true } });
  await s.waitForIdle();
  r = lastResult(posted);
  assert.equal(r.denoise, true);
  assertSameMaps(r.maps, refXd.maps, 'predicted class, denoised');
  assertSameMaps(r.contrast!.maps, refYd.maps, 'true class, denoised');
  assert.deepEqual(calls, ['explain', 'explain', 'explain', 'explain']);
  s.onMessage({ type: 'recompute', view: { ...VIEW, layer: 'block1_pool', classIndex: predicted, compareClass: truth } });
  await s.waitForIdle();
  r = lastResult(posted);
  assert.equal(r.denoise, false);
  assertSameMaps(r.contrast!.maps, refY.maps, 'true class, from the cache');
  assert.equal(calls.length, 4, 'going back to a shown pair asks the engine again');

  // A reloaded webview gets the pair again.
  s.onMessage({ type: 'ready' });
  assert.equal(lastResult(posted).contrast?.classIndex, truth);

  // "Compare with: none" shows one map; another class by hand costs one explanation.
  s.onMessage({ type: 'recompute', view: { ...VIEW, classIndex: predicted } });
  await s.waitForIdle();
  assert.equal(lastResult(posted).contrast, undefined);
  assert.equal(s.state().titles.length, 1);
  const other = refX.top.map((t) => t.index).find((i) => i !== predicted && i !== truth)!;
  s.onMessage({ type: 'recompute', view: { ...VIEW, classIndex: predicted, compareClass: other } });
  await s.waitForIdle();
  assert.equal(lastResult(posted).contrast?.classIndex, other);
  assert.equal(s.state().titles[1], `class: ${labels[other]} (${pct(other)})`);
  assert.equal(calls.length, 5);
  st = s.state();
  assert.equal(st.trueClass, truth, 'the true class is the host\'s own');
  s.dispose();
});
