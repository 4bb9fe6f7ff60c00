// TF.js layers importer: hand-built model.json files with known weights.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../reference/tfjs';
import { initBackend } from '../../src/engine/backend';
import { Graph, disposeGraph, type Weight } from '../../src/engine/model/graph';
import { loadGraph } from '../../src/engine/model/load';
import { SUPPORTED_LAYERS } from '../../src/engine/model/layers';
import { extractNsfwjsModel, nsfwjsModelsDir } from '../helpers/nsfwjs-models';
import { tmpDir } from '../helpers/tmp';

before(async () => {
  await initBackend();
});

/* eslint-disable @typescript-eslint/no-explicit-any */
type W = { name: string; shape: number[]; data: number[] };

const seq = (n: number, s = 0.1, o = 0) => Array.from({ length: n }, (_, i) => o + s * (i + 1));
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Writes model.json + one float32 shard (or a quantized one) into a fresh temp dir. */
function writeModel(topology: any, weights: W[], quant?: 'float16' | 'uint8'): string {
  const dir = tmpDir('fgcam-layers-');
  const specs: any[] = [];
  const parts: Buffer[] = [];
  for (const w of weights) {
    assert.equal(w.data.length, prod(w.shape), w.name);
    if (!quant) {
      specs.push({ name: w.name, shape: w.shape, dtype: 'float32' });
      parts.push(Buffer.from(new Float32Array(w.data).buffer));
    } else if (quant === 'float16') {
      specs.push({ name: w.name, shape: w.shape, dtype: 'float32', quantization: { dtype: 'float16' } });
      parts.push(Buffer.from(new Uint16Array(w.data.map(toHalf)).buffer));
    } else {
      const min = Math.min(...w.data);
      const scale = (Math.max(...w.data) - min) / 255 || 1;
      specs.push({ name: w.name, shape: w.shape, dtype: 'float32', quantization: { dtype: 'uint8', min, scale } });
      parts.push(Buffer.from(w.data.map((v) => Math.round((v - min) / scale))));
    }
  }
  fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), Buffer.concat(parts));
  const json = { format: 'layers-model', modelTopology: topology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: specs }] };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  return path.join(dir, 'model.json');
}

function toHalf(v: number): number {
  // Exact for the small dyadic values used here.
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = (u >>> 13) & 0x3ff;
  if (v === 0) return 0;
  return sign | (exp << 10) | mant;
}

const data = (w: Weight | tf.Tensor) => Array.from('dataSync' in w ? w.dataSync() : w.data);
const close = (a: number[], b: number[], tol = 1e-6) => {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `[${i}] ${x} vs ${b[i]}`));
};
const op = (g: Graph, name: string): any => g.nodes.find((n) => n.name === name)!.op;

// ---------------------------------------------------------------- Sequential, Keras 2

const K = seq(3 * 3 * 2 * 4, 0.01, -0.3);
const BN = { gamma: [1, 2, 0.5, 1.5], beta: [0.1, -0.2, 0.3, 0], mean: [0.5, -1, 2, 0], variance: [4, 1, 0.25, 9] };

