// The review panel's browser code: the summary, the confusion matrix (its cells filter the
// gallery), per-class precision / recall, and a virtualised gallery of thumbnails (only the
// rows on screen exist in the DOM), sortable and filterable, usable from the keyboard.
// The logic lives in reviewState.ts; this file draws and forwards clicks as messages.
import type { Failed, ReviewResult, Summary } from '../app/protocol';
import type { HostToReview, ReviewRequest } from './reviewProtocol';
import { columnsFor, NAV_KEYS, ReviewState, rowWindow, scrollToRow, SORT_KEYS, type NavKey, type SortKey } from './reviewState';

declare function acquireVsCodeApi(): { postMessage(m: ReviewRequest): void };
const vscode = acquireVsCodeApi();
const post = (m: ReviewRequest) => vscode.postMessage(m);

const TILE = 112;
const GAP = 8;
const ROW = TILE + 44;

const state = new ReviewState();
let classes: string[] = [];
let thumbBase = '';
let summary: Summary | undefined;
let failed: Failed[] = [];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
const name = (i: number | null) => (i === null ? 'no truth' : classes[i] ?? String(i));

const ui = {
  status: el('span', { 'data-testid': 'review-status', role: 'status' }, 'Starting…'),
  progress: el('div', { class: 'progress', role: 'progressbar', 'aria-label': 'Scoring the dataset', 'aria-valuemin': '0', 'data-testid': 'review-progress', hidden: '' }, el('div', { class: 'progress-fill' })),
  cancel: el('button', { class: 'secondary', 'data-testid': 'review-cancel', hidden: '' }, 'Cancel'),
  rerun: el('button', { class: 'secondary', 'data-testid': 'review-rerun', title: 'Score again (unchanged files come from the cache)' }, 'Re-run'),
  cards: el('div', { class: 'cards', 'data-testid': 'review-summary' }),
  matrix: el('div', { class: 'matrix-box', 'data-testid': 'confusion' }),
  perClass: el('div', { class: 'perclass-box', 'data-testid': 'per-class' }),
  sort: el('select', { 'data-testid': 'sort', 'aria-label': 'Sort by' }),
  order: el('button', { class: 'secondary', 'data-testid': 'order', 'aria-label': 'Sort order' }),
  truth: el('select', { 'data-testid': 'filter-truth', 'aria-label': 'True class' }),
  predicted: el('select', { 'data-testid': 'filter-predicted', 'aria-label': 'Predicted class' }),
  mistakes: el('input', { type: 'checkbox', 'data-testid': 'mistakes-only' }),
  clear: el('button', { class: 'secondary', 'data-testid': 'clear-filters' }, 'Clear filters'),
  export: el('button', { 'data-testid': 'export-selection', title: 'Write FG-CAM heatmaps and overlays next to the images shown' }, 'Export explanations'),
  count: el('span', { class: 'count', 'data-testid': 'gallery-count', 'aria-live': 'polite' }),
  viewport: el('div', { class: 'viewport', 'data-testid': 'gallery', role: 'grid', tabindex: '0', 'aria-label': 'Images; arrow keys move, Enter explains' }),
  spacer: el('div', { class: 'spacer' }),
  failures: el('details', { class: 'failures', 'data-testid': 'failures', hidden: '' }),
};

