// What `fgcam evaluate` writes: the Markdown report, one plot per layer (mean deletion above
// mean insertion curves), and the JSON document of --json. Plain functions of the summary.
import * as path from 'node:path';
import type { BlurOptions } from '../../engine/metrics/blur';
import { pixelsPerStepFor } from '../../engine/metrics/curves';
import { plotCurves, PALETTE, type Series } from '../../engine/metrics/plot';
import type { MeanCI } from '../../engine/metrics/stats';
import { encodePng } from '../../engine/image/encode';
import type { RgbaImage } from '../../engine/image/types';
import type { LayerInfo, Preprocess } from '../../engine/types';
import type { Failure } from '../images';
import { describePreprocess } from '../preprocess';
import type { ImageResult } from './job';
import type { Row, Summary } from './summary';

export interface ReportContext {
  folder: string;
  model: string;
  methods: string[];
  layers: string[];
  step: number;
  blur: BlurOptions;
  backend: string;
  inputShape: [number, number, number];
  modelLayers: LayerInfo[];
  pre: Preprocess;
  camLayer: string;
  /** Images asked for (scored + failed). */
  images: number;
  results: ImageResult[];
  failures: Failure[];
  summary: Summary;
  /** Plot file per layer. */
  plots: Record<string, string>;
  files: string[];
  seconds: number;
}

const fmt = (m: MeanCI, digits = 3) => (Number.isNaN(m.half) ? m.mean.toFixed(digits) : `${m.mean.toFixed(digits)} ± ${m.half.toFixed(digits)}`);
const hex = (c: number[]) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');

function colourOf(methods: string[], m: string) {
  return PALETTE[methods.indexOf(m) % PALETTE.length];
}

function stackImages(a: RgbaImage, b: RgbaImage): RgbaImage {
  const data = new Uint8Array(a.data.length + b.data.length);
  data.set(a.data, 0);
  data.set(b.data, a.data.length);
  return { width: a.width, height: a.height + b.height, data };
}

/** Mean deletion (top) and insertion (bottom) curves of every method at one layer, as PNG bytes. */
export function plotLayerPng(rows: Row[], methods: string[], layer: string, n: number): Uint8Array {
  const series = (pick: (r: Row) => Float32Array, auc: (r: Row) => MeanCI): Series[] =>
    rows.map((r) => ({ label: `${r.method} ${auc(r).mean.toFixed(3)}`, color: colourOf(methods, r.method), values: pick(r) }));
  const del = plotCurves(series((r) => r.meanDeletion, (r) => r.deletion), { title: `deletion at ${layer}, mean of ${n}`, xLabel: 'fraction of pixels' });
  const ins = plotCurves(series((r) => r.meanInsertion, (r) => r.insertion), { title: `insertion at ${layer}, mean of ${n}`, xLabel: 'fraction of pixels' });
  return encodePng(stackImages(del, ins));
}

