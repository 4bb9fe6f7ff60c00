// The engine's one public entry. CLI and extension call only what this file exports.
import type { Graph } from './model/graph';
import { disposeGraph, nodeByName } from './model/graph';
import { inferShapes } from './model/shapes';
import { loadGraph, LoadOptions } from './model/load';
import { denoiseComponents } from './fgcam/denoise';
import { INPUT, isSpatial } from './fgcam/walk';
import { assertClassifier, assertFiniteMaps, assertFiniteScores, locateNonFinite } from './finite';
import type { ExplainOptions, Explanation, LayerInfo, LayerMap, Prediction } from './types';
import { explainOrt, gradientsOrt, walkOrt, type LayerTensor, type WalkResult } from './compute';
import type { Fetched } from './runtime';
import type { Composite } from './compile/reverse';
import { FGCAM } from './rules/fgcam';
import { LRP } from './rules/lrp';
import { channelSumOf, scoreBatchFor, scorecamComponents } from './cam/weights';
import { isGradientBased } from './rules/cam-weights';
import { runtimeLabel, releasePrograms } from './runtime';
import { WalkError } from './fgcam/walk';
import type { GradientResult } from './compute';

export type { ExplainOptions, Explanation, LayerInfo, LayerMap, Prediction, Preprocess, BaseMethod } from './types';
export { INPUT } from './fgcam/walk';

/** Loads a model file: TF.js layers `model.json` or `.onnx`. Throws a clear Error on failure (also for a model that is not a classifier). */
export async function loadModel(path: string, opts?: LoadOptions): Promise<Graph> {
  const g = await loadGraph(path, opts);
  try {
    if (g.nodes.some((n) => n.outputShape.length === 0)) inferShapes(g);
    assertClassifier(g);
  } catch (e) {
    disposeGraph(g);
    throw e;
  }
  return g;
}

/** Every layer in model order with its output shape (input included, named "input"). */
export function listLayers(g: Graph): LayerInfo[] {
  return g.nodes.map((n) => ({
    name: n.op.kind === 'input' ? INPUT : n.name,
    className: n.className,
    shape: n.outputShape,
    spatial: isSpatial(n),
  }));
}

/** The last layer whose output is still a spatial map (more than one position), on the way to the output. */
export function detectCamLayer(g: Graph): string {
  const ancestors = new Set([g.output]);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (ancestors.has(n.name)) n.inputs.forEach((x) => ancestors.add(x));
  }
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (ancestors.has(n.name) && isSpatial(n) && n.outputShape[0] * n.outputShape[1] > 1 && n.op.kind !== 'input') return n.name;
  }
  throw new Error('The model has no spatial feature map to explain (no layer with an H x W x C output).');
}

/** Maps a user-facing layer name ("input" or a model layer name) to the graph node name. */
export function nodeName(g: Graph, layer: string): string {
  return layer === INPUT ? g.nodes[0].name : nodeByName(g, layer).name;
}

export function topK(probs: Float32Array, k: number, labels?: string[]): Prediction[] {
  return Array.from(probs.keys())
    .sort((a, b) => probs[b] - probs[a])
    .slice(0, k)
    .map((index) => ({ index, prob: probs[index], ...(labels?.[index] !== undefined ? { label: labels[index] } : {}) }));
}

function softmax(logits: Float32Array): Float32Array {
  let m = -Infinity;
  for (const v of logits) m = Math.max(m, v);
  let z = 0;
  const e = Float64Array.from(logits, (v) => {
    const t = Math.exp(v - m);
    z += t;
    return t;
  });
  return Float32Array.from(e, (v) => v / z);
}

function classCount(g: Graph): number {
  return nodeByName(g, g.output).outputShape.reduce((a, b) => a * b, 1);
}

/** Components of `base` at `layer`: the gradient pass's (gradient-based bases), or Score-CAM's masked forwards. */
async function componentsAt(g: Graph, x: Float32Array, fw: GradientResult, layer: string, opts: ExplainOptions): Promise<Float32Array> {
  if (isGradientBased(opts.base)) return fw.comps.get(layer)!.data;
  return scorecamComponents(g, x, fw.acts.get(layer)!, { classIndex: fw.classIndex, batch: opts.scoreBatch ?? scoreBatchFor(g), onProgress: opts.onProgress });
}

/** The input node's map under "input", as every caller expects. */
function renameInput(g: Graph, maps: Record<string, LayerMap>): Record<string, LayerMap> {
  const out: Record<string, LayerMap> = {};
  for (const [k, m] of Object.entries(maps)) {
    const key = k === g.nodes[0].name ? INPUT : k;
    out[key] = { ...m, layer: key };
  }
  return out;
}

/**
 * FG-CAM's walk on the compiled reverse pass: relevance `e` (NHWC components at camLayer)
 * carried down by `composite`. Throws a WalkError (with the maps finished above) at a layer
 * the composite cannot pass.
 */
export async function fgcamWalk(
  g: Graph,
  x: Float32Array,
  camLayer: string,
  e: Float32Array,
  shape: [number, number, number],
  composite: Composite = FGCAM,
  taps?: Map<string, Fetched>,
  wanted?: Set<string>,
): Promise<Record<string, LayerMap>> {
  return walked(g, camLayer, await walkOrt(g, x, composite, camLayer, { r: { data: e, shape } }, taps, wanted));
}

