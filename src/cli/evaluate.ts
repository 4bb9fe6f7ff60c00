// `fgcam evaluate <folder>`: scores every method on every image of a folder (deletion and
// insertion AUC, Average Drop, Increase in Confidence; engine/metrics) and writes a report
// next to the folder: <folder>.fgcam-eval.md (means with 95% intervals, per layer) and
// <folder>.fgcam-eval.<layer>.png (mean deletion and insertion curves). Images run on
// `--jobs` worker threads (default 2), each with its own single-threaded tfjs backend.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { BackendPreference } from '../engine/backend';
import type { Graph } from '../engine/model/graph';
import type { Preprocess } from '../engine/types';
import { PRESET_NAMES, DEFAULT_PRESET } from '../engine/image/preprocess';
import type { ImageScores } from '../engine/metrics/compare';
import { DEFAULT_METHODS, parseMethod, type MethodSpec } from '../engine/methods';
import { DEFAULT_BLUR, type BlurOptions } from '../engine/metrics/blur';
import { DEFAULT_STEP, pixelsPerStepFor } from '../engine/metrics/curves';
import { meanCI, meanCurve, type MeanCI } from '../engine/metrics/stats';
import { plotCurves, PALETTE, type Series } from '../engine/metrics/plot';
import type { RgbaImage } from '../engine/image/types';
import { BACKENDS, oneOf, parse, preprocessOption, UsageError } from './args';
import { Progress } from './progress';

export const EVALUATE_USAGE = `Usage: fgcam evaluate <folder> --model <model.json|.onnx> [options]

Scores explanation methods on every image of <folder> (PNG/JPEG/BMP, not recursive) for the
model's top-1 class: deletion and insertion AUC (RISE), Average Drop and Increase in Confidence
(Grad-CAM++). Writes <folder>.fgcam-eval.md (means with 95% confidence intervals, per layer) and
<folder>.fgcam-eval.<layer>.png (mean curves) next to the folder.

  --model <file>        TF.js layers model.json or .onnx (required)
  --layer <name>        layer to score at, repeatable (default: input, every pooling layer up to
                        the CAM layer, and the CAM layer)
  --methods <list>      comma-separated (default: ${DEFAULT_METHODS.join(',')});
                        also fgcam-<base>[-denoised] and <base> for gradcampp, xgradcam, layercam,
                        and random (a random map at the input: a reference line)
  --steps <f>           fraction of the pixels changed per step (default ${DEFAULT_STEP})
  --blur <sigma[,r]>    insertion baseline: Gaussian sigma in pixels and taps per side
                        (default ${DEFAULT_BLUR.sigma},${DEFAULT_BLUR.radius})
  --cam-layer <name>    layer the base CAMs of FG-CAM (and LRP's head) stop at (default: detected)
  --preprocess <p>      ${PRESET_NAMES.join(' | ')} (default: the model's, else imagenet)
  --mean a,b,c / --std a,b,c   per-channel normalisation on the 0..1 scale
  --limit <n>           only the first n images (sorted by name)
  --jobs <n>            worker threads (default 2; 1 = in this process)
  --batch <n>           inputs per forward batch (default 16)
  --force               overwrite an existing report and plots
  --json                print all scores as one JSON document on stdout
  --backend <b>         auto | native | wasm | cuda | directml | coreml (default: auto)
  -h, --help            show this help`;

export interface EvaluateArgs {
  folder: string;
  model: string;
  layers?: string[];
  methods: string[];
  step: number;
  blur: BlurOptions;
  camLayer?: string;
  preprocess?: Preprocess;
  limit?: number;
  jobs: number;
  batch: number;
  force: boolean;
  json: boolean;
  backend: BackendPreference;
}

const WORKER_FLAG = '--fgcam-evaluate-worker';

function positiveInt(flag: string, s: string | undefined, dflt: number): number {
  if (s === undefined) return dflt;
  if (!/^\d+$/.test(s) || Number(s) < 1) throw new UsageError(`${flag} must be a positive integer (got "${s}")`, EVALUATE_USAGE);
  return Number(s);
}

