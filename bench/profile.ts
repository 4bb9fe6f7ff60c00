// `--profile`: where a walk spends its time, per layer and per tfjs kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { Graph } from '../src/engine/model/graph';
import { disposeForward, runForward } from '../src/engine/model/forward';
import { components } from '../src/engine/cam/components';
import { detectCamLayer } from '../src/engine/explain';
import { RULES } from '../src/engine/fgcam/rules';
import { walk } from '../src/engine/fgcam/walk';

export async function profileWalk(g: Graph, x: tf.Tensor): Promise<string> {
  const fwd = runForward(g, x, true);
  const cam = detectCamLayer(g);
  const c = tf.tidy(() => tf.argMax(fwd.logits, 1).dataSync()[0]);
  const e = components('gradcam', { g, acts: fwd.acts, x, c, scoreBatch: 16 }, cam);
  const perNode: Array<[string, string, number]> = [];
  const saved = { ...RULES };
  for (const k of Object.keys(RULES) as Array<keyof typeof RULES>) {
    const f = saved[k];
    RULES[k] = (r) => {
      const t0 = performance.now();
      const out = f(r);
      perNode.push([r.node.name, k, performance.now() - t0]);
      return out;
    };
  }
  let wall = 0;
  let info: tf.ProfileInfo;
  try {
    info = await tf.profile(() => {
      const t0 = performance.now();
      walk(g, fwd.acts, cam, e, x);
      wall = performance.now() - t0;
    });
  } finally {
    Object.assign(RULES, saved);
    e.dispose();
    disposeForward(fwd, [x]);
  }
  const byKernel = new Map<string, { ms: number; n: number }>();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const v = byKernel.get(k.name) ?? { ms: 0, n: 0 };
    v.ms += ms;
    v.n++;
    byKernel.set(k.name, v);
  }
  const kernelMs = [...byKernel.values()].reduce((s, v) => s + v.ms, 0);
  const out = [`walk profile (profiled wall ${wall.toFixed(0)} ms, kernels ${kernelMs.toFixed(0)} ms):`, '  per layer (rule time, ms):'];
  for (const [name, kind, ms] of perNode.filter((p) => p[2] >= 1)) out.push(`    ${name.padEnd(24)} ${kind.padEnd(10)} ${ms.toFixed(0).padStart(6)}`);
  out.push('  per kernel (total ms, calls):');
  for (const [name, v] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) out.push(`    ${name.padEnd(24)} ${v.ms.toFixed(0).padStart(6)} ${String(v.n).padStart(5)}`);
  return out.join('\n');
}
