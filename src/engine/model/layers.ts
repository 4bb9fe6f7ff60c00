// TF.js layers-model importer: model.json (+ weight shards) -> Graph.
// Handles Keras 2 / Keras 3 / tfjs-layers configs, Sequential and Functional
// topologies. Weights stay in Keras layouts, which already are the Graph's
// (HWIO conv, [kh,kw,in,mult] depthwise, [in,out] dense); batch norm is folded.
// Shards are read only from the model's folder and only when their sizes match the manifest.
import * as path from 'path';
import { PRESET_NAMES, weight, type Activation, type Graph, type GraphNode, type Op, type Padding, type PreprocessPreset, type Weight } from './graph';
import type { Importer, LoadOptions } from './importer';
import { foldBN } from './canonicalise';
import { readWeightShards, type RawWeight } from './shards';
import { readRegularFile } from '../read-file';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;


/** Layer classes this importer understands (listed in errors). */
export const SUPPORTED_LAYERS = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'BatchNormalization',
  'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'Activation', 'MaxPooling2D', 'AveragePooling2D',
  'GlobalAveragePooling2D', 'ZeroPadding2D', 'Cropping2D', 'Add', 'Multiply', 'Concatenate',
  'Flatten', 'Dense', 'Reshape', 'Dropout', 'SpatialDropout2D', 'GaussianNoise',
  'GaussianDropout', 'AlphaDropout', 'ActivityRegularization', 'RandomFlip', 'RandomRotation', 'RandomZoom',
  'RandomTranslation', 'RandomContrast', 'RandomBrightness', 'nested Functional/Sequential models',
];
// Identity at inference (augmentation layers only act while training).
const IDENTITY_LAYERS = new Set([
  'Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization',
  'RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation', 'RandomContrast', 'RandomBrightness',
]);
// Older / alternative class names for the same layers.
const CLASS_ALIASES: Record<string, string> = {
  Convolution2D: 'Conv2D', MaxPool2D: 'MaxPooling2D', AvgPool2D: 'AveragePooling2D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D', SeparableConvolution2D: 'SeparableConv2D',
  Functional: 'Model',
};

/** One Keras layer call, normalised across config dialects. */
interface LayerSpec {
  name: string;
  className: string;
  config: Json;
  inputs: string[];
}

// ---------------------------------------------------------------- entry points

/** Largest model.json we read (the topology only; weights live in the shards). */
export const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;

export const layersImporter: Importer = {
  format: 'tfjs-layers',
  match: (ext, head) => ext === '.json' || (ext !== '.onnx' && Buffer.from(head).toString('utf8').trimStart().startsWith('{')),
  open: loadLayersModel,
};

/** Loads model.json and its shards from disk (shards are resolved inside model.json's folder). */
async function loadLayersModel(jsonPath: string, opts: LoadOptions = {}): Promise<Graph> {
  const bytes = readRegularFile(jsonPath, 'Model file', { maxBytes: MAX_MODEL_JSON_BYTES });
  let json: Json;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new Error(`Cannot read "${jsonPath}" as JSON: ${(e as Error).message}`);
  }
  if (!json || typeof json !== 'object' || !json.modelTopology) {
    throw new Error(
      `"${jsonPath}" is not a TF.js layers model (no "modelTopology"). ` +
        'Convert a Keras model with `tensorflowjs_converter --input_format keras` (graph models are not supported).',
    );
  }
  const weights = readWeightShards(json.weightsManifest, path.dirname(jsonPath), jsonPath);
  return layersGraphFromJson(json, weights, jsonPath, opts);
}