function sequentialKeras2(): { topo: any; weights: W[] } {
  const topo = {
    keras_version: '2.11.0',
    backend: 'tensorflow',
    model_config: {
      class_name: 'Sequential',
      config: {
        name: 'sequential',
        layers: [
          { class_name: 'Conv2D', config: { name: 'conv', batch_input_shape: [null, 6, 6, 2], filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', dilation_rate: [1, 1], activation: 'relu', use_bias: true, data_format: 'channels_last' } },
          { class_name: 'BatchNormalization', config: { name: 'bn', axis: -1, epsilon: 0.001, center: true, scale: true } },
          { class_name: 'ReLU', config: { name: 're', max_value: 6, negative_slope: 0, threshold: 0 } },
          { class_name: 'MaxPooling2D', config: { name: 'pool', pool_size: [2, 2], strides: null, padding: 'valid', data_format: 'channels_last' } },
          { class_name: 'Dropout', config: { name: 'drop', rate: 0.5 } },
          { class_name: 'Flatten', config: { name: 'flat', data_format: 'channels_last' } },
          { class_name: 'Dense', config: { name: 'fc', units: 3, activation: 'softmax', use_bias: true } },
        ],
      },
    },
  };
  const weights: W[] = [
    { name: 'conv/kernel', shape: [3, 3, 2, 4], data: K },
    { name: 'conv/bias', shape: [4], data: [0.1, 0.2, 0.3, 0.4] },
    { name: 'bn/gamma', shape: [4], data: BN.gamma },
    { name: 'bn/beta', shape: [4], data: BN.beta },
    { name: 'bn/moving_mean', shape: [4], data: BN.mean },
    { name: 'bn/moving_variance', shape: [4], data: BN.variance },
    { name: 'fc/kernel', shape: [36, 3], data: seq(108, 0.001) },
    { name: 'fc/bias', shape: [3], data: [0, 1, 2] },
  ];
  return { topo, weights };
}

test('Sequential (Keras 2, no InputLayer): nodes, ops, layouts, folded batch norm', async () => {
  const { topo, weights } = sequentialKeras2();
  const g = await loadGraph(writeModel(topo, weights));
  assert.deepEqual(g.nodes.map((n) => n.name), ['conv_input', 'conv', 'bn', 're', 'pool', 'drop', 'flat', 'fc']);
  assert.deepEqual(g.nodes.map((n) => n.op.kind), ['input', 'conv', 'batchnorm', 'activation', 'maxpool', 'identity', 'flatten', 'dense']);
  assert.deepEqual(g.inputShape, [6, 6, 2]);
  assert.equal(g.output, 'fc');
  assert.equal(g.format, 'tfjs-layers');
  const conv = op(g, 'conv');
  assert.deepEqual(conv.weight.shape, [3, 3, 2, 4]);
  close(data(conv.weight), K);
  assert.equal(conv.padding, 'same');
  assert.deepEqual(conv.strides, [1, 1]);
  assert.equal(conv.groups, 1);
  assert.deepEqual(g.nodes[1].activation, { fn: 'relu' });
  const bn = op(g, 'bn');
  const scale = BN.gamma.map((gm, i) => gm / Math.sqrt(BN.variance[i] + 0.001));
  close(data(bn.scale), scale);
  close(data(bn.offset), BN.beta.map((b, i) => b - BN.mean[i] * scale[i]));
  assert.deepEqual(g.nodes[3].activation, { fn: 'relu6' });
  assert.deepEqual(op(g, 'pool').strides, [2, 2]);
  assert.deepEqual(op(g, 'fc').weight.shape, [36, 3]);
  assert.deepEqual(g.nodes[7].activation, { fn: 'softmax' });
  assert.deepEqual(g.nodes.map((n) => n.outputShape), [[6, 6, 2], [6, 6, 4], [6, 6, 4], [6, 6, 4], [3, 3, 4], [3, 3, 4], [36], [3]]);
  disposeGraph(g);
});

test('quantized weights (float16, uint8) decode to the same values', async () => {
  const { topo, weights } = sequentialKeras2();
  for (const q of ['float16', 'uint8'] as const) {
    const g = await loadGraph(writeModel(topo, weights, q), { inferShapes: false });
    const k = data(op(g, 'conv').weight);
    const tol = q === 'float16' ? 1e-3 : (Math.max(...K) - Math.min(...K)) / 255;
    k.forEach((v, i) => assert.ok(Math.abs(v - K[i]) <= tol, `${q} [${i}] ${v} vs ${K[i]}`));
    disposeGraph(g);
  }
});

test('Sequential (Keras 3): InputLayer with batch_shape, prefixed ":0" weight names', async () => {
  const topo = {
    class_name: 'Sequential',
    config: {
      name: 'seq',
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 4, 4, 1], dtype: 'float32', name: 'in' }, registered_name: null },
        { module: 'keras.layers', class_name: 'DepthwiseConv2D', config: { name: 'dw', kernel_size: [3, 3], strides: [2, 2], padding: 'same', depth_multiplier: 2, use_bias: false, activation: { module: 'keras.activations', class_name: 'function', config: 'hard_sigmoid', registered_name: 'hard_sigmoid' } }, registered_name: null },
        { module: 'keras.layers', class_name: 'GlobalAveragePooling2D', config: { name: 'gap', keepdims: false }, registered_name: null },
      ],
    },
  };
  const dwk = seq(18, 0.05);
  const g = await loadGraph(writeModel(topo, [{ name: 'seq/dw/kernel:0', shape: [3, 3, 1, 2], data: dwk }]));
  assert.deepEqual(g.nodes.map((n) => n.name), ['in', 'dw', 'gap']);
  assert.equal(op(g, 'dw').kind, 'depthwise');
  assert.equal(op(g, 'dw').bias, undefined);
  close(data(op(g, 'dw').weight), dwk);
  assert.deepEqual(g.nodes[1].activation, { fn: 'hardsigmoid', alpha: 1 / 6, beta: 0.5 });
  assert.deepEqual(g.nodes.map((n) => n.outputShape), [[4, 4, 1], [2, 2, 2], [2]]);
  disposeGraph(g);
});

