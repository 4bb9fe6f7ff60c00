// FG-CAM beyond VGG, whole networks: real pretrained weights (nsfwjs's Keras-converted
// MobileNetV2 and InceptionV3, test-only devDependency), the seeded torchvision ONNX exports
// ($FGCAM_CACHE/onnx, made by tools/make_onnx_fixtures.py; skipped when absent) and seeded graphs
// built in TS (test/helpers/arch-graphs.ts, always run). For each: the layer list, the
// auto-detected CAM layer, a Grad-CAM walk to the input with finite, non-constant maps, the
// explain time at the input, and conservation at every cut of the graph: measured rule by rule
// on the tfjs reference (test/reference/), then checked on the product's ONNX Runtime walk.
//
//   node test/build.mjs test/slow && node --test out/test/slow/architectures.test.js
//
// FGCAM_ONNX_SIZE (default 112) sets the input size the ONNX models are loaded at (224 = as exported).
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ensureOnnxFixtures, ONNX_CACHE } from '../helpers/onnx-fixtures';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../reference/tfjs';
import { setup, sum } from '../helpers/backend';
import { randomInput, rng } from '../helpers/graphs';
import { extractNsfwjsModel, nsfwjsModelsDir } from '../helpers/nsfwjs-models';
import { ancestorsOf, biasFree, cutsOf, densenetLike, mobilenetV2Like, resnetLike } from '../helpers/arch-graphs';
import { detectCamLayer, disposeModel, explain, INPUT, listLayers, loadModel } from '../../src/engine/explain';
import { releasePrograms } from '../../src/engine/runtime';
import { disposeForward, runForward } from '../reference/forward';
import { components } from '../reference/components';
import { walk } from '../reference/walk';
import { RULES, Rule, RuleInput } from '../reference/rules';
import { convForward, explicitPad, kernelSize, padsOf, tensorOf } from '../reference/forward';
import type { Graph, OpKind } from '../../src/engine/model/graph';
import type { LayerMap } from '../../src/engine/types';

let backend = '';
before(async () => {
  backend = await setup();
});

const ONNX_DIR = ONNX_CACHE;
const ONNX_SIZE = Number(process.env.FGCAM_ONNX_SIZE ?? 112);

interface Arch {
  name: string;
  /** Loads (or builds) the graph. */
  graph: () => Promise<Graph>;
  cam: string;
  /** Spatial layers (input included) expected in listLayers. */
  spatial: number;
  /** Preprocessed input. */
  input: (g: Graph) => Float32Array;
  /** Bias-free, nothing may be dropped at all (no linear residual joins, positive BN scales). */
  lossless?: boolean;
  skip?: string | false;
}

/** A smooth image-like input in [lo, hi] (real-weight models see something like a photo). */
function smoothInput(g: Graph, lo: number, hi: number): Float32Array {
  const [h, w, c] = g.inputShape;
  const r = rng(5);
  const ph = Array.from({ length: 6 }, () => r() * 6.28);
  const out = new Float32Array(h * w * c);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) {
    const v = 0.5 + 0.25 * Math.sin((i / h) * 7 + ph[k]) + 0.25 * Math.cos((j / w) * 5 + ph[k + 3]) * Math.sin((i * j) / (h * w) * 9);
    out[(i * w + j) * c + k] = lo + (hi - lo) * Math.min(1, Math.max(0, v));
  }
  return out;
}

const noNsfwjs = nsfwjsModelsDir() ? false : 'nsfwjs is not installed';
const onnx = (file: string) => path.join(ONNX_DIR, file);
// Made here when missing (and python3-torch is there), so a fresh machine runs them too.
const onnxMissing = ensureOnnxFixtures(['resnet50', 'densenet121', 'mobilenet_v2']);
const noOnnx = (file: string) => (fs.existsSync(onnx(file)) ? false : onnxMissing || `${onnx(file)} is absent`);

