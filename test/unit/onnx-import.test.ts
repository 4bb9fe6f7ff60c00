// ONNX importer, fast: the committed tiny PyTorch exports (test/fixtures/onnx-tiny, made by
// tools/make_onnx_fixtures.py tiny) and small models built here with onnx-proto.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../reference/tfjs';
import { onnx } from 'onnx-proto';
import { initBackend } from '../../src/engine/backend';
import { Graph, disposeGraph, type Weight } from '../../src/engine/model/graph';
import { loadGraph } from '../../src/engine/model/load';
import { runForward } from '../reference/forward';
import { predictOrt } from '../../src/engine/compute';
import { releasePrograms } from '../../src/engine/runtime';
import { tmpDir } from '../helpers/tmp';

before(async () => {
  await initBackend();
});

/* eslint-disable @typescript-eslint/no-explicit-any */
const FIX = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'onnx-tiny');
const readJson = (f: string) => JSON.parse(fs.readFileSync(path.join(FIX, f), 'utf8'));
const op = (g: Graph, name: string): any => g.nodes.find((n) => n.name === name)!.op;
const data = (w: Weight | tf.Tensor) => Array.from('dataSync' in w ? w.dataSync() : w.data);
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
};
const close = (a: number[], b: number[], tol = 1e-6) => {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `[${i}] ${x} vs ${b[i]}`));
};

/** The product's logits and softmax (the compiled predict graph on ONNX Runtime) for an NCHW input given as a flat array. */
async function predictNCHW(g: Graph, flat: number[], shape: number[]): Promise<{ logits: Float32Array; probs: Float32Array }> {
  const [, c, h, w] = shape;
  const x = new Float32Array(flat.length);
  for (let k = 0; k < c; k++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) x[(i * w + j) * c + k] = flat[(k * h + i) * w + j];
  const r = await predictOrt(g, x, 1);
  await releasePrograms(g);
  return { logits: r.logits, probs: r.probs };
}

/** Runs g on an NCHW input given as a flat array on the tfjs reference; returns the logits / output. */
function forwardNCHW(g: Graph, flat: number[], shape: number[]): { out: Float32Array; logits: Float32Array } {
  return tf.tidy(() => {
    const x = tf.transpose(tf.tensor4d(flat, shape as [number, number, number, number]), [0, 2, 3, 1]);
    const r = runForward(g, x);
    return { out: r.acts.get(g.output)!.dataSync() as Float32Array, logits: r.logits.dataSync() as Float32Array };
  });
}

