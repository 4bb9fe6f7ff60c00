// The panel's browser code: builds the controls, renders maps on canvases, and talks to the
// host by the typed messages of protocol.ts. Layer, colormap, opacity and side-by-side are
// local (instant, from the cached walk); class, denoise and base ask the host to recompute.
import type { LayerMap } from '../engine/types';
import { resizeRgba } from '../engine/image/resize';
import { baseLabel, FGCAM_BASES, methodLabel } from '../engine/methods';
import { COLORMAPS } from '../engine/image/colormap';
import { baseMapKey, faithfulnessKey, methodsKey, type FaithfulnessReply, type HostToWebview, type MethodsReply, type ResultPayload, type ViewState, type WebviewToHost } from './protocol';
import { aucText, drawCurves, methodsTable } from './faithfulness';
import { blend, displaySize, fitSize, fixMap, heatmapRgba, paint, resizeNearest, toFloat32, toUint8 } from './render';
import type { DisplayImage } from './protocol';

declare function acquireVsCodeApi(): { postMessage(m: WebviewToHost): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

const DEFAULT_VIEW: ViewState = { base: 'gradcam', denoise: false, layer: 'input', colormap: 'jet', opacity: 0.5, sideBySide: false };
let view: ViewState = { ...DEFAULT_VIEW, ...((vscode.getState() as Partial<ViewState> | undefined) ?? {}) };
let result: ResultPayload | undefined;
let running = false;
let renderCount = 0;
const baseMaps = new Map<string, { map?: LayerMap; error?: string } | 'pending'>();
/** Faithfulness per view key (faithfulnessKey); errors are not kept, so a revisit retries. */
const faith = new Map<string, FaithfulnessReply | 'pending'>();
let faithError: { key: string; message: string } | undefined;
let faithTimer: ReturnType<typeof setTimeout> | undefined;
/** Debounce of faithfulness requests while the user steps through layers. */
const FAITH_DEBOUNCE_MS = 250;
/** Comparison tables per methodsKey, and the one running (one at a time). */
const tables = new Map<string, MethodsReply>();
let tableRun: { key: string; layer: string; done: number; total: number; what: string } | undefined;
let tableError: { key: string; message: string } | undefined;

// ---- DOM -------------------------------------------------------------------------------

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
}

