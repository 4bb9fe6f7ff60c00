// Seeded architecture-shaped graphs for the whole-network tests (test/slow/architectures.test.ts),
// built directly as Graphs at a small input (64x64) so they run in a second, plus the graph
// analysis those tests need: bias-free copies and the cuts of a graph.
import { tf } from '../reference/tfjs';
import { weight, type Graph, type GraphNode, type Weight } from '../../src/engine/model/graph';
import { GraphBuilder } from './graphs';

const BN_RELU = (b: GraphBuilder, name: string, from: string, c: number) => b.relu(`${name}_relu`, b.bn(`${name}_bn`, from, c));

/**
 * ResNet-50-shaped (Keras layout): ZeroPadding(3) + 7x7/2 valid stem, BN, ReLU, 3x3/2 max-pool 'same';
 * three stages of bottleneck blocks (1x1 -> 3x3 -> 1x1, BN after each) whose first block has a
 * projection shortcut (strided 1x1 conv + BN); add -> ReLU. Stage 2 strides in the first 1x1
 * (Keras ResNet50 v1), stage 3 in the 3x3 (torchvision; TF 'same' with stride 2 on an even size
 * pads asymmetrically). GAP + dense head. CAM layer: 'stage3_block2_out'.
 */
export function resnetLike(seed = 11, size = 64, classes = 10): Graph {
  const b = new GraphBuilder([size, size, 3], seed);
  let cur = b.add('conv1_pad', { kind: 'pad', pads: [3, 3, 3, 3] }, ['in']);
  cur = b.conv('conv1_conv', cur, 3, 16, 7, { strides: 2, padding: 'valid' });
  cur = BN_RELU(b, 'conv1', cur, 16);
  cur = b.add('pool1_pool', { kind: 'maxpool', size: [3, 3], strides: [2, 2], padding: 'same' }, [cur]);
  let c = 16;
  const stages: Array<{ width: number; out: number; stride: number; strideIn: '1x1' | '3x3' }> = [
    { width: 8, out: 32, stride: 1, strideIn: '1x1' },
    { width: 16, out: 64, stride: 2, strideIn: '1x1' },
    { width: 24, out: 96, stride: 2, strideIn: '3x3' },
  ];
  stages.forEach((st, si) => {
    for (let bi = 1; bi <= 2; bi++) {
      const p = `stage${si + 1}_block${bi}`;
      const s = bi === 1 ? st.stride : 1;
      let shortcut = cur;
      if (bi === 1) {
        shortcut = b.conv(`${p}_0_conv`, cur, c, st.out, 1, { strides: s, padding: 'valid' });
        shortcut = b.bn(`${p}_0_bn`, shortcut, st.out);
      }
      let m = b.conv(`${p}_1_conv`, cur, c, st.width, 1, { strides: st.strideIn === '1x1' ? s : 1, padding: 'valid' });
      m = BN_RELU(b, `${p}_1`, m, st.width);
      m = b.conv(`${p}_2_conv`, m, st.width, st.width, 3, { strides: st.strideIn === '3x3' ? s : 1, padding: 'same' });
      m = BN_RELU(b, `${p}_2`, m, st.width);
      m = b.conv(`${p}_3_conv`, m, st.width, st.out, 1);
      m = b.bn(`${p}_3_bn`, m, st.out);
      cur = b.add(`${p}_add`, { kind: 'add' }, [shortcut, m]);
      cur = b.relu(`${p}_out`, cur);
      c = st.out;
    }
  });
  cur = b.add('avg_pool', { kind: 'globalavgpool', keepDims: false }, [cur]);
  return b.build(b.dense('predictions', cur, c, classes, { fn: 'softmax' }));
}

/**
 * DenseNet-121-shaped: ZeroPadding(3) + 7x7/2 stem, BN, ReLU, ZeroPadding(1) + 3x3/2 max-pool;
 * dense blocks of BN-ReLU-1x1 conv (4k) - BN-ReLU-3x3 conv (k) layers whose output is
 * concatenated to their input; transitions BN-ReLU-1x1 conv (halving channels) - 2x2/2 avg-pool;
 * final BN-ReLU, GAP, dense. CAM layer: 'relu'.
 */
export function densenetLike(seed = 12, size = 64, classes = 10, blocks = [3, 3, 3], k = 8): Graph {
  const b = new GraphBuilder([size, size, 3], seed);
  let cur = b.add('zero_padding2d', { kind: 'pad', pads: [3, 3, 3, 3] }, ['in']);
  cur = b.conv('conv1_conv', cur, 3, 2 * k, 7, { strides: 2, padding: 'valid' });
  cur = BN_RELU(b, 'conv1', cur, 2 * k);
  cur = b.add('zero_padding2d_1', { kind: 'pad', pads: [1, 1, 1, 1] }, [cur]);
  cur = b.add('pool1', { kind: 'maxpool', size: [3, 3], strides: [2, 2], padding: 'valid' }, [cur]);
  let c = 2 * k;
  blocks.forEach((n, bi) => {
    for (let li = 1; li <= n; li++) {
      const p = `conv${bi + 2}_block${li}`;
      let m = BN_RELU(b, `${p}_0`, cur, c);
      m = b.conv(`${p}_1_conv`, m, c, 4 * k, 1);
      m = BN_RELU(b, `${p}_1`, m, 4 * k);
      m = b.conv(`${p}_2_conv`, m, 4 * k, k, 3);
      cur = b.add(`${p}_concat`, { kind: 'concat', axis: 3 }, [cur, m]);
      c += k;
    }
    if (bi < blocks.length - 1) {
      const p = `pool${bi + 2}`;
      let m = BN_RELU(b, p, cur, c);
      m = b.conv(`${p}_conv`, m, c, c / 2, 1);
      cur = b.add(`${p}_pool`, { kind: 'avgpool', size: [2, 2], strides: [2, 2], padding: 'valid' }, [m]);
      c /= 2;
    }
  });
  cur = b.bn('bn', cur, c);
  cur = b.relu('relu', cur);
  cur = b.add('avg_pool', { kind: 'globalavgpool', keepDims: false }, [cur]);
  return b.build(b.dense('predictions', cur, c, classes, { fn: 'softmax' }));
}