function build(): void {
  const labels: Record<SortKey, string> = { loss: 'Loss', confidence: 'Confidence', margin: 'Margin', path: 'Path' };
  for (const k of SORT_KEYS) ui.sort.append(el('option', { value: k }, labels[k]));
  ui.viewport.append(ui.spacer);
  const bar = el('div', { class: 'statusbar' }, ui.status, ui.cancel, ui.rerun);
  const tools = el(
    'div',
    { class: 'controls' },
    el('label', { class: 'field' }, 'Sort ', ui.sort),
    ui.order,
    el('label', { class: 'field' }, 'Truth ', ui.truth),
    el('label', { class: 'field' }, 'Predicted ', ui.predicted),
    el('label', { class: 'check' }, ui.mistakes, ' Mistakes only'),
    ui.clear,
    ui.export,
    ui.count,
  );
  const top = el('div', { class: 'top' }, el('section', {}, el('h3', {}, 'Confusion matrix (rows: truth, columns: predicted)'), ui.matrix), el('section', {}, el('h3', {}, 'Per class'), ui.perClass));
  document.getElementById('app')!.append(bar, ui.progress, ui.cards, top, tools, ui.viewport, ui.failures);

  ui.cancel.addEventListener('click', () => post({ type: 'cancel' }));
  ui.rerun.addEventListener('click', () => post({ type: 'rerun' }));
  ui.sort.addEventListener('change', () => {
    state.setSort(ui.sort.value as SortKey);
    drawGallery(true);
  });
  ui.order.addEventListener('click', () => {
    state.setSort(state.sort, !state.descending);
    drawGallery(true);
  });
  const pick = (s: HTMLSelectElement) => (s.value === '' ? null : Number(s.value));
  ui.truth.addEventListener('change', () => filter({ truth: pick(ui.truth) }));
  ui.predicted.addEventListener('change', () => filter({ predicted: pick(ui.predicted) }));
  ui.mistakes.addEventListener('change', () => filter({ mistakesOnly: ui.mistakes.checked }));
  ui.clear.addEventListener('click', () => filter({ truth: null, predicted: null, mistakesOnly: false }));
  ui.export.addEventListener('click', () => {
    const paths = state.visible().map((r) => r.path);
    if (paths.length) post({ type: 'export', paths });
  });
  ui.viewport.addEventListener('scroll', () => drawGallery(false));
  new ResizeObserver(() => drawGallery(false)).observe(ui.viewport);
  ui.viewport.addEventListener('keydown', (e) => {
    if (NAV_KEYS.includes(e.key)) {
      e.preventDefault();
      const cols = columns();
      const i = state.move(e.key as NavKey, cols, Math.max(1, Math.floor(ui.viewport.clientHeight / ROW)));
      ui.viewport.scrollTop = scrollToRow(Math.floor(i / cols), ROW, ui.viewport.scrollTop, ui.viewport.clientHeight);
      drawGallery(true);
    } else if (e.key === 'Enter' || e.key === ' ') {
      const r = state.selectedResult();
      if (r) {
        e.preventDefault();
        post({ type: 'open', path: r.path });
      }
    }
  });
}

function filter(patch: Parameters<ReviewState['setFilter']>[0]): void {
  state.setFilter(patch);
  ui.viewport.scrollTop = 0;
  syncFilters();
  drawMatrix();
  drawGallery(true);
}

function syncFilters(): void {
  const f = state.filter;
  ui.truth.value = f.truth === null ? '' : String(f.truth);
  ui.predicted.value = f.predicted === null ? '' : String(f.predicted);
  ui.mistakes.checked = f.mistakesOnly;
  ui.sort.value = state.sort;
  ui.order.textContent = state.descending ? 'Highest first' : 'Lowest first';
}

function setClasses(c: string[]): void {
  classes = c;
  const opts = (s: HTMLSelectElement) => s.replaceChildren(el('option', { value: '' }, 'any'), ...c.map((n, i) => el('option', { value: String(i) }, `${i} ${n}`)));
  opts(ui.truth);
  opts(ui.predicted);
  syncFilters();
}

// ---- summary, matrix, per class ----------------------------------------------------------

function drawSummary(): void {
  const s = summary;
  const card = (label: string, value: string, id: string) => el('div', { class: 'card' }, el('div', { class: 'card-value', 'data-testid': id }, value), el('div', { class: 'card-label' }, label));
  ui.cards.replaceChildren(
    card('accuracy', pct(s?.accuracy), 'review-accuracy'),
    card('top-5 accuracy', pct(s?.top5), 'review-top5'),
    card('images scored', String(s?.images ?? state.size), 'review-images'),
    card('with truth', String(s?.labelled ?? 0), 'review-labelled'),
    card('unreadable', String(failed.length), 'review-failed'),
  );
  ui.failures.hidden = failed.length === 0;
  ui.failures.replaceChildren(el('summary', {}, `${failed.length} image${failed.length === 1 ? '' : 's'} could not be read`), el('ul', {}, ...failed.slice(0, 200).map((f) => el('li', {}, f.error))));
}

