// The extension-host suite: runs INSIDE VS Code's extension host (code-server), loaded through
// the smoke-test-driver payload by test/integration/run.mjs, which bundles this file with
// esbuild (vscode external). No mocha: a tiny runner with named tests; every line it prints
// starts with "[fgcam-it]" so run.mjs can pick it out of the browser console, and the last
// one is "[fgcam-it] summary: N passed, M failed". run() rejects when a test failed, which
// VS Code turns into a non-zero exit code.
//
// What run.mjs prepares (described in $FGCAM_IT_CONFIG): a workspace with the sample images at
// its top, broken.png (not an image), batch/ (two images), .vscode/settings.json with
// fgcam.modelPath = the bundled demo model (absolute) and fgcam.preprocess = unit.
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import type { FgcamApi } from '../../../src/extension/extension';
import type { PanelState } from '../../../src/app/panelSession';
import type { ExportResult } from '../../../src/extension/export';

const EXT_ID = 'fgcam.fgcam-explorer';
const COMMANDS = ['fgcam.explainImage', 'fgcam.exportExplanation', 'fgcam.exportFolder', 'fgcam.reviewDataset', 'fgcam.useModel', 'fgcam.showLog'];
const TEST_TIMEOUT_MS = 180_000;

// ---------------------------------------------------------------- the API activate() returns
// Its types come from src/ (type-only imports: esbuild erases them, so the bundle holds none of
// the extension's code): the suite and the extension cannot drift apart.
interface Config {
  workspace: string;
  repo: string;
  model: string;
  images: { name: string; predicted?: string; probability?: number }[];
}

// ---------------------------------------------------------------- tiny runner
const tests: { name: string; fn: () => Promise<void> }[] = [];
function test(name: string, fn: () => Promise<void>): void {
  tests.push({ name, fn });
}
function out(line: string): void {
  console.log(`[fgcam-it] ${line}`);
}
class AssertionError extends Error {}
function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new AssertionError(msg);
}
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, f: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------- fixtures
let cfg: Config;
let api: FgcamApi;
const ws = (...p: string[]) => path.join(cfg.workspace, ...p);
const brief = (s: PanelState) => JSON.stringify({ ...s, layers: `${s.layers?.length} layers`, top: s.top?.slice(0, 2) });