// ---------------------------------------------------------------- Functional

/** in -> pad -> c1 (3x3 valid) -> [a: relu6 | b: sep] -> add -> concat(add, c1) -> gap(keepdims) */
function functionalLayers(keras3: boolean): any[] {
  const ref = (names: string[]) =>
    keras3
      ? [{ args: names.length === 1 ? [tensor(names[0])] : [names.map(tensor)], kwargs: {} }]
      : [names.map((n) => [n, 0, 0, {}])];
  const tensor = (n: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 4, 4, 2], dtype: 'float32', keras_history: [n, 0, 0] } });
  const L = (name: string, cls: string, config: any, ins: string[]) => ({ name, class_name: cls, config: { name, ...config }, inbound_nodes: ins.length ? ref(ins) : [] });
  return [
    L('in', 'InputLayer', keras3 ? { batch_shape: [null, 4, 4, 2] } : { batch_input_shape: [null, 4, 4, 2] }, []),
    L('pad', 'ZeroPadding2D', { padding: [[1, 0], [0, 1]] }, ['in']),
    L('c1', 'Conv2D', { filters: 2, kernel_size: 2, strides: 1, padding: 'valid', use_bias: false, activation: 'linear' }, ['pad']),
    L('a', 'ReLU', { max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }, ['c1']),
    L('b', 'SeparableConv2D', { filters: 2, kernel_size: [3, 3], padding: 'same', depth_multiplier: 1, use_bias: true, activation: 'swish' }, ['c1']),
    L('unused', 'Conv2D', { filters: 2, kernel_size: 1, padding: 'valid', use_bias: false }, ['c1']),
    L('add', 'Add', {}, ['a', 'b']),
    L('cat', 'Concatenate', { axis: -1 }, ['add', 'c1']),
    L('gap', 'GlobalAveragePooling2D', { keepdims: true }, ['cat']),
  ];
}

const functionalWeights: W[] = [
  { name: 'c1/kernel', shape: [2, 2, 2, 2], data: seq(16, 0.1, -0.8) },
  { name: 'b/depthwise_kernel', shape: [3, 3, 2, 1], data: seq(18, 0.02) },
  { name: 'b/pointwise_kernel', shape: [1, 1, 2, 2], data: [1, 2, 3, 4] },
  { name: 'b/bias', shape: [2], data: [0.5, -0.5] },
  { name: 'unused/kernel', shape: [1, 1, 2, 2], data: [1, 0, 0, 1] },
];

for (const keras3 of [false, true]) {
  test(`Functional (${keras3 ? 'Keras 3 dict' : 'Keras 2 list'} inbound_nodes): Add, Concatenate, SeparableConv2D, pruning`, async () => {
    const layers = functionalLayers(keras3);
    const io = keras3 ? { input_layers: ['in', 0, 0], output_layers: ['gap', 0, 0] } : { input_layers: [['in', 0, 0]], output_layers: [['gap', 0, 0]] };
    const topo = { class_name: keras3 ? 'Functional' : 'Model', config: { name: 'm', layers, ...io }, keras_version: keras3 ? '3.3.3' : '2.15.0' };
    const g = await loadGraph(writeModel(keras3 ? topo : { model_config: topo }, functionalWeights));
    assert.deepEqual(g.nodes.map((n) => n.name), ['in', 'pad', 'c1', 'a', 'b/depthwise', 'b', 'add', 'cat', 'gap']);
    assert.deepEqual(op(g, 'pad').pads, [1, 0, 0, 1]);
    assert.deepEqual(g.nodes.find((n) => n.name === 'add')!.inputs, ['a', 'b']);
    assert.deepEqual(g.nodes.find((n) => n.name === 'cat')!.inputs, ['add', 'c1']);
    assert.equal(op(g, 'cat').axis, 3);
    assert.equal(op(g, 'b/depthwise').kind, 'depthwise');
    assert.deepEqual(op(g, 'b').weight.shape, [1, 1, 2, 2]);
    assert.deepEqual(g.nodes.find((n) => n.name === 'b')!.activation, { fn: 'swish' });
    assert.deepEqual(g.nodes.find((n) => n.name === 'b')!.inputs, ['b/depthwise']);
    assert.deepEqual(g.nodes.find((n) => n.name === 'gap')!.outputShape, [1, 1, 4]);
    assert.deepEqual(g.nodes.find((n) => n.name === 'c1')!.outputShape, [4, 4, 2]);
    disposeGraph(g);
  });
}

