// The panel's faithfulness views: the deletion / insertion curves of the shown map on a small
// canvas, and the method comparison table. Pure rendering of numbers the engine computed in
// the worker (engine/metrics); nothing here scores anything. Colours come from the VS Code
// theme's CSS variables, read with getComputedStyle, so a theme change only needs a redraw.
import { methodLabel } from '../engine/methods';
import type { FaithfulnessReply, MethodRow, MethodsReply } from './protocol';

/** Curves as they arrive (typed arrays, or their JSON form from older hosts). */
export interface CurvesLike {
  deletion: ArrayLike<number>;
  insertion: ArrayLike<number>;
  deletionAuc: number;
  insertionAuc: number;
}

function cssVar(style: CSSStyleDeclaration, names: string[], fallback: string): string {
  for (const n of names) {
    const v = style.getPropertyValue(n).trim();
    if (v) return v;
  }
  return fallback;
}

export interface PlotColours {
  fg: string;
  muted: string;
  grid: string;
  deletion: string;
  insertion: string;
  font: string;
}

/** The theme's colours for the plot (charts palette where the theme has one). */
export function plotColours(root: Element = document.body): PlotColours {
  const s = getComputedStyle(root);
  const fg = cssVar(s, ['--vscode-charts-foreground', '--vscode-foreground'], s.color || '#888');
  return {
    fg,
    muted: cssVar(s, ['--vscode-descriptionForeground'], fg),
    grid: cssVar(s, ['--vscode-charts-lines', '--vscode-panel-border', '--vscode-widget-border'], fg),
    deletion: cssVar(s, ['--vscode-charts-red', '--vscode-errorForeground'], fg),
    insertion: cssVar(s, ['--vscode-charts-blue', '--vscode-textLink-foreground'], fg),
    font: `${cssVar(s, ['--vscode-font-size'], '12px')} ${cssVar(s, ['--vscode-font-family'], 'sans-serif')}`,
  };
}

export function formatAuc(v: number): string {
  return Number.isFinite(v) ? v.toFixed(3) : '–';
}

/** Percent with enough digits that small values stay distinct (0.0010%, 1.14%, 42.8%). */
export function formatPct(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return `${a === 0 || a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(2)}%`;
}

/**
 * Draws both curves over [0, 1] x [0, 1] (x: fraction of the pixels deleted / inserted, y:
 * target-class probability) with axes, ticks, labels and a legend, at the device pixel ratio.
 */
export function drawCurves(canvas: HTMLCanvasElement, c: CurvesLike, cssWidth = 400, cssHeight = 210): void {
  const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
  const W = Math.round(cssWidth * dpr);
  const H = Math.round(cssHeight * dpr);
  if (canvas.width !== W) canvas.width = W;
  if (canvas.height !== H) canvas.height = H;
  canvas.style.width = `${cssWidth}px`; // CSSOM: allowed by the CSP
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const col = plotColours(canvas.ownerDocument.body);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssWidth, cssHeight);
  ctx.font = col.font;
  const left = 48, right = 12, top = 28, bottom = 34;
  const pw = cssWidth - left - right;
  const ph = cssHeight - top - bottom;
  const px = (t: number) => left + t * pw;
  const py = (v: number) => top + (1 - Math.min(Math.max(Number.isFinite(v) ? v : 0, 0), 1)) * ph;

  // Grid and ticks at quarters.
  ctx.lineWidth = 1;
  ctx.strokeStyle = col.grid;
  ctx.globalAlpha = 0.5;
  for (let q = 0; q <= 4; q++) {
    ctx.beginPath();
    ctx.moveTo(px(q / 4) + 0.5, top);
    ctx.lineTo(px(q / 4) + 0.5, top + ph);
    ctx.moveTo(left, py(q / 4) + 0.5);
    ctx.lineTo(left + pw, py(q / 4) + 0.5);
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  ctx.fillStyle = col.muted;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (const v of [0, 0.5, 1]) ctx.fillText(String(v), left - 6, py(v));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const v of [0, 0.5, 1]) ctx.fillText(String(v), px(v), top + ph + 4);
  ctx.fillText('fraction of pixels deleted / inserted', left + pw / 2, top + ph + 18);
  ctx.save();
  ctx.translate(9, top + ph / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText('p(class)', 0, 0);
  ctx.restore();
  // Axes.
  ctx.strokeStyle = col.fg;
  ctx.beginPath();
  ctx.moveTo(left + 0.5, top);
  ctx.lineTo(left + 0.5, top + ph + 0.5);
  ctx.lineTo(left + pw, top + ph + 0.5);
  ctx.stroke();

  const line = (values: ArrayLike<number>, colour: string, dash: number[]) => {
    const n = values.length - 1;
    if (n < 0) return;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.setLineDash(dash);
    ctx.beginPath();
    if (n === 0) {
      ctx.moveTo(px(0), py(values[0]));
      ctx.lineTo(px(1), py(values[0]));
    } else for (let i = 0; i <= n; i++) (i ? ctx.lineTo : ctx.moveTo).call(ctx, px(i / n), py(values[i]));
    ctx.stroke();
    ctx.setLineDash([]);
  };
  // Dashes as well as colours: the two curves stay apart in high-contrast and monochrome themes.
  line(c.insertion, col.insertion, []);
  line(c.deletion, col.deletion, [5, 3]);

  // Legend in one row above the plot area (inside it, it would hide the curves near p = 1).
  ctx.lineWidth = 2;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const items: [string, string, number[]][] = [
    [`deletion (AUC ${formatAuc(c.deletionAuc)})`, col.deletion, [5, 3]],
    [`insertion (AUC ${formatAuc(c.insertionAuc)})`, col.insertion, []],
  ];
  let x = left;
  items.forEach(([text, colour, dash]) => {
    const y = top / 2;
    ctx.strokeStyle = colour;
    ctx.setLineDash(dash);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 20, y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = col.fg;
    ctx.fillText(text, x + 26, y);
    x += 26 + ctx.measureText(text).width + 18;
  });
}