function loadConfig(): Config {
  const file = process.env.FGCAM_IT_CONFIG;
  if (file && fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as Config;
  // Fallback: derive from the open workspace (e.g. when run by hand).
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert(root, 'no workspace folder open and no FGCAM_IT_CONFIG');
  const images = fs.readdirSync(root).filter((f) => /\.png$/i.test(f) && f !== 'broken.png' && !f.includes('.fgcam-')).sort().map((name) => ({ name }));
  const model = vscode.workspace.getConfiguration('fgcam').get<string>('modelPath', '');
  return { workspace: root, repo: '', model, images };
}

async function explain(file: string): Promise<PanelState> {
  await vscode.commands.executeCommand('fgcam.explainImage', vscode.Uri.file(file));
  await api.waitForIdle();
  return api.getPanelState();
}

async function setSetting(key: string, value: unknown): Promise<void> {
  const c = vscode.workspace.getConfiguration('fgcam');
  await c.update(key, value, vscode.ConfigurationTarget.Workspace);
  await until(`fgcam.${key} to read back`, () => JSON.stringify(vscode.workspace.getConfiguration('fgcam').inspect(key)?.workspaceValue) === JSON.stringify(value) || value === undefined);
  // The extension re-explains on model setting changes: let that settle.
  await sleep(100);
  await api.waitForIdle();
}

function pngStats(file: string): { width: number; height: number; range: number } {
  const png = PNG.sync.read(fs.readFileSync(file));
  let min = 765;
  let max = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const v = png.data[i] + png.data[i + 1] + png.data[i + 2];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { width: png.width, height: png.height, range: max - min };
}

function expectedExportNames(imagePath: string, s: PanelState): { heatmap: string; overlay: string } {
  const ext = path.extname(imagePath);
  const stem = path.basename(imagePath, ext);
  const prefix = `${stem}.fgcam-${s.base}${s.denoise ? '-denoised' : ''}.${s.layer}`;
  return { heatmap: path.join(path.dirname(imagePath), `${prefix}.png`), overlay: path.join(path.dirname(imagePath), `${prefix}.overlay.png`) };
}

function checkDone(s: PanelState, imagePath: string): void {
  assert(s.status === 'done', `panel status is ${s.status} (error: ${s.error ?? 'none'}), want done`);
  assert(s.imagePath === imagePath, `panel shows ${s.imagePath}, want ${imagePath}`);
  assert(s.top.length >= 1 && s.top.length <= 5, `top predictions: ${s.top.length}, want 1..5`);
  for (let i = 1; i < s.top.length; i++) assert(s.top[i - 1].prob >= s.top[i].prob, `top predictions not sorted: ${JSON.stringify(s.top)}`);
  const sum = s.top.reduce((a, t) => a + t.prob, 0);
  assert(s.top.every((t) => t.prob >= 0 && t.prob <= 1) && sum <= 1.0001, `probabilities out of range: ${JSON.stringify(s.top)}`);
  assert(s.top.every((t) => typeof t.label === 'string' && t.label.length > 0), `predictions without labels: ${JSON.stringify(s.top)}`);
  assert(s.layers.length >= 3, `layers list has ${s.layers.length} entries`);
  assert(s.layers.every((l) => typeof l.name === 'string' && Array.isArray(l.shape)), 'layers without name/shape');
  assert(s.layers.some((l) => l.name === 'input'), `no input layer in ${s.layers.map((l) => l.name).join(', ')}`);
  assert(s.mapLayers.length >= 2, `maps for ${s.mapLayers.length} layers`);
  assert(s.mapLayers.includes(s.layer), `current layer ${s.layer} has no map (maps: ${s.mapLayers.join(', ')})`);
  assert(!!s.backend, 'no backend reported');
}

// ---------------------------------------------------------------- tests
test('the extension activates and returns the test API', async () => {
  const ext = vscode.extensions.getExtension<FgcamApi>(EXT_ID);
  assert(ext, `extension ${EXT_ID} is not installed`);
  api = await ext.activate();
  assert(api && typeof api.getPanelState === 'function' && typeof api.waitForIdle === 'function', 'activate() did not return { getPanelState, waitForIdle }');
  assert(api.getPanelState().status === 'idle', `initial panel state: ${api.getPanelState().status}`);
});

test('all commands are registered', async () => {
  const all = new Set(await vscode.commands.getCommands(true));
  const missing = COMMANDS.filter((c) => !all.has(c));
  assert(missing.length === 0, `missing commands: ${missing.join(', ')}`);
  const pkg = vscode.extensions.getExtension(EXT_ID)!.packageJSON as { contributes?: { commands?: { command: string }[] } };
  const contributed = new Set((pkg.contributes?.commands ?? []).map((c) => c.command));
  const notContributed = COMMANDS.filter((c) => !contributed.has(c));
  assert(notContributed.length === 0, `not in package.json contributes.commands: ${notContributed.join(', ')}`);
});

test('Explain Image on a sample: panel done with top predictions and the layers list', async () => {
  const img = cfg.images[0];
  const t = Date.now();
  const s = await explain(ws(img.name));
  checkDone(s, ws(img.name));
  if (img.predicted) assert(s.top[0].label === img.predicted, `top-1 is ${s.top[0].label} (${s.top[0].prob.toFixed(3)}), samples.json says ${img.predicted}`);
  out(`#   ${img.name}: ${s.top[0].label} ${s.top[0].prob.toFixed(3)} on ${s.backend} in ${Date.now() - t} ms; ${s.layers.length} layers (${s.layers.map((l) => l.name).join(', ')}); layer ${s.layer}`);
});

test('explaining other samples reuses the panel and matches their labels', async () => {
  for (const img of cfg.images.slice(1, 4)) {
    const s = await explain(ws(img.name));
    checkDone(s, ws(img.name));
    if (img.predicted) assert(s.top[0].label === img.predicted, `${img.name}: top-1 is ${s.top[0].label}, samples.json says ${img.predicted}`);
  }
});

test('Export Explanation writes the heatmap and overlay PNGs next to the image', async () => {
  const img = ws(cfg.images[0].name);
  let s = await explain(img);
  checkDone(s, img);
  const want = expectedExportNames(img, s);
  for (const f of [want.heatmap, want.overlay]) assert(!fs.existsSync(f), `${path.basename(f)} exists before the export (test workspace not fresh)`);
  const r = (await vscode.commands.executeCommand('fgcam.exportExplanation')) as ExportResult | undefined;
  await api.waitForIdle();
  for (const f of [want.heatmap, want.overlay]) assert(fs.existsSync(f), `${path.basename(f)} was not written (result: ${JSON.stringify(r)}; dir: ${fs.readdirSync(path.dirname(img)).join(', ')})`);
  if (r) assert(r.written.length === 2 && r.failed.length === 0 && !r.cancelled, `export result ${JSON.stringify(r)}`);
  const h = pngStats(want.heatmap);
  const o = pngStats(want.overlay);
  assert(h.range > 10, `${path.basename(want.heatmap)} is uniform`);
  assert(o.range > 10, `${path.basename(want.overlay)} is uniform`);
  assert(h.width === o.width && h.height === o.height, `heatmap ${h.width}x${h.height} vs overlay ${o.width}x${o.height}`);
  out(`#   wrote ${path.basename(want.heatmap)} (${h.width}x${h.height}), ${path.basename(want.overlay)}`);
  s = api.getPanelState();
  assert(s.status === 'done', `panel status after export: ${s.status}`);
});

test('Export Explanation of another layer uses that layer in the file names', async () => {
  // The layer is a visual choice of the panel; the setting sets the default for a new explain.
  const img = ws(cfg.images[1].name);
  let s = await explain(img);
  checkDone(s, img);
  const other = s.mapLayers.find((l) => l !== s.layer && l !== 'input') ?? s.mapLayers.find((l) => l !== s.layer);
  assert(other, 'only one layer has a map');
  await setSetting('layer', other);
  try {
    s = await explain(img);
    checkDone(s, img);
    assert(s.layer === other, `panel layer is ${s.layer} after fgcam.layer=${other}`);
    const want = expectedExportNames(img, s);
    await vscode.commands.executeCommand('fgcam.exportExplanation');
    for (const f of [want.heatmap, want.overlay]) assert(fs.existsSync(f), `${path.basename(f)} was not written (dir: ${fs.readdirSync(path.dirname(img)).join(', ')})`);
  } finally {
    await setSetting('layer', undefined);
  }
});

test('denoise (fgcam.denoise) explains with denoising and names the export -denoised', async () => {
  const img = ws(cfg.images[2 % cfg.images.length].name);
  await setSetting('denoise', true);
  try {
    const s = await explain(img);
    checkDone(s, img);
    assert(s.denoise === true, `panel denoise is ${s.denoise}`);
    const want = expectedExportNames(img, s);
    assert(/-denoised\./.test(path.basename(want.heatmap)), `unexpected name ${want.heatmap}`);
    await vscode.commands.executeCommand('fgcam.exportExplanation');
    for (const f of [want.heatmap, want.overlay]) assert(fs.existsSync(f), `${path.basename(f)} was not written`);
    assert(pngStats(want.heatmap).range > 10, `${path.basename(want.heatmap)} (denoised heatmap at ${s.layer}) is uniform`);
  } finally {
    await setSetting('denoise', undefined);
  }
});

test('Export Folder writes heatmap + overlay for every image in the folder', async () => {
  const dir = ws('batch');
  const images = fs.readdirSync(dir).filter((f) => /\.png$/i.test(f)).sort();
  assert(images.length >= 2, `batch/ has ${images.length} images`);
  const r = (await vscode.commands.executeCommand('fgcam.exportFolder', vscode.Uri.file(dir))) as ExportResult | undefined;
  await api.waitForIdle();
  const files = fs.readdirSync(dir);
  for (const img of images) {
    const stem = img.replace(/\.png$/i, '');
    const mine = files.filter((f) => f.startsWith(`${stem}.fgcam-`));
    assert(mine.some((f) => f.endsWith('.overlay.png')) && mine.some((f) => !f.endsWith('.overlay.png') && f.endsWith('.png')), `${img}: outputs ${JSON.stringify(mine)} (result ${JSON.stringify(r)})`);
  }
  if (r) assert(r.written.length === 2 * images.length && r.failed.length === 0, `export result ${JSON.stringify(r)}`);
});

test('a corrupt image gives the error state "cannot decode PNG"', async () => {
  const bad = ws('broken.png');
  const s = await explain(bad);
  assert(s.status === 'error', `panel status is ${s.status}, want error (${brief(s)})`);
  assert(s.imagePath === bad, `panel shows ${s.imagePath}`);
  assert(/broken\.png/.test(s.error ?? '') && /cannot decode PNG/i.test(s.error ?? ''), `error text: ${s.error}`);
  // The extension host is still responsive and a good image works again.
  const good = ws(cfg.images[0].name);
  checkDone(await explain(good), good);
});

test('a missing model file gives the error "Model file not found: <path>"', async () => {
  const missing = ws('no-such-dir', 'model.json');
  const good = ws(cfg.images[0].name);
  const original = vscode.workspace.getConfiguration('fgcam').inspect<string>('modelPath')?.workspaceValue;
  try {
    await setSetting('modelPath', missing);
    const s = await explain(good);
    assert(s.status === 'error', `panel status is ${s.status}, want error (${brief(s)})`);
    assert((s.error ?? '').includes('Model file not found') && (s.error ?? '').includes(missing), `error text: ${s.error}`);
  } finally {
    await setSetting('modelPath', original);
  }
  checkDone(await explain(good), good);
});

test('Use This Model sets fgcam.modelPath', async () => {
  const c = () => vscode.workspace.getConfiguration('fgcam').inspect<string>('modelPath')?.workspaceValue;
  const original = c();
  // A copy inside the workspace: stored workspace-relative.
  const dir = ws('models-copy');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(path.dirname(cfg.model))) fs.copyFileSync(path.join(path.dirname(cfg.model), f), path.join(dir, f));
  try {
    await vscode.commands.executeCommand('fgcam.useModel', vscode.Uri.file(path.join(dir, 'model.json')));
    await until('fgcam.modelPath to change', () => c() !== original, 10_000);
    assert(c() === 'models-copy/model.json', `fgcam.modelPath = ${JSON.stringify(c())}, want "models-copy/model.json"`);
    await api.waitForIdle();
    const good = ws(cfg.images[0].name);
    checkDone(await explain(good), good);
  } finally {
    await setSetting('modelPath', original);
  }
});