export function parseEvaluate(argv: string[]): EvaluateArgs | { help: true } {
  const u = EVALUATE_USAGE;
  const parsed = parse(
    argv,
    {
      model: { type: 'string' },
      layer: { type: 'string', multiple: true },
      methods: { type: 'string' },
      steps: { type: 'string' },
      blur: { type: 'string' },
      'cam-layer': { type: 'string' },
      preprocess: { type: 'string' },
      mean: { type: 'string' },
      std: { type: 'string' },
      limit: { type: 'string' },
      jobs: { type: 'string' },
      batch: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      backend: { type: 'string' },
    },
    u,
  );
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const str = (k: string) => v[k] as string | undefined;
  if (v.help) return { help: true };
  if (parsed.positionals.length !== 1) throw new UsageError(parsed.positionals.length ? 'give one folder' : 'no folder given', u);
  const model = str('model');
  if (!model) throw new UsageError('--model <model.json|.onnx> is required', u);
  const methods = (str('methods') ?? DEFAULT_METHODS.join(',')).split(',').map((m) => m.trim()).filter(Boolean);
  if (methods.length === 0) throw new UsageError('--methods needs at least one method', u);
  for (const m of methods) {
    try {
      parseMethod(m);
    } catch (e) {
      throw new UsageError((e as Error).message, u);
    }
  }
  const step = str('steps') === undefined ? DEFAULT_STEP : Number(str('steps'));
  if (!(step > 0 && step <= 1)) throw new UsageError(`--steps must be a fraction in (0, 1] (got "${str('steps')}")`, u);
  let blur = DEFAULT_BLUR;
  if (str('blur') !== undefined) {
    const [s, r] = str('blur')!.split(',').map(Number);
    const radius = r ?? Math.ceil(s);
    if (!(s >= 0) || !(Number.isInteger(radius) && radius >= 0)) throw new UsageError(`--blur expects sigma[,radius], e.g. 5,5 (got "${str('blur')}")`, u);
    blur = { sigma: s, radius };
  }
  const preprocess = preprocessOption(str('preprocess'), str('mean'), str('std'), u);
  const backend = oneOf('--backend', str('backend') ?? 'auto', BACKENDS, u);
  return {
    folder: parsed.positionals[0],
    model,
    layers: v.layer as string[] | undefined,
    methods: [...new Set(methods)],
    step,
    blur,
    camLayer: str('cam-layer'),
    preprocess,
    limit: str('limit') === undefined ? undefined : positiveInt('--limit', str('limit'), 0),
    jobs: positiveInt('--jobs', str('jobs'), 2),
    batch: positiveInt('--batch', str('batch'), 16),
    force: Boolean(v.force),
    json: Boolean(v.json),
    backend,
  };
}

// ---- one image (in this process or in a worker) ----

interface JobSetup {
  model: string;
  backend: BackendPreference;
  preprocess: Preprocess;
  methods: string[];
  layers: string[];
  step: number;
  blur: BlurOptions;
  camLayer?: string;
  batch: number;
}

type ImageResult = ImageScores & { image: string };

async function makeScorer(s: JobSetup): Promise<{ graph: Graph; backend: string; score: (image: string) => Promise<ImageResult> }> {
  const { initBackend } = await import('../engine/backend');
  const { loadModel } = await import('../engine/explain');
  const { readImageFile } = await import('../engine/image/decode');
  const { toModelInput } = await import('../engine/image/preprocess');
  const { scoreImage } = await import('../engine/metrics/compare');
  const info = await initBackend(s.backend);
  const graph = await loadModel(s.model);
  const methods: MethodSpec[] = s.methods.map(parseMethod);
  return {
    graph,
    backend: info.name,
    score: async (image) => {
      const x = toModelInput(readImageFile(image), graph.inputShape, s.preprocess);
      const r = await scoreImage(graph, x, methods, s.layers, { step: s.step, blur: s.blur, camLayer: s.camLayer, batch: s.batch });
      return { image, ...r };
    },
  };
}

/** Worker side: set up on the first message, then score images until told to stop. */
async function workerLoop(): Promise<number> {
  const setup = workerData as JobSetup;
  const port = parentPort!;
  let scorer: Awaited<ReturnType<typeof makeScorer>>;
  try {
    scorer = await makeScorer(setup);
  } catch (e) {
    port.postMessage({ type: 'fatal', error: (e as Error).message });
    return 1;
  }
  port.postMessage({ type: 'ready', backend: scorer.backend });
  await new Promise<void>((resolve) => {
    port.on('message', async (m: { type: 'image'; i: number; image: string } | { type: 'stop' }) => {
      if (m.type === 'stop') {
        port.close();
        resolve();
        return;
      }
      try {
        port.postMessage({ type: 'result', i: m.i, result: await scorer.score(m.image) });
      } catch (e) {
        port.postMessage({ type: 'error', i: m.i, error: (e as Error).message });
      }
    });
  });
  return 0;
}

