// `npm run bench`: FG-CAM in JS (this engine) and in PyTorch (bench/torch_fgcam_bench.py),
// side by side in one run, on the same seeded VGG16-BN at 224x224; with --arch also on
// ResNet-50, DenseNet-121, MobileNetV2 and InceptionV3 (bench/torch_arch_bench.py beside).
// See bench/README.md.
//
//   node dist/bench.js [--runs N] [--threads N] [--scorecam] [--scorecam-limit N] [--curves]
//                      [--arch] [--cli] [--no-torch] [--no-demo] [--json] [--review | --no-review]
//   (--review: only the dataset-review cases, bench/review.ts; --no-review: without them;
//    --cli: `fgcam explain` on 7 photos against a literal PyTorch port, bench/cli-bench.ts)
//
// Rounds alternate JS and PyTorch (after a JS warm-up; each PyTorch process warms up itself),
// so that both sides see the same machine load; the table shows medians over the rounds and
// the ratio JS / PyTorch (below 1: JS is faster).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { extractNsfwjsModel } from '../test/helpers/nsfwjs-models';
import { cacheDir } from '../test/helpers/cache';
import * as path from 'path';

import { initBackend } from '../src/engine/backend';
import { detectCamLayer, disposeModel, explain, INPUT, loadModel } from '../src/engine/explain';
import type { Graph } from '../src/engine/model/graph';
import { gradientsOrt, predictOrt } from '../src/engine/compute';
import { scorecamComponents } from '../src/engine/cam/weights';
import { deletionInsertion } from '../src/engine/metrics/curves';
import { benchReview } from './review';
import { benchCli } from './cli-bench';

