// Hostile model files: shard paths that leave the model's folder, shards that are not regular
// files or have the wrong size, manifests of the wrong type, corrupt ONNX initializers and
// custom operator domains. Each must fail fast with a message naming the file and the problem.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../../src/engine/backend';
import { disposeGraph } from '../../src/engine/model/graph';
import { loadGraph } from '../../src/engine/model/load';
import { fgcam, tempDir, tinyLayersModel, tinyOnnxClassifier, writeOnnx, writePng } from '../helpers/hostile';

let root: string;
before(async () => {
  await initBackend();
  root = tempDir('model');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

let k = 0;
/** A fresh model folder inside root (root itself holds the "outside" files). */
const modelDir = () => {
  const d = path.join(root, 'models', `m${k++}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};
const T = { timeout: 20_000 };

test('the intact tiny model loads (the baseline the hostile variants break)', T, async () => {
  const { model } = tinyLayersModel(modelDir());
  const g = await loadGraph(model);
  assert.deepEqual(g.nodes.map((n) => n.name), ['image', 'conv', 'gap', 'fc']);
  disposeGraph(g);
});

test('a shard path with ".." that leads out of the folder is refused, the outside file is never read', T, async () => {
  const dir = modelDir();
  const { shard } = tinyLayersModel(dir, { paths: ['../../outside_secret.bin'] });
  fs.writeFileSync(path.join(root, 'outside_secret.bin'), shard); // a valid shard, so only confinement can refuse it
  await assert.rejects(loadGraph(path.join(dir, 'model.json')), /"\.\.\/\.\.\/outside_secret\.bin" leads out of the model's folder/);
  tinyLayersModel(dir, { paths: ['sub/../../x.bin'] });
  await assert.rejects(loadGraph(path.join(dir, 'model.json')), /leads out of the model's folder/);
});

test('absolute shard paths (/etc/passwd, /dev/zero) are refused', T, async () => {
  for (const p of ['/etc/passwd', '/dev/zero', '../../../../dev/zero']) {
    const dir = modelDir();
    tinyLayersModel(dir, { paths: [p] });
    await assert.rejects(loadGraph(path.join(dir, 'model.json')), new RegExp(`"${p.replace(/[./]/g, '\\$&')}" (is an absolute path|leads out of the model's folder)`));
  }
});

test('a shard that is a symlink leading out of the folder is refused; a symlink inside is fine', T, async () => {
  const dir = modelDir();
  const { shard } = tinyLayersModel(dir);
  fs.writeFileSync(path.join(root, 'outside.bin'), shard);
  fs.rmSync(path.join(dir, 'group1-shard1of1.bin'));
  fs.symlinkSync(path.join(root, 'outside.bin'), path.join(dir, 'group1-shard1of1.bin'));
  await assert.rejects(loadGraph(path.join(dir, 'model.json')), /group1-shard1of1\.bin" listed in .* is a link to ".*outside\.bin", outside the model's folder/);
  fs.rmSync(path.join(dir, 'group1-shard1of1.bin'));
  fs.symlinkSync('/dev/zero', path.join(dir, 'group1-shard1of1.bin'));
  await assert.rejects(loadGraph(path.join(dir, 'model.json')), /is a link to "\/dev\/zero", outside the model's folder/);
  fs.rmSync(path.join(dir, 'group1-shard1of1.bin'));
  fs.mkdirSync(path.join(dir, 'w'));
  fs.writeFileSync(path.join(dir, 'w', 'real.bin'), shard);
  fs.symlinkSync(path.join('w', 'real.bin'), path.join(dir, 'group1-shard1of1.bin'));
  disposeGraph(await loadGraph(path.join(dir, 'model.json')));
});

test('a shard that is a named pipe or a folder is an error, not a hang', T, async () => {
  const dir = modelDir();
  tinyLayersModel(dir);
  fs.rmSync(path.join(dir, 'group1-shard1of1.bin'));
  execFileSync('mkfifo', [path.join(dir, 'group1-shard1of1.bin')]);
  await assert.rejects(loadGraph(path.join(dir, 'model.json')), /Weight shard ".*group1-shard1of1\.bin" is a named pipe, not a regular file/);
  const dir2 = modelDir();
  tinyLayersModel(dir2);
  fs.rmSync(path.join(dir2, 'group1-shard1of1.bin'));
  fs.mkdirSync(path.join(dir2, 'group1-shard1of1.bin'));
  await assert.rejects(loadGraph(path.join(dir2, 'model.json')), /is a folder, not a regular file/);
  // The model file itself as a pipe.
  const fifo = path.join(modelDir(), 'model.json');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(loadGraph(fifo), /"[^"]*model\.json" is a named pipe, not a regular file/);
});

test('a short or long shard names the shard, the weight and the expected and actual sizes', T, async () => {
  const dir = modelDir();
  const { model, shard } = tinyLayersModel(dir);
  const file = path.join(dir, 'group1-shard1of1.bin');
  fs.writeFileSync(file, shard.subarray(0, 100));
  // kernel 54 floats = bytes 0..216, so byte 100 cuts the kernel.
  await assert.rejects(loadGraph(model), /Weight shard ".*group1-shard1of1\.bin" listed in ".*model\.json" has 100 bytes, but the manifest's weights need 260 bytes; weight "conv\/kernel" \[3,3,3,2\] needs bytes 0\.\.216 but the data ends at byte 100/);
  fs.writeFileSync(file, shard.subarray(0, 220));
  await assert.rejects(loadGraph(model), /has 220 bytes, but the manifest's weights need 260 bytes; weight "conv\/bias" \[2\] needs bytes 216\.\.224/);
  fs.writeFileSync(file, Buffer.concat([shard, Buffer.alloc(8)]));
  await assert.rejects(loadGraph(model), /has 268 bytes, but the manifest's weights need 260 bytes; the last weight "fc\/bias" ends at byte 260 and 8 bytes follow it/);
});

test('"paths": "g.bin" (a string) and other malformed manifests are clear manifest errors', T, async () => {
  const dir = modelDir();
  fs.writeFileSync(path.join(dir, 'g.bin'), tinyLayersModel(dir, { paths: 'g.bin' }).shard);
  await assert.rejects(loadGraph(path.join(dir, 'model.json')), /weightsManifest\[0\]\.paths must be a list of shard file names, not the string "g\.bin"; write "paths": \["g\.bin"\]/);
  tinyLayersModel(dir, { paths: [42] });
  await assert.rejects(loadGraph(path.join(dir, 'model.json')), /weightsManifest\[0\]\.paths must be a list of shard file names/);
  const j = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  j.weightsManifest = [{ paths: ['g.bin'], weights: [{ name: 'conv/kernel', shape: [1e6, 1e6, 1e6], dtype: 'float32' }] }];
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(j));
  await assert.rejects(loadGraph(path.join(dir, 'model.json')), /weightsManifest\[0\]\.weights\[0\] \("conv\/kernel"\) of shape \[1000000,1000000,1000000\] needs more than/);
  j.weightsManifest = [{ paths: ['g.bin'], weights: [{ name: 'conv/kernel', shape: [3, -1], dtype: 'float32' }] }];
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(j));
  await assert.rejects(loadGraph(path.join(dir, 'model.json')), /has shape \[3,-1\]; expected a list of non-negative integers/);
  j.weightsManifest = [{ paths: ['g.bin'], weights: [{ name: 'conv/kernel', shape: [3], dtype: 'string' }] }];
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(j));
  await assert.rejects(loadGraph(path.join(dir, 'model.json')), /has dtype "string"; supported: float32, int32, bool/);
});

test('CLI: an escaping shard path fails with exit 1 naming the shard, and writes nothing', T, () => {
  const dir = modelDir();
  const { shard } = tinyLayersModel(dir, { paths: ['../../outside_secret.bin'] });
  fs.writeFileSync(path.join(root, 'outside_secret.bin'), shard);
  const imgs = path.join(root, 'imgs-shard');
  fs.mkdirSync(imgs);
  writePng(path.join(imgs, 'a.png'));
  const r = fgcam(['explain', path.join(imgs, 'a.png'), '--model', path.join(dir, 'model.json')]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /outside_secret\.bin" leads out of the model's folder/);
  assert.deepEqual(fs.readdirSync(imgs), ['a.png']);
});

// ---------------------------------------------------------------- ONNX

test('ONNX: the intact tiny classifier loads (baseline)', T, async () => {
  const g = await loadGraph(tinyOnnxClassifier(path.join(modelDir(), 'ok.onnx')));
  assert.equal(g.nodes[g.nodes.length - 1].op.kind, 'dense');
  disposeGraph(g);
});

test('ONNX: raw_data shorter or longer than dims x element size is an error naming the initializer', T, async () => {
  const dir = modelDir();
  const short = tinyOnnxClassifier(path.join(dir, 'short.onnx'), { convW: { dims: [2, 3, 3, 3], raw: new Uint8Array(100) } });
  await assert.rejects(loadGraph(short), /short\.onnx: initializer "w" has 100 bytes of raw_data, but its dims \[2,3,3,3\] of FLOAT need 216 bytes/);
  const long = tinyOnnxClassifier(path.join(dir, 'long.onnx'), { convW: { dims: [2, 3, 3, 3], raw: new Uint8Array(220) } });
  await assert.rejects(loadGraph(long), /initializer "w" has 220 bytes of raw_data, but its dims \[2,3,3,3\] of FLOAT need 216 bytes/);
});

test('ONNX: a node in a non-default domain (com.microsoft Relu) is an error naming the node', T, async () => {
  const p = tinyOnnxClassifier(path.join(modelDir(), 'ms.onnx'), { reluDomain: 'com.microsoft' });
  await assert.rejects(loadGraph(p), /Relu node "relu": is in operator domain "com\.microsoft"; only standard ONNX operators/);
  // The explicit default domain name is the standard op.
  disposeGraph(await loadGraph(tinyOnnxClassifier(path.join(modelDir(), 'std.onnx'), { reluDomain: 'ai.onnx' })));
});

test('ONNX: the .onnx file must be a regular file (a pipe is an error, not a hang)', T, async () => {
  const p = path.join(modelDir(), 'pipe.onnx');
  execFileSync('mkfifo', [p]);
  await assert.rejects(loadGraph(p), /pipe\.onnx" is a named pipe, not a regular file/);
  const q = writeOnnx(path.join(modelDir(), 'cos.onnx'), [{ op: 'ConstantOfShape', in: ['s'], out: 'y' }], { s: { dims: [3], data: [1e6, 1e6, 1e6] } });
  await assert.rejects(loadGraph(q), /cannot evaluate the constant ConstantOfShape node/);
});