type Outcome = { i: number; result?: ImageResult; error?: string };

/** Runs the images on `jobs` workers; results come back through onDone in completion order. */
async function runOnWorkers(setup: JobSetup, images: string[], jobs: number, onStart: (i: number) => void, onDone: (o: Outcome) => void): Promise<string> {
  const script = require.main?.filename ?? process.argv[1];
  let next = 0;
  let backend = '';
  const workers = Array.from({ length: jobs }, () =>
    new Worker(script, {
      argv: ['evaluate', WORKER_FLAG],
      workerData: setup,
      // one wasm thread per worker: the workers are the parallelism
      env: { ...process.env, FGCAM_WASM_THREADS: '1' },
      stdout: false,
      stderr: false,
    }),
  );
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          let busy = -1;
          const feed = () => {
            if (next >= images.length) {
              w.postMessage({ type: 'stop' });
              return;
            }
            busy = next++;
            onStart(busy);
            w.postMessage({ type: 'image', i: busy, image: images[busy] });
          };
          w.on('message', (m: { type: string; i: number; result?: ImageResult; error?: string; backend?: string }) => {
            if (m.type === 'ready') {
              backend = m.backend!;
              feed();
            } else if (m.type === 'fatal') {
              reject(new Error(m.error));
            } else {
              busy = -1;
              onDone({ i: m.i, result: m.result, error: m.error });
              feed();
            }
          });
          w.on('error', (e) => reject(e));
          w.on('exit', (code) => {
            if (busy >= 0) onDone({ i: busy, error: `the worker stopped (exit code ${code}) while scoring it` });
            resolve();
          });
        }),
    ),
  ).finally(() => Promise.all(workers.map((w) => w.terminate())));
  return backend;
}

// ---- aggregation and the report ----

interface Row {
  method: string;
  n: number;
  deletion: MeanCI;
  insertion: MeanCI;
  difference: MeanCI;
  averageDrop: MeanCI;
  increase: MeanCI;
  meanDeletion: Float32Array;
  meanInsertion: Float32Array;
}

export interface Summary {
  layers: Record<string, Row[]>;
}

function summarise(results: ImageResult[], methods: string[], layers: string[]): Summary {
  const out: Summary = { layers: {} };
  for (const layer of layers) {
    const rows: Row[] = [];
    for (const method of methods) {
      const s = results.flatMap((r) => r.scores.filter((x) => x.method === method && x.layer === layer));
      if (s.length === 0) continue;
      rows.push({
        method,
        n: s.length,
        deletion: meanCI(s.map((x) => x.deletionAuc)),
        insertion: meanCI(s.map((x) => x.insertionAuc)),
        difference: meanCI(s.map((x) => x.insertionAuc - x.deletionAuc)),
        averageDrop: meanCI(s.map((x) => (x.full > 0 ? (100 * Math.max(0, x.full - x.masked)) / x.full : 0))),
        increase: meanCI(s.map((x) => (x.masked > x.full ? 100 : 0))),
        meanDeletion: meanCurve(s.map((x) => x.deletion)),
        meanInsertion: meanCurve(s.map((x) => x.insertion)),
      });
    }
    if (rows.length) out.layers[layer] = rows;
  }
  return out;
}

const fmt = (m: MeanCI, digits = 3) => (Number.isNaN(m.half) ? m.mean.toFixed(digits) : `${m.mean.toFixed(digits)} ± ${m.half.toFixed(digits)}`);

function stackImages(a: RgbaImage, b: RgbaImage): RgbaImage {
  const data = new Uint8Array(a.data.length + b.data.length);
  data.set(a.data, 0);
  data.set(b.data, a.data.length);
  return { width: a.width, height: a.height + b.height, data };
}

function colourOf(methods: string[], m: string) {
  return PALETTE[methods.indexOf(m) % PALETTE.length];
}

