// The engine worker: runs in a worker_threads Worker so the extension host never blocks on
// tfjs. Requests are handled one at a time (tfjs is single-threaded anyway); replies carry
// plain data and transfer their typed arrays.
import { parentPort } from 'node:worker_threads';
import * as fs from 'node:fs';
import { initBackend, type BackendInfo } from '../engine/backend';
import { disposeModel, explain, listLayers, loadModel } from '../engine/explain';
import { parseInputSize } from '../engine/model/load';
import type { Graph } from '../engine/model/graph';
import type { LayerInfo, LayerMap } from '../engine/types';
import { readImageFile, ImageError, type RgbaImage } from '../engine/image/decode';
import { resizeRgba } from '../engine/image/resize';
import { toModelInput } from '../engine/image/preprocess';
import { renderHeatmap, renderOverlay } from '../engine/image/render';
import { encodePng } from '../engine/image/encode';
import { loadLabels } from '../cli/labels';
import { averageDrop, confidencePair, deletionInsertion, increaseInConfidence, parseMethod, scoreImage } from '../engine/metrics';
import type {
  ErrorKind,
  ExplainJob,
  ExplainReply,
  FaithfulnessReply,
  MethodRow,
  MethodsReply,
  RenderReply,
  WorkerProgress,
  SerializedExplanation,
  WorkerMessage,
  WorkerRequest,
} from './workerProtocol';

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;

let backend: BackendInfo | undefined;
/** One model at a time, reloaded when the file changes (path + mtime). */
let model: { key: string; graph: Graph; layers: LayerInfo[]; labels?: string[]; labelsKey: string } | undefined;
/** Last decoded image: the panel re-explains the same image for class/denoise/base changes. */
let image: { key: string; img: RgbaImage } | undefined;

function mtimeKey(p: string): string {
  const st = fs.statSync(p);
  return `${p}|${st.mtimeMs}|${st.size}`;
}

async function getModel(job: ExplainJob) {
  if (!fs.existsSync(job.model.path)) throw tagged(new Error(`Model file not found: ${job.model.path}`), 'model-not-found');
  const key = `${mtimeKey(job.model.path)}|${job.model.inputSize ?? ''}`;
  const labelsKey = job.model.labelsPath && fs.existsSync(job.model.labelsPath) ? mtimeKey(job.model.labelsPath) : '';
  if (model?.key !== key) {
    let graph: Graph;
    try {
      graph = await loadModel(job.model.path, { inputSize: parseInputSize(job.model.inputSize) });
    } catch (e) {
      throw tagged(e, 'model');
    }
    if (model) disposeModel(model.graph);
    model = { key, graph, layers: listLayers(graph), labelsKey: '' };
    model.labelsKey = '\0'; // force the labels load below
  }
  if (model.labelsKey !== labelsKey) {
    model.labels = job.model.labelsPath ? loadLabels(job.model.labelsPath) : undefined;
    model.labelsKey = labelsKey;
  }
  return model;
}

function getImage(imagePath: string): RgbaImage {
  const key = mtimeKey(imagePath);
  if (image?.key !== key) image = { key, img: readImageFile(imagePath) };
  return image.img;
}

async function modelInput(job: ExplainJob) {
  const m = await getModel(job);
  const img = getImage(job.imagePath);
  const preprocess = job.model.preprocess === 'auto' ? { preset: m.graph.defaultPreprocess ?? 'imagenet' } : job.model.preprocess;
  return { m, img, x: toModelInput(img, m.graph.inputShape, preprocess) };
}

async function runExplain(job: ExplainJob, progress?: (p: WorkerProgress) => void) {
  const { m, img, x } = await modelInput(job);
  const onProgress = progress && ((what: string, done: number, total: number) => progress({ done, total, what }));
  const ex = await explain(m.graph, x, { ...job.options, onProgress }, m.labels);
  return { m, img, ex };
}

/** FG-CAM at `layer` scored by engine/metrics; `cached` is the panel's map when it has one. */
async function faithfulness(job: ExplainJob, layer: string, cached: LayerMap | undefined): Promise<FaithfulnessReply> {
  const { m, x } = await modelInput(job);
  let map = cached;
  let c = job.options.classIndex;
  if (!map || c === undefined) {
    const ex = await explain(m.graph, x, job.options, m.labels);
    map = ex.maps[layer];
    c = ex.classIndex;
  }
  if (!map) throw new Error(`FG-CAM has no map at layer "${layer}" (it is above the CAM layer or not spatial).`);
  const curves = deletionInsertion(m.graph, x, map, { classIndex: c });
  // Step 0 of the deletion curve is the unmodified input: Y.
  const pair = confidencePair(m.graph, x, map, c, curves.deletion[0]);
  return {
    layer,
    classIndex: c,
    prob: pair.full,
    ...curves,
    masked: pair.masked,
    averageDrop: averageDrop([pair]),
    increaseInConfidence: increaseInConfidence([pair]),
  };
}

/** The comparison's methods in display order (engine/metrics/compare ids). */
const COMPARE_METHODS = ['fgcam-gradcam', 'fgcam-gradcam-denoised', 'gradcam', 'gradcampp', 'xgradcam', 'layercam', 'scorecam', 'fgcam-scorecam', 'lrp'];
/** Slow ones (a forward pass per channel) run last. */
const RUN_LAST = new Set(['scorecam', 'fgcam-scorecam']);