interface Args {
  runs: number;
  threads: number;
  scorecam: boolean;
  scorecamLimit: number;
  arch: boolean;
  torch: boolean;
  demo: boolean;
  json: boolean;
  curves: boolean;
  cli: boolean;
  /** 'only': just the dataset-review cases; false: without them. */
  review: boolean | 'only';
}

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 3, threads: 0, scorecam: false, scorecamLimit: 0, arch: false, torch: true, demo: true, json: false, curves: false, cli: false, review: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${k} needs a whole number`);
      return v;
    };
    if (k === '--runs') a.runs = Math.max(1, num());
    else if (k === '--threads') a.threads = num();
    else if (k === '--scorecam') a.scorecam = true;
    else if (k === '--scorecam-limit') a.scorecamLimit = num();
    else if (k === '--arch') a.arch = true;
    else if (k === '--no-torch') a.torch = false;
    else if (k === '--no-demo') a.demo = false;
    else if (k === '--json') a.json = true;
    else if (k === '--curves') a.curves = true;
    else if (k === '--cli') a.cli = true;
    else if (k === '--review') a.review = 'only';
    else if (k === '--no-review') a.review = false;
    else if (k === '--help' || k === '-h') {
      process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(0, 8).join('\n') + '\n');
      process.exit(0);
    } else throw new Error(`unknown option ${k}`);
  }
  return a;
}

const root = path.resolve(__dirname, '..');
const benchCache = cacheDir('bench');
const vggDir = path.join(benchCache, 'vgg16bn');
const torchScript = path.join(root, 'bench', 'torch_fgcam_bench.py');
const torchArchScript = path.join(root, 'bench', 'torch_arch_bench.py');

const log = (s: string) => process.stderr.write(s + '\n');
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function python(): string | undefined {
  for (const p of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(p, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
    if (r.status === 0) return p;
  }
  return undefined;
}

/** The seeded VGG16-BN in TF.js layers format, written once by the PyTorch script. */
function ensureExport(py: string | undefined): boolean {
  if (fs.existsSync(path.join(vggDir, 'model.json'))) return true;
  if (!py) return false;
  log(`bench: exporting the seeded VGG16-BN to ${path.relative(root, vggDir)} (once, ~530 MB)...`);
  const tmp = `${vggDir}.tmp-${process.pid}`;
  const r = spawnSync(py, [torchScript, '--export-dir', tmp], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error('the PyTorch export failed');
  }
  fs.renameSync(tmp, vggDir);
  return true;
}

/** The same input as the PyTorch script: not bit-identical (different RNGs), same shape and scale. */
function seededInput(shape: number[], seed = 1): Float32Array {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(rnd()));
    const t = 2 * Math.PI * rnd();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

async function timeForward(g: Graph, x: Float32Array): Promise<number> {
  const t0 = performance.now();
  await predictOrt(g, x, 1);
  return performance.now() - t0;
}

/** One explanation; `only`: just these maps (what `fgcam explain --layer` computes), else every layer's. */
async function timeExplain(g: Graph, x: Float32Array, layers?: { n: number }, only?: string[]): Promise<{ ms: number; parts: Record<string, number>; map?: { height: number; width: number; raw: Float32Array }; c: number }> {
  const t0 = performance.now();
  const ex = await explain(g, x, { base: 'gradcam', denoise: false, layers: only });
  const ms = performance.now() - t0;
  if (layers) layers.n = Object.keys(ex.maps).length;
  return { ms, parts: ex.timings, map: ex.maps.input, c: ex.classIndex };
}

/** Score-CAM components at the CAM layer: all its masks (or the first `limit`, extrapolated). */
async function timeScorecam(g: Graph, x: Float32Array, limit: number, batch: number): Promise<{ ms: number; timed: number; total: number }> {
  const cam = detectCamLayer(g);
  const fw = await gradientsOrt(g, x, -1, [cam], false);
  const a = fw.acts.get(cam)!;
  const [h, w, k] = a.shape;
  const n = limit > 0 ? Math.min(limit, k) : k;
  const sub = n === k ? a : { data: Float32Array.from({ length: h * w * n }, (_, i) => a.data[Math.floor(i / n) * k + (i % n)]), shape: [h, w, n] as [number, number, number] };
  const t0 = performance.now();
  await scorecamComponents(g, x, sub, { classIndex: fw.classIndex, batch });
  const ms = performance.now() - t0;
  return { ms: (ms * k) / n, timed: n, total: k };
}

interface TorchRound {
  threads: number;
  torch_version: string;
  forward_ms: number;
  fgcam_input_ms: number;
  fgcam_all_layers_ms: number;
  scorecam_components_ms?: number;
  scorecam_masks_timed?: number;
}

/** One PyTorch process (it warms itself up): its last JSON line on stdout. */
function runTorch<T>(py: string, args: string[]): T {
  const r = spawnSync(py, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`PyTorch bench failed: ${r.stderr.split('\n').slice(-5).join('\n')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

function torchRound(py: string, a: Args, threads: number): TorchRound {
  const args = [torchScript, '--runs', '1', '--threads', String(threads)];
  if (a.scorecam) args.push('--scorecam', '--scorecam-limit', String(a.scorecamLimit));
  return runTorch<TorchRound>(py, args);
}

/**
 * `runs` rounds, each the JS side then the PyTorch side (when given), so that both see the
 * same machine load.
 */
async function alternate<J, T>(runs: number, js: (i: number) => Promise<J>, torch?: (i: number) => T): Promise<{ js: J[]; torch: T[] }> {
  const out = { js: [] as J[], torch: [] as T[] };
  for (let i = 0; i < runs; i++) {
    out.js.push(await js(i));
    if (torch) out.torch.push(torch(i));
  }
  return out;
}

interface Row {
  what: string;
  js: number;
  torch?: number;
  jsRuns: number[];
  torchRuns?: number[];
}

function table(rows: Row[]): string {
  const head = ['measure', 'JS ms', 'PyTorch ms', 'JS/PyTorch', 'JS best', 'PyTorch best', 'ratio of bests'];
  const body = rows.map((r) => {
    const jb = Math.min(...r.jsRuns);
    const tb = r.torchRuns?.length ? Math.min(...r.torchRuns) : undefined;
    return [
      r.what,
      r.js.toFixed(0),
      r.torch !== undefined ? r.torch.toFixed(0) : '-',
      r.torch ? (r.js / r.torch).toFixed(2) : '-',
      jb.toFixed(0),
      tb !== undefined ? tb.toFixed(0) : '-',
      tb ? (jb / tb).toFixed(2) : '-',
    ];
  });
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [fmt(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(fmt)].join('\n');
}

/** A row of the table for --json. */
function rowJson(r: Row): Record<string, unknown> {
  return {
    what: r.what,
    js_ms: +r.js.toFixed(1),
    torch_ms: r.torch !== undefined ? +r.torch.toFixed(1) : null,
    ratio: r.torch ? +(r.js / r.torch).toFixed(3) : null,
    ratio_of_bests: r.torchRuns?.length ? +(Math.min(...r.jsRuns) / Math.min(...r.torchRuns)).toFixed(3) : null,
    js_runs: r.jsRuns.map((v) => +v.toFixed(1)),
    torch_runs: r.torchRuns?.map((v) => +v.toFixed(1)),
  };
}

/** A measure over rounds: medians of both sides, PyTorch's only when it ran. */
function row(what: string, jsRuns: number[], torchRuns?: number[]): Row {
  const t = torchRuns?.length ? torchRuns : undefined;
  return { what, js: median(jsRuns), torch: t && median(t), jsRuns, torchRuns: t };
}

interface ArchModel {
  name: string;
  file: string;
  /** The torchvision model bench/torch_arch_bench.py times beside it (seeded weights). */
  torch: string;
  /** PyTorch times the same architecture with other (seeded) weights. */
  sameArchOnly?: boolean;
}

/**
 * Architectures of issues 5 and 12: MobileNetV2 and InceptionV3 with real weights (the nsfwjs
 * devDependency, unpacked by the tests' helper), and seeded torchvision ResNet-50,
 * DenseNet-121, MobileNetV2 and InceptionV3 ONNX exports (tools/make_onnx_fixtures.py, made
 * when missing and python3-torch is there). What cannot be had is skipped with a line on stderr.
 */
function archModels(): ArchModel[] {
  const out: ArchModel[] = [];
  for (const m of ['mobilenet_v2', 'inception_v3'] as const) {
    try {
      out.push({ name: `${m} (nsfwjs, real weights)`, file: extractNsfwjsModel(m), torch: m, sameArchOnly: true });
    } catch (e) {
      process.stderr.write(`bench: skipping nsfwjs ${m}: ${(e as Error).message}\n`);
    }
  }
  const onnxDir = cacheDir('onnx');
  const names = ['resnet50', 'densenet121', 'mobilenet_v2', 'inception_v3'];
  if (names.some((n) => !fs.existsSync(path.join(onnxDir, `${n}.onnx`)))) {
    spawnSync('/usr/bin/python3', [path.join(root, 'tools', 'make_onnx_fixtures.py'), 'big', ...names], { stdio: 'inherit' });
  }
  for (const n of names) {
    const f = path.join(onnxDir, `${n}.onnx`);
    if (fs.existsSync(f)) out.push({ name: `${n} (ONNX, seeded)`, file: f, torch: n });
    else process.stderr.write(`bench: skipping ${n}: no ${f} (needs python3-torch)\n`);
  }
  return out;
}

interface ArchTorchRound {
  model: string;
  threads: number;
  torch_version: string;
  forward_ms: number;
  fgcam_input_ms: number;
  sum_E: number;
  sum_R_input: number;
}

/** One architecture: JS forward and FG-CAM at the input (as `fgcam explain` computes it), PyTorch's beside. */
async function benchArch(m: ArchModel, runs: number, py: string | undefined, threads: number): Promise<{ rows: Row[]; json: Record<string, unknown> }> {
  const g = await loadModel(m.file);
  try {
    const x = seededInput(g.inputShape);
    await timeForward(g, x);
    await timeExplain(g, x, undefined, [INPUT]);
    const label = `${m.name}${m.sameArchOnly ? ' *' : ''} ${g.inputShape.slice(0, 2).join('x')}`;
    const r = await alternate(
      runs,
      async () => ({ forward: await timeForward(g, x), explain: (await timeExplain(g, x, undefined, [INPUT])).ms }),
      py ? () => runTorch<ArchTorchRound>(py, [torchArchScript, '--models', m.torch, '--runs', '1', '--threads', String(threads)]) : undefined,
    );
    r.js.forEach((j, i) => log(`bench: ${m.name} round ${i + 1}/${runs}: JS forward ${j.forward.toFixed(0)} ms, explain ${j.explain.toFixed(0)} ms${r.torch[i] ? `; PyTorch ${r.torch[i].forward_ms} / ${r.torch[i].fgcam_input_ms} ms` : ''}`));
    const t = r.torch[0];
    if (t) log(`bench: PyTorch ${m.torch} conservation: sum(E) = ${t.sum_E.toExponential(6)}, sum(R at the input) = ${t.sum_R_input.toExponential(6)}`);
    const rows = [
      row(`${label}: FG-CAM at the input`, r.js.map((j) => j.explain), r.torch.map((k) => k.fgcam_input_ms)),
      row(`${label}: forward alone`, r.js.map((j) => j.forward), r.torch.map((k) => k.forward_ms)),
    ];
    const json = {
      model: m.name,
      input: g.inputShape.join('x'),
      torch_model: t ? `torchvision ${m.torch}, seeded${m.sameArchOnly ? ' (same architecture, other weights)' : ''}` : null,
      torch_version: t?.torch_version,
      torch_threads: t?.threads,
      torch_sum_E: t?.sum_E,
      torch_sum_R_input: t?.sum_R_input,
      rows: rows.map(rowJson),
    };
    return { rows, json };
  } finally {
    disposeModel(g);
  }
}

async function jsOnly(name: string, file: string, runs: number): Promise<Record<string, number | string>> {
  const g = await loadModel(file);
  try {
    const x = seededInput(g.inputShape);
    await timeForward(g, x);
    await timeExplain(g, x);
    const fwd: number[] = [];
    const ex: number[] = [];
    const layers = { n: 0 };
    for (let i = 0; i < runs; i++) {
      fwd.push(await timeForward(g, x));
      ex.push((await timeExplain(g, x, layers)).ms);
    }
    return { model: name, input: g.inputShape.join('x'), forward_ms: +median(fwd).toFixed(1), fgcam_input_ms: +median(ex).toFixed(1), maps: layers.n };
  } finally {
    disposeModel(g);
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.threads > 0) process.env.FGCAM_THREADS = String(a.threads);
  const backend = await initBackend('auto');
  const cpus = os.cpus();
  const machine = { os: `${os.type()} ${os.release()} ${os.arch()}`, cpu: cpus[0]?.model ?? '?', cores: cpus.length, node: process.version };
  log(`bench: backend ${backend.name} (${backend.threads} thread${backend.threads > 1 ? 's' : ''})${backend.warnings.length ? ` [${backend.warnings.join('; ')}]` : ''}`);
  log(`bench: ${machine.cpu}, ${machine.cores} cores, ${machine.os}, node ${machine.node}`);

  const py = a.torch ? python() : undefined;
  if (a.torch && !py) log('bench: python3 with torch + torchvision (Debian: python3-torch, python3-torchvision) is missing: timing JS alone');
  const torchThreads = a.threads > 0 ? a.threads : backend.threads;
  const machineLine = `${machine.cpu}, ${machine.cores} cores, ${machine.os}, node ${machine.node}, load average at start ${os.loadavg()[0].toFixed(2)}`;
  const result: Record<string, unknown> = { backend: backend.name, js_threads: backend.threads, machine, runs: a.runs };

  if (a.review === 'only') {
    result.review = await benchReview(a.json);
    if (a.json) process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  if (!ensureExport(py)) {
    log(`bench: no ${path.relative(root, vggDir)} and no PyTorch to write it: skipping the VGG16-BN bench`);
  } else {
    const tLoad = performance.now();
    const g = await loadModel(path.join(vggDir, 'model.json'));
    log(`bench: loaded VGG16-BN ${g.inputShape.join('x')} in ${((performance.now() - tLoad) / 1000).toFixed(1)} s`);
    const x = seededInput(g.inputShape);
    // warm-up: the ONNX Runtime sessions are built once per model and request (the PyTorch walker splits its weights up front too)
    const tw = performance.now();
    await timeForward(g, x);
    const warm = await timeExplain(g, x);
    await timeExplain(g, x, undefined, [INPUT]);
    log(`bench: sessions built (forward, explain) in ${((performance.now() - tw) / 1000).toFixed(1)} s`);
    const layers = { n: 0 };
    const r = await alternate(
      a.runs,
      async (i) => {
        const forward = await timeForward(g, x);
        const e1 = await timeExplain(g, x, undefined, [INPUT]);
        const all = (await timeExplain(g, x, layers)).ms;
        const s = a.scorecam ? await timeScorecam(g, x, a.scorecamLimit, 16) : undefined;
        let curves = NaN;
        if (a.curves && warm.map) {
          const t0 = performance.now();
          await deletionInsertion(g, x, warm.map, { classIndex: warm.c });
          curves = performance.now() - t0;
        }
        log(`bench: round ${i + 1}/${a.runs} JS: forward ${forward.toFixed(0)} ms, explain ${e1.ms.toFixed(0)} / ${all.toFixed(0)} ms`);
        return { forward, input: e1.ms, parts: e1.parts, all, scorecam: s, curves };
      },
      py
        ? (i) => {
            const t = torchRound(py, a, torchThreads);
            log(`bench: round ${i + 1}/${a.runs} PyTorch (${t.threads} thread${t.threads > 1 ? 's' : ''}): forward ${t.forward_ms} ms, explain ${t.fgcam_input_ms} / ${t.fgcam_all_layers_ms} ms`);
            return t;
          }
        : undefined,
    );
    const js = (f: (j: (typeof r.js)[number]) => number) => r.js.map(f);
    const tr = r.torch;
    const rows: Row[] = [
      row('FG-CAM (Grad-CAM) at the input', js((j) => j.input), tr.map((t) => t.fgcam_input_ms)),
      row(`walk to every layer (${layers.n} maps)`, js((j) => j.all), tr.map((t) => t.fgcam_all_layers_ms)),
      row('forward alone', js((j) => j.forward), tr.map((t) => t.forward_ms)),
    ];
    if (a.curves) rows.push(row('deletion + insertion curves (1 % steps, 202 forwards)', js((j) => j.curves)));
    const scoreTimed = r.js[0]?.scorecam?.timed ?? 0;
    if (a.scorecam) {
      const what = scoreTimed === 512 ? 'Score-CAM components (all 512 masks)' : `Score-CAM components (${scoreTimed} masks, x${(512 / scoreTimed).toFixed(0)})`;
      rows.push(row(what, js((j) => j.scorecam!.ms), tr.map((t) => t.scorecam_components_ms ?? NaN)));
    }
    const parts: Record<string, number[]> = {};
    for (const j of r.js) for (const [k, v] of Object.entries(j.parts)) if (k !== 'total') (parts[k] ??= []).push(v);
    const split = `JS explain split (median): ${Object.entries(parts).map(([k, v]) => `${k} ${median(v).toFixed(0)} ms`).join(', ')}`;
    const who = `JS: ${backend.name}, ${backend.threads} thread(s); PyTorch: ${tr[0] ? `${tr[0].torch_version}, ${tr[0].threads} thread(s)` : 'not run'}`;
    if (!a.json) {
      process.stdout.write(`\nVGG16-BN 224x224, seeded weights, median and best of ${a.runs} alternating rounds\n${who}\n${machineLine}\n\n`);
      process.stdout.write(table(rows) + '\n\n' + split + '\n');
    }
    result.vgg16bn = {
      torch_version: tr[0]?.torch_version,
      torch_threads: tr[0]?.threads,
      maps: layers.n,
      rows: rows.map(rowJson),
      js_split_ms: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, +median(v).toFixed(1)])),
    };
    disposeModel(g);
  }

  if (a.cli && py && fs.existsSync(path.join(vggDir, 'model.json'))) {
    const rows = benchCli(py, path.join(vggDir, 'model.json'), a.runs, log);
    result.cli = rows.map((r) => ({ what: r.what, js_ms: +r.js.toFixed(0), torch_ms: +r.torch.toFixed(0), ratio: +(r.js / r.torch).toFixed(3), js_runs: r.jsRuns.map(Math.round), torch_runs: r.torchRuns.map(Math.round) }));
    if (!a.json) process.stdout.write(`\nWhole processes, median of ${a.runs} alternating rounds (PyTorch: a literal port, bench/torch_cli_port.py)\n\n${table(rows)}\n`);
  } else if (a.cli) log('bench: --cli needs python3-torch and the VGG16-BN export: skipped');

  const others: Array<Record<string, number | string>> = [];
  const demo = path.join(root, 'models', 'fashion-vgg', 'model.json');
  if (a.demo && fs.existsSync(demo)) others.push(await jsOnly('fashion-vgg (demo)', demo, Math.max(a.runs, 5)));
  if (a.arch) {
    const arch: Array<Record<string, unknown>> = [];
    const rows: Row[] = [];
    for (const m of archModels()) {
      try {
        const b = await benchArch(m, a.runs, py, torchThreads);
        rows.push(...b.rows);
        arch.push(b.json);
      } catch (e) {
        log(`bench: skipping ${m.name}: ${(e as Error).message}`);
      }
    }
    result.arch = arch;
    const tv = arch.find((j) => j.torch_version);
    if (!a.json && rows.length) {
      const who = `JS: ${backend.name}, ${backend.threads} thread(s); PyTorch: ${tv ? `${tv.torch_version}, ${tv.torch_threads} thread(s), bench/torch_arch_bench.py` : 'not run'}`;
      process.stdout.write(`\nArchitectures, median and best of ${a.runs} alternating rounds (PyTorch: torchvision, seeded as the ONNX exports)\n${who}\n${machineLine}\n\n`);
      process.stdout.write(table(rows) + '\n\n');
      process.stdout.write('* PyTorch beside the nsfwjs (Keras weights) models: torchvision mobilenet_v2 / inception_v3 with seeded weights,\n  the same architecture (timing is architecture-bound, not weight-bound; nsfwjs has 5 classes, torchvision 1000).\n');
    }
  }
  if (others.length) {
    result.others = others;
    if (!a.json) {
      process.stdout.write('\nOther models (JS only, median, every layer\'s map):\n');
      for (const o of others) process.stdout.write(`  ${String(o.model).padEnd(28)} ${String(o.input).padEnd(10)} forward ${o.forward_ms} ms, FG-CAM at the input ${o.fgcam_input_ms} ms (${o.maps} maps)\n`);
    }
  }
  if (a.review) result.review = await benchReview(a.json);
  if (a.json) process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