function plotLayer(rows: Row[], methods: string[], layer: string, n: number): RgbaImage {
  const series = (pick: (r: Row) => Float32Array, auc: (r: Row) => MeanCI): Series[] =>
    rows.map((r) => ({ label: `${r.method} ${auc(r).mean.toFixed(3)}`, color: colourOf(methods, r.method), values: pick(r) }));
  const del = plotCurves(series((r) => r.meanDeletion, (r) => r.deletion), { title: `deletion at ${layer}, mean of ${n}`, xLabel: 'fraction of pixels' });
  const ins = plotCurves(series((r) => r.meanInsertion, (r) => r.insertion), { title: `insertion at ${layer}, mean of ${n}`, xLabel: 'fraction of pixels' });
  return stackImages(del, ins);
}

const hex = (c: number[]) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');

function reportMarkdown(a: EvaluateArgs, ctx: { backend: string; graph: Graph; pre: Preprocess; images: string[]; failures: { image: string; error: string }[]; summary: Summary; plots: Record<string, string>; camLayer: string; seconds: number }): string {
  const [h, w, c] = ctx.graph.inputShape;
  const s = pixelsPerStepFor(h * w, a.step);
  const L: string[] = [];
  L.push(`# Faithfulness of explanation methods on \`${path.basename(path.resolve(a.folder))}\``, '');
  L.push(`Written by \`fgcam evaluate\` (${new Date().toISOString().slice(0, 10)}). Model \`${a.model}\` (input ${h}x${w}x${c}), ` +
    `preprocess ${ctx.pre.mean || ctx.pre.std ? `mean ${ctx.pre.mean} std ${ctx.pre.std}` : ctx.pre.preset ?? DEFAULT_PRESET}, backend ${ctx.backend}, ` +
    `CAM layer \`${ctx.camLayer}\`. ${ctx.images.length - ctx.failures.length} images scored${ctx.failures.length ? `, ${ctx.failures.length} failed` : ''}; ` +
    `target: each image's top-1 class; ${ctx.seconds.toFixed(0)} s.`, '');
  L.push('Protocol: pixels ordered by the map (layer maps resized bilinearly to the input). ' +
    `**Deletion** sets the most relevant pixels to 0 in the model-input space first; **insertion** starts from a Gaussian blur ` +
    `(sigma ${a.blur.sigma} px, ${2 * a.blur.radius + 1} taps, edges clamped) and restores the most relevant pixels first; ` +
    `${s} pixels (${(a.step * 100).toFixed(2)}%) per step; target-class softmax after every step; AUC by the trapezoid rule over [0, 1]. ` +
    '**Average Drop** (AD) and **Increase in Confidence** (IC): Grad-CAM++ definitions, the map (ReLU, min-max) as a soft mask on the input. ' +
    'Values: mean ± half-width of the 95% t interval over images. Better: deletion ↓, insertion ↑, ins − del ↑, AD ↓, IC ↑; best mean in bold.', '');
  for (const [layer, rows] of Object.entries(ctx.summary.layers)) {
    const info = layer === 'input' ? `${h}x${w}` : ctx.graph.nodes.find((n) => n.name === layer)?.outputShape.slice(0, 2).join('x');
    L.push(`## Layer \`${layer}\` (${info})`, '');
    L.push('| method | deletion AUC ↓ | insertion AUC ↑ | ins − del ↑ | AD % ↓ | IC % ↑ | n |', '|---|---|---|---|---|---|---|');
    const best = (get: (r: Row) => number, low: boolean) => rows.reduce((b, r) => ((low ? get(r) < get(b) : get(r) > get(b)) ? r : b), rows[0]);
    const bDel = best((r) => r.deletion.mean, true), bIns = best((r) => r.insertion.mean, false), bDif = best((r) => r.difference.mean, false);
    const bAd = best((r) => r.averageDrop.mean, true), bIc = best((r) => r.increase.mean, false);
    const cell = (r: Row, b: Row, m: MeanCI, d = 3) => (r === b ? `**${fmt(m, d)}**` : fmt(m, d));
    for (const r of rows) {
      L.push(`| ${r.method} | ${cell(r, bDel, r.deletion)} | ${cell(r, bIns, r.insertion)} | ${cell(r, bDif, r.difference)} | ${cell(r, bAd, r.averageDrop, 1)} | ${cell(r, bIc, r.increase, 1)} | ${r.n} |`);
    }
    L.push('');
    if (ctx.plots[layer]) L.push(`![mean deletion (top) and insertion (bottom) curves at ${layer}](${path.basename(ctx.plots[layer])})`, '');
  }
  L.push('Plot colours: ' + a.methods.map((m) => `${m} ${hex(colourOf(a.methods, m))}`).join(', ') + '.', '');
  if (ctx.failures.length) {
    L.push('## Failures', '');
    for (const f of ctx.failures) L.push(`- ${f.image}: ${f.error}`);
    L.push('');
  }
  return L.join('\n');
}

