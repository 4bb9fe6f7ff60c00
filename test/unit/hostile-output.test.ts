// Outputs under hostile conditions: two inputs whose names collide, temp files a killed run
// left behind, and a folder the user cannot write to.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { outputName, outputStems, removeStaleTemps, writeFileAtomic } from '../../src/app/files';
import { CLI, fgcam, tempDir, tinyLayersModel, writePng } from '../helpers/hostile';

let root: string;
let model: string;
before(() => {
  root = tempDir('output');
  fs.mkdirSync(path.join(root, 'model'));
  model = tinyLayersModel(path.join(root, 'model')).model;
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

let k = 0;
const fresh = () => {
  const d = path.join(root, `d${k++}`);
  fs.mkdirSync(d);
  return d;
};
const T = { timeout: 90_000 };

function writeJpeg(file: string, w = 8, h = 8, shade = 200): string {
  const data = Buffer.alloc(w * h * 4, shade);
  fs.writeFileSync(file, jpeg.encode({ width: w, height: h, data }, 95).data);
  return file;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('outputStems: the plain stem unless two images of the run share it; then each keeps its extension', () => {
  const m = outputStems(['p/x.png', 'p/x.JPG', 'p/y.png', 'q/x.bmp']);
  assert.deepEqual([...m.values()], ['x.png', 'x.JPG', 'y', 'x']);
  assert.equal(outputName('p/x.png', 'gradcam', 'input', 'heatmap', undefined, m.get('p/x.png')), path.join('p', 'x.png.fgcam-gradcam.input.png'));
  // Into one --out folder q/x.bmp collides with the p/x.* pair too: all three keep extensions.
  assert.deepEqual([...outputStems(['p/x.png', 'p/x.jpg', 'q/x.bmp'], 'o').values()], ['x.png', 'x.jpg', 'x.bmp']);
  assert.throws(() => outputStems(['a/x.png', 'b/x.png'], 'o'), /a\/x\.png and b\/x\.png would write the same output files \(o\/x\.png\.fgcam-\.\.\.\).*Nothing was written/);
});

test('CLI: x.png and x.jpg in one folder write two different outputs, also with --force', T, () => {
  const dir = fresh();
  writePng(path.join(dir, 'x.png'));
  writeJpeg(path.join(dir, 'x.jpg'));
  for (const force of [[], ['--force']]) {
    const r = fgcam(['explain', dir, '--model', model, ...force]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /2 explained, 0 failed/);
  }
  const files = fs.readdirSync(dir).sort();
  assert.deepEqual(files, ['x.jpg', 'x.jpg.fgcam-gradcam.input.png', 'x.png', 'x.png.fgcam-gradcam.input.png']);
  // Different images, different heatmaps: neither overwrote the other.
  assert.notDeepEqual(fs.readFileSync(path.join(dir, files[1])), fs.readFileSync(path.join(dir, files[3])));
});

test('CLI: two inputs that would still share an output are refused before anything is written', T, () => {
  const a = fresh();
  const b = fresh();
  const out = path.join(root, 'out-collide');
  writePng(path.join(a, 'x.png'));
  writePng(path.join(b, 'x.png'), 6, 6);
  const r = fgcam(['explain', path.join(a, 'x.png'), path.join(b, 'x.png'), '--model', model, '--out', out, '--force']);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`${path.join(a, 'x.png').replace(/[./]/g, '\\$&')} and ${path.join(b, 'x.png').replace(/[./]/g, '\\$&')} would write the same output files`));
  assert.ok(!fs.existsSync(out) || fs.readdirSync(out).length === 0);
});

test('stale temp files of dead processes are removed by the next write into the folder; live ones stay', T, async () => {
  const dir = fresh();
  const stale = path.join(dir, `a.fgcam-gradcam.input.png.tmp-${deadPid()}-0badf00d`);
  const live = path.join(dir, `b.fgcam-gradcam.input.png.tmp-${process.pid}-00c0ffee`);
  const other = path.join(dir, 'notes.tmp-1-2');
  for (const f of [stale, live, other]) fs.writeFileSync(f, 'half');
  assert.deepEqual(removeStaleTemps(dir), [stale]);
  fs.writeFileSync(stale, 'half');
  await writeFileAtomic(path.join(dir, 'c.png'), 'x');
  assert.deepEqual(fs.readdirSync(dir).sort(), [path.basename(live), 'c.png', 'notes.tmp-1-2'].sort());
  // And through the CLI, in the images' folder.
  const imgs = fresh();
  writePng(path.join(imgs, 'a.png'));
  const stale2 = path.join(imgs, `a.fgcam-gradcam.input.png.tmp-${deadPid()}-4a240b39`);
  fs.writeFileSync(stale2, 'half');
  const r = fgcam(['explain', imgs, '--model', model]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(fs.readdirSync(imgs).sort(), ['a.fgcam-gradcam.input.png', 'a.png']);
});

test('a read-only image folder: the error names the intended output (not the temp file) and suggests --out', T, (t) => {
  // As root, permissions do not apply: the CLI then runs as "nobody", which must be able to
  // read the checkout (not so in a clone under /root or a 0700 folder: then this cannot be shown).
  const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath];
  const dir = fresh();
  writePng(path.join(dir, 'a.png'));
  fs.chmodSync(root, 0o755);
  fs.chmodSync(dir, 0o555);
  try {
    if (process.getuid?.() === 0) {
      const probe = spawnSync(nobody[0], [...nobody.slice(1), '-e', `for (const f of ${JSON.stringify([CLI, model, path.join(dir, 'a.png')])}) require('fs').accessSync(f, require('fs').constants.R_OK)`], { encoding: 'utf8', timeout: 30_000 });
      if (probe.status !== 0) {
        t.skip(`running as root, and user nobody cannot read the CLI, the model or the image (${(probe.stderr || probe.error?.message || '').split('\n').find((l) => /Error|EACCES|ENOENT/.test(l)) ?? 'setpriv failed'})`);
        return;
      }
    }
    const asUser = process.getuid?.() === 0 ? nobody : [process.execPath];
    const r = spawnSync(asUser[0], [...asUser.slice(1), CLI, 'explain', path.join(dir, 'a.png'), '--model', model], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot write ${path.join(dir, 'a.fgcam-gradcam.input.png').replace(/[./]/g, '\\$&')}: the folder .* is not writable \\((EACCES|EROFS|EPERM)\\); use --out <folder> to write the outputs elsewhere`));
    assert.doesNotMatch(r.stderr, /\.tmp-\d+-/);
    assert.deepEqual(fs.readdirSync(dir), ['a.png']);
  } finally {
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(root, 0o700);
  }
});
