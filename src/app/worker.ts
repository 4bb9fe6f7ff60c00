// The engine worker: runs in a worker_threads Worker so the extension host never blocks on
// the engine. Requests are handled one at a time (a run has the runtime's threads to itself); replies carry
// plain data and transfer their typed arrays.
import { parentPort } from 'node:worker_threads';
import type { BackendInfo } from '../engine/backend';
import type { LayerMap } from '../engine/types';
import { ImageError, type RgbaImage } from '../engine/image/decode';
import { resizeRgba } from '../engine/image/resize';
import { averageDrop, confidencePair, deletionInsertion, increaseInConfidence } from '../engine/metrics';
import { DEFAULT_METHODS, findMethod, parseMethod } from '../engine/methods';
import { startBackend } from './backend';
import { SessionCache } from './sessionCache';
import { heatmapPng, overlayPng } from './session';
import { reviewDataset } from './dataset/review';
import { summarize, type ImageResult } from './dataset/summary';
import { scoreImageFile } from './evaluate/job';
import type {
  ErrorKind,
  ExplainJob,
  ExplainReply,
  ReviewDocument,
  ReviewJob,
  FaithfulnessReply,
  MethodRow,
  MethodsReply,
  RenderReply,
  WorkerProgress,
  SerializedExplanation,
  WorkerMessage,
  WorkerRequest,
} from './protocol';

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;

let backend: BackendInfo | undefined;
const cache = new SessionCache();

async function modelInput(job: ExplainJob) {
  const m = await cache.session(job.model);
  const img = cache.imageAt(job.imagePath);
  return { m, img, x: m.input(img, m.preprocess(job.model.preprocess).pre) };
}

async function runExplain(job: ExplainJob, progress?: (p: WorkerProgress) => void) {
  const { m, img, x } = await modelInput(job);
  const onProgress = progress && ((what: string, done: number, total: number) => progress({ done, total, what }));
  const ex = await m.explain(x, { ...job.options, onProgress });
  return { m, img, ex };
}

/** FG-CAM at `layer` scored by engine/metrics; `cached` is the panel's map when it has one. */
async function faithfulness(job: ExplainJob, layer: string, cached: LayerMap | undefined): Promise<FaithfulnessReply> {
  const { m, x } = await modelInput(job);
  let map = cached;
  let c = job.options.classIndex;
  if (!map || c === undefined) {
    const ex = await m.explain(x, job.options);
    map = Object.hasOwn(ex.maps, layer) ? ex.maps[layer] : undefined;
    c = ex.classIndex;
  }
  if (!map) throw new Error(`FG-CAM has no map at layer "${layer}" (it is above the CAM layer or not spatial).`);
  const curves = await deletionInsertion(m.graph, x, map, { classIndex: c });
  // Step 0 of the deletion curve is the unmodified input: Y.
  const pair = await confidencePair(m.graph, x, map, c, curves.deletion[0]);
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

/** Every comparison method that applies at `layer` (the catalogue's comparedAt), scored on the job's image and class. */
async function compareMethods(job: ExplainJob, layer: string, progress: (p: WorkerProgress) => void): Promise<MethodsReply> {
  const { m, x } = await modelInput(job);
  const key = m.layerKey(layer);
  const camLayer = m.camLayer(job.options.camLayer);
  const omitted: MethodsReply['omitted'] = [];
  const run: string[] = [];
  for (const id of DEFAULT_METHODS) {
    const info = findMethod(id)!;
    if (m.layersFor(info, camLayer, info.comparedAt).includes(key)) run.push(id);
    else if (info.comparedAt === 'features' && key === 'input') omitted.push({ method: id, reason: 'no CAM at the input (it has no feature channels)' });
    else if (info.comparedAt === 'input') omitted.push({ method: id, reason: `${info.label} is compared at the input only` });
    else omitted.push({ method: id, reason: 'no map at this layer (above the CAM layer)' });
  }
  // Slow ones (a forward pass per channel) run last.
  run.sort((a, b) => Number(findMethod(a)!.slow) - Number(findMethod(b)!.slow));
  const rows = new Map<string, MethodRow>();
  let classIndex = job.options.classIndex;
  let prob = NaN;
  for (let i = 0; i < run.length; i++) {
    progress({ done: i, total: run.length, what: run[i] });
    const r = await m.score(x, [parseMethod(run[i])], [key], { classIndex, scoreBatch: job.options.scoreBatch, camLayer: job.options.camLayer });
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
  const order = (id: string) => DEFAULT_METHODS.indexOf(id);
  return {
    layer,
    classIndex: classIndex ?? -1,
    prob,
    rows: DEFAULT_METHODS.filter((id) => rows.has(id)).map((id) => rows.get(id)!),
    omitted: omitted.sort((a, b) => order(a.method) - order(b.method)),
  };
}

/** A dataset review; the results stream out in progress messages with the summary so far. */
async function review(job: ReviewJob, progress: (p: WorkerProgress) => void): Promise<ReviewDocument> {
  const m = await cache.session(job.model);
  const count = m.numClasses;
  if (!count) throw new Error(`the model ${job.model.path} has no class axis in its output`);
  const classes = Array.from({ length: count }, (_, i) => m.labels?.[i] ?? String(i));
  const all: ImageResult[] = [];
  const run = await reviewDataset({
    root: job.folder,
    graph: m.graph,
    modelPath: job.model.path,
    labels: classes,
    preprocess: m.preprocess(job.model.preprocess).pre,
    batch: job.batch,
    outDir: job.outDir,
    onProgress: (p) => {
      all.push(...p.results);
      progress({ done: p.done, total: p.total, what: 'scoring', review: { results: p.results, failed: p.failed, summary: summarize(classes, all), cached: p.cached } });
    },
  });
  return run.doc;
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
    heatmap: new Uint8Array(heatmapPng(img, map, colormap)),
    overlay: new Uint8Array(overlayPng(img, map, colormap, opacity)),
    layer: map.layer,
  };
}

async function handle(req: WorkerRequest, progress: (p: WorkerProgress) => void): Promise<unknown> {
  switch (req.op) {
    case 'init':
      backend = await startBackend(req.backend);
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
      return render(cache.imageAt(req.imagePath), req.map, req.colormap, req.opacity);
    case 'explainAndRender': {
      const { img, ex } = await runExplain(req.job);
      const map = (Object.hasOwn(ex.maps, req.layer) ? ex.maps[req.layer] : undefined) ?? ex.maps['input'];
      return render(img, map, req.colormap, req.opacity);
    }
    case 'faithfulness':
      return faithfulness(req.job, req.layer, req.map);
    case 'compareMethods':
      return compareMethods(req.job, req.layer, progress);
    case 'review':
      return review(req.job, progress);
    case 'score': {
      const s = await cache.session({ path: req.job.model });
      return scoreImageFile(s, req.image, cache.imageAt(req.image), req.job);
    }
  }
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
