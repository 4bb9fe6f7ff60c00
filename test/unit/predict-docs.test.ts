// docs/dataset-review.md's cluster examples, run: the Kubernetes Indexed Job's shell command
// (one run per JOB_COMPLETION_INDEX) and the Slurm array script (one run per
// SLURM_ARRAY_TASK_ID), each followed by the doc's merge command, against a tiny dataset; the
// merged review must equal a whole-folder run. The command lines are taken from the doc.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeDataset } from './predictHelpers';
import { tmpDir } from './imageHelpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const MODEL = path.join(ROOT, 'models', 'fashion-vgg', 'model.json');
const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'dataset-review.md'), 'utf8');
const skip = !fs.existsSync(CLI) ? 'the CLI is not built (node esbuild.mjs)' : false;

/** The fenced block after `<!-- tested: name -->`. */
function block(name: string): string {
  const m = new RegExp(`<!-- tested: ${name} -->\\s*\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``).exec(DOC);
  assert.ok(m, `docs/dataset-review.md has a block marked "tested: ${name}"`);
  return m[1];
}

const work = tmpDir('fgcam-review-docs-');
after(() => fs.rmSync(work, { recursive: true, force: true }));

// `fgcam` and `srun` as the cluster's PATH would provide them.
const bin = path.join(work, 'bin');
fs.mkdirSync(bin);
fs.writeFileSync(path.join(bin, 'fgcam'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
fs.writeFileSync(path.join(bin, 'srun'), '#!/bin/sh\nexec "$@"\n', { mode: 0o755 });
const dataset = path.join(work, 'images');
makeDataset(dataset, { 't-shirt-top': 3, sneaker: 3, 'Ankle boot': 2, '8': 2, unsorted: 1 }, 3);
fs.writeFileSync(path.join(dataset, 'sneaker', 'zz-broken.png'), 'not a png');

const runIn = (shell: string, script: string, env: Record<string, string>) =>
  spawnSync(shell, ['-c', script], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env }, encoding: 'utf8', timeout: 120_000 });

function sh(shell: string, script: string, env: Record<string, string>) {
  const r = runIn(shell, script, env);
  assert.equal(r.status, 0, `${shell} -c ${script}\n${r.stderr}`);
  return r;
}

/**
 * One shard's run: exit 0, or 1 when it met the unreadable image (its output is still written
 * and lists it, as the doc says). Returns how many shards failed that way.
 */
function shard(shell: string, script: string, env: Record<string, string>, outDir: string): number {
  const r = runIn(shell, script, env);
  const failed = JSON.parse(fs.readFileSync(path.join(outDir, 'review.json'), 'utf8')).failed.length;
  assert.equal(r.status, failed ? 1 : 0, `${shell} -c ${script}: ${failed} unreadable\n${r.stderr}`);
  return failed ? 1 : 0;
}

const comparable = (file: string) => {
  const d = JSON.parse(fs.readFileSync(file, 'utf8'));
  delete d.shard;
  delete d.shards;
  return d;
};

let whole: ReturnType<typeof comparable>;
function wholeRun() {
  if (!whole) {
    const out = path.join(work, 'whole');
    const r = spawnSync(process.execPath, [CLI, 'predict', dataset, '--model', MODEL, '--out', out], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 1, `zz-broken.png is unreadable: exit code 1\n${r.stderr}`);
    whole = comparable(path.join(out, 'review.json'));
    assert.equal(whole.failed.length, 1);
    assert.ok(whole.unmatched.length === 1 && whole.results.length === 11);
  }
  return whole;
}

test('the Kubernetes Indexed Job example: every JOB_COMPLETION_INDEX, then the merge, equals one whole-folder run', { skip }, () => {
  const yaml = block('k8s-job');
  const completions = Number(/completions:\s*(\d+)/.exec(yaml)![1]);
  assert.ok(/completionMode:\s*Indexed/.test(yaml));
  // The container's env as the Job gives it, then the dataset paths of this test.
  const env: Record<string, string> = {};
  for (const m of yaml.matchAll(/- name: (\w+)\n\s+value: "?([^"\n]*)"?/g)) env[m[1]] = m[2];
  assert.equal(Number(env.SHARDS), completions, 'SHARDS equals completions in the example');
  const args = /args:\n\s+- \|\n((?:\s{14}.*\n?)+)/.exec(yaml);
  assert.ok(args, 'the container runs a shell script');
  const script = args[1].replace(/^\s{14}/gm, '');
  assert.match(script, /--shard "\$JOB_COMPLETION_INDEX\/\$SHARDS"/);
  const results = path.join(work, 'k8s-results');
  const paths = { DATASET: dataset, MODEL, RESULTS: results };
  let failedShards = 0;
  for (let k = 0; k < completions; k++) failedShards += shard('/bin/sh', script, { ...env, ...paths, JOB_COMPLETION_INDEX: String(k) }, path.join(results, `shard-${k}`));
  assert.equal(failedShards, 1, 'exactly the shard holding zz-broken.png exits 1');
  assert.equal(fs.readdirSync(results).filter((d) => d.startsWith('shard-')).length, completions);
  sh('/bin/sh', block('merge'), paths);
  assert.deepEqual(comparable(path.join(results, 'merged', 'review.json')), wholeRun());
});

test('the Slurm job array example: every SLURM_ARRAY_TASK_ID, then the merge, equals one whole-folder run', { skip }, () => {
  const script = block('slurm-array');
  const [, lo, hi] = /#SBATCH --array=(\d+)-(\d+)/.exec(script)!;
  const count = Number(hi) - Number(lo) + 1;
  const results = path.join(work, 'slurm-results');
  const paths = { DATASET: dataset, MODEL, RESULTS: results };
  for (let k = Number(lo); k <= Number(hi); k++) {
    shard('/bin/bash', script, { ...paths, SLURM_ARRAY_TASK_ID: String(k), SLURM_ARRAY_TASK_COUNT: String(count) }, path.join(results, `shard-${k}`));
  }
  sh('/bin/sh', block('merge'), paths);
  const merged = comparable(path.join(results, 'merged', 'review.json'));
  assert.deepEqual(merged, wholeRun());
  assert.equal(JSON.parse(fs.readFileSync(path.join(results, 'merged', 'review.json'), 'utf8')).shards.length, count);
});