const ARCHS: Arch[] = [
  // Real weights. nsfwjs preprocesses x/255 (0..1).
  { name: 'MobileNetV2 (nsfwjs, real weights, 224)', graph: () => loadModel(extractNsfwjsModel('mobilenet_v2')), cam: 'out_relu', spatial: 156, input: (g) => smoothInput(g, 0, 1), skip: noNsfwjs },
  { name: 'InceptionV3 (nsfwjs, real weights, 299)', graph: () => loadModel(extractNsfwjsModel('inception_v3')), cam: 'mixed10', spatial: 312, input: (g) => smoothInput(g, 0, 1), skip: noNsfwjs },
  // Seeded torchvision exports (BN statistics randomised, folded into the convs by the export).
  { name: `ResNet-50 (torchvision ONNX, seeded, ${ONNX_SIZE})`, graph: () => loadModel(onnx('resnet50.onnx'), { inputSize: [ONNX_SIZE, ONNX_SIZE] }), cam: '/layer4/layer4.2/relu_2/Relu', lossless: true, spatial: 121, input: (g) => randomInput(g, 3), skip: noOnnx('resnet50.onnx') },
  { name: `DenseNet-121 (torchvision ONNX, seeded, ${ONNX_SIZE})`, graph: () => loadModel(onnx('densenet121.onnx'), { inputSize: [ONNX_SIZE, ONNX_SIZE] }), cam: '/Relu', lossless: true, spatial: 371, input: (g) => randomInput(g, 3), skip: noOnnx('densenet121.onnx') },
  { name: `MobileNetV2 (torchvision ONNX, seeded, ${ONNX_SIZE})`, graph: () => loadModel(onnx('mobilenet_v2.onnx'), { inputSize: [ONNX_SIZE, ONNX_SIZE] }), cam: '/features/features.18/features.18.2/Clip', spatial: 99, input: (g) => randomInput(g, 3), skip: noOnnx('mobilenet_v2.onnx') },
  // Seeded graphs built in TS (Keras layouts: ZeroPadding layers, TF 'same' padding).
  { name: 'ResNet-style (TS, seeded, 64)', graph: async () => resnetLike(), cam: 'stage3_block2_out', lossless: true, spatial: 72, input: (g) => randomInput(g, 3) },
  { name: 'DenseNet-style (TS, seeded, 64)', graph: async () => densenetLike(), cam: 'relu', lossless: true, spatial: 80, input: (g) => randomInput(g, 3) },
  { name: 'MobileNetV2-style (TS, seeded, 64)', graph: async () => mobilenetV2Like(), cam: 'out_relu', spatial: 67, input: (g) => randomInput(g, 3) },
];

const fmt = (v: number) => (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(3));

function assertMapsOk(maps: Record<string, LayerMap>, cam: string) {
  for (const [layer, m] of Object.entries(maps)) {
    assert.ok(m.raw.every(Number.isFinite), `${layer}: map has NaN/Inf`);
    if (m.raw.length > 1) {
      const lo = Math.min(...m.raw);
      const hi = Math.max(...m.raw);
      assert.ok(hi > lo, `${layer}: map is constant (${lo})`);
    }
  }
  assert.ok(maps[INPUT] && maps[cam], 'maps at the input and at the CAM layer');
}

/**
 * Relevance at a node's output that the method drops by definition: the units whose rule
 * denominator is 0 (R ⊘ 0 = 0). Computed here from the forward activations, independently of
 * the rules: conv z+ Z = conv(X⁺,W⁺) + conv(X⁻,W⁻), zβ Z = conv(X,W) − conv(L,W⁺) − conv(H,W⁻),
 * add Σ xᵢ⁺ (Σ xᵢ⁻ where no addend is positive: ours), pools: the window max / sum of X⁺.
 */
function deadMass({ node, rOut, ins, bounds }: RuleInput): number {
  return tf.tidy(() => {
    const op = node.op;
    const x = ins[0] as tf.Tensor4D;
    const pos = (t: tf.Tensor) => tf.relu(t);
    const neg = (t: tf.Tensor) => tf.neg(tf.relu(tf.neg(t)));
    let z: tf.Tensor;
    if (op.kind === 'conv' || op.kind === 'depthwise') {
      const pads = padsOf(op, x, kernelSize(op));
      const conv = (a: tf.Tensor, w: tf.Tensor) =>
        op.kind === 'depthwise'
          ? tf.depthwiseConv2d(a as tf.Tensor4D, w as tf.Tensor4D, op.strides, explicitPad(pads), 'NHWC', op.dilations)
          : convForward(a as tf.Tensor4D, w as tf.Tensor4D, op.strides, op.dilations, pads, op.groups);
      // bounds (L, H) are padded as the conv's own input is (through ZeroPadding layers)
      z = bounds
        ? tf.sub(tf.sub(conv(x, tensorOf(op.weight)), conv(bounds.low, pos(tensorOf(op.weight)))), conv(bounds.high, neg(tensorOf(op.weight))))
        : tf.add(conv(pos(x), pos(tensorOf(op.weight))), conv(neg(x), neg(tensorOf(op.weight))));
    } else if (op.kind === 'add') {
      const sp = ins.map(pos).reduce((a, b) => tf.add(a, b));
      z = tf.where(tf.greater(sp, 0), sp, ins.map(neg).reduce((a, b) => tf.add(a, b)));
    } else if (op.kind === 'maxpool' || op.kind === 'avgpool') {
      const p = padsOf(op, x, op.size);
      z = tf.avgPool(tf.pad(pos(x), explicitPad(p)) as tf.Tensor4D, op.size, op.strides, 'valid');
    } else {
      return 0;
    }
    return tf.sum(tf.where(tf.equal(z, 0), rOut, tf.zerosLike(rOut))).dataSync()[0];
  });
}

