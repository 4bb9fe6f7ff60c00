// The engine's compiled jobs on ONNX Runtime, plain data in and out: batched predictions,
// activations and gradients at layers, and reverse passes by a composite. Each builds its
// graph once per model and request and keeps the session (runtime.ts).
import { nodeByName, type Graph } from './model/graph';
import { buildExplain, buildGradients, buildPredict, buildScoreCam, buildWalk, WalkProgram } from './compile/programs';
import { GRADIENT_BASES, type GradientBase } from './rules/cam-weights';
import type { Composite } from './compile/reverse';
import { cachedProgram, type Feed, type Fetched } from './runtime';
import type { LayerMap } from './types';

export interface Batch {
  logits: Float32Array;
  probs: Float32Array;
  classes: number;
}

/** Logits and softmax of n inputs stored back to back (NHWC), row-major n x classes. */
export async function predictOrt(g: Graph, data: Float32Array, n: number): Promise<Batch> {
  const [h, w, c] = g.inputShape;
  if (data.length < n * h * w * c) throw new Error(`predict: ${data.length} values for ${n} inputs of ${h}x${w}x${c}`);
  const p = await cachedProgram(g, 'predict', () => buildPredict(g));
  const out = await p.run({ x: { data: data.length === n * h * w * c ? data : data.subarray(0, n * h * w * c), dims: [n, h, w, c] } });
  return { logits: out.logits.data, probs: out.probs.data, classes: out.logits.dims[1] };
}

/** Softmax probability of class c for each of n inputs, in batches of `batch`. */
export async function classProbsOrt(
  g: Graph,
  count: number,
  c: number,
  batch: number,
  write: (i: number, dst: Float32Array) => void,
  onBatch?: (done: number, total: number) => void,
): Promise<Float32Array> {
  const [h, w, ch] = g.inputShape;
  const size = h * w * ch;
  const out = new Float32Array(count);
  const buf = new Float32Array(Math.min(batch, count) * size);
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    for (let i = 0; i < n; i++) write(start + i, buf.subarray(i * size, (i + 1) * size));
    const r = await predictOrt(g, buf.subarray(0, n * size), n);
    if (c < 0 || c >= r.classes) throw new Error(`class ${c} is out of range (0..${r.classes - 1})`);
    for (let i = 0; i < n; i++) out[start + i] = r.probs[i * r.classes + c];
    onBatch?.(start + n, count);
  }
  return out;
}

/** An int64 [1] input: a class (-1: the arg-max) or an index. */
function int64(v: number): Feed {
  return { data: BigInt64Array.of(BigInt(v)), dims: [1] };
}

/** The graphs' `base` input: the index of a gradient-based base. */
function baseFeed(base: GradientBase): Feed {
  return int64(GRADIENT_BASES.indexOf(base));
}

/** Score-CAM: the class-c softmax of x masked by each of `chans` (channels of a, upsampled and min-max normalised in the graph). */
export async function scoreCamProbsOrt(g: Graph, x: Float32Array, a: LayerTensor, chans: number[], c: number): Promise<Float32Array> {
  const p = await cachedProgram(g, `scorecam:${a.shape.join('x')}`, () => buildScoreCam(g, a.shape));
  const out = await p.run({
    x: { data: x, dims: [1, ...g.inputShape] },
    a: { data: a.data, dims: [1, ...a.shape] },
    chans: { data: BigInt64Array.from(chans, BigInt), dims: [chans.length] },
    cls: int64(c),
  });
  return out.p.data;
}

export interface LayerTensor {
  /** NHWC data of batch 1: h·w·k values, channel fastest. */
  data: Float32Array;
  shape: [number, number, number];
}

export interface GradientResult {
  logits: Float32Array;
  classIndex: number;
  acts: Map<string, LayerTensor>;
  /** ∂y_c/∂A (when asked). */
  grads: Map<string, LayerTensor>;
  /** Components of the asked gradient-based base CAM. */
  comps: Map<string, LayerTensor>;
  /** Node outputs as they are inside the graph, for a walk program (`taps`). */
  taps: Map<string, Fetched>;
}

/**
 * One input: logits, the class (given, or -1 for the arg-max), activations at layers, and
 * there the gradients and / or the components of a gradient-based base CAM.
 */
export async function gradientsOrt(
  g: Graph,
  x: Float32Array,
  classIndex: number,
  layers: string[],
  gradients: boolean,
  taps: string[] = [],
  components?: GradientBase,
): Promise<GradientResult> {
  const key = `grad:${gradients}:${components !== undefined}:${layers.join('\u0000')}:${taps.join('\u0000')}`;
  const p = await cachedProgram(g, key, () => buildGradients(g, { layers, gradients, components: components !== undefined, taps }));
  const feeds: Parameters<typeof p.run>[0] = { x: { data: x, dims: [1, ...g.inputShape] }, cls: int64(classIndex) };
  if (components && layers.length) feeds.base = baseFeed(components);
  const out = await p.run(feeds);
  const shapeOf = (i: number, kind: string) => out[`${kind}${i}`].dims.slice(1) as [number, number, number];
  const acts = new Map(layers.map((l, i) => [l, { data: out[`act${i}`].data, shape: shapeOf(i, 'act') }]));
  const grads = new Map(gradients ? layers.map((l, i) => [l, { data: out[`grad${i}`].data, shape: shapeOf(i, 'grad') }]) : []);
  const comps = new Map(components ? layers.map((l, i) => [l, { data: out[`comp${i}`].data, shape: shapeOf(i, 'comp') }]) : []);
  return { logits: out.logits.data, classIndex: out.class.data[0], acts, grads, comps, taps: new Map(taps.map((t, i) => [t, out[`tap${i}`]])) };
}

