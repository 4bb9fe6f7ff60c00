import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { outputName, sanitizeLayerName, writeFileAtomic } from '../../src/engine/files';
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
  assert.equal(outputName(img, 'gradcam', false, 'input', 'heatmap'), path.join('photos', 'cat.photo.fgcam-gradcam.input.png'));
  assert.equal(outputName(img, 'scorecam', true, 'block1_pool', 'overlay'), path.join('photos', 'cat.photo.fgcam-scorecam-denoised.block1_pool.overlay.png'));
  assert.equal(outputName(img, 'gradcam', true, 'conv2d_1', 'raw', 'out'), path.join('out', 'cat.photo.fgcam-gradcam-denoised.conv2d_1.npy'));
  assert.equal(outputName('a.png', 'gradcam', false, 'model/block 1:conv', 'heatmap'), 'a.fgcam-gradcam.model_block_1_conv.png');
  assert.equal(sanitizeLayerName('../x\\y'), '.._x_y');
});