interface Drop {
  node: string;
  kind: OpKind;
  /** sum(R_out) − Σ sum(R_in) at the node. */
  lost: number;
  /** What the method drops there by definition. */
  dead: number;
}

/**
 * Grad-CAM components at camLayer and the walk down, with every rule wrapped to record how much
 * relevance it lost (RULES is the engine's own table; restored afterwards).
 */
function instrumentedWalk(g: Graph, xData: Float32Array, camLayer: string, c: number) {
  const x = tf.tensor4d(xData, [1, ...g.inputShape]);
  const fwd = runForward(g, x);
  const e = components('gradcam', { g, acts: fwd.acts, x, c, scoreBatch: 8 }, camLayer);
  const total = sum(e.dataSync());
  const drops = new Map<string, Drop>();
  const saved = { ...RULES };
  for (const kind of Object.keys(RULES) as OpKind[]) {
    const rule: Rule = saved[kind];
    RULES[kind] = (r) => {
      const rIns = rule(r);
      const lost = sum(r.rOut.dataSync()) - rIns.reduce((a, t) => a + (t ? sum(t.dataSync()) : 0), 0);
      drops.set(r.node.name, { node: r.node.name, kind, lost, dead: deadMass(r) });
      return rIns;
    };
  }
  const t0 = performance.now();
  let maps: Record<string, LayerMap>;
  try {
    maps = walk(g, fwd.acts, camLayer, e, x);
  } finally {
    Object.assign(RULES, saved);
    e.dispose();
    disposeForward(fwd, [x]);
    x.dispose();
  }
  return { total, maps, drops, ms: performance.now() - t0 };
}

