// `fgcam explain`: images/folders -> one model session -> each --method's maps per image ->
// heatmap/overlay/.npy per method and layer. A bad file never stops the run: it is reported
// at the end and makes the exit code 1.
import * as fs from 'node:fs';
import type { LayerInfo, LayerMap, Prediction } from '../engine/types';
import { fileTag, findMethod, parseMethod, type MethodInfo, type MethodSpec } from '../engine/methods';
import { startBackend, warningsToShow } from '../app/backend';
import { listImages, type Failure } from '../app/images';
import { labelsBesideModel, loadLabels } from '../app/labels';
import { describePreprocess } from '../app/preprocess';
import { outputName, outputStems, writeFileAtomic } from '../app/files';
import { heatmapPng, ModelSession, overlayPng, rawNpy, readImage } from '../app/session';
import { Progress } from './progress';
import { print, printableJson } from './print';
import { UsageError, EXPLAIN_USAGE, type ExplainArgs } from './args';

export type { Failure } from '../app/images';

export interface ResultEntry {
  image: string;
  classIndex: number;
  top: { index: number; prob: number; label: string | null }[];
  camLayer: string;
  files: string[];
  timingsMs: Record<string, number>;
}
export interface Report {
  backend: string;
  model: string;
  methods: string[];
  results: ResultEntry[];
  failures: Failure[];
}

/** Extra knobs for callers other than `fgcam explain` (the demo). */
export interface RunExtras {
  /** How many predictions to print per image (default 5). */
  printTop?: number;
  /** Chooses the layers from the model's list, replacing args.layers. */
  pickLayers?: (layers: LayerInfo[]) => string[];
  /** Print every written file (default) or one count per image. */
  listFiles?: boolean;
}

/** One method and the layers to write it at: user's name -> the session's layer key. */
interface PlannedMethod {
  info: MethodInfo;
  spec: MethodSpec;
  layers: Map<string, string>;
}

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A probability as a percentage, the same way everywhere it is printed. */
const fmtProb = (p: number) => `${(p * 100).toFixed(2)}%`;

function fmtTop(top: ResultEntry['top']): string {
  return top.map((p) => `${p.index}${p.label ? ` ${p.label}` : ''} ${fmtProb(p.prob)}`).join(', ');
}

/**
 * Checks every --layer against the model and every method against its layers (the
 * catalogue's layersFor). Without --layer, a method is written at the input when it has a
 * map there, else at the CAM layer.
 */
function planMethods(s: ModelSession, methodIds: string[], wanted: string[] | undefined, camLayer: string): PlannedMethod[] {
  const explainable = s.layers.filter((l) => l.spatial).map((l) => l.name);
  return methodIds.map((id) => {
    const info = findMethod(id)!;
    const applies = s.layersFor(info, camLayer);
    const names = wanted ?? [applies.includes('input') ? 'input' : camLayer];
    const layers = new Map<string, string>();
    for (const name of names) {
      const key = s.layerKey(name);
      const layer = s.layers.find((l) => l.name === key);
      if (!layer) throw new UsageError(`unknown layer "${name}". Layers you can explain: ${explainable.join(', ')}`, EXPLAIN_USAGE);
      if (!layer.spatial) {
        throw new UsageError(`layer "${name}" (${layer.className}, shape [${layer.shape}]) has no spatial map. Layers you can explain: ${explainable.join(', ')}`, EXPLAIN_USAGE);
      }
      if (!applies.includes(key)) {
        const why = info.layers === 'walk' ? ` (the CAM layer ${camLayer} and below; --cam-layer moves it)` : info.layers === 'features' ? ' (it needs feature channels: not the input)' : '';
        throw new UsageError(`${info.label} (--method ${info.id}) has no map at layer "${name}". It gives maps at: ${applies.join(', ')}${why}`, EXPLAIN_USAGE);
      }
      layers.set(name, key);
    }
    return { info, spec: parseMethod(info.id), layers };
  });
}

/** Long steps inside one explanation (Score-CAM's masked forwards) on stderr: redrawn on a
 * terminal, else a line at every quarter. */
function stepReporter(out: NodeJS.WriteStream = process.stderr): (what: string, done: number, total: number) => void {
  let quarter = 0;
  return (what, done, total) => {
    if (out.isTTY) {
      out.write(`\r\x1b[K  ${what}: ${done}/${total}`);
      if (done === total) out.write('\r\x1b[K');
    } else if (Math.floor((4 * done) / total) > quarter) {
      quarter = Math.floor((4 * done) / total);
      out.write(`  ${what}: ${done}/${total}\n`);
    }
  };
}

