// Runs the built `fgcam` (dist/cli.js, made by `node esbuild.mjs`) as a user would, and the
// paths of the bundled demo model and samples the CLI tests explain.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

function repoRoot(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const pj = path.join(d, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'fgcam-explorer') return d;
  }
  return process.cwd();
}
export const ROOT = repoRoot();
const CLI = [path.join(ROOT, 'dist', 'cli.js'), path.join(ROOT, 'out', 'src', 'cli', 'main.js')].find((f) => fs.existsSync(f));
export const MODEL = path.join(ROOT, 'models', 'fashion-vgg', 'model.json');
export const LABELS = path.join(ROOT, 'models', 'fashion-vgg', 'labels.json');
export const SAMPLES = path.join(ROOT, 'samples');
export const noModel = fs.existsSync(MODEL) ? false : 'models/fashion-vgg/model.json is missing';

export function fgcam(...args: string[]): { code: number | null; out: string; err: string } {
  return fgcamWith({}, ...args);
}

/** fgcam with extra environment variables. */
export function fgcamWith(env: NodeJS.ProcessEnv, ...args: string[]): { code: number | null; out: string; err: string } {
  assert.ok(CLI, 'the CLI is not built: run `node esbuild.mjs` (dist/cli.js)');
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