/** Builds the Graph from a parsed model.json and its decoded weights (name -> weight). */
export function layersGraphFromJson(
  json: Json,
  weights: Map<string, RawWeight>,
  source: string,
  opts: LoadOptions = {},
): Graph {
  if (json.format && json.format !== 'layers-model') {
    throw new Error(`"${source}" is a TF.js "${json.format}", not a layers model; only layers models are supported.`);
  }
  let topo = json.modelTopology;
  if (topo && topo.model_config) topo = topo.model_config;
  if (!topo || !topo.class_name) throw new Error(`"${source}": modelTopology has no class_name.`);
  const keras3 = isKeras3(json);
  const specs = parseTopology(topo, source);
  const byLayer = groupWeights(weights, new Set(specs.layers.map((l) => l.name)));
  const ctx: Ctx = { byLayer, keras3, source, used: new Set() };

  const nodes: GraphNode[] = [];
  let inputShape: [number, number, number] | undefined;
  for (const spec of specs.layers) {
    if (spec.className === 'InputLayer') {
      inputShape = resolveInputShape(spec, opts, source);
      nodes.push(node(spec, { kind: 'input' }, []));
      continue;
    }
    nodes.push(...convertLayer(spec, ctx));
  }
  if (!inputShape) throw new Error(`"${source}": the model has no input layer.`);
  const g: Graph = {
    nodes,
    output: specs.output,
    inputShape,
    format: 'tfjs-layers',
    source,
  };
  // A model may say how its inputs are preprocessed (ours: userDefinedMetadata.fgcam.preprocess,
  // TF.js's own slot for user data in model.json).
  const preset = json.userDefinedMetadata?.fgcam?.preprocess;
  if (typeof preset === 'string') {
    if (!PRESET_NAMES.includes(preset as PreprocessPreset)) {
      throw new Error(`"${source}": userDefinedMetadata.fgcam.preprocess is "${preset}"; expected one of ${PRESET_NAMES.join(', ')}.`);
    }
    g.defaultPreprocess = preset as PreprocessPreset;
  }
  return g;
}

// ---------------------------------------------------------------- weights

/**
 * Groups weight names by layer and role. Names look like "conv1/kernel", "model/conv1/kernel:0"
 * or "conv1/conv1/kernel": the layer is the longest run of path segments (ending just before the
 * role) that names a layer of the model.
 */
function groupWeights(weights: Map<string, RawWeight>, layerNames: Set<string>): Map<string, Map<string, RawWeight>> {
  const byLayer = new Map<string, Map<string, RawWeight>>();
  for (const [full, w] of weights) {
    const parts = full.replace(/:\d+$/, '').split('/');
    const role = parts.pop() as string;
    let layer: string | undefined;
    for (let i = 0; i < parts.length && !layer; i++) {
      const cand = parts.slice(i).join('/');
      if (layerNames.has(cand)) layer = cand;
    }
    // A nested scope such as "block/conv/kernel" where only "block" is a layer name.
    for (let j = parts.length - 1; j >= 1 && !layer; j--) {
      for (let i = 0; i < j && !layer; i++) {
        const cand = parts.slice(i, j).join('/');
        if (layerNames.has(cand)) layer = cand;
      }
    }
    if (!layer) continue;
    if (!byLayer.has(layer)) byLayer.set(layer, new Map());
    byLayer.get(layer)!.set(role, w);
  }
  return byLayer;
}

interface Ctx {
  byLayer: Map<string, Map<string, RawWeight>>;
  keras3: boolean;
  source: string;
  used: Set<string>;
}

function weightOf(ctx: Ctx, spec: LayerSpec, roles: string[], required: true): RawWeight;
function weightOf(ctx: Ctx, spec: LayerSpec, roles: string[], required: false): RawWeight | undefined;
function weightOf(ctx: Ctx, spec: LayerSpec, roles: string[], required: boolean): RawWeight | undefined {
  const m = ctx.byLayer.get(spec.name);
  for (const r of roles) {
    const w = m?.get(r);
    if (w) return w;
  }
  if (required) {
    const have = m ? [...m.keys()].join(', ') : 'none';
    throw new Error(
      `"${ctx.source}": weight "${spec.name}/${roles[0]}" of layer '${spec.name}' (class ${spec.className}) ` +
        `is missing from the weights manifest (weights found for this layer: ${have}).`,
    );
  }
  return undefined;
}