interface ImageMaps {
  classIndex: number;
  probs: Float32Array;
  top: Prediction[];
  camLayer: string;
  /** maps[method id][layer key] */
  maps: Record<string, Record<string, LayerMap>>;
  timings: Record<string, number>;
}

/** Every planned method's maps for one input, all for the same class (the first method's top-1 unless --class). */
async function mapsOf(s: ModelSession, x: Float32Array, plan: PlannedMethod[], a: ExplainArgs, camLayer: string): Promise<ImageMaps> {
  let classIndex = a.classIndex;
  let probs: Float32Array | undefined;
  let top: Prediction[] | undefined;
  const maps: ImageMaps['maps'] = {};
  const timings: Record<string, number> = {};
  for (const p of plan.filter((p) => p.spec.kind === 'fgcam')) {
    const spec = p.spec as Extract<MethodSpec, { kind: 'fgcam' }>;
    const layers = [...p.layers.values()];
    const ex = await s.explain(x, { base: spec.base, denoise: spec.denoise, classIndex, camLayer: a.camLayer, layers, onProgress: stepReporter() });
    classIndex = ex.classIndex;
    probs = ex.probs;
    top = ex.top;
    maps[p.info.id] = ex.maps;
    for (const [k, v] of Object.entries(ex.timings)) timings[k] = (timings[k] ?? 0) + v;
  }
  const others = plan.filter((p) => p.spec.kind !== 'fgcam');
  if (others.length) {
    const t0 = performance.now();
    const layers = [...new Set(others.flatMap((p) => [...p.layers.values()]))];
    const mm = await s.methodMaps(x, others.map((p) => p.spec), layers, { classIndex, camLayer: a.camLayer });
    classIndex = mm.classIndex;
    probs ??= mm.probs;
    Object.assign(maps, mm.maps);
    timings.methods = performance.now() - t0;
  }
  return { classIndex: classIndex!, probs: probs!, top: top ?? s.top(probs!), camLayer, maps, timings };
}

