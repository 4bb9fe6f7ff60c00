// Small seeded graphs for engine tests, built directly as Graphs (no importer).
import { tf } from '../reference/tfjs';
import { weight, type Activation, type Graph, type GraphNode, type Op, type Padding, type Weight } from '../../src/engine/model/graph';
import { inferShapes } from '../../src/engine/model/shapes';

/** Deterministic uniform/normal numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(r: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  return out;
}

export function randTensor(r: () => number, shape: number[], scale = 1): tf.Tensor {
  return tf.tensor(randn(r, shape.reduce((a, b) => a * b, 1), scale), shape);
}

/** A seeded IR weight. */
export function randWeight(r: () => number, shape: number[], scale = 1): Weight {
  return weight(randn(r, shape.reduce((a, b) => a * b, 1), scale), shape);
}

/** An IR weight with a tensor's values. */
export function asWeight(t: tf.Tensor): Weight {
  return weight(Float32Array.from(t.dataSync()), t.shape.slice());
}

/** A tiny graph builder: add nodes by name; input is implicit. */
export class GraphBuilder {
  nodes: GraphNode[] = [];
  private r: () => number;
  /** Zero biases: activations then come from the weights alone (exact conservation). */
  noBias = false;
  constructor(public inputShape: [number, number, number], seed = 1) {
    this.r = rng(seed);
    this.nodes.push({ name: 'in', className: 'InputLayer', op: { kind: 'input' }, inputs: [], outputShape: [] });
  }
  add(name: string, op: Op, inputs: string[], activation?: Activation): string {
    this.nodes.push({ name, className: op.kind, op, inputs, activation, outputShape: [] });
    return name;
  }
  conv(name: string, from: string, inC: number, outC: number, k = 3, o: { strides?: number; padding?: Padding; dilation?: number; groups?: number; act?: Activation } = {}): string {
    const groups = o.groups ?? 1;
    const scale = Math.sqrt(2 / (k * k * inC / groups));
    return this.add(name, {
      kind: 'conv',
      weight: randWeight(this.r, [k, k, inC / groups, outC], scale),
      bias: this.noBias ? undefined : randWeight(this.r, [outC], 0.1),
      strides: [o.strides ?? 1, o.strides ?? 1],
      dilations: [o.dilation ?? 1, o.dilation ?? 1],
      padding: o.padding ?? 'same',
      groups,
    }, [from], o.act);
  }
  depthwise(name: string, from: string, c: number, mult = 1, k = 3, strides = 1, padding: Padding = 'same'): string {
    return this.add(name, {
      kind: 'depthwise',
      weight: randWeight(this.r, [k, k, c, mult], Math.sqrt(2 / (k * k))),
      bias: this.noBias ? undefined : randWeight(this.r, [c * mult], 0.1),
      strides: [strides, strides],
      dilations: [1, 1],
      padding,
    }, [from]);
  }
  bn(name: string, from: string, c: number): string {
    return this.add(name, {
      kind: 'batchnorm',
      scale: weight(Float32Array.from({ length: c }, () => 0.5 + this.r()), [c]),
      offset: randWeight(this.r, [c], 0.2),
    }, [from]);
  }
  relu(name: string, from: string): string {
    return this.add(name, { kind: 'activation' }, [from], { fn: 'relu' });
  }
  dense(name: string, from: string, inN: number, outN: number, act?: Activation): string {
    return this.add(name, {
      kind: 'dense',
      weight: randWeight(this.r, [inN, outN], Math.sqrt(2 / inN)),
      bias: randWeight(this.r, [outN], 0.1),
    }, [from], act);
  }
  build(output: string): Graph {
    const g: Graph = { nodes: this.nodes, output, inputShape: this.inputShape, format: 'tfjs-layers', source: 'test' };
    inferShapes(g);
    return g;
  }
}

/** A VGG-shaped chain: [conv-bn-relu] x n per block, max-pools, flatten, dense. */
export function tinyVgg(seed = 1, size = 16, widths = [4, 8, 8], classes = 5): Graph {
  const b = new GraphBuilder([size, size, 3], seed);
  let cur = 'in';
  let c = 3;
  widths.forEach((w, i) => {
    for (let j = 1; j <= 2; j++) {
      cur = b.conv(`b${i + 1}_conv${j}`, cur, c, w);
      cur = b.bn(`b${i + 1}_bn${j}`, cur, w);
      cur = b.relu(`b${i + 1}_relu${j}`, cur);
      c = w;
    }
    cur = b.add(`b${i + 1}_pool`, { kind: 'maxpool', size: [2, 2], strides: [2, 2], padding: 'valid' }, [cur]);
  });
  const s = size >> widths.length;
  cur = b.add('flatten', { kind: 'flatten' }, [cur]);
  cur = b.dense('fc1', cur, s * s * c, 16, { fn: 'relu' });
  cur = b.dense('logits', cur, 16, classes, { fn: 'softmax' });
  return b.build(cur);
}

export function randomInput(g: Graph, seed = 7): Float32Array {
  const [h, w, c] = g.inputShape;
  return randn(rng(seed), h * w * c);
}