/** Default layers: input, every pooling layer up to the CAM layer, the CAM layer. */
function defaultLayers(g: Graph, camLayer: string): string[] {
  const camIdx = g.nodes.findIndex((n) => n.name === camLayer);
  const out = ['input'];
  g.nodes.forEach((n, i) => {
    if (i > 0 && i <= camIdx && (n.op.kind === 'maxpool' || n.op.kind === 'avgpool' || i === camIdx) && n.outputShape.length === 3) out.push(n.name);
  });
  return out;
}

export async function runEvaluate(argv: string[]): Promise<number> {
  if (!isMainThread && argv.includes(WORKER_FLAG)) return workerLoop();
  const parsed = parseEvaluate(argv);
  if ('help' in parsed) {
    process.stdout.write(EVALUATE_USAGE + '\n');
    return 0;
  }
  const a = parsed;
  const t0 = performance.now();
  const out = a.json ? process.stderr : process.stdout;
  const warn = (line: string) => process.stderr.write(line + '\n');
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(a.folder);
  } catch {
    // reported below
  }
  if (!st?.isDirectory()) throw new UsageError(`${a.folder} is not a folder`, EVALUATE_USAGE);
  const { listImages } = await import('../app/images');
  const found = listImages([a.folder]);
  let images = found.images;
  if (a.limit !== undefined) images = images.slice(0, a.limit);
  if (images.length === 0) {
    warn(`fgcam: error: ${a.folder}: folder has no PNG, JPEG or BMP images`);
    return 1;
  }
  const base = path.resolve(a.folder).replace(/[\\/]+$/, '');
  const reportFile = `${base}.fgcam-eval.md`;

  // The model, here too: to check the layers before starting workers.
  const { initBackend } = await import('../engine/backend');
  const { loadModel, listLayers, detectCamLayer } = await import('../engine/explain');
  const { sanitizeLayerName, writeFileAtomic } = await import('../app/files');
  const backend = await initBackend(a.backend);
  if (a.backend !== 'auto' || backend.name === 'cpu') for (const w of backend.warnings) warn(`fgcam: warning: ${w}`);
  let graph: Graph;
  try {
    graph = await loadModel(a.model);
  } catch (e) {
    warn(`fgcam: error: cannot load the model ${a.model}: ${(e as Error).message}`);
    return 1;
  }
  const infos = listLayers(graph);
  let camLayer: string;
  try {
    camLayer = a.camLayer ?? detectCamLayer(graph);
  } catch (e) {
    warn(`fgcam: error: ${(e as Error).message}`);
    return 1;
  }
  if (!graph.nodes.some((n) => n.name === camLayer)) throw new UsageError(`unknown --cam-layer "${camLayer}"`, EVALUATE_USAGE);
  const layers = a.layers ? [...new Set(a.layers.map((l) => (l === graph.nodes[0].name ? 'input' : l)))] : defaultLayers(graph, camLayer);
  const camIdx = graph.nodes.findIndex((n) => n.name === camLayer);
  for (const l of layers) {
    const info = infos.find((x) => x.name === l);
    const idx = l === 'input' ? 0 : graph.nodes.findIndex((n) => n.name === l);
    if (!info || !info.spatial || idx > camIdx) {
      const valid = infos.filter((x, i) => x.spatial && i <= camIdx).map((x) => x.name);
      throw new UsageError(`layer "${l}" cannot be scored: layers with a spatial map at or below the CAM layer (${camLayer}): ${valid.join(', ')}`, EVALUATE_USAGE);
    }
  }
  const plots = Object.fromEntries(layers.map((l) => [l, `${base}.fgcam-eval.${sanitizeLayerName(l)}.png`]));
  if (!a.force) {
    const existing = [reportFile, ...Object.values(plots)].filter((f) => fs.existsSync(f));
    if (existing.length) {
      warn(`fgcam: error: ${existing[0]} already exists; not overwriting it (use --force to overwrite).`);
      return 1;
    }
  }
  const pre: Preprocess = a.preprocess ?? { preset: graph.defaultPreprocess ?? DEFAULT_PRESET };
  const setup: JobSetup = { model: path.resolve(a.model), backend: a.backend, preprocess: pre, methods: a.methods, layers, step: a.step, blur: a.blur, camLayer, batch: a.batch };
  const jobs = Math.min(a.jobs, images.length);
  out.write(`fgcam evaluate: ${images.length} images from ${a.folder}; model ${a.model}; methods ${a.methods.join(', ')}; layers ${layers.join(', ')}; ` +
    `${jobs > 1 ? `${jobs} worker threads` : `backend ${backend.name}`}\n`);

  const results: (ImageResult | undefined)[] = new Array(images.length);
  const failures = found.failures.slice();
  const progress = new Progress(images.length, true);
  const done = (o: Outcome) => {
    if (o.result) results[o.i] = o.result;
    else {
      failures.push({ image: images[o.i], error: o.error ?? 'unknown error' });
      progress.log(`fgcam: error: ${images[o.i]}: ${o.error}`, process.stderr);
    }
    progress.tick(path.basename(images[o.i]));
  };
  let usedBackend = backend.name;
  if (jobs > 1) {
    try {
      usedBackend = await runOnWorkers(setup, images, jobs, (i) => progress.start(path.basename(images[i])), done);
    } catch (e) {
      progress.end();
      warn(`fgcam: error: the worker threads failed: ${(e as Error).message}`);
      return 1;
    }
  } else {
    const scorer = await makeScorer(setup);
    for (let i = 0; i < images.length; i++) {
      progress.start(path.basename(images[i]));
      try {
        done({ i, result: await scorer.score(images[i]) });
      } catch (e) {
        done({ i, error: (e as Error).message });
      }
    }
  }
  progress.end();
  const ok = results.filter((r): r is ImageResult => r !== undefined);
  if (ok.length === 0) {
    warn('fgcam: error: no image could be scored');
    return 1;
  }
  const summary = summarise(ok, a.methods, layers);
  const seconds = (performance.now() - t0) / 1000;
  const { encodePng } = await import('../engine/image/encode');
  const written: string[] = [];
  for (const [layer, rows] of Object.entries(summary.layers)) {
    await writeFileAtomic(plots[layer], encodePng(plotLayer(rows, a.methods, layer, ok.length)), { overwrite: a.force });
    written.push(plots[layer]);
  }
  await writeFileAtomic(reportFile, reportMarkdown(a, { backend: usedBackend, graph, pre, images, failures, summary, plots, camLayer, seconds }), { overwrite: a.force });
  written.unshift(reportFile);
  for (const f of written) out.write(`  wrote ${f}\n`);
  if (a.json) {
    const rowJson = (r: Row) => ({
      method: r.method,
      n: r.n,
      deletionAuc: r.deletion,
      insertionAuc: r.insertion,
      insertionMinusDeletion: r.difference,
      averageDropPercent: r.averageDrop,
      increaseInConfidencePercent: r.increase,
      meanDeletionCurve: Array.from(r.meanDeletion),
      meanInsertionCurve: Array.from(r.meanInsertion),
    });
    const doc = {
      backend: usedBackend,
      model: a.model,
      folder: a.folder,
      camLayer,
      protocol: { step: a.step, pixelsPerStep: pixelsPerStepFor(graph.inputShape[0] * graph.inputShape[1], a.step), blur: a.blur, deletionValue: 0, preprocess: pre },
      methods: a.methods,
      layers,
      summary: Object.fromEntries(Object.entries(summary.layers).map(([l, rows]) => [l, rows.map(rowJson)])),
      images: ok.map((r) => ({
        image: r.image,
        classIndex: r.classIndex,
        prob: r.prob,
        scores: r.scores.map((s) => ({ method: s.method, layer: s.layer, deletionAuc: s.deletionAuc, insertionAuc: s.insertionAuc, full: s.full, masked: s.masked })),
      })),
      failures,
      files: written,
      seconds,
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  }
  out.write(`fgcam evaluate: ${ok.length} scored, ${failures.length} failed in ${seconds.toFixed(1)} s; report ${reportFile}\n`);
  return failures.length ? 1 : 0;
}