test('tiny PyTorch export: nodes, layouts, folded batch norm, flatten permutation, logits', async () => {
  const ref = readJson('tiny.json');
  const before = tf.memory().numTensors;
  const g = await loadGraph(path.join(FIX, 'tiny.onnx'));
  assert.equal(g.format, 'onnx');
  assert.equal(g.defaultPreprocess, 'imagenet');
  assert.deepEqual(g.inputShape, [10, 12, 3]);
  assert.deepEqual(g.nodes.map((n) => [n.name, n.op.kind]), [
    ['input', 'input'], ['/conv1/Conv', 'conv'], ['/bn1/BatchNormalization', 'batchnorm'], ['/Relu', 'activation'],
    ['/Clip', 'activation'], ['/dw/Conv', 'depthwise'], ['/bn2/BatchNormalization', 'batchnorm'], ['/HardSwish', 'activation'],
    ['/gconv/Conv', 'conv'], ['/LeakyRelu', 'activation'], ['/GlobalAveragePool', 'globalavgpool'], ['/se_fc/Conv', 'conv'],
    ['/Sigmoid', 'activation'], ['/Mul', 'mul'], ['/proj/Conv', 'conv'], ['/Add', 'add'], ['/avg_in/Pad', 'pad'],
    ['/avg_in/AveragePool', 'avgpool'], ['/avg_ex/AveragePool', 'avgpool'], ['/Concat', 'concat'], ['/pool/MaxPool', 'maxpool'],
    ['/Mul_1', 'batchnorm'], ['/Add_1', 'batchnorm'], ['/HardSigmoid', 'activation'], ['/Reshape', 'flatten'], ['/fc/Gemm', 'dense'],
  ]);
  assert.equal(g.output, '/fc/Gemm');
  assert.deepEqual(g.nodes.find((n) => n.name === '/Clip')!.activation, { fn: 'relu6' });
  assert.deepEqual(g.nodes.find((n) => n.name === '/Add')!.inputs, ['/Mul', '/proj/Conv']);
  assert.deepEqual(g.nodes.find((n) => n.name === '/pool/MaxPool')!.outputShape, [3, 4, 16]);
  assert.deepEqual(g.nodes.find((n) => n.name === '/Reshape')!.outputShape, [192]);

  // conv1: OIHW [8,3,3,3] -> HWIO; padding [t,b,l,r]; stride 2.
  const c1 = op(g, '/conv1/Conv');
  assert.deepEqual(c1.weight.shape, [3, 3, 3, 8]);
  assert.deepEqual(c1.padding, [1, 1, 1, 1]);
  assert.deepEqual(c1.strides, [2, 2]);
  const w = data(c1.weight);
  for (let o = 0; o < 8; o++) for (let i = 0; i < 3; i++) for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) {
    assert.equal(w[((y * 3 + x) * 3 + i) * 8 + o], Math.fround(ref.conv1_weight_oihw[((o * 3 + i) * 3 + y) * 3 + x]));
  }
  // Depthwise, multiplier 2: ONNX output channel c*2+m -> [kh, kw, c, m]; pads (1, 2), dilation (1, 2).
  const dw = op(g, '/dw/Conv');
  assert.deepEqual(dw.weight.shape, [3, 3, 8, 2]);
  assert.deepEqual(dw.padding, [1, 1, 2, 2]);
  assert.deepEqual(dw.dilations, [1, 2]);
  const dwv = data(dw.weight);
  for (let c = 0; c < 8; c++) for (let m = 0; m < 2; m++) for (let p = 0; p < 9; p++) {
    assert.equal(dwv[(p * 8 + c) * 2 + m], Math.fround(ref.dw_weight_oihw[(c * 2 + m) * 9 + p]));
  }
  assert.equal(op(g, '/gconv/Conv').groups, 4);
  assert.deepEqual(op(g, '/gconv/Conv').weight.shape, [1, 1, 4, 8]);
  // Batch norm folded with PyTorch's eps 1e-5.
  const bn = ref.bn1;
  const scale = bn.weight.map((gm: number, i: number) => gm / Math.sqrt(bn.running_var[i] + 1e-5));
  close(data(op(g, '/bn1/BatchNormalization').scale), scale);
  close(data(op(g, '/bn1/BatchNormalization').offset), bn.bias.map((b: number, i: number) => b - bn.running_mean[i] * scale[i]));
  // Mul/Add by constants became per-channel affine nodes.
  close(data(op(g, '/Mul_1').scale), new Array(16).fill(0.5));
  close(data(op(g, '/Add_1').offset), new Array(16).fill(0.25));
  // count_include_pad=True average: zero pad node then a 'valid' average; False: explicit pads.
  assert.deepEqual(op(g, '/avg_in/Pad').pads, [1, 1, 1, 1]);
  assert.equal(op(g, '/avg_in/AveragePool').padding, 'valid');
  assert.deepEqual(op(g, '/avg_ex/AveragePool').padding, [1, 1, 1, 1]);
  assert.equal(op(g, '/Concat').axis, 3);
  // Gemm after an NCHW flatten of 16x3x4: row (h*4+w)*16+c of ours is column c*12+h*4+w of torch's [5, 192].
  const fc = data(op(g, '/fc/Gemm').weight);
  for (let c = 0; c < 16; c++) for (let p = 0; p < 12; p++) for (let o = 0; o < 5; o++) {
    assert.equal(fc[(p * 16 + c) * 5 + o], Math.fround(ref.fc_weight[o * 192 + c * 12 + p]));
  }
  const { logits } = forwardNCHW(g, ref.input, ref.input_shape);
  assert.ok(relErr(logits, ref.logits) < 1e-5, `tfjs reference: logits rel err ${relErr(logits, ref.logits)}`);
  const ours = await predictNCHW(g, ref.input, ref.input_shape);
  assert.ok(relErr(ours.logits, ref.logits) < 1e-5, `ONNX Runtime: logits rel err ${relErr(ours.logits, ref.logits)}`);
  disposeGraph(g);
  assert.equal(tf.memory().numTensors, before);
});