// ---------------------------------------------------------------- topology

function isKeras3(json: Json): boolean {
  const v = String(json.modelTopology?.keras_version ?? '');
  if (v.startsWith('3')) return true;
  const cfg = json.modelTopology?.model_config ?? json.modelTopology;
  const first = cfg?.config?.layers?.[0];
  return !!first && ('module' in first || 'registered_name' in first);
}

interface Topology {
  layers: LayerSpec[];
  input: string;
  output: string;
}

function parseTopology(topo: Json, source: string): Topology {
  const cls = CLASS_ALIASES[topo.class_name] ?? topo.class_name;
  if (cls === 'Sequential') return expandNested(parseSequential(topo.config, source), source);
  if (cls === 'Model') return expandNested(parseFunctional(topo.config, source), source);
  throw new Error(`"${source}": model class "${topo.class_name}" is not supported (expected Sequential or Functional).`);
}

function parseSequential(config: Json, source: string): Topology {
  const raw: Json[] = Array.isArray(config) ? config : config.layers;
  if (!raw?.length) throw new Error(`"${source}": the Sequential model has no layers.`);
  const layers: LayerSpec[] = [];
  let prev: string | undefined;
  for (const l of raw) {
    const className = CLASS_ALIASES[l.class_name] ?? l.class_name;
    const name = l.config?.name ?? l.name;
    if (className === 'InputLayer') {
      layers.push({ name, className, config: l.config, inputs: [] });
      prev = name;
      continue;
    }
    if (!prev) {
      // Keras 2 Sequential without an InputLayer: the first layer carries the input shape.
      const shape = l.config?.batch_input_shape ?? l.config?.batch_shape;
      if (!shape) throw new Error(`"${source}": the first layer '${name}' has no batch_input_shape; cannot tell the input size.`);
      const inName = `${name}_input`;
      layers.push({ name: inName, className: 'InputLayer', config: { batch_input_shape: shape, name: inName }, inputs: [] });
      prev = inName;
    }
    layers.push({ name, className, config: l.config ?? {}, inputs: [prev] });
    prev = name;
  }
  return { layers, input: layers[0].name, output: prev as string };
}

/**
 * Inlines nested models (a pretrained base inside a transfer-learning model, an inner
 * Sequential): their layers join the outer list, the inner input reads the outer input,
 * and readers of the nested layer read the inner output instead.
 */
function expandNested(t: Topology, source: string): Topology {
  const alias = new Map<string, string>();
  const layers: LayerSpec[] = [];
  for (const l of t.layers) {
    const cls = CLASS_ALIASES[l.className] ?? l.className;
    if (cls !== 'Model' && cls !== 'Sequential') {
      layers.push(l);
      continue;
    }
    if (l.inputs.length !== 1) throw new Error(`Nested model '${l.name}' has ${l.inputs.length} inputs; only single-input nested models are supported.`);
    const inner = parseTopology({ class_name: cls, config: l.config }, source);
    for (const il of inner.layers) {
      if (il.name === inner.input) continue;
      layers.push({ ...il, inputs: il.inputs.map((n) => (n === inner.input ? l.inputs[0] : n)) });
    }
    alias.set(l.name, inner.output === inner.input ? l.inputs[0] : inner.output);
  }
  const resolve = (n: string): string => {
    for (let i = 0; alias.has(n) && i < 100; i++) n = alias.get(n)!;
    return n;
  };
  for (const l of layers) l.inputs = l.inputs.map(resolve);
  return { layers, input: t.input, output: resolve(t.output) };
}

/** [["name",0,0]] or ["name",0,0] -> names. */
function endpointNames(x: Json): string[] {
  if (!Array.isArray(x) || x.length === 0) return [];
  if (typeof x[0] === 'string') return [x[0]];
  return x.map((e: Json) => e[0]);
}