/** LRP (the paper's baseline) on the compiled reverse pass: y_c at the logit carried down by the LRP composite. */
export async function lrpWalk(g: Graph, x: Float32Array, camLayer: string, classIndex: number, wanted?: Set<string>): Promise<Record<string, LayerMap>> {
  return walked(g, camLayer, await walkOrt(g, x, LRP, camLayer, { classIndex }, undefined, wanted));
}

/** Throws a WalkError (with the maps finished above) where the walk stopped; the maps under user-facing names. */
function walked(g: Graph, camLayer: string, res: WalkResult): Record<string, LayerMap> {
  const maps = renameInput(g, res.maps);
  if (res.stopped) throw new WalkError(g, res.stopped.node, camLayer, res.stopped.cause, maps);
  return maps;
}

async function explainCompiled(g: Graph, xData: Float32Array, opts: ExplainOptions, labels?: string[]): Promise<Explanation> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const classes = classCount(g);
  if (opts.classIndex !== undefined && (!Number.isInteger(opts.classIndex) || opts.classIndex < 0 || opts.classIndex >= classes)) {
    throw new Error(`Class index ${opts.classIndex} is out of range: the model has ${classes} classes (0..${classes - 1}).`);
  }
  const camLayer = opts.camLayer ? nodeByName(g, opts.camLayer).name : detectCamLayer(g);
  const walkOn = opts.walk !== false;
  // No CAM at the raw input: it has no channels of features.
  const baseLayers = (opts.baseCamLayers ?? []).filter((l) => nodeName(g, l) !== g.nodes[0].name);
  const wanted = opts.layers ? new Set(opts.layers.map((l) => nodeName(g, l))) : undefined;
  const done = (logits: Float32Array, classIndex: number, maps: Record<string, LayerMap>, baseMaps: Record<string, LayerMap>): Explanation => {
    assertFiniteMaps(g, maps, `FG-CAM (${opts.base})`);
    assertFiniteMaps(g, baseMaps, opts.base);
    timings.total = performance.now() - t0;
    const probs = softmax(logits);
    return { backend: runtimeLabel(), base: opts.base, denoise: opts.denoise, classIndex, camLayer, probs, top: topK(probs, 5, labels), maps, baseMaps, timings };
  };
  // The gradient-based base, or undefined for Score-CAM (its weights come from masked forwards).
  const gradBase = isGradientBased(opts.base) ? opts.base : undefined;
  const names = baseLayers.map((l) => nodeName(g, l));
  if (walkOn) {
    // One compiled run: forward, gradient, components and walk. What JS must compute first
    // (Score-CAM's weights, denoising) comes from a gradient run and is walked by the same graph.
    const req = { base: gradBase ?? 'gradcam', composite: FGCAM, camLayer, wanted, baseLayers: gradBase ? names : [] } as const;
    let r: LayerTensor | undefined;
    let fw: GradientResult | undefined;
    if (!gradBase || opts.denoise) {
      fw = await gradientsOrt(g, xData, opts.classIndex ?? -1, [camLayer, ...(gradBase ? [] : names)], false, [], gradBase);
      assertFiniteScores(g, fw.logits);
      timings.forward = performance.now() - t0;
      const t1 = performance.now();
      const a = fw.acts.get(camLayer)!;
      let e = await componentsAt(g, xData, fw, camLayer, opts);
      if (opts.denoise) e = denoiseComponents(e, a.shape[0] * a.shape[1], a.shape[2]);
      r = { data: e, shape: a.shape };
      timings.components = performance.now() - t1;
    }
    const t2 = performance.now();
    const res = await explainOrt(g, xData, fw?.classIndex ?? opts.classIndex ?? -1, req, r);
    if (!fw) assertFiniteScores(g, res.logits);
    timings[fw ? 'walk' : 'run'] = performance.now() - t2;
    const maps = walked(g, camLayer, res);
    const t3 = performance.now();
    const baseMaps: Record<string, LayerMap> = {};
    for (let i = 0; i < baseLayers.length; i++) {
      const m = gradBase ? res.baseMaps[names[i]] : channelSumOf(names[i], await componentsAt(g, xData, fw!, names[i], opts), fw!.acts.get(names[i])!.shape);
      baseMaps[baseLayers[i]] = { ...m, layer: baseLayers[i] };
    }
    timings.baseCams = performance.now() - t3;
    return done(res.logits, res.classIndex, maps, baseMaps);
  }
  // Base CAMs alone.
  const fw = await gradientsOrt(g, xData, opts.classIndex ?? -1, names, false, [], gradBase);
  assertFiniteScores(g, fw.logits);
  timings.forward = performance.now() - t0;
  const baseMaps: Record<string, LayerMap> = {};
  for (let i = 0; i < baseLayers.length; i++) {
    baseMaps[baseLayers[i]] = channelSumOf(baseLayers[i], await componentsAt(g, xData, fw, names[i], opts), fw.acts.get(names[i])!.shape);
  }
  timings.baseCams = performance.now() - t0 - timings.forward;
  return done(fw.logits, fw.classIndex, {}, baseMaps);
}

/**
 * Explains one preprocessed input (Float32Array of graph.inputShape, NHWC, batch 1).
 * One walk yields FG-CAM maps at every spatial layer from the CAM layer down to "input".
 */
export async function explain(g: Graph, xData: Float32Array, opts: ExplainOptions, labels?: string[]): Promise<Explanation> {
  try {
    return await explainCompiled(g, xData, opts, labels);
  } catch (e) {
    throw await locateNonFinite(g, xData, e);
  }
}

/** Frees a model: its compiled programs and what runtimes cached of its weights. */
export function disposeModel(g: Graph): void {
  void releasePrograms(g);
  disposeGraph(g);
}