/** One sentence with the areas and AD / IC, for the text next to the plot. */
export function aucText(r: FaithfulnessReply): string {
  return `Deletion AUC ${formatAuc(r.deletionAuc)} (lower is better) · insertion AUC ${formatAuc(r.insertionAuc)} (higher is better) · ` +
    `Average Drop ${formatPct(r.averageDrop)} · Increase in Confidence ${formatPct(r.increaseInConfidence)} · ` +
    `p = ${r.prob.toFixed(3)}, masked ${r.masked.toFixed(3)}; ${r.deletion.length - 1} steps of ${r.pixelsPerStep} px`;
}

interface Column {
  key: keyof Omit<MethodRow, 'method'>;
  title: string;
  hint: string;
  better: 'low' | 'high';
  fmt: (v: number) => string;
}

export const COLUMNS: Column[] = [
  { key: 'deletionAuc', title: 'Deletion AUC ↓', hint: 'Area under the deletion curve: lower is better', better: 'low', fmt: formatAuc },
  { key: 'insertionAuc', title: 'Insertion AUC ↑', hint: 'Area under the insertion curve: higher is better', better: 'high', fmt: formatAuc },
  { key: 'averageDrop', title: 'Average Drop ↓', hint: 'Drop of the class probability on the map-masked input, in %: lower is better', better: 'low', fmt: formatPct },
  { key: 'increaseInConfidence', title: 'Increase in Confidence ↑', hint: '100 when the masked input scores higher than the full one: higher is better', better: 'high', fmt: formatPct },
];

/** Per column, the best finite value (ties all count as best); none where every row is equal. */
export function bestValues(rows: MethodRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of COLUMNS) {
    const vals = rows.map((r) => r[c.key]).filter(Number.isFinite);
    if (vals.length < 2 || Math.min(...vals) === Math.max(...vals)) continue;
    out[c.key] = c.better === 'low' ? Math.min(...vals) : Math.max(...vals);
  }
  return out;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
}

/** The comparison table, best value per column highlighted, omitted methods noted under it. */
export function methodsTable(t: MethodsReply, labelOf: (i: number) => string): HTMLElement {
  const best = bestValues(t.rows);
  const table = el('table', { class: 'methods', 'data-testid': 'methods-table', 'data-layer': t.layer, 'data-methods': t.rows.map((r) => r.method).join(',') });
  table.append(el('caption', {}, `At ${t.layer}, class ${t.classIndex} (${labelOf(t.classIndex)}, p = ${Number.isFinite(t.prob) ? t.prob.toFixed(3) : '–'}). Best value per column highlighted (none where all methods tie).`));
  const head = el('tr', {}, el('th', { scope: 'col' }, 'Method'));
  for (const c of COLUMNS) head.append(el('th', { scope: 'col', title: c.hint }, c.title));
  table.append(el('thead', {}, head));
  const body = el('tbody');
  for (const r of t.rows) {
    const tr = el('tr', { 'data-method': r.method }, el('th', { scope: 'row' }, methodLabel(r.method)));
    for (const c of COLUMNS) {
      const v = r[c.key];
      const isBest = Number.isFinite(v) && v === best[c.key];
      const td = el('td', isBest ? { class: 'best', 'data-best': 'true' } : {}, c.fmt(v));
      if (isBest) td.append(el('span', { class: 'visually-hidden' }, ' (best)'));
      tr.append(td);
    }
    body.append(tr);
  }
  table.append(body);
  const wrap = el('div', { class: 'methods-wrap' }, table);
  if (t.omitted.length) {
    wrap.append(el('ul', { class: 'omitted', 'data-testid': 'methods-omitted' }, ...t.omitted.map((o) => el('li', {}, `${methodLabel(o.method)}: ${o.reason}`))));
  }
  return wrap;
}