function parseFunctional(config: Json, source: string): Topology {
  const inputs = endpointNames(config.input_layers);
  const outputs = endpointNames(config.output_layers);
  if (inputs.length !== 1) throw new Error(`"${source}": models with ${inputs.length} inputs are not supported (need exactly 1).`);
  if (outputs.length !== 1) throw new Error(`"${source}": models with ${outputs.length} outputs are not supported (need exactly 1).`);
  const layers: LayerSpec[] = [];
  for (const l of config.layers as Json[]) {
    const className = CLASS_ALIASES[l.class_name] ?? l.class_name;
    const name = l.name ?? l.config?.name;
    const nodesIn: Json[] = l.inbound_nodes ?? [];
    if (nodesIn.length > 1) {
      throw new Error(`Layer '${name}' (class ${l.class_name}) is called ${nodesIn.length} times (a shared layer); FG-CAM needs each layer used once.`);
    }
    const ins = nodesIn.length ? inboundNames(nodesIn[0], name, l.class_name) : [];
    layers.push({ name, className, config: l.config ?? {}, inputs: ins });
  }
  return { layers, input: inputs[0], output: outputs[0] };
}

/** Inbound layer names of one call: Keras 2 list form or Keras 3 dict form. */
function inboundNames(call: Json, name: string, cls: string): string[] {
  const refs: Json[] = [];
  if (Array.isArray(call)) {
    for (const r of call) refs.push(r);
  } else {
    // Keras 3: {args: [...], kwargs: {...}}; tensors are {class_name: "__keras_tensor__", config.keras_history}.
    const walk = (v: Json): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        if (v.class_name === '__keras_tensor__') refs.push(v.config.keras_history);
        else Object.values(v).forEach(walk);
      }
    };
    walk(call.args ?? []);
  }
  return refs.map((r) => {
    const [layer, nodeIndex, tensorIndex] = r;
    if ((nodeIndex ?? 0) !== 0 || (tensorIndex ?? 0) !== 0) {
      throw new Error(`Layer '${name}' (class ${cls}) reads output ${tensorIndex} of call ${nodeIndex} of '${layer}'; shared or multi-output layers are not supported.`);
    }
    return layer as string;
  });
}

function resolveInputShape(spec: LayerSpec, opts: LoadOptions, source: string): [number, number, number] {
  const bs: (number | null)[] | undefined = spec.config.batch_input_shape ?? spec.config.batch_shape ??
    (spec.config.shape ? [null, ...spec.config.shape] : undefined);
  if (!bs) throw new Error(`"${source}": input layer '${spec.name}' has no batch_input_shape.`);
  if (bs.length !== 4) {
    throw new Error(`"${source}": input '${spec.name}' has shape [${bs.map(String)}]; FG-CAM needs an image input [batch, height, width, channels].`);
  }
  let [, h, w, c] = bs;
  if (opts.inputSize) [h, w] = opts.inputSize;
  if (h == null || w == null) {
    throw new Error(`"${source}": the model's input '${spec.name}' has no fixed height/width (shape [${bs.map(String)}]); set an input size (CLI --input-size HxW, API loadGraph(path, {inputSize: [h, w]})).`);
  }
  if (c == null) throw new Error(`"${source}": the model's input '${spec.name}' has no fixed channel count.`);
  return [h, w, c];
}

// ---------------------------------------------------------------- layers

function node(spec: LayerSpec, op: Op, inputs: string[], activation?: Activation, name = spec.name): GraphNode {
  const n: GraphNode = { name, className: spec.className, op, inputs, outputShape: [] };
  if (activation && activation.fn !== 'linear') n.activation = activation;
  return n;
}

function pair(v: Json, what: string, spec: LayerSpec): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 1) return [v[0], v[0]];
  if (Array.isArray(v) && v.length === 2) return [v[0], v[1]];
  throw new Error(`Layer '${spec.name}' (class ${spec.className}): cannot read ${what} ${JSON.stringify(v)}.`);
}