test('forward of an imported conv+bn model matches a plain-loop computation', async () => {
  const { topo, weights } = sequentialKeras2();
  const g = await loadGraph(writeModel(topo, weights));
  const { runForward } = await import('../reference/forward');
  const x = seq(72, 0.05, -1.5);
  const r = runForward(g, tf.tensor4d(x, [1, 6, 6, 2]));
  const bnOut = data(r.acts.get('bn')!);
  // Plain loops: conv 3x3 'same' (pad 1 each side), + bias, relu, then bn.
  const want: number[] = [];
  const scale = BN.gamma.map((gm, i) => gm / Math.sqrt(BN.variance[i] + 0.001));
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) for (let o = 0; o < 4; o++) {
    let s = [0.1, 0.2, 0.3, 0.4][o];
    for (let ki = 0; ki < 3; ki++) for (let kj = 0; kj < 3; kj++) for (let c = 0; c < 2; c++) {
      const yi = i + ki - 1, xj = j + kj - 1;
      if (yi < 0 || yi >= 6 || xj < 0 || xj >= 6) continue;
      s += x[(yi * 6 + xj) * 2 + c] * K[((ki * 3 + kj) * 2 + c) * 4 + o];
    }
    want.push(Math.max(s, 0) * scale[o] + BN.beta[o] - BN.mean[o] * scale[o]);
  }
  close(bnOut, want, 1e-5);
  for (const t of r.acts.values()) t.dispose();
  r.logits.dispose();
  disposeGraph(g);
});

// ---------------------------------------------------------------- errors

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.match(e.message, re);
    return true;
  });
}

test('unsupported layer, channels_first, dynamic size: clear errors', async () => {
  const { topo, weights } = sequentialKeras2();
  const bad = JSON.parse(JSON.stringify(topo));
  bad.model_config.config.layers.splice(1, 0, { class_name: 'Lambda', config: { name: 'my_lambda', function: 'x' } });
  await rejects(loadGraph(writeModel(bad, weights)), /Layer 'my_lambda' \(class Lambda\) is not supported by FG-CAM; supported: InputLayer, Conv2D/);

  const cf = JSON.parse(JSON.stringify(topo));
  cf.model_config.config.layers[0].config.data_format = 'channels_first';
  await rejects(loadGraph(writeModel(cf, weights)), /Layer 'conv' \(class Conv2D\) uses data_format "channels_first"/);

  const dyn = JSON.parse(JSON.stringify(topo));
  dyn.model_config.config.layers[0].config.batch_input_shape = [null, null, null, 2];
  dyn.model_config.config.layers.splice(3, 4, { class_name: 'GlobalAveragePooling2D', config: { name: 'gap' } });
  const p = writeModel(dyn, weights.slice(0, 6));
  await rejects(loadGraph(p), /no fixed height\/width.*set an input size.*inputSize/);
  const g = await loadGraph(p, { inputSize: [8, 10] });
  assert.deepEqual(g.inputShape, [8, 10, 2]);
  assert.deepEqual(g.nodes.at(-1)!.outputShape, [4]);
  disposeGraph(g);

  const missing = writeModel(topo, weights.filter((w) => w.name !== 'bn/gamma'));
  await rejects(loadGraph(missing), /weight "bn\/gamma" of layer 'bn'.*missing/);
  assert.ok(SUPPORTED_LAYERS.includes('DepthwiseConv2D'));
});

