// Builders for the hostile-input tests: a tiny TF.js classifier (conv -> GAP -> dense) whose
// manifest, shards and weights a test can break, tiny ONNX files, and a CLI runner with a
// time guard. Everything is written into a temp folder the test removes.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { encodePng } from '../../src/engine/image/encode';

/* eslint-disable @typescript-eslint/no-explicit-any */

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `fgcam-hostile-${tag}-`));
}

export function repoRoot(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const pj = path.join(d, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'fgcam-explorer') return d;
  }
  return process.cwd();
}

export const CLI = path.join(repoRoot(), 'dist', 'cli.js');

/** Runs the built CLI with a wall-clock guard (a hang fails the test instead of stalling it). */
export function fgcam(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}) {
  assert.ok(fs.existsSync(CLI), 'the CLI is not built: run `node esbuild.mjs` (dist/cli.js)');
  const r = spawnSync(process.execPath, ['--max-old-space-size=1024', CLI, ...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, cwd: opts.cwd });
  assert.equal(r.error, undefined, `fgcam ${args.join(' ')}: ${r.error}`);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export interface TinyOptions {
  /** Input size h = w (default 8), channels 3. */
  size?: number;
  /** Override the manifest paths entry (default ["group1-shard1of1.bin"]). */
  paths?: unknown;
  /** Replace the conv kernel values (e.g. with NaN / Infinity). */
  kernel?: number[];
  /** The classifier head: 'dense' (GAP -> Dense, a class vector) or 'none' (the conv map is the output). */
  head?: 'dense' | 'none';
  /** Number of classes (default 3). */
  classes?: number;
  /** Layer name of the conv (default "conv"). */
  convName?: string;
}

/** Writes model.json (+ shard unless paths is overridden) into dir; returns the model.json path and the shard bytes. */
export function tinyLayersModel(dir: string, o: TinyOptions = {}): { model: string; shard: Buffer } {
  const size = o.size ?? 8;
  const classes = o.classes ?? 3;
  const conv = o.convName ?? 'conv';
  const kernel = o.kernel ?? Array.from({ length: 3 * 3 * 3 * 2 }, (_, i) => (((i * 37) % 11) - 5) / 20);
  const layers: any[] = [
    { class_name: 'InputLayer', config: { name: 'image', batch_input_shape: [null, size, size, 3] } },
    { class_name: 'Conv2D', config: { name: conv, filters: 2, kernel_size: [3, 3], padding: 'same', activation: 'relu', use_bias: true } },
  ];
  const weights: { name: string; shape: number[]; data: number[] }[] = [
    { name: `${conv}/kernel`, shape: [3, 3, 3, 2], data: kernel },
    { name: `${conv}/bias`, shape: [2], data: [0.1, 0.05] },
  ];
  if ((o.head ?? 'dense') === 'dense') {
    layers.push({ class_name: 'GlobalAveragePooling2D', config: { name: 'gap' } });
    layers.push({ class_name: 'Dense', config: { name: 'fc', units: classes, activation: 'softmax', use_bias: true } });
    weights.push({ name: 'fc/kernel', shape: [2, classes], data: Array.from({ length: 2 * classes }, (_, i) => ((i % 5) - 2) / 3) });
    weights.push({ name: 'fc/bias', shape: [classes], data: Array.from({ length: classes }, (_, i) => i / 10) });
  }
  const shard = Buffer.concat(weights.map((w) => Buffer.from(new Float32Array(w.data).buffer)));
  const json = {
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { name: 'tiny', layers } },
    weightsManifest: [{ paths: o.paths ?? ['group1-shard1of1.bin'], weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
  };
  const model = path.join(dir, 'model.json');
  fs.writeFileSync(model, JSON.stringify(json));
  if (o.paths === undefined) fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), shard);
  return { model, shard };
}

export interface OnnxNode {
  op: string;
  in: string[];
  out: string;
  name?: string;
  domain?: string;
}
export interface OnnxInit {
  dims: number[];
  /** float32 values; or raw bytes to put in raw_data as they are. */
  data?: number[];
  raw?: Uint8Array;
}

/** A one-input ONNX model [1, 3, size, size] -> nodes -> the last node's output. */
export function writeOnnx(file: string, nodes: OnnxNode[], inits: Record<string, OnnxInit>, size = 4): string {
  const vi = (name: string, dims: number[]): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const model: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ version: 13 }],
    graph: {
      name: 'g',
      node: nodes.map((n, i) => ({ opType: n.op, name: n.name ?? `n${i}`, input: n.in, output: [n.out], domain: n.domain })),
      initializer: Object.entries(inits).map(([name, t]) => ({
        name, dims: t.dims, dataType: 1,
        rawData: t.raw ?? new Uint8Array(new Float32Array(t.data ?? Array.from({ length: t.dims.reduce((a, b) => a * b, 1) }, (_, i) => (i % 7) / 7 - 0.4)).buffer),
      })),
      input: [vi('x', [1, 3, size, size])],
      output: [{ name: nodes[nodes.length - 1].out }],
    },
  };
  fs.writeFileSync(file, onnx.ModelProto.encode(model).finish());
  return file;
}

/** A small ONNX classifier: Conv(3->2) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(2->3). */
export function tinyOnnxClassifier(file: string, o: { convW?: OnnxInit; reluDomain?: string } = {}): string {
  return writeOnnx(file, [
    { op: 'Conv', in: ['x', 'w'], out: 'c', name: 'conv' },
    { op: 'Relu', in: ['c'], out: 'r', name: 'relu', domain: o.reluDomain },
    { op: 'GlobalAveragePool', in: ['r'], out: 'p', name: 'gap' },
    { op: 'Flatten', in: ['p'], out: 'f', name: 'flat' },
    { op: 'Gemm', in: ['f', 'fw', 'fb'], out: 'y', name: 'fc' },
  ], { w: o.convW ?? { dims: [2, 3, 3, 3] }, fw: { dims: [2, 3] }, fb: { dims: [3], data: [0, 0.1, 0.2] } });
}

/** A w x h RGBA PNG with a gradient, written with the engine's encoder. */
export function writePng(file: string, w = 8, h = 8): string {
  const data = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([(i * 13) % 256, (i * 7) % 256, (i * 3) % 256, 255], i * 4);
  fs.writeFileSync(file, encodePng({ width: w, height: h, data }));
  return file;
}
