// Slow: memory of full-size explanations. This file runs itself as a child process
// (FGCAM_MEMORY_CHILD=1), so the child's peak RSS is the engine's alone: it loads the seeded
// VGG16-BN ONNX export (528 MB of weights), explains 100 different 224x224 inputs with FG-CAM
// (Grad-CAM base, every layer's map, denoised every other time) and reports its RSS after each.
import { it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ensureOnnxFixtures, ONNX_CACHE } from '../helpers/onnx-fixtures';
import { explain, loadModel } from '../../src/engine/explain';
import { initRuntime, runtimeLabel } from '../../src/engine/runtime';

const RUNS = 100;
const PEAK_LIMIT_MB = 2048;
/** Growth allowed between the median RSS of runs 10-19 and of the last ten. */
const GROWTH_LIMIT_MB = 64;

async function child(): Promise<void> {
  await initRuntime('auto');
  const g = await loadModel(path.join(ONNX_CACHE, 'vgg16_bn.onnx'));
  const [h, w, c] = g.inputShape;
  const x = new Float32Array(h * w * c);
  const rss: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.013 + k) * 2;
    const e = await explain(g, x, { base: 'gradcam', denoise: k % 2 === 1 });
    if (!e.maps.input) throw new Error('no input map');
    rss.push(process.memoryUsage().rss / 2 ** 20);
  }
  const peak = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ runtime: runtimeLabel(), peak, rss })}\n`);
}

if (process.env.FGCAM_MEMORY_CHILD) {
  child().catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  });
} else {
  it(`VGG16-BN at 224: peak RSS under ${PEAK_LIMIT_MB} MB, flat over ${RUNS} explanations`, { timeout: 30 * 60_000 }, (t) => {
    const skip = ensureOnnxFixtures(['vgg16_bn']);
    if (skip) return t.skip(skip);
    const r = spawnSync(process.execPath, [__filename], { env: { ...process.env, FGCAM_MEMORY_CHILD: '1' }, encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    assert.ok(r.status === 0 && line.startsWith('{'), `child failed (${r.status}): ${r.stderr.slice(-2000)}`);
    const { runtime, peak, rss } = JSON.parse(line) as { runtime: string; peak: number; rss: number[] };
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
    const early = median(rss.slice(10, 20));
    const late = median(rss.slice(-10));
    console.log(`${runtime}: peak RSS ${peak.toFixed(0)} MB; median RSS runs 10-19 ${early.toFixed(0)} MB, last 10 ${late.toFixed(0)} MB`);
    assert.equal(rss.length, RUNS);
    assert.ok(peak < PEAK_LIMIT_MB, `peak RSS ${peak.toFixed(0)} MB >= ${PEAK_LIMIT_MB} MB`);
    assert.ok(late - early < GROWTH_LIMIT_MB, `RSS grew from ${early.toFixed(0)} MB to ${late.toFixed(0)} MB over ${RUNS} explanations`);
  });
}
