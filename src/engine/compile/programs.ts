// The graphs the engine runs, each built from the IR plus a request:
// - predict: logits and softmax for a batch (predictions, Score-CAM, faithfulness curves);
// - gradients: one input; the logits, the chosen class, and the activation and ∂y_c/∂A at the
//   requested layers (the class is an input: -1 picks the arg-max inside the graph);
// - walk: relevance placed at a layer (or LRP's y_c at the logit) carried down by a composite,
//   with the channel-summed map of every spatial layer on the way.
// Tensors crossing the boundary are NHWC; inside they are NCHW.
import type { Graph, GraphNode } from '../model/graph';
import { onnx, OnnxBuilder, type Compiled } from './onnx-builder';
import { emitForward, Forward, fromFlat, innerShape, isSpatialShape } from './forward';
import { Composite, reversePass, RuleError } from './reverse';
import { GRADIENT } from '../rules/gradient';
import { safeDiv } from '../rules/tensors';
import { emitChannelSum, emitComponents } from '../rules/cam-weights';

const INT64 = onnx.TensorProto.DataType.INT64;

function inputDims(g: Graph, batch: number | string): Array<number | string> {
  return [batch, ...g.inputShape];
}

function classCount(g: Graph): number {
  const out = g.nodes.find((n) => n.name === g.output)!;
  return out.outputShape.reduce((a, b) => a * b, 1);
}

function toNhwc(b: OnnxBuilder, t: string, node: GraphNode): string {
  return isSpatialShape(node.outputShape) ? b.op('Transpose', [t], { perm: [0, 2, 3, 1] }) : t;
}

function fromNhwc(b: OnnxBuilder, t: string, node: GraphNode): string {
  return isSpatialShape(node.outputShape) ? b.op('Transpose', [t], { perm: [0, 3, 1, 2] }) : t;
}

export function buildPredict(g: Graph): Compiled {
  const b = new OnnxBuilder();
  const f = emitForward(b, g, b.input('x', inputDims(g, 'N')));
  b.output('logits', f.logits);
  b.output('probs', b.op('Softmax', [f.logits], { axis: -1 }));
  return b.compile();
}

/**
 * Score-CAM's masked forwards for a batch of channels: inputs `x` ([1, h, w, c], the model
 * input), `a` ([1, h', w', K], the activation at the CAM layer), `chans` (int64 [B]) and `cls`
 * (int64 [1]); output `p` ([B, 1]), the class's softmax for x ⊙ M_k, M_k = A_k upsampled
 * bilinearly (half-pixel centres) to h x w and min-max normalised (0 where constant). The masks
 * are made inside the graph: a batch of 16 VGG-sized inputs is 10 MB a run.
 */