test('bad paths: missing file, folder, wrong format, missing shard', async () => {
  const dir = tmpDir('fgcam-bad-');
  await rejects(loadGraph(path.join(dir, 'nope.json')), /Model file ".*nope\.json" does not exist/);
  await rejects(loadGraph(dir), /is a folder; give the model\.json/);
  fs.writeFileSync(path.join(dir, 'model.bin'), 'hello world');
  await rejects(loadGraph(path.join(dir, 'model.bin')), /model\.bin" is not a model this tool reads/);
  fs.writeFileSync(path.join(dir, 'x.json'), '{"format":"graph-model","modelTopology":{"node":[]}}');
  await rejects(loadGraph(path.join(dir, 'x.json')), /graph-model", not a layers model/);
  fs.writeFileSync(path.join(dir, 'y.json'), '{oops');
  await rejects(loadGraph(path.join(dir, 'y.json')), /Cannot read ".*y\.json" as JSON/);
  fs.writeFileSync(path.join(dir, 'model.json'), '{}');
  await rejects(loadGraph(dir), /Did you mean ".*model\.json"\?/);
  const { topo, weights } = sequentialKeras2();
  const p = writeModel(topo, weights);
  fs.rmSync(path.join(path.dirname(p), 'group1-shard1of1.bin'));
  await rejects(loadGraph(p), /Weight shard ".*group1-shard1of1\.bin" listed in .* is missing/);
});

// ---------------------------------------------------------------- real models

const root = path.join(__dirname, '..', '..', '..');
for (const rel of ['models/fashion-vgg/model.json', 'test/fixtures/vgg16bn-small/model.json']) {
  const p = path.join(root, rel);
  test(`loads ${rel}`, { skip: !fs.existsSync(p) && `${rel} not present` }, async () => {
    const g = await loadGraph(p);
    assert.ok(g.nodes.length > 5);
    assert.ok(g.nodes.some((n) => n.op.kind === 'conv'));
    for (const n of g.nodes) assert.ok(n.outputShape.length > 0, n.name);
    disposeGraph(g);
  });
}

const nsfw = nsfwjsModelsDir();
const expected: Record<string, { nodes: number; input: number[]; spatialLast: string }> = {
  mobilenet_v2: { nodes: 162, input: [224, 224, 3], spatialLast: 'average_pooling2d_1' },
  inception_v3: { nodes: 318, input: [299, 299, 3], spatialLast: 'average_pooling2d_10' },
};
for (const [name, exp] of Object.entries(expected)) {
  test(`nsfwjs ${name} (real Keras weights) loads and runs`, { skip: !nsfw && 'nsfwjs not installed' }, async () => {
    const p = extractNsfwjsModel(name as 'mobilenet_v2' | 'inception_v3');
    const before = tf.memory().numTensors;
    const g = await loadGraph(p);
    assert.equal(g.nodes.length, exp.nodes);
    assert.deepEqual(g.inputShape, exp.input);
    assert.deepEqual(g.nodes.at(-1)!.outputShape, [5]);
    assert.deepEqual(g.nodes.find((n) => n.name === exp.spatialLast)!.outputShape.slice(0, 2), [1, 1]);
    disposeGraph(g);
    assert.equal(tf.memory().numTensors, before);
  });
}

// Independent check on real weights: tfjs-layers (a devDependency)
// runs the same model.json; the last spatial map and the output must agree.
let tfl: any;
try {
  tfl = require('@tensorflow/tfjs-layers');
} catch {
  tfl = undefined;
}
for (const [name, exp] of Object.entries(expected)) {
  test(`nsfwjs ${name}: forward matches tfjs-layers`, { skip: (!nsfw && 'nsfwjs not installed') || (!tfl && '@tensorflow/tfjs-layers not installed') }, async () => {
    const p = extractNsfwjsModel(name as 'mobilenet_v2' | 'inception_v3');
    const json = JSON.parse(fs.readFileSync(p, 'utf8'));
    const specs = json.weightsManifest.flatMap((gr: any) => gr.weights);
    const bytes = Buffer.concat(json.weightsManifest.flatMap((gr: any) => gr.paths.map((f: string) => fs.readFileSync(path.join(path.dirname(p), f)))));
    const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    const ref = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
    const probe = tfl.model({ inputs: ref.inputs, outputs: [ref.getLayer(exp.spatialLast).output, ref.outputs[0]] });
    const g = await loadGraph(p, { inferShapes: false });
    const { runForward } = await import('../reference/forward');
    const x = tf.randomUniform([1, ...exp.input], -1, 1, 'float32', 7);
    const [refMap, refOut] = probe.predict(x) as tf.Tensor[];
    const r = runForward(g, x);
    const rel = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0]);
    if (process.env.FGCAM_VERBOSE) console.log(name, rel(r.acts.get(exp.spatialLast)!, refMap), rel(r.acts.get(g.output)!, refOut));
    assert.ok(rel(r.acts.get(exp.spatialLast)!, refMap) < 1e-4, `map rel err ${rel(r.acts.get(exp.spatialLast)!, refMap)}`);
    assert.ok(rel(r.acts.get(g.output)!, refOut) < 1e-4, `output rel err ${rel(r.acts.get(g.output)!, refOut)}`);
    tf.dispose([...r.acts.values(), r.logits, x, refMap, refOut]);
    ref.dispose();
    disposeGraph(g);
  });
}

