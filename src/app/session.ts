// One model, ready to explain: loaded once with its labels, with the steps both front ends
// take from an image file to maps and pictures (image -> model input -> explain -> render).
// The CLI holds one per run, the worker one per model file (sessionCache.ts).
import { detectCamLayer, disposeModel, explain, INPUT, listLayers, loadModel, topK } from '../engine/explain';
import type { Graph } from '../engine/model/graph';
import type { ExplainOptions, Explanation, LayerInfo, LayerMap, Prediction, Preprocess } from '../engine/types';
import { readImageFile, type RgbaImage } from '../engine/image/decode';
import { toModelInput } from '../engine/image/preprocess';
import { renderHeatmap, renderOverlay } from '../engine/image/render';
import { encodePng } from '../engine/image/encode';
import { encodeNpy } from '../engine/image/npy';
import { methodMaps, scoreImage, type ImageScores, type MethodMaps, type ScoreOptions, type MapsOptions } from '../engine/metrics/compare';
import { layersFor, type MethodInfo, type MethodLayers, type MethodSpec } from '../engine/methods';
import { loadLabels } from './labels';
import { assertFiniteMap, assertFiniteMaps, checkFiniteScores } from '../engine/finite';
import { choosePreprocess, type PreprocessSource } from './preprocess';

export type { RgbaImage } from '../engine/image/decode';

export interface SessionOptions {
  /** [h, w] for models without a fixed input size. */
  inputSize?: [number, number];
  labelsPath?: string;
}

export class ModelSession {
  readonly layers: LayerInfo[];
  /** Class count of the output (undefined when the model does not say). */
  readonly numClasses: number | undefined;

  private constructor(
    readonly graph: Graph,
    readonly modelPath: string,
    public labels: string[] | undefined,
  ) {
    this.layers = listLayers(graph);
    this.numClasses = graph.nodes.find((n) => n.name === graph.output)?.outputShape.slice(-1)[0];
  }

  /** Loads the model (and labels). Throws the engine's Error for the model, the labels' for labels. */
  static async open(modelPath: string, opts: SessionOptions = {}): Promise<ModelSession> {
    const graph = await loadModel(modelPath, { inputSize: opts.inputSize });
    let labels: string[] | undefined;
    try {
      const classes = graph.nodes.find((n) => n.name === graph.output)?.outputShape.slice(-1)[0];
      labels = opts.labelsPath ? loadLabels(opts.labelsPath, { classes }) : undefined;
    } catch (e) {
      disposeModel(graph);
      throw e;
    }
    return new ModelSession(graph, modelPath, labels);
  }

  get inputShape(): [number, number, number] {
    return this.graph.inputShape;
  }

  /** The preprocessing to use: the requested one, else the model's, else ImageNet's. */
  preprocess(requested: Preprocess | 'auto' | undefined): { pre: Preprocess; source: PreprocessSource } {
    return choosePreprocess(requested, this.graph.defaultPreprocess);
  }

  /** The layer FG-CAM's base CAM is computed at: the override, else the detected one. Throws. */
  camLayer(override?: string): string {
    if (override === undefined) return detectCamLayer(this.graph);
    if (!this.graph.nodes.some((n) => n.name === override)) throw new Error(`unknown CAM layer "${override}". Layers: ${this.layers.map((l) => l.name).join(', ')}`);
    return override;
  }

  /** A user's layer name as listLayers names it: the input answers to "input" and to its own name. */
  layerKey(name: string): string {
    return name === this.graph.nodes[0].name ? INPUT : name;
  }

  /** The layers where `method` gives a map on this model (at `where`, default its own). */
  layersFor(method: MethodInfo, camLayer: string, where?: MethodLayers): string[] {
    return layersFor(method, this.layers, camLayer, where);
  }

  /** The preprocessed model input of a decoded image. */
  input(img: RgbaImage, pre: Preprocess): Float32Array {
    return toModelInput(img, this.graph.inputShape, pre);
  }

  /** FG-CAM (one walk: maps at every layer from the CAM layer down), with this session's labels. */
  explain(x: Float32Array, opts: ExplainOptions): Promise<Explanation> {
    return explain(this.graph, x, opts, this.labels);
  }

  /** Any catalogued methods' maps at `layers`. */
  async methodMaps(x: Float32Array, methods: MethodSpec[], layers: string[], opts: MapsOptions = {}): Promise<MethodMaps> {
    const r = await methodMaps(this.graph, x, methods, layers, opts);
    await checkFiniteScores(this.graph, r.probs, x);
    for (const [id, maps] of Object.entries(r.maps)) assertFiniteMaps(this.graph, maps, id);
    return r;
  }

  /** Faithfulness scores of methods' maps at layers (engine/metrics). */
  score(x: Float32Array, methods: MethodSpec[], layers: string[], opts: ScoreOptions = {}): Promise<ImageScores> {
    return scoreImage(this.graph, x, methods, layers, opts);
  }

  /** The top predictions of a softmax, labelled. */
  top(probs: Float32Array, k = 5): Prediction[] {
    return topK(probs, k, this.labels);
  }

  dispose(): void {
    disposeModel(this.graph);
  }
}

/** Decodes an image file (PNG, JPEG, BMP). Throws ImageError naming the file. */
export function readImage(file: string): RgbaImage {
  return readImageFile(file);
}

/** The heatmap (at the image's size) as PNG bytes. */
export function heatmapPng(img: { width: number; height: number }, map: LayerMap, colormap: string): Uint8Array {
  assertFiniteMap(map);
  return encodePng(renderHeatmap(map, img.width, img.height, colormap));
}

/** The image blended with its heatmap, as PNG bytes. */
export function overlayPng(img: RgbaImage, map: LayerMap, colormap: string, opacity: number): Uint8Array {
  assertFiniteMap(map);
  return encodePng(renderOverlay(img, map, colormap, opacity));
}

/** The raw map as .npy bytes (float32 [h, w]). */
export function rawNpy(map: LayerMap): Uint8Array {
  assertFiniteMap(map);
  return encodeNpy(map.raw, [map.height, map.width]);
}