describe(`architectures beyond VGG (backend: ${process.env.FGCAM_BACKEND ?? 'auto'})`, () => {
  for (const a of ARCHS) {
    it(a.name, { skip: a.skip || false }, async (t) => {
      const note = (s: string) => {
        t.diagnostic(s);
        console.log(`[${a.name}] ${s}`);
      };
      const g = await a.graph();
      try {
        // 1. The layer picker's list: every layer in model order; the spatial ones are pickable.
        const layers = listLayers(g);
        assert.deepEqual(layers.map((l) => l.name), g.nodes.map((n, i) => (i === 0 ? INPUT : n.name)), 'model order');
        const spatial = layers.filter((l) => l.spatial);
        assert.equal(spatial[0].name, INPUT);
        assert.equal(spatial.length, a.spatial, 'spatial layer count');
        // 2. The CAM layer: the last spatial map (more than one position) before global pooling.
        const cam = detectCamLayer(g);
        assert.equal(cam, a.cam);
        const camShape = layers.find((l) => l.name === cam)!.shape;
        note(`${backend}; input ${g.inputShape.join('x')}; ${layers.length} layers, ${spatial.length} spatial; CAM layer ${cam} [${camShape.join('x')}]`);

        // 3. explain() with Grad-CAM, walked to the input: timing and sane maps.
        const x = a.input(g);
        const t0 = performance.now();
        const ex = await explain(g, x, { base: 'gradcam', denoise: false });
        const ms = performance.now() - t0;
        assert.equal(ex.camLayer, cam);
        const below = ancestorsOf(g, cam);
        assert.deepEqual(Object.keys(ex.maps).sort(), spatial.filter((l, i) => below.has(g.nodes[layers.indexOf(l)].name) || i === 0).map((l) => l.name).sort(), 'a map at every spatial layer below the CAM layer');
        assertMapsOk(ex.maps, cam);
        const [h, w] = g.inputShape;
        assert.equal(ex.maps[INPUT].raw.length, h * w);
        note(`explain to the input: ${ms.toFixed(0)} ms (${Object.entries(ex.timings).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}); class ${ex.classIndex} p=${ex.top[0].prob.toFixed(3)}`);
        // With biases, relevance is not conserved exactly (see below): report how much arrives.
        const eTotal = sum(ex.maps[cam].raw);
        note(`with biases: sum(input map) / sum(components) = ${fmt(sum(ex.maps[INPUT].raw) / eTotal)}`);

        // 4. Conservation: sum(map) = sum(components) at every cut, on a bias-free copy.
        //    Why only cuts: at a layer that is not a cut (one branch of a residual block, one
        //    input of a concatenation), only part of the relevance passes through it, so its sum
        //    is a share of the total, not the total.
        //    Why bias-free: no rule uses a bias, so a unit's relevance is shared out in full among
        //    its inputs' contributions, *if* its rule's denominator is not 0 (R ⊘ 0 = 0 drops it).
        //    With biases a unit can be switched on by its bias (or a BN offset) alone: Z = 0 while
        //    the output is positive, and the relevance it received is lost. Without biases, after
        //    a ReLU a positive output implies Z > 0. What can still be dropped bias-free, by the
        //    method's own definition: a residual join where every addend is exactly 0 (where all
        //    are negative, our add rule splits by the negative parts), and units fed only
        //    through a negative BN scale. So the exact check is: at every cut,
        //    sum(map) = sum(components) − (relevance the method dropped above the cut), every drop
        //    equals the relevance on zero-denominator units (computed independently), and for
        //    ResNet/DenseNet shapes nothing is dropped at all.
        const free = biasFree(g);
        try {
          const cutNodes = cutsOf(free.graph, cam);
          const idx = new Map(free.graph.nodes.map((n, i) => [n.name, i]));
          const { total, maps, drops, ms: walkMs } = instrumentedWalk(free.graph, x, cam, ex.classIndex);
          assert.ok(total !== 0 && Number.isFinite(total), `components sum to ${total}`);
          assertMapsOk(maps, cam);
          const tol = 1e-4 * Math.abs(total);
          for (const d of drops.values()) assert.ok(Math.abs(d.lost - d.dead) <= tol, `${d.node} (${d.kind}) lost ${d.lost}, the method drops ${d.dead}`);
          let worst = 0;
          let worstAt = '';
          for (const node of cutNodes) {
            const layer = node === g.nodes[0].name ? INPUT : node;
            assert.ok(maps[layer], `map at cut ${layer}`);
            const droppedAbove = [...drops.values()].filter((d) => idx.get(d.node)! > idx.get(node)!).reduce((a, d) => a + d.dead, 0);
            const err = Math.abs(sum(maps[layer].raw) - (total - droppedAbove)) / Math.abs(total);
            if (err > worst) [worst, worstAt] = [err, layer];
          }
          const byKind = new Map<string, number>();
          for (const d of drops.values()) if (Math.abs(d.dead) > 1e-7 * Math.abs(total)) byKind.set(d.kind, (byKind.get(d.kind) ?? 0) + d.dead / total);
          const dropped = [...byKind].map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none';
          note(`bias-free: ${cutNodes.length} cuts checked (of ${Object.keys(maps).length} maps); sum(components) = ${fmt(total)}; dropped by definition (fraction of total): ${dropped}; worst relative error at a cut ${fmt(worst)}${worstAt ? ` (${worstAt})` : ''}; sum(input)/total = ${fmt(sum(maps[INPUT].raw) / total)}; walk ${walkMs.toFixed(0)} ms`);
          assert.ok(worst < 1e-4, `conservation: relative error ${worst} at ${worstAt}`);
          if (a.lossless) assert.equal(dropped, 'none', 'a ResNet/DenseNet shape without biases drops nothing');

          // 5. The same conservation for the product's walk (compiled, on ONNX Runtime) on the same
          //    bias-free graph: at every cut sum(map) = sum(components) − what the method dropped
          //    above it (the drops measured on the reference walk just above).
          const ours = await explain(free.graph, x, { base: 'gradcam', denoise: false, classIndex: ex.classIndex });
          const oursTotal = sum(ours.maps[cam].raw);
          assert.ok(Math.abs(oursTotal - total) <= 1e-4 * Math.abs(total), `ONNX Runtime components sum to ${oursTotal}, the reference's to ${total}`);
          let oursWorst = 0;
          let oursWorstAt = '';
          for (const node of cutNodes) {
            const layer = node === g.nodes[0].name ? INPUT : node;
            assert.ok(ours.maps[layer], `ONNX Runtime map at cut ${layer}`);
            const droppedAbove = [...drops.values()].filter((d) => idx.get(d.node)! > idx.get(node)!).reduce((a, d) => a + d.dead, 0);
            const err = Math.abs(sum(ours.maps[layer].raw) - (oursTotal - droppedAbove)) / Math.abs(oursTotal);
            if (err > oursWorst) [oursWorst, oursWorstAt] = [err, layer];
          }
          note(`bias-free on ONNX Runtime: worst relative error at a cut ${fmt(oursWorst)}${oursWorstAt ? ` (${oursWorstAt})` : ''}`);
          assert.ok(oursWorst < 1e-4, `ONNX Runtime conservation: relative error ${oursWorst} at ${oursWorstAt}`);
        } finally {
          await releasePrograms(free.graph);
          free.dispose();
        }
      } finally {
        disposeModel(g);
      }
    });
  }
});