export function buildScoreCam(g: Graph, camShape: number[]): Compiled {
  const b = new OnnxBuilder();
  const [H, W] = g.inputShape;
  const x = b.op('Transpose', [b.input('x', inputDims(g, 1))], { perm: [0, 3, 1, 2] });
  const a = b.op('Transpose', [b.input('a', [1, ...camShape])], { perm: [0, 3, 1, 2] });
  const chans = b.input('chans', ['B'], INT64);
  const picked = b.op('Gather', [a, chans], { axis: 1 });
  const maps = b.op('Transpose', [picked], { perm: [1, 0, 2, 3] });
  const sizes = b.op('Concat', [b.op('Slice', [b.op('Shape', [maps]), b.constI([0]), b.constI([1])]), b.constI([1, H, W])], { axis: 0 });
  const up = b.op('Resize', [maps, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
  const lo = b.op('ReduceMin', [up], { axes: [2, 3], keepdims: 1 });
  const hi = b.op('ReduceMax', [up], { axes: [2, 3], keepdims: 1 });
  const m = safeDiv(b, b.op('Sub', [up, lo]), b.op('Sub', [hi, lo]));
  const f = emitForward(b, g, b.op('Mul', [x, m]), true);
  const probs = b.op('Softmax', [f.logits], { axis: -1 });
  b.output('p', b.op('Gather', [probs, b.input('cls', [1], INT64)], { axis: 1 }));
  return b.compile();
}

/** Where a seed at the logits enters the reverse pass: the node and whether it is before its fused activation. */
function logitEntry(f: Forward): { node: GraphNode; atPre: boolean } {
  const out = f.byName.get(f.g.output)!;
  if (out.activation?.fn === 'softmax') return { node: out, atPre: out.op.kind !== 'activation' };
  return { node: out, atPre: false };
}

/** A [1, classes] seed at the logits, in the entry node's layout. */
function seedAt(f: Forward, seed: string): { start: Map<string, string>; atPre: Set<string>; index: number } {
  const { node, atPre } = logitEntry(f);
  let at = node;
  let pre = atPre;
  // A standalone final softmax: its input holds the logits.
  if (node.op.kind === 'activation' && node.activation?.fn === 'softmax') {
    at = f.byName.get(node.inputs[0])!;
    pre = false;
  }
  const shaped = at.outputShape.length === 1 ? seed : fromFlat(f.b, seed, at.outputShape);
  return { start: new Map([[at.name, shaped]]), atPre: pre ? new Set([at.name]) : new Set(), index: f.g.nodes.indexOf(at) };
}

/** The class (int64 [1]): the input `cls`, or the arg-max of the logits where it is negative. */
function chosenClass(b: OnnxBuilder, logits: string): string {
  const cls = b.input('cls', [1], INT64);
  const argmax = b.op('ArgMax', [logits], { axis: 1, keepdims: 0 });
  return b.op('Where', [b.op('Less', [cls, b.constI([0])]), argmax, cls]);
}

function oneHot(b: OnnxBuilder, cls: string, classes: number): string {
  return b.op('OneHot', [cls, b.constI([classes], []), b.constF([0, 1], [2])], { axis: -1 });
}

export interface GradientRequest {
  /** Layers whose activation is returned (NHWC). */
  layers: string[];
  /** Also ∂y_c/∂A at them. */
  gradients: boolean;
  /** Also the components of a gradient-based base CAM at them (`comp${i}`, NHWC; the base is the input `base`). */
  components?: boolean;
  /** Node outputs returned as they are inside the graph (`tap${i}`), for a walk program. */
  taps?: string[];
}

/** ∂y_c/∂A at `layers` (inner layout), by the gradient composite from a one-hot seed at the class. */
function gradientsAt(f: Forward, cls: string, layers: string[]): Map<string, string> {
  const { b, g } = f;
  const seed = seedAt(f, oneHot(b, cls, classCount(g)));
  const lowest = Math.min(...layers.map((l) => g.nodes.findIndex((n) => n.name === l)));
  const grads = new Map<string, string>();
  const wanted = new Set(layers);
  const rest = reversePass(f, GRADIENT, seed.start, seed.index, lowest, {
    atPre: seed.atPre,
    visit: (node, r) => {
      if (wanted.has(node.name)) grads.set(node.name, r);
    },
  });
  // A layer the logits do not depend on has a zero gradient.
  for (const l of layers) if (!grads.has(l)) grads.set(l, rest.get(l) ?? b.op('Mul', [f.out.get(l)!, b.scalar(0)]));
  return grads;
}

export function buildGradients(g: Graph, req: GradientRequest): Compiled {
  const b = new OnnxBuilder();
  const f = emitForward(b, g, b.input('x', inputDims(g, 1)));
  b.output('logits', f.logits);
  const cls = chosenClass(b, f.logits);
  b.output('class', cls, INT64);
  const byName = f.byName;
  req.layers.forEach((l, i) => b.output(`act${i}`, toNhwc(b, f.out.get(l)!, byName.get(l)!)));
  (req.taps ?? []).forEach((t, i) => b.output(`tap${i}`, f.out.get(t)!));
  if ((req.gradients || req.components) && req.layers.length) {
    const grads = gradientsAt(f, cls, req.layers);
    const baseIdx = req.components ? b.input('base', [1], INT64) : '';
    req.layers.forEach((l, i) => {
      const node = byName.get(l)!;
      if (req.gradients) b.output(`grad${i}`, toNhwc(b, grads.get(l)!, node));
      if (req.components) b.output(`comp${i}`, toNhwc(b, emitComponents(b, baseIdx, f.out.get(l)!, grads.get(l)!), node));
    });
  }
  return b.compile();
}

export interface WalkRequest {
  composite: Composite;
  camLayer: string;
  /** 'relevance': input `r` (NHWC) at camLayer; 'logit': y_c at the logit (LRP), class input `cls`. */
  start: 'relevance' | 'logit';
  /** Nodes whose map is an output (default: every spatial node from camLayer down). */
  wanted?: Set<string>;
}

export interface WalkProgram {
  compiled: Compiled;
  /** Output `map${i}` is the channel sum at layers[i] ([1, h, w]). */
  layers: string[];
  /** Inputs `tap${i}`: the forward's output of these nodes (inner layout), from a gradient program. */
  taps: string[];
  /** The node whose rule failed, with the reason (maps above it are still produced). */
  stopped?: { node: GraphNode; cause: Error };
}

/** Node outputs read from graph inputs, declared on first use: the walk reads only what its rules need. */
class Taps extends Map<string, string> {
  readonly order: string[] = [];
  constructor(private declare: (name: string) => string) {
    super();
  }
  get(name: string): string {
    if (!super.has(name)) {
      super.set(name, this.declare(name));
      this.order.push(name);
    }
    return super.get(name)!;
  }
}

/**
 * The activations a walk from the CAM layer needs, as inputs instead of a forward pass of its
 * own: the gradient program that ran just before returns them, so no layer is computed twice.
 */
function tappedForward(b: OnnxBuilder, g: Graph): Forward {
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const out: Taps = new Taps((name): string => b.input(`tap${out.order.length}`, innerShape(byName.get(name)!, 1)));
  const f = { b, g, byName, consts: new Map<string, string>(), out, pre: new Map<string, string>(), logits: '' } as unknown as Forward;
  Object.defineProperty(f, 'x', { get: () => out.get(g.nodes[0].name) });
  return f;
}

/**
 * Emits the reverse pass by `composite` from `start` (tensors at node outputs, placed at
 * node index `from`) down to the input, with the channel-summed map of every spatial node
 * at or below camIdx (`wanted` only) as outputs `map${i}`.
 */
function emitWalk(
  f: Forward,
  composite: Composite,
  camIdx: number,
  start: { start: Map<string, string>; index: number; atPre: Set<string> },
  wanted?: Set<string>,
): Pick<WalkProgram, 'layers' | 'stopped'> {
  const { b, g } = f;
  const layers: string[] = [];
  let stopped: WalkProgram['stopped'];
  try {
    reversePass(f, composite, start.start, start.index, 0, {
      atPre: start.atPre,
      visit: (node, r) => {
        if (g.nodes.indexOf(node) > camIdx || !isSpatialShape(node.outputShape) || (wanted && !wanted.has(node.name))) return;
        b.output(`map${layers.length}`, emitChannelSum(b, r));
        layers.push(node.name);
      },
    });
  } catch (e) {
    if (!(e instanceof RuleError)) throw e;
    stopped = { node: e.node, cause: e.cause };
  }
  if (layers.length === 0) b.output('map_none', b.op('Identity', [start.start.values().next().value!]));
  return { layers, stopped };
}

function camIndex(g: Graph, camLayer: string): number {
  const camIdx = g.nodes.findIndex((n) => n.name === camLayer);
  if (camIdx < 0) throw new Error(`No layer named "${camLayer}" in the model`);
  return camIdx;
}

export function buildWalk(g: Graph, req: WalkRequest): WalkProgram {
  const b = new OnnxBuilder();
  const camIdx = camIndex(g, req.camLayer);
  const f = req.start === 'relevance' ? tappedForward(b, g) : emitForward(b, g, b.input('x', inputDims(g, 1)));
  const cam = g.nodes[camIdx];
  let start: { start: Map<string, string>; index: number; atPre: Set<string> };
  if (req.start === 'relevance') {
    start = { start: new Map([[cam.name, fromNhwc(b, b.input('r', [1, ...cam.outputShape]), cam)]]), index: camIdx, atPre: new Set() };
  } else {
    start = seedAt(f, b.op('Mul', [oneHot(b, chosenClass(b, f.logits), classCount(g)), f.logits]));
  }
  const walked = emitWalk(f, req.composite, camIdx, start, req.wanted);
  return { compiled: b.compile(), ...walked, taps: f.out instanceof Taps ? f.out.order : [] };
}

export interface ExplainRequest {
  composite: Composite;
  camLayer: string;
  /** Walk maps wanted (default: every spatial node from camLayer down). */
  wanted?: Set<string>;
  /** Layers whose plain base CAM is returned (`base${i}`, [1, h, w]). */
  baseLayers: string[];
}

export interface ExplainProgram {
  compiled: Compiled;
  /** Output `map${i}` is the walk's channel sum at layers[i] (at the CAM layer: the components'). */
  layers: string[];
  stopped?: WalkProgram['stopped'];
}

/**
 * A whole explanation in one run: forward, ∂y_c/∂A, the base's components at the CAM layer,
 * and their walk down to the input. Nothing but the logits and the maps leaves the graph (a
 * walk fed from a separate run reads every activation it needs back in: VGG16-BN's are
 * 60 MB). Inputs `x`, `cls`, `base` (int64 [1], the gradient-based base, GRADIENT_BASES), and
 * `r` ([1, h, w, K] NHWC at the CAM layer) with `useR` (bool [1]): walk r instead of the graph's
 * components, for what JS computes between two runs (denoising, Score-CAM). One session serves
 * every base and class, so the model's kernels are held once.
 */
export function buildExplain(g: Graph, req: ExplainRequest): ExplainProgram {
  const b = new OnnxBuilder();
  const camIdx = camIndex(g, req.camLayer);
  const cam = g.nodes[camIdx];
  const f = emitForward(b, g, b.input('x', inputDims(g, 1)));
  b.output('logits', f.logits);
  const cls = chosenClass(b, f.logits);
  b.output('class', cls, INT64);
  const grads = gradientsAt(f, cls, [...new Set([req.camLayer, ...req.baseLayers])]);
  const baseIdx = b.input('base', [1], INT64);
  const comp = (l: string) => emitComponents(b, baseIdx, f.out.get(l)!, grads.get(l)!);
  const own = comp(req.camLayer);
  req.baseLayers.forEach((l, i) => b.output(`base${i}`, emitChannelSum(b, l === req.camLayer ? own : comp(l))));
  const given = fromNhwc(b, b.input('r', [1, ...cam.outputShape]), cam);
  const e = b.op('Where', [b.input('useR', [1], onnx.TensorProto.DataType.BOOL), given, own]);
  const walked = emitWalk(f, req.composite, camIdx, { start: new Map([[req.camLayer, e]]), index: camIdx, atPre: new Set() }, req.wanted);
  return { compiled: b.compile(), ...walked };
}