/** ZeroPadding2D / Cropping2D amounts -> [top, bottom, left, right]. */
function fourSides(v: Json, spec: LayerSpec): [number, number, number, number] {
  if (typeof v === 'number') return [v, v, v, v];
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number') return [v[0], v[0], v[1], v[1]];
  if (Array.isArray(v) && v.length === 2) {
    const [a, b] = [pair(v[0], 'padding', spec), pair(v[1], 'padding', spec)];
    return [a[0], a[1], b[0], b[1]];
  }
  throw new Error(`Layer '${spec.name}' (class ${spec.className}): cannot read ${JSON.stringify(v)}.`);
}

function paddingOf(spec: LayerSpec): Padding {
  const p = String(spec.config.padding ?? 'valid').toLowerCase();
  if (p === 'same' || p === 'valid') return p;
  throw new Error(`Layer '${spec.name}' (class ${spec.className}): padding "${p}" is not supported (same, valid).`);
}

function activationOf(a: Json, spec: LayerSpec, keras3: boolean): Activation {
  if (a == null) return { fn: 'linear' };
  // Keras 3 may serialise builtins as {class_name: "function", config: "relu"}.
  const name = String(typeof a === 'object' ? (a.config?.name ?? a.registered_name ?? a.config ?? a.class_name) : a).toLowerCase();
  switch (name) {
    case 'linear': case 'identity': return { fn: 'linear' };
    case 'relu': return { fn: 'relu' };
    case 'relu6': return { fn: 'relu6' };
    case 'sigmoid': return { fn: 'sigmoid' };
    case 'softmax': return { fn: 'softmax' };
    case 'swish': case 'silu': return { fn: 'swish' };
    case 'tanh': return { fn: 'tanh' };
    case 'elu': return { fn: 'elu', alpha: 1 };
    case 'leaky_relu': return { fn: 'leakyrelu', alpha: 0.2 }; // Keras 3 default negative_slope
    // Keras 2 / tfjs: clip(0.2x + 0.5); Keras 3: relu6(x + 3) / 6.
    case 'hard_sigmoid': return keras3 ? { fn: 'hardsigmoid', alpha: 1 / 6, beta: 0.5 } : { fn: 'hardsigmoid', alpha: 0.2, beta: 0.5 };
    case 'hard_swish': case 'hard_silu': return { fn: 'hardswish' };
  }
  throw new Error(`Layer '${spec.name}' (class ${spec.className}): activation "${name}" is not supported by FG-CAM; supported: linear, relu, relu6, sigmoid, softmax, swish/silu, tanh, elu, hard_sigmoid, hard_swish.`);
}

function checkChannelsLast(spec: LayerSpec): void {
  const df = spec.config.data_format;
  if (df && df !== 'channels_last') {
    throw new Error(`Layer '${spec.name}' (class ${spec.className}) uses data_format "${df}"; only channels_last models are supported (re-export with channels_last).`);
  }
}

const t1 = (w: RawWeight): Weight => weight(w.data, [w.data.length]);
const t4 = (w: RawWeight): Weight => weight(w.data, w.shape);