function drawMatrix(): void {
  const s = summary;
  if (!s || !s.labelled) {
    ui.matrix.replaceChildren(el('p', {}, s ? 'No image has a truth (no class folder matches a label).' : ''));
    ui.perClass.replaceChildren();
    return;
  }
  const k = classes.length;
  if (k > 40) {
    ui.matrix.replaceChildren(el('p', {}, `${k} classes: use the Truth and Predicted filters (the most confused pairs are in report.md).`));
  } else {
    const head = el('tr', {}, el('th', {}, ''), ...classes.map((_, p) => el('th', { scope: 'col', title: classes[p] }, String(p))));
    const rows = s.confusion.map((row, t) => {
      const total = row.reduce((a, b) => a + b, 0);
      return el(
        'tr',
        {},
        el('th', { scope: 'row', title: classes[t] }, `${t} ${classes[t]}`),
        ...row.map((n, p) => {
          const on = state.filter.truth === t && state.filter.predicted === p;
          const b = el('button', {
            class: `cell${t === p ? ' diag' : ''}${on ? ' on' : ''}`,
            'data-testid': 'confusion-cell',
            'data-truth': String(t),
            'data-predicted': String(p),
            'data-count': String(n),
            'aria-pressed': String(on),
            title: `${n} image${n === 1 ? '' : 's'} of ${classes[t]} predicted as ${classes[p]}`,
          }, n ? String(n) : '');
          // Shade by the share of the row (CSSOM: allowed under the CSP, unlike style attributes).
          b.style.setProperty('--share', total ? String(n / total) : '0');
          b.addEventListener('click', () => {
            state.toggleCell(t, p);
            filter({});
          });
          return el('td', {}, b);
        }),
      );
    });
    ui.matrix.replaceChildren(el('table', { class: 'matrix' }, el('thead', {}, head), el('tbody', {}, ...rows)));
  }
  const f = (x: number | null) => (x === null ? '–' : x.toFixed(3));
  ui.perClass.replaceChildren(
    el(
      'table',
      { class: 'perclass' },
      el('thead', {}, el('tr', {}, ...['class', 'images', 'precision', 'recall', 'F1'].map((h) => el('th', {}, h)))),
      el('tbody', {}, ...s.perClass.filter((c) => c.support || c.predicted).map((c) => el('tr', {}, el('td', {}, `${c.index} ${c.label}`), el('td', {}, String(c.support)), el('td', {}, f(c.precision)), el('td', {}, f(c.recall)), el('td', {}, f(c.f1))))),
    ),
  );
}

// ---- gallery -------------------------------------------------------------------------------

function columns(): number {
  return columnsFor(ui.viewport.clientWidth - GAP, TILE, GAP);
}

function thumbUrl(rel: string): string {
  return thumbBase + '/' + rel.split('/').map(encodeURIComponent).join('/');
}

let drawn = '';
function drawGallery(force: boolean): void {
  const list = state.visible();
  const cols = columns();
  const w = rowWindow(list.length, cols, ROW, ui.viewport.scrollTop, ui.viewport.clientHeight || 600);
  const key = `${w.first}-${w.end}-${cols}-${list.length}-${state.selected}`;
  ui.count.textContent = `${list.length} of ${state.size} images`;
  ui.export.textContent = `Export explanations (${list.length})`;
  (ui.export as HTMLButtonElement).disabled = list.length === 0;
  if (!force && key === drawn) return;
  drawn = key;
  ui.spacer.style.height = `${w.totalHeight}px`;
  const tiles: HTMLElement[] = [];
  for (let i = w.first; i < w.end; i++) tiles.push(tile(list[i], i, cols));
  ui.viewport.replaceChildren(ui.spacer, ...tiles);
  ui.viewport.dataset.first = String(w.first);
  ui.viewport.dataset.tiles = String(tiles.length);
}

