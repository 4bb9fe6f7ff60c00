// Test-only: part of the independent tfjs reference the compiled ONNX graphs are checked against (see tfjs.ts).
// explain() and methodMaps() as the engine computed them on tfjs: same options, same result
// shapes as src/engine/explain.ts and metrics/compare.ts, for tests that compare whole answers.
import { tf } from './tfjs';
import type { Graph } from '../../src/engine/model/graph';
import { nodeByName } from '../../src/engine/model/graph';
import { detectCamLayer, topK } from '../../src/engine/explain';
import { denoiseComponents } from '../../src/engine/fgcam/denoise';
import { INPUT } from '../../src/engine/fgcam/walk';
import type { MethodSpec } from '../../src/engine/methods';
import { uniform, type MethodMaps, type MapsOptions } from '../../src/engine/metrics/compare';
import type { ExplainOptions, Explanation, LayerMap } from '../../src/engine/types';
import { disposeForward, runForward } from './forward';
import { ComponentContext, components, precomputeGradients } from './components';
import { lrp } from './methods';
import { channelSum, walk } from './walk';

function nodeName(g: Graph, layer: string): string {
  return layer === INPUT ? g.nodes[0].name : nodeByName(g, layer).name;
}

/** Components at the CAM layer (denoised on request), carried down to the input. */
function fgcamMaps(ctx: ComponentContext, camLayer: string, opts: ExplainOptions): Record<string, LayerMap> {
  let e = components(opts.base, ctx, camLayer);
  if (opts.denoise) {
    const [, h, w, k] = e.shape;
    const den = denoiseComponents(e.dataSync() as Float32Array, h * w, k);
    e.dispose();
    e = tf.tensor4d(den, [1, h, w, k]);
  }
  try {
    return walk(ctx.g, ctx.acts, camLayer, e, ctx.x);
  } finally {
    e.dispose();
  }
}

/** The tfjs explain(): one input (NHWC, batch 1), FG-CAM maps from the CAM layer down, base CAMs at baseCamLayers. */
export async function explainTfjs(g: Graph, xData: Float32Array, opts: ExplainOptions, labels?: string[]): Promise<Explanation> {
  const x = tf.tensor4d(xData, [1, ...g.inputShape]);
  const fwd = runForward(g, x, true);
  try {
    const probs = tf.tidy(() => tf.softmax(fwd.logits).dataSync()) as Float32Array;
    const classIndex = opts.classIndex ?? probs.indexOf(Math.max(...probs));
    if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= probs.length) {
      throw new Error(`Class index ${classIndex} is out of range: the model has ${probs.length} classes (0..${probs.length - 1}).`);
    }
    const camLayer = opts.camLayer ? nodeByName(g, opts.camLayer).name : detectCamLayer(g);
    const ctx: ComponentContext = { g, acts: fwd.acts, x, c: classIndex, scoreBatch: opts.scoreBatch ?? 16, onProgress: opts.onProgress };
    const maps = opts.walk === false ? {} : fgcamMaps(ctx, camLayer, opts);
    const baseMaps: Record<string, LayerMap> = {};
    // No CAM at the raw input: it has no channels of features.
    const baseLayers = (opts.baseCamLayers ?? []).filter((l) => nodeName(g, l) !== g.nodes[0].name);
    precomputeGradients(opts.base, ctx, baseLayers.map((l) => nodeName(g, l)));
    try {
      for (const layer of baseLayers) {
        const comp = components(opts.base, ctx, nodeName(g, layer));
        baseMaps[layer] = channelSum(layer, comp);
        comp.dispose();
      }
    } finally {
      ctx.grads?.forEach((t) => t.dispose());
    }
    return { backend: `tfjs-${tf.getBackend()}`, base: opts.base, denoise: opts.denoise, classIndex, camLayer, probs, top: topK(probs, 5, labels), maps, baseMaps, timings: {} };
  } finally {
    disposeForward(fwd, [x]);
    x.dispose();
  }
}

/** The tfjs methodMaps(): every method's map at every requested layer for one input. */
export async function methodMapsTfjs(g: Graph, xData: Float32Array, methods: MethodSpec[], layers: string[], opts: MapsOptions = {}): Promise<MethodMaps> {
  const x = tf.tensor4d(xData, [1, ...g.inputShape]);
  const fwd = runForward(g, x, true);
  try {
    const probs = tf.tidy(() => tf.softmax(fwd.logits).dataSync()) as Float32Array;
    const c = opts.classIndex ?? probs.indexOf(Math.max(...probs));
    const camLayer = opts.camLayer ? nodeByName(g, opts.camLayer).name : detectCamLayer(g);
    const ctx = { g, acts: fwd.acts, x, c, scoreBatch: opts.scoreBatch ?? 16 };
    const maps: Record<string, Record<string, LayerMap>> = {};
    const pick = (all: Record<string, LayerMap>) => Object.fromEntries(layers.filter((l) => all[l]).map((l) => [l, all[l]]));
    for (const m of methods) {
      if (m.kind === 'fgcam') {
        const ex = await explainTfjs(g, xData, { base: m.base, denoise: m.denoise, classIndex: c, camLayer, scoreBatch: opts.scoreBatch });
        maps[m.id] = pick(ex.maps);
      } else if (m.kind === 'lrp') {
        maps[m.id] = pick(lrp(g, fwd.acts, fwd.logits, x, camLayer, c));
      } else if (m.kind === 'random') {
        const [h, w] = g.inputShape;
        maps[m.id] = layers.includes(INPUT) ? { [INPUT]: { layer: INPUT, height: h, width: w, raw: uniform(opts.seed ?? 1, h * w) } } : {};
      } else {
        maps[m.id] = {};
        for (const layer of layers) {
          if (layer === INPUT || nodeByName(g, layer) === g.nodes[0]) continue; // no CAM at the raw input
          const e = components(m.base, ctx, nodeByName(g, layer).name);
          maps[m.id][layer] = channelSum(layer, e);
          e.dispose();
        }
      }
    }
    return { classIndex: c, probs, camLayer, maps };
  } finally {
    disposeForward(fwd, [x]);
    x.dispose();
  }
}