function convertLayer(spec: LayerSpec, ctx: Ctx): GraphNode[] {
  const c = spec.config;
  const cls = spec.className;
  const ins = spec.inputs;
  const oneInput = (): void => {
    if (ins.length !== 1) throw new Error(`Layer '${spec.name}' (class ${cls}) has ${ins.length} inputs; expected 1.`);
  };
  checkChannelsLast(spec);
  if (IDENTITY_LAYERS.has(cls)) {
    oneInput();
    return [node(spec, { kind: 'identity' }, ins)];
  }
  switch (cls) {
    case 'Conv2D': {
      oneInput();
      const kernel = weightOf(ctx, spec, ['kernel'], true);
      const bias = c.use_bias === false ? undefined : weightOf(ctx, spec, ['bias'], false);
      const op: Op = {
        kind: 'conv', weight: t4(kernel), bias: bias && t1(bias),
        strides: pair(c.strides ?? 1, 'strides', spec), dilations: pair(c.dilation_rate ?? 1, 'dilation_rate', spec),
        padding: paddingOf(spec), groups: c.groups ?? 1,
      };
      return [node(spec, op, ins, activationOf(c.activation, spec, ctx.keras3))];
    }
    case 'DepthwiseConv2D': {
      oneInput();
      const kernel = weightOf(ctx, spec, ['depthwise_kernel', 'kernel'], true);
      const bias = c.use_bias === false ? undefined : weightOf(ctx, spec, ['bias'], false);
      const op: Op = {
        kind: 'depthwise', weight: t4(kernel), bias: bias && t1(bias),
        strides: pair(c.strides ?? 1, 'strides', spec), dilations: pair(c.dilation_rate ?? 1, 'dilation_rate', spec),
        padding: paddingOf(spec),
      };
      return [node(spec, op, ins, activationOf(c.activation, spec, ctx.keras3))];
    }
    case 'SeparableConv2D': {
      // Two nodes: "<name>/depthwise" (spatial) then "<name>" (1x1 pointwise, bias, activation).
      oneInput();
      const dw = weightOf(ctx, spec, ['depthwise_kernel'], true);
      const pw = weightOf(ctx, spec, ['pointwise_kernel'], true);
      const bias = c.use_bias === false ? undefined : weightOf(ctx, spec, ['bias'], false);
      const dwName = `${spec.name}/depthwise`;
      const dwOp: Op = {
        kind: 'depthwise', weight: t4(dw), strides: pair(c.strides ?? 1, 'strides', spec),
        dilations: pair(c.dilation_rate ?? 1, 'dilation_rate', spec), padding: paddingOf(spec),
      };
      const pwOp: Op = { kind: 'conv', weight: t4(pw), bias: bias && t1(bias), strides: [1, 1], dilations: [1, 1], padding: 'valid', groups: 1 };
      return [
        node(spec, dwOp, ins, undefined, dwName),
        node(spec, pwOp, [dwName], activationOf(c.activation, spec, ctx.keras3)),
      ];
    }
    case 'BatchNormalization': {
      oneInput();
      const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
      if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== 3)) {
        throw new Error(`Layer '${spec.name}' (class ${cls}) normalises axis ${JSON.stringify(c.axis)}; only the channel axis (-1/3) is supported.`);
      }
      return [node(spec, foldBatchNorm(spec, ctx), ins)];
    }
    case 'Activation':
      oneInput();
      return [node(spec, { kind: 'activation' }, ins, activationOf(c.activation, spec, ctx.keras3))];
    case 'ReLU':
      oneInput();
      return [node(spec, { kind: 'activation' }, ins, reluLayer(spec))];
    case 'LeakyReLU': {
      oneInput();
      const alpha = c.negative_slope ?? c.alpha ?? (ctx.keras3 ? 0.2 : 0.3);
      return [node(spec, { kind: 'activation' }, ins, { fn: 'leakyrelu', alpha })];
    }
    case 'ELU':
      oneInput();
      return [node(spec, { kind: 'activation' }, ins, { fn: 'elu', alpha: c.alpha ?? 1 })];
    case 'Softmax': {
      oneInput();
      const axis = c.axis ?? -1;
      if (axis !== -1 && !(Array.isArray(axis) && axis.length === 1 && axis[0] === -1)) {
        throw new Error(`Layer '${spec.name}' (class Softmax) over axis ${JSON.stringify(axis)} is not supported (only the last axis).`);
      }
      return [node(spec, { kind: 'activation' }, ins, { fn: 'softmax' })];
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      oneInput();
      const size = pair(c.pool_size ?? 2, 'pool_size', spec);
      const strides = c.strides == null ? size : pair(c.strides, 'strides', spec);
      const kind = cls === 'MaxPooling2D' ? 'maxpool' : 'avgpool';
      return [node(spec, { kind, size, strides, padding: paddingOf(spec) }, ins)];
    }
    case 'GlobalAveragePooling2D':
      oneInput();
      return [node(spec, { kind: 'globalavgpool', keepDims: !!(c.keepdims ?? c.keep_dims) }, ins)];
    case 'ZeroPadding2D':
      oneInput();
      return [node(spec, { kind: 'pad', pads: fourSides(c.padding ?? 1, spec) }, ins)];
    case 'Cropping2D':
      oneInput();
      return [node(spec, { kind: 'crop', crops: fourSides(c.cropping ?? 0, spec) }, ins)];
    case 'Add':
    case 'Multiply':
      if (ins.length < 2) throw new Error(`Layer '${spec.name}' (class ${cls}) has ${ins.length} inputs; expected at least 2.`);
      return [node(spec, { kind: cls === 'Add' ? 'add' : 'mul' }, ins)];
    case 'Concatenate': {
      const a = c.axis ?? -1;
      const axis = a < 0 ? 4 + a : a;
      if (axis < 1 || axis > 3) throw new Error(`Layer '${spec.name}' (class Concatenate): axis ${a} is not supported.`);
      return [node(spec, { kind: 'concat', axis }, ins)];
    }
    case 'Flatten':
      oneInput();
      return [node(spec, { kind: 'flatten' }, ins)];
    case 'Reshape': {
      oneInput();
      const shape = (c.target_shape as number[]).slice();
      return [node(spec, { kind: 'reshape', shape }, ins)];
    }
    case 'Dense': {
      oneInput();
      const kernel = weightOf(ctx, spec, ['kernel'], true);
      const bias = c.use_bias === false ? undefined : weightOf(ctx, spec, ['bias'], false);
      const op: Op = { kind: 'dense', weight: weight(kernel.data, kernel.shape), bias: bias && t1(bias) };
      return [node(spec, op, ins, activationOf(c.activation, spec, ctx.keras3))];
    }
  }
  throw new Error(`Layer '${spec.name}' (class ${spec.className}) is not supported by FG-CAM; supported: ${SUPPORTED_LAYERS.join(', ')}.`);
}