test('Show Log runs', async () => {
  await vscode.commands.executeCommand('fgcam.showLog');
});

// ---------------------------------------------------------------- faithfulness (issue 7)
// The panel's Faithfulness and Compare methods views, through the API hooks that call the same
// PanelController methods the webview's messages do.
const inUnit = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;

test('Faithfulness view: deletion and insertion curves and areas of the shown FG-CAM map', async () => {
  assert(typeof api.requestFaithfulness === 'function', 'activate() has no requestFaithfulness()');
  const img = ws(cfg.images[0].name);
  const s = await explain(img);
  checkDone(s, img);
  const input = s.layers.find((l) => l.name === 'input');
  assert(input && input.shape.length === 3, `input layer shape ${JSON.stringify(input?.shape)}`);
  const [h, w] = input.shape;
  const pps = Math.max(1, Math.round(0.01 * h * w));
  const steps = Math.ceil((h * w) / pps) + 1;
  const top = s.top.find((t) => t.index === s.classIndex);
  assert(top, `class ${s.classIndex} is not among the top predictions ${JSON.stringify(s.top)}`);
  const layers = [s.layer, ...s.mapLayers.filter((l) => l !== s.layer).slice(0, 1)];
  for (const layer of layers) {
    const t = Date.now();
    const f = await withTimeout(api.requestFaithfulness(layer), 120_000, `faithfulness at ${layer}`);
    assert(f.layer === layer && f.classIndex === s.classIndex, `faithfulness of ${f.layer}/class ${f.classIndex}, asked ${layer}/class ${s.classIndex}`);
    assert(inUnit(f.deletionAuc) && inUnit(f.insertionAuc), `${layer}: AUCs ${f.deletionAuc}, ${f.insertionAuc} not in [0, 1]`);
    assert(f.pixelsPerStep === pps, `${layer}: ${f.pixelsPerStep} pixels per step, want ${pps} (1% of ${h}x${w})`);
    assert(f.deletion.length === steps && f.insertion.length === steps, `${layer}: curves of ${f.deletion.length} / ${f.insertion.length} points, want ${steps}`);
    assert(Array.from(f.deletion).concat(Array.from(f.insertion)).every(inUnit), `${layer}: curve values outside [0, 1]`);
    assert(Math.abs(f.deletion[0] - top.prob) < 1e-3, `${layer}: deletion starts at ${f.deletion[0]}, the model says p = ${top.prob}`);
    assert(Math.abs(f.prob - top.prob) < 1e-3, `${layer}: Y = ${f.prob}, the model says ${top.prob}`);
    assert(f.deletion[steps - 1] !== f.deletion[0] || f.insertion[steps - 1] !== f.insertion[0], `${layer}: flat curves`);
    assert(Number.isFinite(f.averageDrop) && f.averageDrop >= 0 && f.averageDrop <= 100, `${layer}: Average Drop ${f.averageDrop}`);
    assert(f.increaseInConfidence === 0 || f.increaseInConfidence === 100, `${layer}: Increase in Confidence ${f.increaseInConfidence} on one image`);
    out(`#   ${layer}: deletion AUC ${f.deletionAuc.toFixed(4)}, insertion AUC ${f.insertionAuc.toFixed(4)}, AD ${f.averageDrop.toFixed(1)}%, ${steps} points, ${Date.now() - t} ms`);
    // Cached per view: asking again is instant and gives the same numbers.
    const t2 = Date.now();
    const again = await api.requestFaithfulness(layer);
    assert(again.deletionAuc === f.deletionAuc && Date.now() - t2 < 1000, `${layer}: second request not served from the cache`);
  }
  assert(api.getPanelState().status === 'done', `panel status after scoring: ${api.getPanelState().status}`);
});