test('nested models are inlined; augmentation layers are identity; per-pixel Dense is refused', async () => {
  // Outer Functional: in -> aug (nested Sequential: RandomFlip) -> base (nested Functional: conv) -> gap -> fc
  const base = {
    class_name: 'Functional',
    config: {
      name: 'base',
      layers: [
        { name: 'base_in', class_name: 'InputLayer', config: { name: 'base_in', batch_input_shape: [null, 4, 4, 2] }, inbound_nodes: [] },
        { name: 'conv', class_name: 'Conv2D', config: { name: 'conv', filters: 3, kernel_size: 1, padding: 'valid', use_bias: false, activation: 'relu' }, inbound_nodes: [[['base_in', 0, 0, {}]]] },
      ],
      input_layers: [['base_in', 0, 0]],
      output_layers: [['conv', 0, 0]],
    },
  };
  const aug = { class_name: 'Sequential', config: { name: 'aug', layers: [{ class_name: 'RandomFlip', config: { name: 'flip', batch_input_shape: [null, 4, 4, 2], mode: 'horizontal' } }] } };
  const outer = (head: any[]) => ({
    class_name: 'Functional',
    config: {
      name: 'outer',
      layers: [
        { name: 'in', class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 4, 4, 2] }, inbound_nodes: [] },
        { name: 'aug', ...aug, inbound_nodes: [[['in', 0, 0, {}]]] },
        { name: 'base', ...base, inbound_nodes: [[['aug', 0, 0, {}]]] },
        ...head,
      ],
      input_layers: [['in', 0, 0]],
      output_layers: [[head.at(-1).name, 0, 0]],
    },
  });
  const weights: W[] = [
    { name: 'base/conv/kernel', shape: [1, 1, 2, 3], data: seq(6) },
    { name: 'fc/kernel', shape: [3, 2], data: seq(6) },
  ];
  const gapHead = [
    { name: 'gap', class_name: 'GlobalAveragePooling2D', config: { name: 'gap' }, inbound_nodes: [[['base', 0, 0, {}]]] },
    { name: 'fc', class_name: 'Dense', config: { name: 'fc', units: 2, activation: 'linear', use_bias: false }, inbound_nodes: [[['gap', 0, 0, {}]]] },
  ];
  const g = await loadGraph(writeModel(outer(gapHead), weights));
  assert.deepEqual(g.nodes.map((n) => [n.name, n.op.kind, n.inputs.join()]), [
    ['in', 'input', ''], ['flip', 'identity', 'in'], ['conv', 'conv', 'flip'], ['gap', 'globalavgpool', 'conv'], ['fc', 'dense', 'gap'],
  ]);
  close(data(op(g, 'conv').weight), seq(6));
  disposeGraph(g);

  const perPixel = [{ name: 'fc', class_name: 'Dense', config: { name: 'fc', units: 2, use_bias: false }, inbound_nodes: [[['base', 0, 0, {}]]] }];
  await rejects(loadGraph(writeModel(outer(perPixel), weights)), /does not run at input 4x4x2: Dense layer 'fc' is applied per pixel to a 4x4x3 map/);
});

test('a model may record its preprocessing in userDefinedMetadata.fgcam.preprocess', async () => {
  const { topo, weights } = sequentialKeras2();
  const file = writeModel(topo, weights);
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal((await loadGraph(file)).defaultPreprocess, undefined);
  fs.writeFileSync(file, JSON.stringify({ ...json, userDefinedMetadata: { fgcam: { preprocess: 'caffe' } } }));
  assert.equal((await loadGraph(file)).defaultPreprocess, 'caffe');
  fs.writeFileSync(file, JSON.stringify({ ...json, userDefinedMetadata: { fgcam: { preprocess: 'bogus' } } }));
  await rejects(loadGraph(file), /userDefinedMetadata\.fgcam\.preprocess is "bogus"; expected one of imagenet/);
});