function reluLayer(spec: LayerSpec): Activation {
  const c = spec.config;
  const max = c.max_value ?? null;
  const slope = c.negative_slope ?? 0;
  const threshold = c.threshold ?? 0;
  if (threshold === 0 && slope === 0 && max == null) return { fn: 'relu' };
  if (threshold === 0 && slope === 0 && max === 6) return { fn: 'relu6' };
  if (threshold === 0 && slope > 0 && max == null) return { fn: 'leakyrelu', alpha: slope };
  throw new Error(`Layer '${spec.name}' (class ReLU) with max_value=${max}, negative_slope=${slope}, threshold=${threshold} is not supported (plain ReLU, ReLU6 or leaky only).`);
}

/** y = gamma * (x - mean) / sqrt(var + eps) + beta  ->  x * scale + offset. */
function foldBatchNorm(spec: LayerSpec, ctx: Ctx): Op {
  const c = spec.config;
  const mean = weightOf(ctx, spec, ['moving_mean'], true).data;
  const variance = weightOf(ctx, spec, ['moving_variance'], true).data;
  const gamma = c.scale === false ? undefined : weightOf(ctx, spec, ['gamma'], true).data;
  const beta = c.center === false ? undefined : weightOf(ctx, spec, ['beta'], true).data;
  const eps = c.epsilon ?? 1e-3;
  const { scale, offset } = foldBN(mean, variance, gamma, beta, eps);
  return { kind: 'batchnorm', scale: weight(scale, [scale.length]), offset: weight(offset, [offset.length]) };
}