test('dynamic height/width: clear error, then works with an input size', async () => {
  const ref = readJson('tiny_dynamic.json');
  const p = path.join(FIX, 'tiny_dynamic.onnx');
  await assert.rejects(loadGraph(p), /input "input" has no fixed height\/width \(shape \[batch, 3, height, width\]\); set an input size/);
  const g = await loadGraph(p, { inputSize: [9, 7] });
  assert.deepEqual(g.inputShape, [9, 7, 3]);
  const last = g.nodes.at(-1)!;
  assert.equal(last.op.kind, 'activation');
  assert.deepEqual(last.activation, { fn: 'softmax' });
  const { out } = forwardNCHW(g, ref.input, ref.input_shape);
  assert.ok(relErr(out, ref.probs) < 1e-5, `tfjs reference: probs rel err ${relErr(out, ref.probs)}`);
  const ours = await predictNCHW(g, ref.input, ref.input_shape);
  assert.ok(relErr(ours.probs, ref.probs) < 1e-5, `ONNX Runtime: probs rel err ${relErr(ours.probs, ref.probs)}`);
  disposeGraph(g);
});

// ---------------------------------------------------------------- hand-built protos

type N = { op: string; in: string[]; out?: string; name?: string; attrs?: Record<string, number | number[] | string> };

function attr(name: string, v: number | number[] | string): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: Buffer.from(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
}

/** Writes a model with input "x" [1,C,H,W], the given nodes, float initializers, output = last node. */
function writeOnnx(shape: (number | string)[], nodes: N[], inits: Record<string, { dims: number[]; data?: number[] }> = {}, extraInputs: string[] = []): string {
  const vi = (name: string, dims: (number | string)[]): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const node = (n: N, i: number): onnx.INodeProto => ({
    opType: n.op, name: n.name ?? `n${i}`, input: n.in, output: [n.out ?? `t${i}`],
    attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v)),
  });
  const initializer = Object.entries(inits).map(([name, t]) => {
    const len = t.dims.reduce((a, b) => a * b, 1);
    const d = t.data ?? Array.from({ length: len }, (_, i) => ((i * 7919) % 13) / 13 - 0.5);
    return { name, dims: t.dims, dataType: 1, rawData: new Uint8Array(new Float32Array(d).buffer) };
  });
  const last = nodes.length - 1;
  const model: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ version: 13 }],
    graph: {
      name: 'g', node: nodes.map(node), initializer,
      input: [vi('x', shape), ...extraInputs.map((e) => vi(e, shape))],
      output: [{ name: nodes[last].out ?? `t${last}` }],
    },
  };
  const dir = tmpDir('fgcam-onnx-');
  const p = path.join(dir, 'm.onnx');
  fs.writeFileSync(p, onnx.ModelProto.encode(model).finish());
  return p;
}