function icon(name: string): HTMLElement {
  return el('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  return el('label', { class: 'field' }, el('span', { class: 'field-label' }, text), control);
}

const ui = {
  status: el('span', { id: 'status', 'data-testid': 'status', role: 'status' }, 'Waiting for an image…'),
  progress: el('div', { class: 'progress', 'data-testid': 'progress', role: 'progressbar', 'aria-label': 'Explaining', hidden: '' }, el('div', { class: 'progress-bar' })),
  cancel: el('button', { id: 'cancel', 'data-testid': 'cancel', class: 'secondary', hidden: '', title: 'Stop the running explanation' }, icon('debug-stop'), ' Cancel'),
  layer: el('select', { id: 'layer', 'data-testid': 'layer-picker', title: 'Layer whose FG-CAM map is shown' }),
  klass: el('select', { id: 'class', 'data-testid': 'class-picker', title: 'Class to explain' }),
  base: el('select', { id: 'base', 'data-testid': 'base', title: 'Base CAM method FG-CAM starts from' }),
  denoise: el('input', { id: 'denoise', type: 'checkbox', 'data-testid': 'denoise' }),
  colormap: el('select', { id: 'colormap', 'data-testid': 'colormap' }),
  opacity: el('input', { id: 'opacity', type: 'range', min: '0', max: '1', step: '0.05', 'data-testid': 'opacity', 'aria-label': 'Heatmap opacity' }),
  sideBySide: el('input', { id: 'side-by-side', type: 'checkbox', 'data-testid': 'side-by-side' }),
  exportBtn: el('button', { id: 'export', 'data-testid': 'export', title: 'Write the heatmap and overlay PNGs next to the image' }, icon('save'), ' Export'),
  error: el('div', { id: 'error', class: 'error', 'data-testid': 'error', role: 'alert', hidden: '' }),
  retry: el('button', { id: 'retry', 'data-testid': 'retry', class: 'secondary' }, icon('refresh'), ' Retry'),
  canvas: el('canvas', { id: 'heatmap', 'data-testid': 'heatmap-canvas', 'data-rendered': '0', role: 'img', 'aria-label': 'Heatmap over the image' }),
  caption: el('figcaption', { id: 'caption' }),
  notice: el('div', { id: 'notice', class: 'notice', 'data-testid': 'notice', role: 'status', hidden: '' }),
  predictions: el('ol', { id: 'predictions', 'data-testid': 'predictions', 'aria-label': 'Top-5 predictions' }),
  compare: el('section', { id: 'compare', 'data-testid': 'compare', hidden: '' }),
  faithToggle: el('input', { id: 'faithfulness-toggle', type: 'checkbox', 'data-testid': 'faithfulness-toggle', 'aria-controls': 'faithfulness' }),
  faith: el('section', { id: 'faithfulness', class: 'faithfulness', 'data-testid': 'faithfulness', 'aria-label': 'Faithfulness', hidden: '' }),
  faithTitle: el('h3', {}, 'Faithfulness'),
  faithPlot: el('canvas', { id: 'faithfulness-plot', 'data-testid': 'faithfulness-plot', 'data-rendered': '0', role: 'img', 'aria-label': 'Deletion and insertion curves' }),
  faithAuc: el('p', { id: 'faithfulness-auc', class: 'faith-auc', 'data-testid': 'faithfulness-auc', 'aria-live': 'polite' }),
  compareMethods: el('button', { id: 'compare-methods', 'data-testid': 'compare-methods', title: 'Score every method on this image at this layer' }, icon('table'), ' Compare methods'),
  methodsProgress: el('div', { class: 'progress', 'data-testid': 'methods-progress', role: 'progressbar', 'aria-label': 'Comparing methods', 'aria-valuemin': '0', hidden: '' }, el('div', { class: 'progress-fill' })),
  methodsStatus: el('span', { class: 'methods-status', 'data-testid': 'methods-status', role: 'status' }),
  methodsCancel: el('button', { class: 'secondary', 'data-testid': 'methods-cancel', hidden: '', title: 'Stop the comparison' }, icon('debug-stop'), ' Cancel'),
  methods: el('div', { id: 'methods', class: 'methods-box' }),
  content: el('div', { class: 'content', 'data-testid': 'content' }),
};

function build(): void {
  for (const b of FGCAM_BASES) ui.base.append(el('option', { value: b }, baseLabel(b)));
  for (const c of COLORMAPS) ui.colormap.append(el('option', { value: c }, c));
  const controls = el(
    'div',
    { class: 'controls' },
    labelled('Layer', ui.layer),
    labelled('Class', ui.klass),
    labelled('Base', ui.base),
    el('label', { class: 'check' }, ui.denoise, ' Denoise'),
    labelled('Colormap', ui.colormap),
    labelled('Opacity', ui.opacity),
    el('label', { class: 'check' }, ui.sideBySide, ' Side by side'),
    el('label', { class: 'check', title: 'Deletion and insertion curves of the shown map, and a method comparison' }, ui.faithToggle, ' Faithfulness'),
    ui.exportBtn,
  );
  const statusBar = el('div', { class: 'statusbar' }, ui.status, ui.cancel);
  const figure = el('figure', { class: 'main-figure' }, ui.canvas, ui.caption);
  const side = el('aside', { class: 'side' }, el('h3', {}, 'Predictions'), ui.predictions);
  ui.error.append(el('span', { id: 'error-text' }), ' ', ui.retry);
  ui.content.append(figure, side);
  ui.faith.append(
    ui.faithTitle,
    el('figure', { class: 'faith-figure' }, ui.faithPlot),
    ui.faithAuc,
    el('div', { class: 'methods-bar' }, ui.compareMethods, ui.methodsStatus, ui.methodsCancel),
    ui.methodsProgress,
    ui.methods,
  );
  document.getElementById('app')!.append(statusBar, ui.progress, controls, ui.error, ui.notice, ui.content, ui.faith, ui.compare);

  ui.layer.addEventListener('change', () => setView({ layer: ui.layer.value }, false));
  ui.colormap.addEventListener('change', () => setView({ colormap: ui.colormap.value as ViewState['colormap'] }, false));
  ui.opacity.addEventListener('input', () => setView({ opacity: Number(ui.opacity.value) }, false));
  ui.sideBySide.addEventListener('change', () => setView({ sideBySide: ui.sideBySide.checked }, false));
  ui.denoise.addEventListener('change', () => setView({ denoise: ui.denoise.checked }, true));
  ui.base.addEventListener('change', () => setView({ base: ui.base.value as ViewState['base'] }, true));
  ui.klass.addEventListener('change', () => setView({ classIndex: Number(ui.klass.value) }, true));
  ui.exportBtn.addEventListener('click', () => post({ type: 'export' }));
  ui.cancel.addEventListener('click', () => post({ type: 'cancel' }));
  ui.retry.addEventListener('click', () => post({ type: 'retry' }));
  ui.faithToggle.addEventListener('change', () => setView({ faithfulness: ui.faithToggle.checked }, false));
  ui.compareMethods.addEventListener('click', () => requestTable());
  ui.methodsCancel.addEventListener('click', () => post({ type: 'cancel' }));
  // Theme switches change the CSS variables the plot was drawn with: redraw.
  new MutationObserver(() => renderFaithfulness()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

function post(m: WebviewToHost): void {
  vscode.postMessage(m);
}

/** Applies a view change; `recompute` changes need the engine, the others only a redraw. */
function setView(patch: Partial<ViewState>, recompute: boolean): void {
  view = { ...view, ...patch };
  vscode.setState(view);
  post({ type: recompute ? 'recompute' : 'viewChanged', view });
  syncControls();
  if (!recompute) render();
}

function syncControls(): void {
  if (result && [...ui.layer.options].some((o) => o.value === view.layer && !o.disabled)) ui.layer.value = view.layer;
  ui.base.value = view.base;
  ui.denoise.checked = view.denoise;
  ui.colormap.value = view.colormap;
  ui.opacity.value = String(view.opacity);
  ui.sideBySide.checked = view.sideBySide;
  ui.faithToggle.checked = !!view.faithfulness;
  ui.faithToggle.setAttribute('aria-expanded', String(!!view.faithfulness));
  ui.exportBtn.disabled = !result;
}

// ---- Results -----------------------------------------------------------------------------

function acceptResult(r: ResultPayload): void {
  const maps: Record<string, LayerMap> = {};
  for (const [k, m] of Object.entries(r.maps)) maps[k] = fixMap(m);
  const img: DisplayImage = { ...r.image, data: toUint8(r.image.data) };
  if (result?.imagePath !== r.imagePath) baseMaps.clear();
  result = { ...r, maps, image: img, probs: toFloat32(r.probs) };
  imageCache.clear();

  ui.layer.replaceChildren(
    ...r.layers.map((l) => {
      const inWalk = !!maps[l.name];
      const why = !l.spatial ? ' — not spatial' : !inWalk ? ' — above the CAM layer' : '';
      const o = el('option', { value: l.name }, `${l.name} (${l.className}) ${l.shape.join('×')}${why}`);
      o.disabled = !inWalk;
      return o;
    }),
  );
  const label = (i: number) => r.labels?.[i] ?? `class ${i}`;
  const probs = result.probs;
  ui.klass.replaceChildren(...Array.from(probs, (p, i) => el('option', { value: String(i) }, `${i}: ${label(i)} (${(p * 100).toFixed(1)}%)`)));
  ui.klass.value = String(r.classIndex);
  ui.predictions.replaceChildren(
    ...r.top.slice(0, 5).map((t) => {
      const pct = `${(t.prob * 100).toFixed(1)}%`;
      const bar = el('div', { class: 'bar' });
      bar.style.width = pct; // CSSOM, allowed by the CSP (no inline style attributes)
      return el(
        'li',
        { class: t.index === r.classIndex ? 'pred selected' : 'pred', 'data-index': String(t.index) },
        el('span', { class: 'pred-label' }, t.label ?? label(t.index)),
        el('span', { class: 'pred-prob' }, pct),
        el('div', { class: 'bar-track' }, bar),
      );
    }),
  );
  view = { ...view, base: r.base, denoise: r.denoise };
  if (!maps[view.layer]) view.layer = maps['input'] ? 'input' : r.camLayer;
  vscode.setState(view);
  syncControls();
  const total = r.timingsMs.total ?? Object.values(r.timingsMs).reduce((a, b) => a + b, 0);
  ui.status.textContent = `${fileName(r.imagePath)} · class ${r.classIndex} (${label(r.classIndex)}) · ${baseLabel(r.base)}${r.denoise ? ' + denoise' : ''} · backend ${r.backend} · ${Math.round(total)} ms`;
  ui.status.title = Object.entries(r.timingsMs).map(([k, v]) => `${k}: ${Math.round(v)} ms`).join('\n');
  render();
}

function visualKey(v: ViewState): string {
  return `${v.layer}|${v.colormap}|${v.opacity}|${v.sideBySide}|${!!v.faithfulness}`;
}

function fileName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

// ---- Rendering ---------------------------------------------------------------------------

/** Image pixels at a given canvas size (upscaled nearest, downscaled bilinear), cached. */
const imageCache = new Map<string, Uint8Array>();
function imageAt(width: number, height: number): Uint8Array {
  const key = `${width}x${height}`;
  let px = imageCache.get(key);
  if (!px) {
    const img = result!.image;
    px = width >= img.width ? resizeNearest(img, width, height) : resizeRgba({ width: img.width, height: img.height, data: img.data }, width, height).data;
    imageCache.set(key, px);
  }
  return px;
}

function drawMap(canvas: HTMLCanvasElement, map: LayerMap, width: number, height: number): void {
  paint(canvas, width, height, blend(imageAt(width, height), heatmapRgba(map, width, height, view.colormap), width, height, view.opacity));
}

function render(): void {
  if (!result) return;
  const map = result.maps[view.layer];
  if (!map) return;
  const size = displaySize(result.image);
  drawMap(ui.canvas, map, size.width, size.height);
  // An all-zero (or all-negative) map colours uniformly: say so rather than look broken.
  const empty = !map.raw.some((v) => v > 0);
  ui.caption.textContent = `FG-CAM at ${view.layer} (${map.height}×${map.width} map)${empty ? ' — empty map: no positive relevance at this layer' : ''}`;
  // Hooks for UI tests: a new counter value means a finished render of this layer/denoise.
  renderCount++;
  ui.canvas.dataset.layer = view.layer;
  ui.canvas.dataset.denoise = String(result.denoise);
  ui.canvas.dataset.base = result.base;
  ui.canvas.dataset.classIndex = String(result.classIndex);
  ui.canvas.dataset.colormap = view.colormap;
  ui.canvas.dataset.opacity = String(view.opacity);
  ui.canvas.dataset.rendered = String(renderCount);
  renderCompare();
  renderFaithfulness();
}

// ---- Faithfulness ------------------------------------------------------------------------

function currentFaithKey(): string | undefined {
  if (!result || !result.maps[view.layer]) return undefined;
  return faithfulnessKey(result.imagePath, result.base, result.denoise, result.classIndex, view.layer);
}

function currentTableKey(): string | undefined {
  return result ? methodsKey(result.imagePath, result.classIndex, view.layer) : undefined;
}

function labelOf(i: number): string {
  return result?.labels?.[i] ?? `class ${i}`;
}

/** Shows the current view's curves (from the cache, else asks the host after a pause). */
function renderFaithfulness(): void {
  ui.faith.hidden = !view.faithfulness || !result || ui.content.hidden;
  if (ui.faith.hidden || !result) return;
  const key = currentFaithKey();
  // An error is shown for its view only while it stays the current one; coming back retries.
  if (faithError && faithError.key !== key) faithError = undefined;
  const mode = `FG-CAM (${baseLabel(result.base)}${result.denoise ? ', denoised' : ''})`;
  ui.faithTitle.textContent = `Faithfulness of ${mode} at ${view.layer}, class ${result.classIndex} (${labelOf(result.classIndex)})`;
  const got = key ? faith.get(key) : undefined;
  ui.faithPlot.dataset.key = key ?? '';
  if (got && got !== 'pending') {
    drawCurves(ui.faithPlot, got);
    ui.faithPlot.hidden = false;
    ui.faithPlot.setAttribute('aria-label', `Deletion curve (AUC ${got.deletionAuc.toFixed(3)}) and insertion curve (AUC ${got.insertionAuc.toFixed(3)}) of the class probability`);
    ui.faithPlot.dataset.deletionAuc = String(got.deletionAuc);
    ui.faithPlot.dataset.insertionAuc = String(got.insertionAuc);
    ui.faithPlot.dataset.steps = String(got.deletion.length);
    ui.faithPlot.dataset.rendered = String(Number(ui.faithPlot.dataset.rendered ?? '0') + 1);
    ui.faithAuc.textContent = aucText(got);
    ui.faithAuc.classList.remove('error-text');
  } else {
    ui.faithPlot.hidden = true;
    if (!key) ui.faithAuc.textContent = `FG-CAM has no map at ${view.layer}.`;
    else if (faithError?.key === key) {
      ui.faithAuc.textContent = `Could not score this view: ${faithError.message}`;
      ui.faithAuc.classList.add('error-text');
    } else {
      ui.faithAuc.textContent = 'Computing the deletion and insertion curves…';
      ui.faithAuc.classList.remove('error-text');
      if (!got && !running) scheduleFaithfulness();
    }
  }
  renderMethods();
}

function scheduleFaithfulness(): void {
  if (faithTimer) clearTimeout(faithTimer);
  faithTimer = setTimeout(() => {
    faithTimer = undefined;
    const key = currentFaithKey();
    if (!view.faithfulness || !key || faith.has(key) || running) return;
    faith.set(key, 'pending');
    faithError = undefined;
    post({ type: 'requestFaithfulness', key, layer: view.layer });
  }, FAITH_DEBOUNCE_MS);
}

function requestTable(): void {
  const key = currentTableKey();
  if (!key || tableRun) return;
  if (tables.has(key)) return renderMethods();
  tableRun = { key, layer: view.layer, done: 0, total: 0, what: '' };
  tableError = undefined;
  post({ type: 'compareMethods', key, layer: view.layer });
  renderMethods();
}

function renderMethods(): void {
  const key = currentTableKey();
  const run = tableRun;
  ui.compareMethods.disabled = !!run || !result;
  ui.methodsProgress.hidden = !run;
  ui.methodsCancel.hidden = !run;
  if (run) {
    const fill = ui.methodsProgress.firstElementChild as HTMLElement;
    const frac = run.total ? run.done / run.total : 0;
    fill.style.width = `${Math.round(frac * 100)}%`;
    ui.methodsProgress.setAttribute('aria-valuemax', String(run.total || 1));
    ui.methodsProgress.setAttribute('aria-valuenow', String(run.done));
    ui.methodsStatus.textContent = run.total
      ? `Scoring ${methodLabel(run.what)} (${Math.min(run.done + 1, run.total)}/${run.total}) at ${run.layer}…`
      : `Comparing methods at ${run.layer}…`;
  } else if (tableError && tableError.key === key) {
    ui.methodsStatus.textContent = tableError.message;
  } else {
    ui.methodsStatus.textContent = key && tables.has(key) ? '' : 'Scores every method on this image at this layer (Score-CAM is slow and runs last).';
  }
  const t = key ? tables.get(key) : undefined;
  if (t) {
    if (ui.methods.dataset.key !== key) {
      ui.methods.replaceChildren(methodsTable(t, labelOf));
      ui.methods.dataset.key = key;
    }
  } else if (ui.methods.dataset.key !== '') {
    ui.methods.replaceChildren();
    ui.methods.dataset.key = '';
  }
}

function acceptFaithfulness(key: string, r: FaithfulnessReply | undefined, error: string | undefined): void {
  if (r) {
    faith.set(key, { ...r, deletion: toFloat32(r.deletion), insertion: toFloat32(r.insertion) });
    if (faithError?.key === key) faithError = undefined;
  } else {
    faith.delete(key);
    faithError = { key, message: error ?? 'unknown error' };
  }
  if (key === currentFaithKey()) renderFaithfulness();
}

/** Side-by-side: FG-CAM next to the plain base CAM at the selected layer, then every layer of the walk. */
function renderCompare(): void {
  ui.compare.hidden = !view.sideBySide || !result;
  if (ui.compare.hidden || !result) return;
  const r = result;
  const box = 200;
  const size = fitSize(r.image, box);
  const key = baseMapKey(r.base, r.classIndex, view.layer);
  const cached = baseMaps.get(key);
  if (!cached) {
    baseMaps.set(key, 'pending');
    post({ type: 'requestBaseMap', key, layer: view.layer });
  }
  const fg = el('canvas', { 'data-testid': 'compare-fgcam', role: 'img', 'aria-label': `FG-CAM at ${view.layer}` });
  drawMap(fg, r.maps[view.layer], size.width, size.height);
  const baseName = baseLabel(r.base);
  let baseFig: HTMLElement;
  if (cached && cached !== 'pending' && cached.map) {
    const c = el('canvas', { 'data-testid': 'compare-base', role: 'img', 'aria-label': `${baseName} at ${view.layer}` });
    drawMap(c, fixMap(cached.map), size.width, size.height);
    baseFig = el('figure', {}, c, el('figcaption', {}, `${baseName} at ${view.layer}`));
  } else {
    const text = cached && cached !== 'pending' ? `${baseName} unavailable: ${cached.error ?? 'no map for this layer'}` : `Computing ${baseName}…`;
    baseFig = el('figure', { class: 'placeholder', 'data-testid': 'compare-base-pending' }, el('div', { class: 'placeholder-box' }, text));
  }
  const pair = el('div', { class: 'pair' }, el('figure', {}, fg, el('figcaption', {}, `FG-CAM at ${view.layer}`)), baseFig);

  const small = fitSize(r.image, 120);
  const grid = el('div', { class: 'grid', 'data-testid': 'layer-grid' });
  for (const l of r.layers) {
    const m = r.maps[l.name];
    if (!m) continue;
    const c = el('canvas', { role: 'img', 'aria-label': `FG-CAM at ${l.name}` });
    drawMap(c, m, small.width, small.height);
    const b = el('button', { class: l.name === view.layer ? 'tile selected' : 'tile', title: `Show ${l.name}`, 'data-layer': l.name }, c, el('span', {}, `${l.name} ${m.height}×${m.width}`));
    b.addEventListener('click', () => setView({ layer: l.name }, false));
    grid.append(b);
  }
  ui.compare.replaceChildren(el('h3', {}, `FG-CAM vs ${baseName}`), pair, el('h3', {}, 'Every layer of the walk'), grid);
}

// ---- Messages ----------------------------------------------------------------------------

function setRunning(on: boolean, text?: string): void {
  running = on;
  ui.progress.hidden = !on;
  ui.cancel.hidden = !on;
  document.body.classList.toggle('running', on);
  if (text) ui.status.textContent = text;
}

window.addEventListener('message', (ev: MessageEvent<HostToWebview>) => {
  const m = ev.data;
  switch (m.type) {
    case 'view': {
      // The host (re)opened an image, possibly with another model: scores from before may be stale.
      faith.clear();
      tables.clear();
      const before = visualKey(view);
      view = { ...DEFAULT_VIEW, ...m.view };
      vscode.setState(view);
      syncControls();
      // Redraw only for visual changes: an unneeded render would bump data-rendered with old data.
      if (visualKey(view) !== before) render();
      break;
    }
    case 'running':
      ui.error.hidden = true;
      ui.notice.hidden = true;
      setRunning(true, `Explaining ${fileName(m.imagePath)} (${m.what})…`);
      break;
    case 'result':
      setRunning(false);
      ui.error.hidden = true;
      ui.content.hidden = false;
      view = { ...DEFAULT_VIEW, ...m.view };
      acceptResult(m.result);
      break;
    case 'baseMap':
      baseMaps.set(m.key, { map: m.map, error: m.error });
      renderCompare();
      break;
    case 'error':
      setRunning(false, `Error${m.imagePath ? ` (${fileName(m.imagePath)})` : ''}`);
      ui.error.hidden = false;
      document.getElementById('error-text')!.textContent = m.message;
      // The previous image's heatmap and predictions would read as this image's.
      ui.content.hidden = true;
      ui.compare.hidden = true;
      ui.faith.hidden = true;
      break;
    case 'faithfulness':
      acceptFaithfulness(m.key, m.result, m.error);
      break;
    case 'methodsProgress':
      if (tableRun) tableRun = { ...tableRun, key: m.key, done: m.done, total: m.total, what: m.what };
      renderMethods();
      break;
    case 'methodsTable':
      tableRun = undefined;
      if (m.table) tables.set(m.key, m.table);
      else tableError = { key: m.key, message: m.cancelled ? 'Comparison cancelled.' : `Comparison failed: ${m.error ?? 'unknown error'}` };
      renderMethods();
      break;
    case 'exported':
      ui.notice.hidden = false;
      ui.notice.textContent = m.files.length ? `Exported ${m.files.map(fileName).join(', ')}` : 'Nothing exported.';
      break;
  }
});

build();
syncControls();
post({ type: 'ready' });
