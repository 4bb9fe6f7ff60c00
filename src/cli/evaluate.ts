// `fgcam evaluate <folder>`: parse the flags, check the model's layers, score every image on
// the app's engine workers (app/evaluate/pool.ts), summarise (app/evaluate/summary.ts) and
// write the report next to the folder (app/evaluate/report.ts): <folder>.fgcam-eval.md
// (means with 95% intervals, per layer) and <folder>.fgcam-eval.<layer>.png (mean curves).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BlurOptions } from '../engine/metrics/blur';
import type { Preprocess } from '../engine/types';
import type { ImageResult } from '../app/evaluate/job';
import { DEFAULT_METHODS, parseMethod } from '../engine/methods';
import { DEFAULT_BLUR, DEFAULT_STEP, PRESET_NAMES, type BackendPreference } from '../app/options';
import { backendOption, oneOf, parse, positiveInt, preprocessOption, UsageError } from './args';
import { Progress } from './progress';
import { print, printableJson } from './print';

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
  const backend = backendOption(str('backend'), u);
  return {
    folder: parsed.positionals[0],
    model,
    layers: v.layer as string[] | undefined,
    methods: [...new Set(methods)],
    step,
    blur,
    camLayer: str('cam-layer'),
    preprocess,
    limit: str('limit') === undefined ? undefined : positiveInt('--limit', str('limit'), 0, EVALUATE_USAGE),
    jobs: positiveInt('--jobs', str('jobs'), 2, EVALUATE_USAGE),
    batch: positiveInt('--batch', str('batch'), 16, EVALUATE_USAGE),
    force: Boolean(v.force),
    json: Boolean(v.json),
    backend,
  };
}

export async function runEvaluate(argv: string[]): Promise<number> {
  const parsed = parseEvaluate(argv);
  if ('help' in parsed) {
    process.stdout.write(EVALUATE_USAGE + '\n');
    return 0;
  }
  const a = parsed;
  const t0 = performance.now();
  const out = a.json ? process.stderr : process.stdout;
  const warn = (line: string) => print(line + '\n', process.stderr);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(a.folder);
  } catch {
    // reported below
  }
  if (!st?.isDirectory()) throw new UsageError(`${a.folder} is not a folder`, EVALUATE_USAGE);
  // Loaded here so --help and usage errors never pay for the engine's start-up.
  const { listImages } = await import('../app/images');
  const { startBackend, warningsToShow } = await import('../app/backend');
  const { ModelSession } = await import('../app/session');
  const { evaluateLayers } = await import('../app/evaluate/layers');
  const { scoreImages } = await import('../app/evaluate/pool');
  const { summarise } = await import('../app/evaluate/summary');
  const { plotLayerPng, reportJson, reportMarkdown } = await import('../app/evaluate/report');
  const { OUTPUT_MARK, sanitizeLayerName, writeFileAtomic } = await import('../app/files');

  const found = listImages([a.folder]);
  let images = found.images;
  if (a.limit !== undefined) images = images.slice(0, a.limit);
  if (images.length === 0) {
    warn(`fgcam: error: ${a.folder}: folder has no PNG, JPEG or BMP images`);
    return 1;
  }
  const base = path.resolve(a.folder).replace(/[\\/]+$/, '');
  const reportFile = `${base}${OUTPUT_MARK}eval.md`;

  // The model, here too: to check the layers before starting workers.
  const backend = await startBackend(a.backend);
  for (const w of warningsToShow(a.backend, backend)) warn(`fgcam: warning: ${w}`);
  let session;
  try {
    session = await ModelSession.open(a.model);
  } catch (e) {
    warn(`fgcam: error: cannot load the model ${a.model}: ${(e as Error).message}`);
    return 1;
  }
  let camLayer: string;
  try {
    camLayer = session.camLayer(a.camLayer);
  } catch (e) {
    if (a.camLayer !== undefined) throw new UsageError(`unknown --cam-layer "${a.camLayer}"`, EVALUATE_USAGE);
    warn(`fgcam: error: ${(e as Error).message}`);
    return 1;
  }
  let layers: string[];
  try {
    layers = evaluateLayers(session, camLayer, a.layers);
  } catch (e) {
    throw new UsageError((e as Error).message, EVALUATE_USAGE);
  }
  const plots = Object.fromEntries(layers.map((l) => [l, `${base}${OUTPUT_MARK}eval.${sanitizeLayerName(l)}.png`]));
  if (!a.force) {
    const existing = [reportFile, ...Object.values(plots)].filter((f) => fs.existsSync(f));
    if (existing.length) {
      warn(`fgcam: error: ${existing[0]} already exists; not overwriting it (use --force to overwrite).`);
      return 1;
    }
  }
  const pre = session.preprocess(a.preprocess).pre;
  const job = { model: path.resolve(a.model), preprocess: pre, methods: a.methods, layers, step: a.step, blur: a.blur, camLayer, batch: a.batch };
  const jobs = Math.min(a.jobs, images.length);
  print(`fgcam evaluate: ${images.length} images from ${a.folder}; model ${a.model}; methods ${a.methods.join(', ')}; layers ${layers.join(', ')}; ` +
    `${jobs > 1 ? `${jobs} worker threads` : `backend ${backend.name}`}\n`, out);

  const scored: ImageResult[] = new Array(images.length);
  const failures = found.failures.slice();
  const progress = new Progress(images.length, true);
  const distDir = path.dirname(require.main?.filename ?? process.argv[1]);
  const usedBackend =
    (await scoreImages(
      { jobs, backend: a.backend, distDir, session, log: (l) => (process.env.FGCAM_DEBUG ? warn(`fgcam: ${l}`) : undefined) },
      job,
      images,
      (i) => progress.start(path.basename(images[i])),
      (o) => {
        if (o.result) scored[o.i] = o.result;
        else {
          failures.push({ image: images[o.i], error: o.error ?? 'unknown error' });
          progress.log(`fgcam: error: ${images[o.i]}: ${o.error}`, process.stderr);
        }
        progress.tick(path.basename(images[o.i]));
      },
    )) ?? backend.name;
  progress.end();
  const ok = scored.filter((r) => r !== undefined);
  if (ok.length === 0) {
    warn('fgcam: error: no image could be scored');
    return 1;
  }
  const summary = summarise(ok, a.methods, layers);
  const written: string[] = [reportFile];
  for (const [layer, rows] of Object.entries(summary.layers)) {
    await writeFileAtomic(plots[layer], plotLayerPng(rows, a.methods, layer, ok.length), { overwrite: a.force });
    written.push(plots[layer]);
  }
  const seconds = (performance.now() - t0) / 1000;
  const ctx = {
    folder: a.folder, model: a.model, methods: a.methods, layers, step: a.step, blur: a.blur, backend: usedBackend,
    inputShape: session.inputShape, modelLayers: session.layers, pre, camLayer, images: images.length,
    results: ok, failures, summary, plots, files: written, seconds,
  };
  await writeFileAtomic(reportFile, reportMarkdown(ctx), { overwrite: a.force });
  for (const f of written) print(`  wrote ${f}\n`, out);
  if (a.json) process.stdout.write(printableJson(reportJson(ctx)) + '\n');
  print(`fgcam evaluate: ${ok.length} scored, ${failures.length} failed in ${seconds.toFixed(1)} s; report ${reportFile}\n`, out);
  return failures.length ? 1 : 0;
}
