// `fgcam predict` as a user runs it (the built dist/cli.js): --json numbers against an
// independent computation from the engine, Ctrl-C keeping its work for a resume, usage errors.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setup } from '../helpers/backend';
import { disposeModel, loadModel } from '../../src/engine/explain';
import type { Graph } from '../../src/engine/model/graph';
import { parsePredict } from '../../src/cli/predict';
import { UsageError } from '../../src/cli/args';
import { makeDataset, predictOne } from './predictHelpers';
import { tmpDir } from './imageHelpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const MODEL = path.join(ROOT, 'models', 'fashion-vgg', 'model.json');
const skip = !fs.existsSync(CLI) ? 'the CLI is not built (node esbuild.mjs)' : false;
const fgcam = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26 });

const work = tmpDir('fgcam-predict-cli-');
let g: Graph;
before(async () => {
  await setup();
  g = await loadModel(MODEL);
});
after(() => {
  disposeModel(g);
  fs.rmSync(work, { recursive: true, force: true });
});

test('parsePredict: flags, defaults and usage errors', () => {
  const a = parsePredict(['data', '--model', 'm.json', '--shard', '1/3', '--batch', '8', '--truth', 't.csv', '--json']);
  assert.ok(!('help' in a) && a.mode === 'score');
  if ('help' in a || a.mode !== 'score') return;
  assert.deepEqual([a.folder, a.model, a.batch, a.truth, a.json, a.force], ['data', 'm.json', 8, 't.csv', true, false]);
  assert.deepEqual(a.shard, { index: 1, count: 3 });
  assert.equal((parsePredict(['d', '--model', 'm']) as { batch: number }).batch, 32);
  const m = parsePredict(['--merge', 'a', 'b', '--out', 'o']);
  assert.ok(!('help' in m) && m.mode === 'merge' && m.dirs.length === 2 && m.out === 'o');
  for (const bad of [[], ['d'], ['d', 'e', '--model', 'm'], ['d', '--model', 'm', '--batch', '0'], ['d', '--model', 'm', '--shard', '3/3'], ['--merge'], ['--merge', 'a', '--model', 'm']]) {
    assert.throws(() => parsePredict(bad), UsageError, JSON.stringify(bad));
  }
});

test('fgcam predict --json: accuracy and confusion agree with per-image engine predictions', { skip }, () => {
  const data = path.join(work, 'json-set');
  const files = makeDataset(data, { 'T-shirt_top': 6, Trouser: 5, pullover: 5, 'ANKLE-BOOT': 6, '5': 4 }, 11);
  const truthOf: Record<string, number> = { 'T-shirt_top': 0, Trouser: 1, pullover: 2, 'ANKLE-BOOT': 9, '5': 5 };
  const r = fgcam('predict', data, '--model', MODEL, '--json', '--batch', '7');
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const k = 10;
  const confusion = Array.from({ length: k }, () => new Array(k).fill(0));
  let correct = 0;
  for (const f of files) {
    const truth = truthOf[f.split('/')[0]];
    const { top } = predictOne(g, path.join(data, f));
    confusion[truth][top]++;
    if (top === truth) correct++;
    const res = doc.results.find((x: { path: string }) => x.path === f);
    assert.ok(res && res.truth === truth && res.predicted === top, `${f}: ${JSON.stringify(res)} vs truth ${truth}, top ${top}`);
  }
  assert.equal(doc.images, files.length);
  assert.deepEqual(doc.confusion, confusion);
  assert.equal(doc.accuracy, correct / files.length);
  assert.equal(doc.classes[9], 'Ankle boot');
  assert.deepEqual(doc.failed, []);
  assert.ok(fs.existsSync(`${data}.fgcam-review/report.md`), 'the default output folder is next to the dataset');
  fs.rmSync(`${data}.fgcam-review`, { recursive: true });
});

test('Ctrl-C keeps what is done; the same command resumes from the cache', { skip }, async () => {
  const data = path.join(work, 'sigint-set');
  makeDataset(data, { coat: 300, bag: 300 }, 5);
  const out = path.join(work, 'sigint-out');
  const args = [CLI, 'predict', data, '--model', MODEL, '--out', out, '--batch', '4'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const code = await new Promise<number | null>((resolve) => {
    child.stderr.on('data', (d) => {
      err += d;
      // The first progress line: some batches are done, most are not.
      if (/\[\d+\/600\]/.test(err) && !child.killed) child.kill('SIGINT');
    });
    child.on('exit', (c) => resolve(c));
  });
  assert.equal(code, 130, err);
  assert.match(err, /stopped after \d+ images.*run the same command again to resume/);
  const cached = fs.readFileSync(path.join(out, 'cache.jsonl'), 'utf8').trim().split('\n').length - 1;
  assert.ok(cached > 0 && cached < 600, `${cached} cached`);
  const again = spawnSync(process.execPath, [...args, '--json'], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26 });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout + again.stderr, new RegExp(`${cached} results from the cache`));
  assert.equal(JSON.parse(again.stdout).images, 600);
});

test("fgcam predict refuses to replace a user's report file without --force, and merge errors exit 1", { skip }, () => {
  const data = path.join(work, 'force-set');
  makeDataset(data, { sandal: 2 }, 2);
  const out = path.join(work, 'force-out');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'predictions.csv'), 'mine');
  const r = fgcam('predict', data, '--model', MODEL, '--out', out);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /already has predictions\.csv.*--force/);
  assert.equal(fs.readFileSync(path.join(out, 'predictions.csv'), 'utf8'), 'mine');
  assert.equal(fgcam('predict', data, '--model', MODEL, '--out', out, '--force').status, 0);
  const m = fgcam('predict', '--merge', data);
  assert.equal(m.status, 1);
  assert.match(m.stderr, /has no review\.json/);
  const u = fgcam('predict', data);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /--model/);
});

test('an unreadable image in the middle of a folder: the review is still written and lists it, and the exit code is 1', { skip }, () => {
  const data = path.join(work, 'broken-set');
  makeDataset(data, { coat: 3, bag: 3 }, 4);
  fs.writeFileSync(path.join(data, 'bag', 'img001b.png'), 'not a png');
  const out = path.join(work, 'broken-out');
  const r = fgcam('predict', data, '--model', MODEL, '--out', out, '--json');
  assert.equal(r.status, 1, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.failed.map((f: { path: string }) => f.path), ['bag/img001b.png']);
  assert.equal(doc.images, 6);
  assert.match(r.stderr, /unreadable: bag\/img001b\.png: not a recognised image/);
  assert.match(r.stderr, /1 image could not be read .*exit code 1/);
  const written = JSON.parse(fs.readFileSync(path.join(out, 'review.json'), 'utf8'));
  assert.deepEqual(written.failed.map((f: { path: string }) => f.path), ['bag/img001b.png']);
  assert.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /img001b\.png/);
  // Merging that output: the merge itself succeeded (its shards already said so).
  assert.equal(fgcam('predict', '--merge', out, '--out', path.join(work, 'broken-merged')).status, 0);
});