test('SAME_LOWER / SAME_UPPER / VALID, MaxPool ceil_mode, Reshape [1,C,1,1]', async () => {
  const p = writeOnnx([1, 2, 6, 5], [
    { op: 'Conv', in: ['x', 'w1'], name: 'lower', attrs: { auto_pad: 'SAME_LOWER', strides: [2, 2], kernel_shape: [2, 2] } },
    { op: 'Conv', in: ['t0', 'w2'], name: 'upper', attrs: { auto_pad: 'SAME_UPPER', kernel_shape: [2, 2] } },
    { op: 'MaxPool', in: ['t1'], name: 'ceil', attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 } },
    { op: 'GlobalAveragePool', in: ['t2'], name: 'gap' },
    { op: 'Reshape', in: ['t3', 'shape1'], name: 'to2d' },
    { op: 'Reshape', in: ['t4', 'shape2'], name: 'to4d' },
    { op: 'Flatten', in: ['t5'], name: 'flat' },
  ], { w1: { dims: [3, 2, 2, 2] }, w2: { dims: [3, 3, 2, 2] }, shape1: { dims: [2], data: [1, -1] }, shape2: { dims: [4], data: [1, 3, 1, 1] } });
  // shape1/shape2 are float initializers here; the importer only reads their values.
  const g = await loadGraph(p);
  // 6x5 input, k2 s2: total pad H = max((3-1)*2+2-6, 0) = 0, W = (3-1)*2+2-5 = 1 -> extra at the left (lower).
  assert.deepEqual(op(g, 'lower').padding, [0, 0, 1, 0]);
  assert.equal(op(g, 'upper').padding, 'same');
  // 3x3 map, k2 s2, ceil mode: 2x2 output = one extra row/column of padding at the bottom/right.
  assert.deepEqual(op(g, 'ceil').padding, [0, 1, 0, 1]);
  assert.deepEqual(g.nodes.find((n) => n.name === 'ceil')!.outputShape, [2, 2, 3]);
  assert.equal(op(g, 'to2d').kind, 'flatten');
  assert.deepEqual(op(g, 'to4d'), { kind: 'reshape', shape: [1, 1, 3] });
  assert.deepEqual(g.nodes.at(-1)!.outputShape, [3]);
  disposeGraph(g);
});

test('errors: unsupported op, bad Clip, two inputs, corrupt file', async () => {
  const conv = { w: { dims: [2, 2, 1, 1] } };
  await assert.rejects(
    loadGraph(writeOnnx([1, 2, 4, 4], [{ op: 'Conv', in: ['x', 'w'] }, { op: 'Transpose', in: ['t0'], name: 'my_transpose', attrs: { perm: [0, 2, 3, 1] } }], conv)),
    /Transpose node "my_transpose": op type "Transpose" is not supported by FG-CAM; supported: Conv, /,
  );
  await assert.rejects(
    loadGraph(writeOnnx([1, 2, 4, 4], [{ op: 'Clip', in: ['x', 'lo', 'hi'], name: 'c' }], { lo: { dims: [], data: [-1] }, hi: { dims: [], data: [1] } })),
    /Clip node "c": Clip\(-1, 1\) is not supported/,
  );
  await assert.rejects(loadGraph(writeOnnx([1, 2, 4, 4], [{ op: 'Add', in: ['x', 'y'] }], {}, ['y'])), /has 2 inputs \(x, y\); FG-CAM needs exactly one image input/);
  await assert.rejects(
    loadGraph(writeOnnx([1, 2, 4, 4], [{ op: 'AveragePool', in: ['x'], name: 'ap', attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } }])),
    /AveragePool node "ap": AveragePool with ceil_mode=1 that changes the output size is not supported/,
  );
  const dir = tmpDir('fgcam-onnx-bad-');
  fs.writeFileSync(path.join(dir, 'bad.onnx'), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]));
  await assert.rejects(loadGraph(path.join(dir, 'bad.onnx')), /bad\.onnx" is not a valid ONNX model/);
  fs.writeFileSync(path.join(dir, 'empty.onnx'), Buffer.alloc(0));
  await assert.rejects(loadGraph(path.join(dir, 'empty.onnx')), /empty\.onnx" is not an ONNX model \(no graph/);
});