test('Compare methods: the table for the current image at the input and at a feature layer', async () => {
  assert(typeof api.compareMethods === 'function', 'activate() has no compareMethods()');
  const img = ws(cfg.images[0].name);
  const s = await explain(img);
  checkDone(s, img);
  const bases = ['gradcam', 'gradcampp', 'xgradcam', 'layercam', 'scorecam'];
  const fg = ['fgcam-gradcam', 'fgcam-gradcam-denoised'];
  const feature = s.mapLayers.find((l) => l !== 'input');
  assert(feature, `no feature layer among ${s.mapLayers.join(', ')}`);
  const want: Record<string, { rows: string[]; omitted: string[] }> = {
    input: { rows: [...fg, 'fgcam-scorecam', 'lrp'], omitted: bases },
    [feature]: { rows: [...fg, ...bases, 'fgcam-scorecam'], omitted: ['lrp'] },
  };
  for (const [layer, w] of Object.entries(want)) {
    const t0 = Date.now();
    const t = await withTimeout(api.compareMethods(layer), 150_000, `compare methods at ${layer}`);
    const ids = t.rows.map((r) => r.method);
    assert(t.layer === layer && t.classIndex === s.classIndex, `table for ${t.layer}/class ${t.classIndex}, asked ${layer}/class ${s.classIndex}`);
    assert(JSON.stringify([...ids].sort()) === JSON.stringify([...w.rows].sort()), `${layer}: methods ${ids.join(', ')}, want ${w.rows.join(', ')}`);
    assert(JSON.stringify(t.omitted.map((o) => o.method).sort()) === JSON.stringify([...w.omitted].sort()), `${layer}: omitted ${JSON.stringify(t.omitted)}, want ${w.omitted.join(', ')}`);
    assert(t.omitted.every((o) => o.reason.length > 0), `${layer}: omitted without a reason`);
    for (const r of t.rows) {
      assert(inUnit(r.deletionAuc) && inUnit(r.insertionAuc), `${layer} ${r.method}: AUCs ${r.deletionAuc}, ${r.insertionAuc}`);
      assert(Number.isFinite(r.averageDrop) && r.averageDrop >= 0 && r.averageDrop <= 100, `${layer} ${r.method}: AD ${r.averageDrop}`);
      assert(r.increaseInConfidence === 0 || r.increaseInConfidence === 100, `${layer} ${r.method}: IC ${r.increaseInConfidence}`);
    }
    // The Faithfulness view scores the same map as the table's row for the shown base/denoise.
    const f = await api.requestFaithfulness(layer);
    const mine = t.rows.find((r) => r.method === `fgcam-${s.base}${s.denoise ? '-denoised' : ''}`);
    assert(mine && Math.abs(mine.deletionAuc - f.deletionAuc) < 1e-4 && Math.abs(mine.insertionAuc - f.insertionAuc) < 1e-4, `${layer}: table row ${JSON.stringify(mine)} vs view ${f.deletionAuc}, ${f.insertionAuc}`);
    out(`#   ${layer} in ${Date.now() - t0} ms: ${t.rows.map((r) => `${r.method} del ${r.deletionAuc.toFixed(3)} ins ${r.insertionAuc.toFixed(3)}`).join('; ')}`);
  }
});

