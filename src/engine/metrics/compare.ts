// One image, many methods: the maps each method gives at each layer, and their faithfulness
// scores. Plain data in and out (the CLI's workers and the panel's "Compare methods" view).
//
// Method ids come from the catalogue (engine/methods.ts): FG-CAM from a base, the base CAM
// itself at a layer (not at "input"), LRP from the logit, a seeded random map at the input.
import type { Graph } from '../model/graph';
import { nodeByName } from '../model/graph';
import { INPUT } from '../fgcam/walk';
import { detectCamLayer, explain, lrpWalk, nodeName } from '../explain';
import { predictOrt } from '../compute';
import type { BaseMethod, LayerMap } from '../types';
import { Curves, CurveOptions, deletionInsertion } from './curves';
import { ConfidencePair, confidencePair } from './confidence';
import type { BlurOptions } from './blur';
import type { MethodSpec } from '../methods';

// The method list, ids and specs live in the catalogue (engine/methods.ts).
export { BASES, DEFAULT_METHODS, parseMethod, type MethodSpec } from '../methods';

export interface MethodMaps {
  classIndex: number;
  /** Softmax of the full input, all classes. */
  probs: Float32Array;
  camLayer: string;
  /** maps[method][layer]; a layer is missing where the method has no map there. */
  maps: Record<string, Record<string, LayerMap>>;
}

export interface MapsOptions {
  classIndex?: number;
  camLayer?: string;
  scoreBatch?: number;
  /** Seed of the "random" method (default 1). */
  seed?: number;
}

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
export function uniform(seed: number, n: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  });
}

/**
 * Every method's map at every requested layer ("input" or model layer names) for one input,
 * on ONNX Runtime: base CAMs from one gradient pass, FG-CAM and LRP from their compiled walks.
 */
export async function methodMaps(g: Graph, xData: Float32Array, methods: MethodSpec[], layers: string[], opts: MapsOptions = {}): Promise<MethodMaps> {
  const camLayer = opts.camLayer ? nodeByName(g, opts.camLayer).name : detectCamLayer(g);
  const wanted = new Set(layers.map((l) => nodeName(g, l)));
  // No CAM at the raw input: it has no channels of features.
  const features = layers.filter((l) => nodeName(g, l) !== g.nodes[0].name);
  type Explained = Extract<MethodSpec, { kind: 'fgcam' | 'cam' }>;
  const explainFor = (m: Explained, classIndex: number | undefined) =>
    m.kind === 'fgcam'
      ? explain(g, xData, { base: m.base, denoise: m.denoise, classIndex, camLayer, scoreBatch: opts.scoreBatch, layers })
      : explain(g, xData, { base: m.base, denoise: false, classIndex, camLayer, scoreBatch: opts.scoreBatch, walk: false, baseCamLayers: features });
  // The class and the probabilities come from the first explanation's own forward; a
  // separate prediction only when no method explains (LRP, random).
  const first = methods.find((m): m is Explained => m.kind === 'fgcam' || m.kind === 'cam');
  const firstEx = first ? await explainFor(first, opts.classIndex) : undefined;
  const probs = firstEx?.probs ?? (await predictOrt(g, xData, 1)).probs;
  const c = firstEx?.classIndex ?? opts.classIndex ?? probs.indexOf(Math.max(...probs));
  const maps: Record<string, Record<string, LayerMap>> = {};
  for (const m of methods) {
    if (m.kind === 'lrp') {
      maps[m.id] = await lrpWalk(g, xData, camLayer, c, wanted);
    } else if (m.kind === 'random') {
      const [h, w] = g.inputShape;
      maps[m.id] = layers.includes(INPUT) ? { [INPUT]: { layer: INPUT, height: h, width: w, raw: uniform(opts.seed ?? 1, h * w) } } : {};
    } else {
      const ex = m === first ? firstEx! : await explainFor(m, c);
      maps[m.id] = m.kind === 'fgcam' ? ex.maps : ex.baseMaps;
    }
  }
  return { classIndex: c, probs: Float32Array.from(probs), camLayer, maps };
}

export interface MapScore extends Curves, ConfidencePair {
  method: string;
  layer: string;
}

export interface ScoreOptions extends MapsOptions {
  step?: number;
  batch?: number;
  blur?: BlurOptions;
}

export interface ImageScores {
  classIndex: number;
  prob: number;
  camLayer: string;
  scores: MapScore[];
}

/** Scores every method's map at every layer on one input: curves, areas, Y and O. */
export async function scoreImage(g: Graph, xData: Float32Array, methods: MethodSpec[], layers: string[], opts: ScoreOptions = {}): Promise<ImageScores> {
  const mm = await methodMaps(g, xData, methods, layers, opts);
  const c = mm.classIndex;
  const curveOpts: CurveOptions = { classIndex: c, step: opts.step, batch: opts.batch, blur: opts.blur };
  const scores: MapScore[] = [];
  for (const m of methods) {
    for (const layer of layers) {
      const map = mm.maps[m.id][layer];
      if (!map) continue;
      scores.push({
        method: m.id,
        layer,
        ...(await deletionInsertion(g, xData, map, curveOpts)),
        ...(await confidencePair(g, xData, map, c, mm.probs[c])),
      });
    }
  }
  return { classIndex: c, prob: mm.probs[c], camLayer: mm.camLayer, scores };
}