export function reportMarkdown(c: ReportContext): string {
  const [h, w, ch] = c.inputShape;
  const s = pixelsPerStepFor(h * w, c.step);
  const L: string[] = [];
  L.push(`# Faithfulness of explanation methods on \`${path.basename(path.resolve(c.folder))}\``, '');
  L.push(`Written by \`fgcam evaluate\` (${new Date().toISOString().slice(0, 10)}). Model \`${c.model}\` (input ${h}x${w}x${ch}), ` +
    `preprocess ${describePreprocess(c.pre)}, backend ${c.backend}, ` +
    `CAM layer \`${c.camLayer}\`. ${c.images - c.failures.length} images scored${c.failures.length ? `, ${c.failures.length} failed` : ''}; ` +
    `target: each image's top-1 class; ${c.seconds.toFixed(0)} s.`, '');
  L.push('Protocol: pixels ordered by the map (layer maps resized bilinearly to the input). ' +
    `**Deletion** sets the most relevant pixels to 0 in the model-input space first; **insertion** starts from a Gaussian blur ` +
    `(sigma ${c.blur.sigma} px, ${2 * c.blur.radius + 1} taps, edges clamped) and restores the most relevant pixels first; ` +
    `${s} pixels (${(c.step * 100).toFixed(2)}%) per step; target-class softmax after every step; AUC by the trapezoid rule over [0, 1]. ` +
    '**Average Drop** (AD) and **Increase in Confidence** (IC): Grad-CAM++ definitions, the map (ReLU, min-max) as a soft mask on the input. ' +
    'Values: mean ± half-width of the 95% t interval over images. Better: deletion ↓, insertion ↑, ins − del ↑, AD ↓, IC ↑; best mean in bold.', '');
  for (const [layer, rows] of Object.entries(c.summary.layers)) {
    const size = c.modelLayers.find((l) => l.name === layer)?.shape.slice(0, 2).join('x');
    L.push(`## Layer \`${layer}\` (${size})`, '');
    L.push('| method | deletion AUC ↓ | insertion AUC ↑ | ins − del ↑ | AD % ↓ | IC % ↑ | n |', '|---|---|---|---|---|---|---|');
    const best = (get: (r: Row) => number, low: boolean) => rows.reduce((b, r) => ((low ? get(r) < get(b) : get(r) > get(b)) ? r : b), rows[0]);
    const bDel = best((r) => r.deletion.mean, true), bIns = best((r) => r.insertion.mean, false), bDif = best((r) => r.difference.mean, false);
    const bAd = best((r) => r.averageDrop.mean, true), bIc = best((r) => r.increase.mean, false);
    const cell = (r: Row, b: Row, m: MeanCI, d = 3) => (r === b ? `**${fmt(m, d)}**` : fmt(m, d));
    for (const r of rows) {
      L.push(`| ${r.method} | ${cell(r, bDel, r.deletion)} | ${cell(r, bIns, r.insertion)} | ${cell(r, bDif, r.difference)} | ${cell(r, bAd, r.averageDrop, 1)} | ${cell(r, bIc, r.increase, 1)} | ${r.n} |`);
    }
    L.push('');
    if (c.plots[layer]) L.push(`![mean deletion (top) and insertion (bottom) curves at ${layer}](${path.basename(c.plots[layer])})`, '');
  }
  L.push('Plot colours: ' + c.methods.map((m) => `${m} ${hex(colourOf(c.methods, m))}`).join(', ') + '.', '');
  if (c.failures.length) {
    L.push('## Failures', '');
    for (const f of c.failures) L.push(`- ${f.image}: ${f.error}`);
    L.push('');
  }
  return L.join('\n');
}

/** The --json document: protocol, summary per layer, every image's scores, failures, files. */
export function reportJson(c: ReportContext): unknown {
  const rowJson = (r: Row) => ({
    method: r.method,
    n: r.n,
    deletionAuc: r.deletion,
    insertionAuc: r.insertion,
    insertionMinusDeletion: r.difference,
    averageDropPercent: r.averageDrop,
    increaseInConfidencePercent: r.increase,
    meanDeletionCurve: Array.from(r.meanDeletion),
    meanInsertionCurve: Array.from(r.meanInsertion),
  });
  return {
    backend: c.backend,
    model: c.model,
    folder: c.folder,
    camLayer: c.camLayer,
    protocol: { step: c.step, pixelsPerStep: pixelsPerStepFor(c.inputShape[0] * c.inputShape[1], c.step), blur: c.blur, deletionValue: 0, preprocess: c.pre },
    methods: c.methods,
    layers: c.layers,
    summary: Object.fromEntries(Object.entries(c.summary.layers).map(([l, rows]) => [l, rows.map(rowJson)])),
    images: c.results.map((r) => ({
      image: r.image,
      classIndex: r.classIndex,
      prob: r.prob,
      scores: r.scores.map((s) => ({ method: s.method, layer: s.layer, deletionAuc: s.deletionAuc, insertionAuc: s.insertionAuc, full: s.full, masked: s.masked })),
    })),
    failures: c.failures,
    files: c.files,
    seconds: c.seconds,
  };
}
