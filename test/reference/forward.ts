// Test-only: part of the independent tfjs reference the compiled ONNX graphs are checked against (see tfjs.ts).
// The forward pass over a Graph, on tfjs-core ops only (same code on every backend).
// Works for any batch size: Score-CAM runs its masked inputs in batches.
import { tf } from './tfjs';
import { Activation, Graph, GraphNode, Op, resolvePadding, Weight } from '../../src/engine/model/graph';
import { maxPoolFirstMax } from './window';

type Pads = [number, number, number, number];

export function explicitPad(p: Pads): [[number, number], [number, number], [number, number], [number, number]] {
  return [[0, 0], [p[0], p[1]], [p[2], p[3]], [0, 0]];
}

/** Explicit [top, bottom, left, right] padding of a window op applied to x. */
export function padsOf(op: Extract<Op, { padding: unknown }>, x: tf.Tensor, size: [number, number]): Pads {
  const dil = 'dilations' in op ? op.dilations : ([1, 1] as [number, number]);
  return resolvePadding(op.padding, x.shape[1]!, x.shape[2]!, size, op.strides, dil);
}

export function kernelSize(op: { weight: Weight }): [number, number] {
  return [op.weight.shape[0], op.weight.shape[1]];
}

/** The tfjs tensor of a weight, made once and kept until the graph is disposed. */
export function tensorOf<T extends tf.Tensor = tf.Tensor>(w: Weight): T {
  if (!w.cache) w.cache = tf.keep(tf.tensor(w.data, w.shape));
  return w.cache as T;
}

export function applyActivation(x: tf.Tensor, act: Activation | undefined): tf.Tensor {
  if (!act) return x;
  switch (act.fn) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'leakyrelu':
      return tf.leakyRelu(x, act.alpha);
    case 'elu':
      return act.alpha === 1 ? tf.elu(x) : tf.where(tf.greater(x, 0), x, tf.mul(act.alpha, tf.sub(tf.exp(x), 1)));
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'hardsigmoid':
      return tf.clipByValue(tf.add(tf.mul(x, act.alpha), act.beta), 0, 1);
    case 'hardswish':
      return tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6);
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'tanh':
      return tf.tanh(x);
    case 'softmax':
      return tf.softmax(x);
  }
}

/** A convolution (regular, grouped) with explicit padding; batch-agnostic. */
export function convForward(x: tf.Tensor4D, w: tf.Tensor4D, strides: [number, number], dilations: [number, number], pads: Pads, groups: number): tf.Tensor4D {
  if (groups === 1) return tf.conv2d(x, w, strides, explicitPad(pads), 'NHWC', dilations);
  const xs = tf.split(x, groups, 3);
  const ws = tf.split(w, groups, 3);
  return tf.concat(xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, ws[i] as tf.Tensor4D, strides, explicitPad(pads), 'NHWC', dilations)), 3) as tf.Tensor4D;
}

