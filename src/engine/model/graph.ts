// The engine's one model representation. Every importer (TF.js layers, ONNX)
// produces a Graph; forward passes and FG-CAM rules only ever see Graphs.
// Layout is NHWC, batch 1, float32 throughout.

/**
 * A weight: float32 values in row-major order of `shape` (conv HWIO, dense [in, out]).
 * Importers fill `data` straight from the file's bytes where they can (no copy).
 */
export interface Weight {
  readonly data: Float32Array;
  readonly shape: number[];
  /** A runtime's own copy of it (the tests' tfjs reference keeps its tensor here), freed with the graph. */
  cache?: { dispose(): void };
}

export function weight(data: Float32Array, shape: number[]): Weight {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`a weight of shape [${shape}] needs ${n} values, got ${data.length}`);
  return { data, shape };
}

/** Elementwise activation applied after a node's own op (Keras fuses them). */
export type Activation =
  | { fn: 'linear' }
  | { fn: 'relu' }
  | { fn: 'relu6' }
  | { fn: 'leakyrelu'; alpha: number }
  | { fn: 'elu'; alpha: number }
  | { fn: 'sigmoid' }
  | { fn: 'hardsigmoid'; alpha: number; beta: number } // max(0, min(1, alpha*x + beta))
  | { fn: 'hardswish' } // x * relu6(x + 3) / 6
  | { fn: 'swish' } // x * sigmoid(x)
  | { fn: 'tanh' }
  | { fn: 'softmax' }; // last axis; only meaningful at the end of the model

/**
 * Padding of a window op, as the forward pass applies it.
 * 'same' follows TF: total = max((ceil(in/s)-1)*s + (k-1)*d + 1 - in, 0),
 * top = floor(total/2), bottom = total - top (extra row/column at bottom/right).
 * Explicit pads are [top, bottom, left, right] (ONNX, PyTorch).
 */
export type Padding = 'valid' | 'same' | [number, number, number, number];

export type Op =
  | { kind: 'input' }
  /** Regular or grouped convolution. weight: [kh, kw, inC/groups, outC] (HWIO). */
  | {
      kind: 'conv';
      weight: Weight;
      bias?: Weight;
      strides: [number, number];
      dilations: [number, number];
      padding: Padding;
      groups: number;
    }
  /** Depthwise convolution. weight: [kh, kw, inC, multiplier]. */
  | {
      kind: 'depthwise';
      weight: Weight;
      bias?: Weight;
      strides: [number, number];
      dilations: [number, number];
      padding: Padding;
    }
  /** y = x @ weight + bias. weight: [in, out]. Input is flattened to [1, in]. */
  | { kind: 'dense'; weight: Weight; bias?: Weight }
  /** Inference batch norm, folded: y = x * scale + offset (per channel, last axis). */
  | { kind: 'batchnorm'; scale: Weight; offset: Weight }
  /** Just the node's activation (Keras Activation/ReLU layers, ONNX Relu, ...). */
  | { kind: 'activation' }
  | { kind: 'maxpool' | 'avgpool'; size: [number, number]; strides: [number, number]; padding: Padding }
  /** Mean over H and W. keepDims: output [1,1,1,C], else [1,C]. */
  | { kind: 'globalavgpool'; keepDims: boolean }
  /** Zero padding, [top, bottom, left, right]. */
  | { kind: 'pad'; pads: [number, number, number, number] }
  /** Cropping, [top, bottom, left, right] removed. */
  | { kind: 'crop'; crops: [number, number, number, number] }
  | { kind: 'add' }
  /** Elementwise product with broadcasting (SE gates, swish written out). */
  | { kind: 'mul' }
  /** Concatenation along `axis` of the NHWC tensor (3 = channels). */
  | { kind: 'concat'; axis: number }
  /** Flatten to [1, n] in NHWC order (importers that read NCHW reorder dense weights). */
  | { kind: 'flatten' }
  /** Reshape to [1, ...shape]. */
  | { kind: 'reshape'; shape: number[] }
  /** Dropout, Identity: y = x. */
  | { kind: 'identity' };

export type OpKind = Op['kind'];

export interface GraphNode {
  /** The model's own layer / node name, unique in the graph. */
  name: string;
  /** The original class or op type ("Conv2D", "Conv"), for messages. */
  className: string;
  op: Op;
  /** Names of the nodes whose outputs this node reads, in order. */
  inputs: string[];
  /** Applied after op; absent means linear. */
  activation?: Activation;
  /** Output shape without the batch dimension, e.g. [h, w, c] or [n]; filled by inferShapes. */
  outputShape: number[];
}

export type PreprocessPreset = 'imagenet' | 'unit' | 'symmetric' | 'caffe' | 'raw';
/** Every preset name (a model file may name one; image/preprocess defines what each does). */
export const PRESET_NAMES: readonly PreprocessPreset[] = ['imagenet', 'unit', 'symmetric', 'caffe', 'raw'];

export interface Graph {
  /** Nodes in topological order; nodes[0] is the input. */
  nodes: GraphNode[];
  /** Name of the node whose output is the model output. */
  output: string;
  /** [h, w, c] of the model input. */
  inputShape: [number, number, number];
  format: 'tfjs-layers' | 'onnx';
  /** What the importer suggests when the user sets none (ONNX: imagenet). */
  defaultPreprocess?: PreprocessPreset;
  /** Where it was loaded from. */
  source: string;
}

/** Every weight of a node's op. */
export function weightsOf(op: Op): Weight[] {
  const o = op as unknown as Record<string, Weight | undefined>;
  return (['weight', 'bias', 'scale', 'offset'] as const).map((k) => o[k]).filter((w): w is Weight => w !== undefined);
}

/** Frees what runtimes cached of the graph's weights (the values themselves are plain arrays). */
export function disposeGraph(g: Graph): void {
  for (const n of g.nodes) {
    for (const w of weightsOf(n.op)) {
      w.cache?.dispose();
      delete w.cache;
    }
  }
}

export function nodeByName(g: Graph, name: string): GraphNode {
  const n = g.nodes.find((x) => x.name === name);
  if (!n) {
    throw new Error(`No layer named "${name}" in the model. Layers: ${g.nodes.map((x) => x.name).join(', ')}`);
  }
  return n;
}

/** Resolves a Padding into explicit [top, bottom, left, right] for an input of size inH x inW. */
export function resolvePadding(
  padding: Padding,
  inH: number,
  inW: number,
  size: [number, number],
  strides: [number, number],
  dilations: [number, number] = [1, 1],
): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (Array.isArray(padding)) return padding;
  const total = (inSize: number, k: number, s: number, d: number) =>
    Math.max((Math.ceil(inSize / s) - 1) * s + (k - 1) * d + 1 - inSize, 0);
  const th = total(inH, size[0], strides[0], dilations[0]);
  const tw = total(inW, size[1], strides[1], dilations[1]);
  return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
}