/** Every comparison method that applies at `layer`, scored on the job's image and class. */
async function compareMethods(job: ExplainJob, layer: string, progress: (p: WorkerProgress) => void): Promise<MethodsReply> {
  const { m, x } = await modelInput(job);
  const g = m.graph;
  const omitted: MethodsReply['omitted'] = [];
  const atInput = layer === 'input' || g.nodes[0]?.name === layer;
  const run: string[] = [];
  for (const id of COMPARE_METHODS) {
    const spec = parseMethod(id);
    if (spec.kind === 'cam' && atInput) omitted.push({ method: id, reason: 'no CAM at the input (it has no feature channels)' });
    else if (spec.kind === 'lrp' && !atInput) omitted.push({ method: id, reason: 'LRP is compared at the input only' });
    else run.push(id);
  }
  run.sort((a, b) => Number(RUN_LAST.has(a)) - Number(RUN_LAST.has(b)));
  const rows = new Map<string, MethodRow>();
  let classIndex = job.options.classIndex;
  let prob = NaN;
  for (let i = 0; i < run.length; i++) {
    progress({ done: i, total: run.length, what: run[i] });
    const r = await scoreImage(g, x, [parseMethod(run[i])], [layer], { classIndex, scoreBatch: job.options.scoreBatch, camLayer: job.options.camLayer });
    classIndex = r.classIndex;
    prob = r.prob;
    const s = r.scores[0];
    if (!s) {
      omitted.push({ method: run[i], reason: 'no map at this layer (above the CAM layer)' });
      continue;
    }
    rows.set(run[i], { method: run[i], deletionAuc: s.deletionAuc, insertionAuc: s.insertionAuc, averageDrop: averageDrop([s]), increaseInConfidence: increaseInConfidence([s]) });
  }
  progress({ done: run.length, total: run.length, what: '' });
  const order = (id: string) => COMPARE_METHODS.indexOf(id);
  return {
    layer,
    classIndex: classIndex ?? -1,
    prob,
    rows: COMPARE_METHODS.filter((id) => rows.has(id)).map((id) => rows.get(id)!),
    omitted: omitted.sort((a, b) => order(a.method) - order(b.method)),
  };
}

function displayCopy(img: RgbaImage, max: number) {
  const s = Math.min(1, max / Math.max(img.width, img.height));
  const d = s < 1 ? resizeRgba(img, Math.max(1, Math.round(img.width * s)), Math.max(1, Math.round(img.height * s))) : img;
  // Copy: the cached image must survive the transfer of this buffer.
  return { width: d.width, height: d.height, data: new Uint8Array(d.data), origWidth: img.width, origHeight: img.height };
}

function render(img: RgbaImage, map: LayerMap, colormap: string, opacity: number): RenderReply {
  return {
    // Fresh copies: small Buffers share Node's pool, which must never be transferred.
    heatmap: new Uint8Array(encodePng(renderHeatmap(map, img.width, img.height, colormap))),
    overlay: new Uint8Array(encodePng(renderOverlay(img, map, colormap, opacity))),
    layer: map.layer,
  };
}

async function handle(req: WorkerRequest, progress: (p: WorkerProgress) => void): Promise<unknown> {
  switch (req.op) {
    case 'init':
      backend = await initBackend(req.backend, req.wasmDir);
      return backend;
    case 'explain': {
      const { m, img, ex } = await runExplain(req.job, progress);
      const reply: ExplainReply = {
        layers: m.layers,
        labels: m.labels,
        image: displayCopy(img, req.displayMax),
        backend: ex.backend,
        backendWarnings: backend?.warnings ?? [],
        explanation: ex as SerializedExplanation,
      };
      return reply;
    }
    case 'baseMap': {
      const { ex } = await runExplain({ ...req.job, options: { ...req.job.options, walk: false, baseCamLayers: [req.layer] } });
      return ex.baseMaps[req.layer];
    }
    case 'render':
      return render(getImage(req.imagePath), req.map, req.colormap, req.opacity);
    case 'explainAndRender': {
      const { img, ex } = await runExplain(req.job);
      const map = ex.maps[req.layer] ?? ex.maps['input'];
      return render(img, map, req.colormap, req.opacity);
    }
    case 'faithfulness':
      return faithfulness(req.job, req.layer, req.map);
    case 'compareMethods':
      return compareMethods(req.job, req.layer, progress);
  }
}

function tagged(e: unknown, kind: ErrorKind): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  (err as Error & { kind?: ErrorKind }).kind ??= kind;
  return err;
}

function errorKind(e: unknown): ErrorKind {
  if (e instanceof ImageError) return 'image';
  return (e as { kind?: ErrorKind })?.kind ?? 'engine';
}

/** ArrayBuffers of the typed arrays under `v`, so replies move instead of copying. */
function transferables(v: unknown, out: Set<ArrayBuffer> = new Set()): ArrayBuffer[] {
  if (ArrayBuffer.isView(v)) {
    if (v.buffer instanceof ArrayBuffer) out.add(v.buffer);
  } else if (v && typeof v === 'object') {
    for (const x of Object.values(v)) transferables(x, out);
  }
  return [...out];
}

/** Only buffers this file allocated are transferred; engine-owned arrays (it may cache them) are copied. */
function ownedBuffers(req: WorkerRequest, result: unknown): ArrayBuffer[] {
  if (req.op === 'explain') return transferables((result as ExplainReply).image);
  if (req.op === 'render' || req.op === 'explainAndRender' || req.op === 'faithfulness') return transferables(result);
  return [];
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: { id: number; req: WorkerRequest }) => {
  queue = queue.then(async () => {
    let reply: WorkerMessage;
    let transfer: ArrayBuffer[] = [];
    try {
      const result = await handle(msg.req, (progress) => port.postMessage({ id: msg.id, progress } satisfies WorkerMessage));
      reply = { id: msg.id, ok: true, result };
      transfer = ownedBuffers(msg.req, result);
    } catch (e) {
      reply = { id: msg.id, ok: false, error: { message: String((e as Error)?.message ?? e), kind: errorKind(e) } };
    }
    port.postMessage(reply, transfer);
  });
});