export interface WalkResult {
  maps: Record<string, LayerMap>;
  stopped?: WalkProgram['stopped'];
}

type WalkMeta = Pick<WalkProgram, 'layers' | 'taps' | 'stopped'>;

function walkProgram(g: Graph, composite: Composite, camLayer: string, kind: 'relevance' | 'logit', wanted?: Set<string>) {
  const only = wanted ? `:${[...wanted].sort().join('\u0000')}` : '';
  return cachedProgram(g, `walk:${composite.name}:${kind}:${camLayer}${only}`, () => {
    const w = buildWalk(g, { composite, camLayer, start: kind, wanted });
    return { compiled: w.compiled, meta: { layers: w.layers, taps: w.taps, stopped: w.stopped } satisfies WalkMeta };
  });
}

/**
 * A reverse pass by `composite`: from relevance `r` (NHWC) at camLayer, or, without r, from
 * y_c at the logit (class c). Returns the channel-summed map at every spatial layer from
 * camLayer down, keyed by node name (the input node under its own name). The activations a
 * relevance walk reads come from `taps` (a gradient pass's), else from a forward run here.
 * `wanted`: only these nodes' maps.
 */
export async function walkOrt(
  g: Graph,
  x: Float32Array,
  composite: Composite,
  camLayer: string,
  start: { r: LayerTensor } | { classIndex: number },
  taps?: Map<string, Fetched>,
  wanted?: Set<string>,
): Promise<WalkResult> {
  const kind = 'r' in start ? 'relevance' : 'logit';
  const p = await walkProgram(g, composite, camLayer, kind, wanted);
  const info = p.meta as WalkMeta;
  const feeds: Parameters<typeof p.run>[0] = {};
  if ('r' in start) {
    feeds.r = { data: start.r.data, dims: [1, ...start.r.shape] };
    const have = taps && info.taps.every((t) => taps.has(t)) ? taps : (await gradientsOrt(g, x, -1, [], false, info.taps)).taps;
    info.taps.forEach((t, i) => (feeds[`tap${i}`] = have.get(t)!));
  } else {
    feeds.x = { data: x, dims: [1, ...g.inputShape] };
    feeds.cls = int64(start.classIndex);
  }
  const out = info.layers.length ? await p.run(feeds, info.layers.map((_, i) => `map${i}`)) : {};
  return { maps: mapsOf(info.layers, out, 'map'), stopped: info.stopped };
}

/** Outputs `${prefix}${i}` ([1, h, w]) as maps keyed by layers[i]. */
function mapsOf(layers: string[], out: Record<string, Fetched>, prefix: string): Record<string, LayerMap> {
  const maps: Record<string, LayerMap> = {};
  layers.forEach((layer, i) => {
    const m = out[`${prefix}${i}`];
    maps[layer] = { layer, height: m.dims[1], width: m.dims[2], raw: m.data };
  });
  return maps;
}

export interface ExplainResult extends WalkResult {
  logits: Float32Array;
  classIndex: number;
  /** Plain base CAMs at the asked layers. */
  baseMaps: Record<string, LayerMap>;
}

/**
 * A whole explanation in one run: logits, class, FG-CAM's walk (maps keyed by node name; at
 * camLayer the components' channel sum) and the plain base CAM at baseLayers. The walk starts
 * from the graph's own components of `base`, or from `r` (NHWC at camLayer) when given.
 */
export async function explainOrt(
  g: Graph,
  x: Float32Array,
  classIndex: number,
  req: { base: GradientBase; composite: Composite; camLayer: string; wanted?: Set<string>; baseLayers: string[] },
  r?: LayerTensor,
): Promise<ExplainResult> {
  const only = req.wanted ? [...req.wanted].sort().join('\u0000') : '*';
  const key = `explain:${req.composite.name}:${req.camLayer}:${only}:${req.baseLayers.join('\u0000')}`;
  const p = await cachedProgram(g, key, () => {
    const e = buildExplain(g, req);
    return { compiled: e.compiled, meta: { layers: e.layers, stopped: e.stopped, taps: [] } satisfies WalkMeta };
  });
  const info = p.meta as WalkMeta;
  const cam = nodeByName(g, req.camLayer).outputShape;
  const out = await p.run({
    x: { data: x, dims: [1, ...g.inputShape] },
    cls: int64(classIndex),
    base: baseFeed(req.base),
    r: { data: r?.data ?? new Float32Array(cam.reduce((a, d) => a * d, 1)), dims: [1, ...cam] },
    useR: { data: Uint8Array.of(r ? 1 : 0), dims: [1], type: 'bool' },
  });
  return {
    logits: out.logits.data,
    classIndex: out.class.data[0],
    maps: mapsOf(info.layers, out, 'map'),
    baseMaps: mapsOf(req.baseLayers, out, 'base'),
    stopped: info.stopped,
  };
}