/** The node's op without its activation. */
export function applyOp(node: GraphNode, ins: tf.Tensor[]): tf.Tensor {
  const op = node.op;
  const x = ins[0];
  switch (op.kind) {
    case 'input':
    case 'activation':
    case 'identity':
      return x;
    case 'conv': {
      const y = convForward(x as tf.Tensor4D, tensorOf<tf.Tensor4D>(op.weight), op.strides, op.dilations, padsOf(op, x, kernelSize(op)), op.groups);
      return op.bias ? tf.add(y, tensorOf(op.bias)) : y;
    }
    case 'depthwise': {
      const pads = padsOf(op, x, kernelSize(op));
      const y = tf.depthwiseConv2d(x as tf.Tensor4D, tensorOf<tf.Tensor4D>(op.weight), op.strides, explicitPad(pads), 'NHWC', op.dilations);
      return op.bias ? tf.add(y, tensorOf(op.bias)) : y;
    }
    case 'dense': {
      const flat = x.rank === 2 ? x : tf.reshape(x, [x.shape[0], -1]);
      const y = tf.matMul(flat as tf.Tensor2D, tensorOf<tf.Tensor2D>(op.weight));
      return op.bias ? tf.add(y, tensorOf(op.bias)) : y;
    }
    case 'batchnorm':
      return tf.add(tf.mul(x, tensorOf(op.scale)), tensorOf(op.offset));
    case 'maxpool': {
      // Our own routing for the gradient: the first max of each window (PyTorch's
      // convention), where wasm's MaxPoolGrad drops non-positive windows.
      return maxPoolFirstMax(x as tf.Tensor4D, op.size, op.strides, padsOf(op, x, op.size));
    }
    case 'avgpool': {
      const pads = padsOf(op, x, op.size);
      if (op.padding === 'same' || (pads[0] === 0 && pads[1] === 0 && pads[2] === 0 && pads[3] === 0)) {
        return tf.avgPool(x as tf.Tensor4D, op.size, op.strides, op.padding === 'same' ? 'same' : 'valid');
      }
      // Explicit pads: zero-pad, then divide by the count of real pixels (count_include_pad = false).
      const sum = tf.mul(tf.avgPool(tf.pad(x, explicitPad(pads)) as tf.Tensor4D, op.size, op.strides, 'valid'), op.size[0] * op.size[1]);
      const ones = tf.pad(tf.onesLike(tf.slice(x, [0, 0, 0, 0], [1, -1, -1, 1])), explicitPad(pads));
      const count = tf.mul(tf.avgPool(ones as tf.Tensor4D, op.size, op.strides, 'valid'), op.size[0] * op.size[1]);
      return tf.div(sum, count);
    }
    case 'globalavgpool':
      return tf.mean(x, [1, 2], op.keepDims);
    case 'pad':
      return tf.pad(x, explicitPad(op.pads));
    case 'crop': {
      const [t, b, l, r] = op.crops;
      return tf.slice(x, [0, t, l, 0], [-1, x.shape[1]! - t - b, x.shape[2]! - l - r, -1]);
    }
    case 'add':
      return ins.slice(1).reduce((a, b) => tf.add(a, b), x);
    case 'mul':
      return ins.slice(1).reduce((a, b) => tf.mul(a, b), x);
    case 'concat':
      return tf.concat(ins, op.axis);
    case 'flatten':
      return tf.reshape(x, [x.shape[0], -1]);
    case 'reshape':
      return tf.reshape(x, [x.shape[0], ...op.shape]);
  }
}

export interface ForwardResult {
  /** Every node's output (what the rules read as their input activations). */
  acts: Map<string, tf.Tensor>;
  /** Pre-softmax scores, [batch, classes]. */
  logits: tf.Tensor2D;
}

/**
 * Runs the graph. `overrides` replaces node outputs (their ancestors are then not
 * needed, but are computed only if some other node reads them). Keeps every output
 * when `keep` is true, else disposes intermediates as soon as no reader is left.
 */
export function runForward(
  g: Graph,
  x: tf.Tensor,
  keep = true,
  overrides?: Map<string, tf.Tensor>,
  /** Added to node outputs (zeros): the gradient w.r.t. each is the gradient w.r.t. that output. */
  perturb?: Map<string, tf.Tensor>,
): ForwardResult {
  const acts = new Map<string, tf.Tensor>();
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const owned = (t: tf.Tensor) => t !== x && ![...(overrides?.values() ?? [])].includes(t);
  let logits: tf.Tensor | undefined;
  for (const n of g.nodes) {
    let y: tf.Tensor;
    const given = overrides?.get(n.name);
    if (given) y = given;
    else if (n.op.kind === 'input') y = x;
    else {
      const ins = n.inputs.map((i) => acts.get(i)!);
      // tidy: an op's temporaries (bias adds, folded BN) go; its output stays.
      const pre = tf.tidy(() => applyOp(n, ins));
      y = tf.tidy(() => applyActivation(pre, n.activation));
      // A final softmax (fused or standalone): the logits are what goes into it.
      if (n.name === g.output && n.activation?.fn === 'softmax') logits = pre;
      else if (pre !== y && !ins.includes(pre)) pre.dispose();
      if (!keep) {
        if (ins.includes(y)) y = tf.clone(y); // identity-like ops: own handle, inputs may go
        for (const i of n.inputs) {
          const left = readers.get(i)! - 1;
          readers.set(i, left);
          const t = acts.get(i)!;
          if (left === 0 && owned(t) && t !== logits) t.dispose();
        }
      }
    }
    const p = perturb?.get(n.name);
    if (p) y = tf.add(y, p);
    acts.set(n.name, y);
  }
  if (!logits) logits = acts.get(g.output)!;
  return { acts, logits: (logits.rank === 2 ? logits : tf.reshape(logits, [logits.shape[0], -1])) as tf.Tensor2D };
}

/** Disposes what runForward created (acts share handles, so dedupe), keeping `keepers`. */
export function disposeForward(res: ForwardResult, keepers: tf.Tensor[] = []): void {
  const seen = new Set<tf.Tensor>(keepers);
  for (const t of [...res.acts.values(), res.logits]) {
    if (!seen.has(t)) {
      seen.add(t);
      t.dispose();
    }
  }
}
