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
  /** Node outputs returned as they are inside the graph (`tap${i}`), for a walk program. */
  taps?: string[];
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
  if (req.gradients && req.layers.length) {
    const seed = seedAt(f, oneHot(b, cls, classCount(g)));
    const lowest = Math.min(...req.layers.map((l) => g.nodes.findIndex((n) => n.name === l)));
    const grads = new Map<string, string>();
    const wanted = new Set(req.layers);
    const rest = reversePass(f, GRADIENT, seed.start, seed.index, lowest, {
      atPre: seed.atPre,
      visit: (node, r) => {
        if (wanted.has(node.name)) grads.set(node.name, r);
      },
    });
    req.layers.forEach((l, i) => {
      const node = byName.get(l)!;
      // A layer the logits do not depend on has a zero gradient.
      const r = grads.get(l) ?? rest.get(l) ?? b.op('Mul', [f.out.get(l)!, b.scalar(0)]);
      b.output(`grad${i}`, toNhwc(b, r, node));
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

export function buildWalk(g: Graph, req: WalkRequest): WalkProgram {
  const b = new OnnxBuilder();
  const camIdx = g.nodes.findIndex((n) => n.name === req.camLayer);
  if (camIdx < 0) throw new Error(`No layer named "${req.camLayer}" in the model`);
  const f = req.start === 'relevance' ? tappedForward(b, g) : emitForward(b, g, b.input('x', inputDims(g, 1)));
  const cam = g.nodes[camIdx];
  let start: Map<string, string>;
  let from = camIdx;
  let atPre = new Set<string>();
  if (req.start === 'relevance') {
    const s = cam.outputShape;
    start = new Map([[cam.name, fromNhwc(b, b.input('r', [1, ...s]), cam)]]);
  } else {
    const cls = chosenClass(b, f.logits);
    const seed = seedAt(f, b.op('Mul', [oneHot(b, cls, classCount(g)), f.logits]));
    ({ start, atPre } = seed);
    from = seed.index;
  }
  const layers: string[] = [];
  let stopped: WalkProgram['stopped'];
  try {
    reversePass(f, req.composite, start, from, 0, {
      atPre,
      visit: (node, r) => {
        if (g.nodes.indexOf(node) > camIdx || !isSpatialShape(node.outputShape) || (req.wanted && !req.wanted.has(node.name))) return;
        b.output(`map${layers.length}`, b.op('ReduceSum', [r, b.constI([1])], { keepdims: 0 }));
        layers.push(node.name);
      },
    });
  } catch (e) {
    if (!(e instanceof RuleError)) throw e;
    stopped = { node: e.node, cause: e.cause };
  }
  if (layers.length === 0) b.output('map_none', b.op('Identity', [start.values().next().value!]));
  return { compiled: b.compile(), layers, taps: f.out instanceof Taps ? f.out.order : [], stopped };
}