/**
 * MobileNetV2-shaped (Keras layout): ZeroPadding(0,1,0,1) + 3x3/2 valid stem, BN, ReLU6;
 * inverted residuals (1x1 expand - BN - ReLU6, depthwise 3x3 - BN - ReLU6, 1x1 project - BN,
 * linear; add when stride 1 and the width is kept); 1x1 Conv_1 - BN - ReLU6 ('out_relu'), GAP, dense.
 */
export function mobilenetV2Like(seed = 13, size = 64, classes = 10): Graph {
  const b = new GraphBuilder([size, size, 3], seed);
  const relu6 = (name: string, from: string) => b.add(name, { kind: 'activation' }, [from], { fn: 'relu6' });
  let cur = b.add('Conv1_pad', { kind: 'pad', pads: [0, 1, 0, 1] }, ['in']);
  cur = b.conv('Conv1', cur, 3, 16, 3, { strides: 2, padding: 'valid' });
  cur = relu6('Conv1_relu', b.bn('bn_Conv1', cur, 16));
  let c = 16;
  // [expansion, out, stride]
  const cfg: Array<[number, number, number]> = [[1, 8, 1], [4, 12, 2], [4, 12, 1], [4, 16, 2], [4, 16, 1], [4, 24, 2], [4, 24, 1]];
  cfg.forEach(([t, out, s], i) => {
    const p = `block_${i}`;
    let m = cur;
    if (t > 1) m = relu6(`${p}_expand_relu`, b.bn(`${p}_expand_BN`, b.conv(`${p}_expand`, cur, c, c * t, 1), c * t));
    if (s === 2) m = b.add(`${p}_pad`, { kind: 'pad', pads: [0, 1, 0, 1] }, [m]);
    m = b.depthwise(`${p}_depthwise`, m, c * t, 1, 3, s, s === 2 ? 'valid' : 'same');
    m = relu6(`${p}_depthwise_relu`, b.bn(`${p}_depthwise_BN`, m, c * t));
    m = b.bn(`${p}_project_BN`, b.conv(`${p}_project`, m, c * t, out, 1), out);
    cur = s === 1 && out === c ? b.add(`${p}_add`, { kind: 'add' }, [cur, m]) : m;
    c = out;
  });
  cur = relu6('out_relu', b.bn('Conv_1_bn', b.conv('Conv_1', cur, c, 64, 1), 64));
  cur = b.add('global_average_pooling2d', { kind: 'globalavgpool', keepDims: false }, [cur]);
  return b.build(b.dense('predictions', cur, 64, classes, { fn: 'softmax' }));
}

/**
 * A copy of g without biases: conv/depthwise biases dropped, batch-norm offsets zero (scales and
 * weights are shared with g, so the rules' kernel caches are too). Dense layers keep theirs (they
 * sit above the CAM layer). dispose() frees only the zero offsets it made.
 */
export function biasFree(g: Graph): { graph: Graph; dispose: () => void } {
  const made: Weight[] = [];
  const nodes = g.nodes.map((n): GraphNode => {
    const op = n.op;
    if ((op.kind === 'conv' || op.kind === 'depthwise') && op.bias) return { ...n, op: { ...op, bias: undefined } };
    if (op.kind === 'batchnorm') {
      const offset = weight(new Float32Array(op.offset.data.length), op.offset.shape);
      made.push(offset);
      return { ...n, op: { ...op, offset } };
    }
    return n;
  });
  return { graph: { ...g, nodes }, dispose: () => made.forEach((w) => w.cache?.dispose()) };
}

/** The nodes the output of camLayer depends on, with camLayer itself. */
export function ancestorsOf(g: Graph, camLayer: string): Set<string> {
  const set = new Set([camLayer]);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (set.has(n.name)) n.inputs.forEach((x) => set.add(x));
  }
  return set;
}

/**
 * The cuts between camLayer and the input: the nodes every path from camLayer down to the input
 * passes through, so all relevance passes through them. In topological order a node is a cut
 * exactly when no edge of the relevant subgraph jumps over it (reader after it, producer before it).
 */
export function cutsOf(g: Graph, camLayer: string): string[] {
  const anc = ancestorsOf(g, camLayer);
  const idx = new Map(g.nodes.map((n, i) => [n.name, i]));
  const cover = new Array(g.nodes.length + 1).fill(0);
  for (const n of g.nodes) {
    if (!anc.has(n.name)) continue;
    const hi = idx.get(n.name)!;
    for (const p of n.inputs) {
      const lo = idx.get(p)!;
      if (hi - lo > 1) {
        cover[lo + 1]++;
        cover[hi]--;
      }
    }
  }
  const cuts: string[] = [];
  let run = 0;
  g.nodes.forEach((n, i) => {
    run += cover[i];
    if (anc.has(n.name) && run === 0) cuts.push(n.name);
  });
  return cuts;
}
