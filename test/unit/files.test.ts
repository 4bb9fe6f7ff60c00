import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { METHODS } from '../../src/engine/methods';
import { fgcamTag, isOwnOutput, methodTag, outputName, sanitizeLayerName, writeFileAtomic } from '../../src/app/files';
import { tmpDir } from './imageHelpers';

test('writeFileAtomic writes, refuses to overwrite, overwrites with overwrite=true, leaves no temp files', async () => {
  const dir = tmpDir();
  const f = path.join(dir, 'out.png');
  await writeFileAtomic(f, Buffer.from('one'));
  assert.equal(fs.readFileSync(f, 'utf8'), 'one');
  await assert.rejects(writeFileAtomic(f, Buffer.from('two')), (e: NodeJS.ErrnoException) => {
    assert.equal(e.code, 'EEXIST');
    assert.ok(e.message.includes(f) && e.message.includes('--force'), e.message);
    return true;
  });
  assert.equal(fs.readFileSync(f, 'utf8'), 'one');
  await writeFileAtomic(f, 'three', { overwrite: true });
  assert.equal(fs.readFileSync(f, 'utf8'), 'three');
  assert.deepEqual(fs.readdirSync(dir), ['out.png']);
  fs.rmSync(dir, { recursive: true });
});

test('writeFileAtomic: a failed write throws and leaves nothing behind', async () => {
  const dir = tmpDir();
  await assert.rejects(writeFileAtomic(path.join(dir, 'missing', 'x.png'), 'a'), /ENOENT/);
  // Target is a directory: the move fails after the temp file was written.
  fs.mkdirSync(path.join(dir, 'taken'));
  await assert.rejects(writeFileAtomic(path.join(dir, 'taken'), 'a', { overwrite: true }));
  assert.deepEqual(fs.readdirSync(dir), ['taken']);
  fs.rmSync(dir, { recursive: true });
});

test('outputName: heatmap, overlay, raw; denoise; out dir; layer sanitising', () => {
  const img = path.join('photos', 'cat.photo.jpg');
  assert.equal(outputName(img, fgcamTag('gradcam', false), 'input', 'heatmap'), path.join('photos', 'cat.photo.fgcam-gradcam.input.png'));
  assert.equal(outputName(img, fgcamTag('scorecam', true), 'block1_pool', 'overlay'), path.join('photos', 'cat.photo.fgcam-scorecam-denoised.block1_pool.overlay.png'));
  assert.equal(outputName(img, fgcamTag('gradcam', true), 'conv2d_1', 'raw', 'out'), path.join('out', 'cat.photo.fgcam-gradcam-denoised.conv2d_1.npy'));
  assert.equal(outputName('a.png', fgcamTag('gradcam', false), 'model/block 1:conv', 'heatmap'), 'a.fgcam-gradcam.model_block_1_conv.png');
  assert.equal(sanitizeLayerName('../x\\y'), '.._x_y');
});

test('outputName: every catalogued method has its own name; FG-CAM keeps <base>[-denoised]', () => {
  const names = METHODS.map((m) => outputName('a.png', methodTag(m.id), 'input', 'heatmap'));
  assert.equal(new Set(names).size, METHODS.length, 'two methods share an output name');
  assert.equal(outputName('a.png', methodTag('gradcam'), 'layer4', 'heatmap'), 'a.fgcam-baseline-gradcam.layer4.png');
  assert.equal(outputName('a.png', methodTag('gradcam++'), 'layer4', 'raw'), 'a.fgcam-baseline-gradcampp.layer4.npy');
  assert.equal(methodTag('fgcam-scorecam-denoised'), 'scorecam-denoised');
  assert.throws(() => methodTag('nope'), /unknown method "nope"/);
  for (const n of names) assert.ok(isOwnOutput(n), n);
  assert.equal(isOwnOutput('photo.png'), false);
});
