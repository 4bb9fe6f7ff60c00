// Static shape inference: every node's output shape from the input shape and the ops, no
// compute (the compiled graphs and the rules read these shapes). shapeOf is also what names
// the layer that fails when a model does not fit its input (load.ts).
import { GraphNode, resolvePadding, type Graph } from './graph';

/** One node's output shape (no batch) from its inputs' shapes, as the forward computes it. */
export function shapeOf(n: GraphNode, ins: number[][], inputShape: number[]): number[] {
  const op = n.op;
  const x = ins[0];
  const out = (size: number, k: number, s: number, d: number, p0: number, p1: number) => Math.floor((size + p0 + p1 - ((k - 1) * d + 1)) / s) + 1;
  switch (op.kind) {
    case 'input':
      return [...inputShape];
    case 'conv':
    case 'depthwise': {
      const [kh, kw, ci, co] = op.weight.shape;
      const want = op.kind === 'conv' ? ci * op.groups : ci;
      if (x.length !== 3 || x[2] !== want) throw new Error(`${op.kind} expects an h x w x ${want} input, got [${x.join(', ')}]`);
      const p = resolvePadding(op.padding, x[0], x[1], [kh, kw], op.strides, op.dilations);
      return [out(x[0], kh, op.strides[0], op.dilations[0], p[0], p[1]), out(x[1], kw, op.strides[1], op.dilations[1], p[2], p[3]), op.kind === 'depthwise' ? ci * co : co];
    }
    case 'maxpool':
    case 'avgpool': {
      const p = resolvePadding(op.padding, x[0], x[1], op.size, op.strides);
      return [out(x[0], op.size[0], op.strides[0], 1, p[0], p[1]), out(x[1], op.size[1], op.strides[1], 1, p[2], p[3]), x[2]];
    }
    case 'dense': {
      const size = x.reduce((a, b) => a * b, 1);
      if (size !== op.weight.shape[0]) throw new Error(`dense expects ${op.weight.shape[0]} inputs, got [${x.join(', ')}]`);
      return [op.weight.shape[1]];
    }
    case 'batchnorm':
    case 'activation':
    case 'identity':
      return [...x];
    case 'globalavgpool':
      return op.keepDims ? [1, 1, x[2]] : [x[2]];
    case 'pad':
      return [x[0] + op.pads[0] + op.pads[1], x[1] + op.pads[2] + op.pads[3], x[2]];
    case 'crop':
      return [x[0] - op.crops[0] - op.crops[1], x[1] - op.crops[2] - op.crops[3], x[2]];
    case 'add':
    case 'mul': {
      const rank = Math.max(...ins.map((s) => s.length));
      return Array.from({ length: rank }, (_, i) => Math.max(...ins.map((s) => s[i - (rank - s.length)] ?? 1)));
    }
    case 'concat': {
      const a = (op.axis < 0 ? op.axis + x.length + 1 : op.axis) - 1;
      return x.map((v, i) => (i === a ? ins.reduce((t, s) => t + s[i], 0) : v));
    }
    case 'flatten':
      return [x.reduce((a, b) => a * b, 1)];
    case 'reshape': {
      const total = x.reduce((a, b) => a * b, 1);
      const known = op.shape.filter((v) => v !== -1).reduce((a, b) => a * b, 1);
      return op.shape.map((v) => (v === -1 ? total / known : v));
    }
  }
}

/** Fills every node's outputShape from the input shape and the ops (no compute). */
export function inferShapes(g: Graph): void {
  const shapes = new Map<string, number[]>();
  for (const n of g.nodes) {
    const s = shapeOf(n, n.inputs.map((i) => shapes.get(i)!), g.inputShape);
    if (s.some((v) => !Number.isInteger(v) || v <= 0)) {
      throw new Error(`Layer '${n.name}' (${n.className}) would have an empty or invalid output shape [${s.join(', ')}] for the input ${g.inputShape.join('x')}.`);
    }
    shapes.set(n.name, s);
    n.outputShape = s;
  }
}
