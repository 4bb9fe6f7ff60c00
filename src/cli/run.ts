// `fgcam explain`: images/folders -> one explain() per image -> heatmap/overlay/.npy per layer.
// A bad file never stops the run: it is reported at the end and makes the exit code 1.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../engine/backend';
import { explain, listLayers, loadModel } from '../engine/explain';
import type { Graph } from '../engine/model/graph';
import type { LayerInfo, LayerMap, Prediction, Preprocess } from '../engine/types';
import { detectFormat, IMAGE_EXTENSIONS, readImageFile } from '../engine/image/decode';
import { DEFAULT_PRESET, toModelInput } from '../engine/image/preprocess';
import { renderHeatmap, renderOverlay } from '../engine/image/render';
import { encodePng } from '../engine/image/encode';
import { encodeNpy } from '../engine/image/npy';
import { outputName, writeFileAtomic } from '../engine/files';
import { labelsBesideModel, loadLabels } from './labels';
import { Progress } from './progress';
import { UsageError, EXPLAIN_USAGE, type ExplainArgs } from './args';

export interface ResultEntry {
  image: string;
  classIndex: number;
  top: { index: number; prob: number; label: string | null }[];
  camLayer: string;
  files: string[];
  timingsMs: Record<string, number>;
}
export interface Failure {
  image: string;
  error: string;
}
export interface Report {
  backend: string;
  model: string;
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

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Our own outputs live next to the images: never feed them back in. */
const isOwnOutput = (name: string) => name.includes('.fgcam-');

function readHead(file: string): Uint8Array {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(16);
    const n = fs.readSync(fd, b, 0, 16, 0);
    return b.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Expands folders (non-recursive, sorted) into their image files: files with an image
 * extension (a corrupt one is then reported) or an image signature. Missing paths fail.
 */
export function collectImages(inputs: string[]): { images: string[]; failures: Failure[]; hadFolder: boolean } {
  const images: string[] = [];
  const failures: Failure[] = [];
  let hadFolder = false;
  for (const input of inputs) {
    let st: fs.Stats;
    try {
      st = fs.statSync(input);
    } catch {
      failures.push({ image: input, error: `${input}: no such file or folder` });
      continue;
    }
    if (!st.isDirectory()) {
      images.push(input);
      continue;
    }
    hadFolder = true;
    const found = fs
      .readdirSync(input, { withFileTypes: true })
      .filter((d) => d.isFile() && !isOwnOutput(d.name))
      .map((d) => d.name)
      .sort()
      .filter((name) => {
        if (IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase())) return true;
        try {
          return detectFormat(readHead(path.join(input, name))) !== undefined;
        } catch {
          return false;
        }
      });
    if (found.length === 0) failures.push({ image: input, error: `${input}: folder has no PNG, JPEG or BMP images` });
    images.push(...found.map((name) => path.join(input, name)));
  }
  return { images: [...new Set(images)], failures, hadFolder };
}

/** A probability as a percentage, the same way everywhere it is printed. */
const fmtProb = (p: number) => `${(p * 100).toFixed(2)}%`;

function fmtTop(top: ResultEntry['top']): string {
  return top.map((p) => `${p.index}${p.label ? ` ${p.label}` : ''} ${fmtProb(p.prob)}`).join(', ');
}

function describePreprocess(pre: Preprocess, source: 'flag' | 'model' | 'default'): string {
  if (pre.mean || pre.std) return `mean ${pre.mean ?? [0]} std ${pre.std ?? [1]} (0..1 scale)`;
  const why = { flag: '', model: " (the model's; set --preprocess to change)", default: ' (default; set --preprocess to change)' }[source];
  return `${pre.preset ?? DEFAULT_PRESET}${why}`;
}

/** Validates --layer names against the model; returns the explanation map key for each. */
function resolveLayers(g: Graph, infos: LayerInfo[], wanted: string[]): Map<string, string> {
  const valid = infos.filter((l) => l.spatial).map((l) => l.name);
  const out = new Map<string, string>();
  for (const name of wanted) {
    // The input layer answers to "input" and to its own name in the model.
    const key = name === g.nodes[0].name ? 'input' : name;
    const info = infos.find((l) => l.name === key);
    if (!info) throw new UsageError(`unknown layer "${name}". Layers you can explain: ${valid.join(', ')}`, EXPLAIN_USAGE);
    if (!info.spatial) {
      throw new UsageError(`layer "${name}" (${info.className}, shape [${info.shape}]) has no spatial map. Layers you can explain: ${valid.join(', ')}`, EXPLAIN_USAGE);
    }
    out.set(name, key);
  }
  return out;
}

/** Runs `fgcam explain`; returns the exit code. Throws UsageError for bad arguments. */
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

export async function runExplain(a: ExplainArgs, extras: RunExtras = {}): Promise<number> {
  const log = (line: string) => (a.json ? process.stderr : process.stdout).write(line + '\n');
  const warn = (line: string) => process.stderr.write(line + '\n');
  const { images, failures, hadFolder } = collectImages(a.inputs);

  const backend = await initBackend(a.backend);
  const report: Report = { backend: backend.name, model: a.model, results: [], failures };
  // In auto mode a missing tfjs-node is normal: only the slow cpu fallback is worth a warning.
  if (a.backend !== 'auto' || backend.name === 'cpu') for (const w of backend.warnings) warn(`fgcam: warning: ${w}`);
  const fatal = (m: string): number => {
    warn(`fgcam: error: ${m}`);
    if (a.json) process.stdout.write(JSON.stringify({ ...report, error: m }, null, 2) + '\n');
    return 1;
  };

  let graph: Graph;
  try {
    graph = await loadModel(a.model, { inputSize: a.inputSize });
  } catch (e) {
    return fatal(`cannot load the model ${a.model}: ${msg(e)}`);
  }
  const infos = listLayers(graph);
  const layers = resolveLayers(graph, infos, extras.pickLayers ? extras.pickLayers(infos) : a.layers);
  const numClasses = graph.nodes.find((n) => n.name === graph.output)?.outputShape.slice(-1)[0];
  if (a.classIndex !== undefined && numClasses && a.classIndex >= numClasses) {
    throw new UsageError(`--class ${a.classIndex} is out of range: the model has ${numClasses} classes (0..${numClasses - 1})`, EXPLAIN_USAGE);
  }
  let labels: string[] | undefined;
  const labelsFile = a.labels ?? labelsBesideModel(a.model);
  if (labelsFile) {
    try {
      labels = loadLabels(labelsFile);
    } catch (e) {
      return fatal(msg(e));
    }
    if (numClasses && labels.length !== numClasses) warn(`fgcam: warning: ${labelsFile} has ${labels.length} labels; the model has ${numClasses} classes`);
  }
  const pre: Preprocess = a.preprocess ?? { preset: graph.defaultPreprocess ?? DEFAULT_PRESET };
  if (a.out) {
    try {
      fs.mkdirSync(a.out, { recursive: true });
    } catch (e) {
      return fatal(`cannot create the output folder ${a.out}: ${msg(e)}`);
    }
  }

  log(`fgcam: backend ${backend.name}; model ${a.model} (input ${graph.inputShape.join('x')}); ` +
    `${a.base}${a.denoise ? ' denoised' : ''}; layers ${[...layers.keys()].join(', ')}; preprocess ${describePreprocess(pre, a.preprocess ? 'flag' : graph.defaultPreprocess ? 'model' : 'default')}`);
  for (const f of failures) warn(`fgcam: error: ${f.error}`);

  const progress = new Progress(images.length, hadFolder || images.length > 1);
  const failedImages = new Set(failures.map((f) => f.image));
  const fail = (image: string, error: string) => {
    failures.push({ image, error });
    failedImages.add(image);
    progress.log(`fgcam: error: ${error}`, process.stderr);
  };

  for (const image of images) {
    progress.start(image);
    const t0 = performance.now();
    try {
      const img = readImageFile(image);
      const t1 = performance.now();
      const x = toModelInput(img, graph.inputShape, pre);
      const t2 = performance.now();
      const ex = await explain(graph, x, { base: a.base, denoise: a.denoise, classIndex: a.classIndex, camLayer: a.camLayer, onProgress: stepReporter() }, labels);
      const t3 = performance.now();
      const top = ex.top.slice(0, extras.printTop ?? 5).map((p: Prediction) => ({ index: p.index, prob: p.prob, label: p.label ?? null }));
      const entry: ResultEntry = { image, classIndex: ex.classIndex, top, camLayer: ex.camLayer, files: [], timingsMs: {} };
      const cls = labels?.[ex.classIndex] !== undefined ? `${ex.classIndex} (${labels[ex.classIndex]})` : `${ex.classIndex}`;
      progress.log(`${image}: class ${cls} (${fmtProb(ex.probs[ex.classIndex])}); CAM layer ${ex.camLayer}\n  top-${top.length}: ${fmtTop(top)}`, a.json ? process.stderr : process.stdout);

      for (const [name, key] of layers) {
        const map: LayerMap | undefined = ex.maps[key];
        if (!map) {
          fail(image, `${image}: no map for layer "${name}": it is not between the CAM layer (${ex.camLayer}) and the input; pass --cam-layer to move the CAM layer up`);
          continue;
        }
        const outputs: [string, () => Uint8Array][] = [[outputName(image, a.base, a.denoise, name, 'heatmap', a.out), () => encodePng(renderHeatmap(map, img.width, img.height, a.colormap))]];
        if (a.overlay) outputs.push([outputName(image, a.base, a.denoise, name, 'overlay', a.out), () => encodePng(renderOverlay(img, map, a.colormap, a.opacity))]);
        if (a.raw) outputs.push([outputName(image, a.base, a.denoise, name, 'raw', a.out), () => encodeNpy(map.raw, [map.height, map.width])]);
        for (const [file, make] of outputs) {
          try {
            await writeFileAtomic(file, make(), { overwrite: a.force });
            entry.files.push(file);
            if (extras.listFiles !== false) progress.log(`  wrote ${file}`, a.json ? process.stderr : process.stdout);
          } catch (e) {
            fail(image, msg(e));
          }
        }
      }
      if (extras.listFiles === false) progress.log(`  wrote ${entry.files.length} files`, a.json ? process.stderr : process.stdout);
      const t4 = performance.now();
      entry.timingsMs = { decode: t1 - t0, preprocess: t2 - t1, ...ex.timings, explain: t3 - t2, write: t4 - t3, total: t4 - t0 };
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
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    warn(summary.join('\n'));
  } else {
    log(summary.join('\n'));
  }
  return failures.length > 0 ? 1 : 0;
}