test('Review Dataset on a class-per-folder dataset: accuracy and the mislabelled image as a confusion, reopening from the cache', async () => {
  const dir = ws('dataset');
  const expect = JSON.parse(fs.readFileSync(ws('.vscode', 'dataset.json'), 'utf8')) as { images: number; correct?: number; mislabelled: string };
  await vscode.commands.executeCommand('fgcam.reviewDataset', vscode.Uri.file(dir));
  await api.waitForReview();
  const s = api.getReviewState();
  assert(s && s.status === 'done', `review state ${JSON.stringify(s)}`);
  assert(s.images === expect.images, `${s.images} images scored, the dataset has ${expect.images}`);
  const sum = s.confusion.flat().reduce((a, b) => a + b, 0);
  assert(sum === expect.images, `the confusion matrix counts ${sum} images`);
  if (expect.correct !== undefined) {
    assert(s.accuracy === expect.correct / expect.images, `accuracy ${s.accuracy}, expected ${expect.correct}/${expect.images}`);
    const diag = s.confusion.reduce((a, row, i) => a + row[i], 0);
    assert(diag === expect.correct, `diagonal ${diag}`);
  }
  assert(s.outDir && fs.existsSync(path.join(s.outDir, 'report.md')), `no report.md in ${s.outDir}`);
  const first = s.seconds ?? 0;
  // Reopening: everything comes from the cache next to the dataset.
  await vscode.commands.executeCommand('fgcam.reviewDataset', vscode.Uri.file(dir));
  await api.waitForReview();
  const again = api.getReviewState()!;
  assert(again.status === 'done' && JSON.stringify(again.confusion) === JSON.stringify(s.confusion), `reopened: ${JSON.stringify(again)}`);
  out(`#   review: ${s.images} images, accuracy ${s.accuracy}, ${first.toFixed(1)} s; reopened in ${(again.seconds ?? 0).toFixed(1)} s`);
  fs.rmSync(s.outDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- entry point
export async function run(): Promise<void> {
  let passed = 0;
  let failed = 0;
  const t0 = Date.now();
  try {
    cfg = loadConfig();
  } catch (e) {
    out(`not ok - load the test configuration # ${(e as Error).message}`);
    out('summary: 0 passed, 1 failed');
    throw e;
  }
  out(`# suite: ${tests.length} tests, workspace ${cfg.workspace}, VS Code ${vscode.version}, Node ${process.version}`);
  for (const t of tests) {
    const start = Date.now();
    // Every test after a failed activation would fail for the same reason: say so once.
    if (!api && t !== tests[0]) {
      failed++;
      out(`not ok - ${t.name} # not run: the extension did not activate`);
      continue;
    }
    try {
      await withTimeout(t.fn(), TEST_TIMEOUT_MS, t.name);
      passed++;
      out(`ok - ${t.name} (${((Date.now() - start) / 1000).toFixed(1)}s)`);
    } catch (e) {
      failed++;
      const err = e as Error;
      out(`not ok - ${t.name} (${((Date.now() - start) / 1000).toFixed(1)}s) # ${err?.message ?? String(e)}`);
      if (!(err instanceof AssertionError) && err?.stack) for (const l of err.stack.split('\n').slice(1, 6)) out(`#   ${l.trim()}`);
    }
  }
  out(`# suite took ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  out(`summary: ${passed} passed, ${failed} failed`);
  if (failed > 0) throw new Error(`${failed} integration test(s) failed`);
}