function tile(r: ReviewResult, i: number, cols: number): HTMLElement {
  const wrong = r.truth !== null && r.truth !== r.predicted;
  const t = el(
    'div',
    {
      class: `tile${wrong ? ' wrong' : ''}${i === state.selected ? ' selected' : ''}`,
      role: 'gridcell',
      'aria-selected': String(i === state.selected),
      'data-testid': 'tile',
      'data-path': r.path,
      'data-mistake': String(wrong),
      title: `${r.path}\ntruth: ${name(r.truth)}\npredicted: ${name(r.predicted)} (${pct(r.prob)})${r.loss !== null ? `\nloss ${r.loss.toFixed(3)}, margin ${r.margin.toFixed(3)}` : ''}`,
    },
    el('img', { src: thumbUrl(r.path), alt: r.path, loading: 'lazy', decoding: 'async' }),
    el('div', { class: 'tile-pred' }, `${name(r.predicted)} ${pct(r.prob)}`),
    el('div', { class: 'tile-truth' }, wrong ? `truth: ${name(r.truth)}` : r.truth === null ? 'no truth' : '✓'),
  );
  t.style.left = `${GAP + (i % cols) * (TILE + GAP)}px`;
  t.style.top = `${Math.floor(i / cols) * ROW}px`;
  t.addEventListener('click', () => {
    state.selected = i;
    drawGallery(true);
    post({ type: 'open', path: r.path });
  });
  return t;
}

// ---- messages ------------------------------------------------------------------------------

function setRunning(on: boolean, done = 0, total = 0): void {
  ui.progress.hidden = !on;
  ui.cancel.hidden = !on;
  (ui.rerun as HTMLButtonElement).disabled = on;
  const fill = ui.progress.firstElementChild as HTMLElement;
  fill.style.width = `${total ? Math.round((100 * done) / total) : 0}%`;
  ui.progress.setAttribute('aria-valuemax', String(total || 1));
  ui.progress.setAttribute('aria-valuenow', String(done));
  document.body.dataset.running = String(on);
}

window.addEventListener('message', (ev: MessageEvent<HostToReview>) => {
  const m = ev.data;
  switch (m.type) {
    case 'start':
      thumbBase = m.thumbBase;
      setClasses(m.classes);
      state.reset([]);
      summary = undefined;
      failed = [];
      ui.status.textContent = `Scoring ${m.folder}…`;
      setRunning(true);
      drawSummary();
      drawMatrix();
      drawGallery(true);
      break;
    case 'progress':
      if (!classes.length) setClasses(m.summary.classes);
      state.add(m.results);
      failed.push(...m.failed);
      summary = m.summary;
      setRunning(true, m.done, m.total);
      ui.status.textContent = `Scoring: ${m.done} of ${m.total} images${m.cached ? ` (${m.cached} from the cache)` : ''}`;
      drawSummary();
      drawMatrix();
      drawGallery(true);
      break;
    case 'done':
      setClasses(m.doc.classes);
      state.reset(m.doc.results);
      summary = m.doc;
      failed = m.doc.failed;
      setRunning(false);
      ui.status.textContent = `${m.doc.root}: ${m.doc.images} images, accuracy ${pct(m.doc.accuracy)} (${m.seconds.toFixed(1)} s)`;
      document.body.dataset.done = 'true';
      drawSummary();
      drawMatrix();
      drawGallery(true);
      break;
    case 'stopped':
      setRunning(false);
      ui.status.textContent = m.message;
      break;
    case 'exported':
      ui.status.textContent = m.message;
      break;
  }
});

build();
post({ type: 'ready' });