/** Runs `fgcam explain`; returns the exit code. Throws UsageError for bad arguments. */
export async function runExplain(a: ExplainArgs, extras: RunExtras = {}): Promise<number> {
  const text = a.json ? process.stderr : process.stdout;
  const log = (line: string) => print(line + '\n', text);
  const warn = (line: string) => print(line + '\n', process.stderr);
  const { images, failures, hadFolder } = listImages(a.inputs);
  let stems: Map<string, string>;
  try {
    stems = outputStems(images, a.out);
  } catch (e) {
    print(`fgcam: error: ${msg(e)}\n`, process.stderr);
    return 1;
  }

  const backend = await startBackend(a.backend);
  const report: Report = { backend: backend.name, model: a.model, methods: a.methods, results: [], failures };
  for (const w of warningsToShow(a.backend, backend)) warn(`fgcam: warning: ${w}`);
  const fatal = (m: string): number => {
    warn(`fgcam: error: ${m}`);
    if (a.json) process.stdout.write(printableJson({ ...report, error: m }) + '\n');
    return 1;
  };

  let s: ModelSession;
  try {
    s = await ModelSession.open(a.model, { inputSize: a.inputSize });
  } catch (e) {
    return fatal(`cannot load the model ${a.model}: ${msg(e)}`);
  }
  let camLayer: string;
  try {
    camLayer = s.camLayer(a.camLayer);
  } catch (e) {
    if (a.camLayer !== undefined) throw new UsageError(msg(e), EXPLAIN_USAGE);
    return fatal(msg(e));
  }
  const plan = planMethods(s, a.methods, extras.pickLayers ? extras.pickLayers(s.layers) : a.layers, camLayer);
  if (a.classIndex !== undefined && s.numClasses && a.classIndex >= s.numClasses) {
    throw new UsageError(`--class ${a.classIndex} is out of range: the model has ${s.numClasses} classes (0..${s.numClasses - 1})`, EXPLAIN_USAGE);
  }
  const labelsFile = a.labels ?? labelsBesideModel(a.model);
  if (labelsFile) {
    try {
      s.labels = loadLabels(labelsFile, { classes: s.numClasses, warn: (m) => warn(`fgcam: warning: ${m}`) });
    } catch (e) {
      return fatal(msg(e));
    }
    if (s.numClasses && s.labels.length !== s.numClasses) warn(`fgcam: warning: ${labelsFile} has ${s.labels.length} labels; the model has ${s.numClasses} classes`);
  }
  const { pre, source } = s.preprocess(a.preprocess);
  if (a.out) {
    try {
      fs.mkdirSync(a.out, { recursive: true });
    } catch (e) {
      return fatal(`cannot create the output folder ${a.out}: ${msg(e)}`);
    }
  }

  const what = plan.map((p) => p.info.label).join(', ');
  const layerNames = [...new Set(plan.flatMap((p) => [...p.layers.keys()]))];
  log(`fgcam: backend ${backend.name}; model ${a.model} (input ${s.inputShape.join('x')}); ${what}; layers ${layerNames.join(', ')}; preprocess ${describePreprocess(pre, source)}`);
  for (const f of failures) warn(`fgcam: error: ${f.error}`);

  const progress = new Progress(images.length, hadFolder || images.length > 1);
  const failedImages = new Set(failures.map((f) => f.image));
  const writtenThisRun = new Map<string, string>();
  const fail = (image: string, error: string) => {
    failures.push({ image, error });
    failedImages.add(image);
    progress.log(`fgcam: error: ${error}`, process.stderr);
  };

  for (const image of images) {
    progress.start(image);
    const t0 = performance.now();
    try {
      const img = readImage(image);
      const t1 = performance.now();
      const x = s.input(img, pre);
      const t2 = performance.now();
      const r = await mapsOf(s, x, plan, a, camLayer);
      const t3 = performance.now();
      const top = r.top.slice(0, extras.printTop ?? 5).map((p) => ({ index: p.index, prob: p.prob, label: p.label ?? null }));
      const entry: ResultEntry = { image, classIndex: r.classIndex, top, camLayer, files: [], timingsMs: {} };
      const cls = s.labels?.[r.classIndex] !== undefined ? `${r.classIndex} (${s.labels[r.classIndex]})` : `${r.classIndex}`;
      progress.log(`${image}: class ${cls} (${fmtProb(r.probs[r.classIndex])}); CAM layer ${camLayer}\n  top-${top.length}: ${fmtTop(top)}`, text);

      for (const p of plan) {
        const tag = fileTag(p.info);
        for (const [name, key] of p.layers) {
          const map = r.maps[p.info.id]?.[key];
          if (!map) {
            fail(image, `${image}: ${p.info.label} gave no map at layer "${name}"`);
            continue;
          }
          const stem = stems.get(image);
          const outputs: [string, () => Uint8Array][] = [[outputName(image, tag, name, 'heatmap', a.out, stem), () => heatmapPng(img, map, a.colormap)]];
          if (a.overlay) outputs.push([outputName(image, tag, name, 'overlay', a.out, stem), () => overlayPng(img, map, a.colormap, a.opacity)]);
          if (a.raw) outputs.push([outputName(image, tag, name, 'raw', a.out, stem), () => rawNpy(map)]);
          for (const [file, make] of outputs) {
            try {
              // Two outputs of one run never share a name (outputStems); this is the last guard.
              if (writtenThisRun.has(file)) throw new Error(`${file} was already written by this run (for ${writtenThisRun.get(file)}); not overwriting it.`);
              await writeFileAtomic(file, make(), { overwrite: a.force, readOnlyHint: 'use --out <folder> to write the outputs elsewhere' });
              writtenThisRun.set(file, image);
              entry.files.push(file);
              if (extras.listFiles !== false) progress.log(`  wrote ${file}`, text);
            } catch (e) {
              fail(image, msg(e));
            }
          }
        }
      }
      if (extras.listFiles === false) progress.log(`  wrote ${entry.files.length} files`, text);
      const t4 = performance.now();
      entry.timingsMs = { decode: t1 - t0, preprocess: t2 - t1, ...r.timings, explain: t3 - t2, write: t4 - t3, total: t4 - t0 };
      report.results.push(entry);
    } catch (e) {
      fail(image, msg(e).includes(image) ? msg(e) : `${image}: ${msg(e)}`);
    }
    progress.tick();
  }
  progress.end();

  const explained = images.filter((i) => !failedImages.has(i)).length;
  const summary = [`fgcam: ${explained} explained, ${failedImages.size} failed (backend ${backend.name})`];
  // Each failure was printed when it happened; the closing list gathers them for long runs.
  if (images.length > 1) for (const f of failures) summary.push(`  ${f.error.includes(f.image) ? f.error : `${f.image}: ${f.error}`}`);
  if (a.json) {
    process.stdout.write(printableJson(report) + '\n');
    warn(summary.join('\n'));
  } else {
    log(summary.join('\n'));
  }
  return failures.length > 0 ? 1 : 0;
}
