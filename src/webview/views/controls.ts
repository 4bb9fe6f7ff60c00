// The controls: layout and listeners, the view change (local redraw or a recompute by the
// host), keeping the controls in step with the view, and a new result's pickers, predictions
// and status line.
import type { LayerMap } from '../../engine/types';
import { baseLabel, FGCAM_BASES } from '../../engine/methods';
import { COLORMAPS } from '../../engine/image/colormap';
import type { DisplayImage, ResultPayload, ViewState } from '../protocol';
import { fixMap, toFloat32, toUint8 } from '../render';
import { el, labelled, ui } from '../dom';
import { actions, baseMaps, fileName, post, S, vscode } from '../state';
import { imageCache } from './draw';
import { render } from './heatmap';
import { renderFaithfulness } from './curves';
import { requestTable } from './methods';

export function build(): void {
  for (const b of FGCAM_BASES) ui.base.append(el('option', { value: b }, baseLabel(b)));
  for (const c of COLORMAPS) ui.colormap.append(el('option', { value: c }, c));
  const controls = el(
    'div',
    { class: 'controls' },
    labelled('Layer', ui.layer),
    labelled('Class', ui.klass),
    labelled('Compare with', ui.compareClass),
    labelled('Base', ui.base),
    el('label', { class: 'check' }, ui.denoise, ' Denoise'),
    labelled('Colormap', ui.colormap),
    labelled('Opacity', ui.opacity),
    el('label', { class: 'check' }, ui.sideBySide, ' Side by side'),
    el('label', { class: 'check', title: 'Deletion and insertion curves of the shown map, and a method comparison' }, ui.faithToggle, ' Faithfulness'),
    ui.exportBtn,
  );
  const statusBar = el('div', { class: 'statusbar' }, ui.status, ui.cancel);
  const figure = el('figure', { class: 'main-figure' }, ui.mapTitle, ui.canvas, ui.caption);
  ui.contrastFigure.append(ui.contrastTitle, ui.contrastCanvas, ui.contrastCaption);
  const side = el('aside', { class: 'side' }, el('h3', {}, 'Predictions'), ui.predictions);
  ui.error.append(el('span', { id: 'error-text' }), ' ', ui.retry);
  ui.content.append(ui.contrastHeading, figure, ui.contrastFigure, side);
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
  ui.compareClass.addEventListener('change', () => setView({ compareClass: ui.compareClass.value === '' ? undefined : Number(ui.compareClass.value) }, true));
  ui.exportBtn.addEventListener('click', () => post({ type: 'export' }));
  ui.cancel.addEventListener('click', () => post({ type: 'cancel' }));
  ui.retry.addEventListener('click', () => post({ type: 'retry' }));
  ui.faithToggle.addEventListener('change', () => setView({ faithfulness: ui.faithToggle.checked }, false));
  ui.compareMethods.addEventListener('click', () => requestTable());
  ui.methodsCancel.addEventListener('click', () => post({ type: 'cancel' }));
  // Theme switches change the CSS variables the plot was drawn with: redraw.
  new MutationObserver(() => renderFaithfulness()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

/** Applies a view change; `recompute` changes need the engine, the others only a redraw. */
function setView(patch: Partial<ViewState>, recompute: boolean): void {
  S.view = { ...S.view, ...patch };
  vscode.setState(S.view);
  post({ type: recompute ? 'recompute' : 'viewChanged', view: S.view });
  syncControls();
  if (!recompute) render();
}

export function syncControls(): void {
  if (S.result && [...ui.layer.options].some((o) => o.value === S.view.layer && !o.disabled)) ui.layer.value = S.view.layer;
  ui.base.value = S.view.base;
  ui.denoise.checked = S.view.denoise;
  if (S.result) ui.compareClass.value = S.view.compareClass === undefined ? '' : String(S.view.compareClass);
  ui.colormap.value = S.view.colormap;
  ui.opacity.value = String(S.view.opacity);
  ui.sideBySide.checked = S.view.sideBySide;
  ui.faithToggle.checked = !!S.view.faithfulness;
  ui.faithToggle.setAttribute('aria-expanded', String(!!S.view.faithfulness));
  ui.exportBtn.disabled = !S.result;
}

export function acceptResult(r: ResultPayload): void {
  const maps: Record<string, LayerMap> = {};
  for (const [k, m] of Object.entries(r.maps)) maps[k] = fixMap(m);
  const contrast = r.contrast && { ...r.contrast, maps: Object.fromEntries(Object.entries(r.contrast.maps).map(([k, m]) => [k, fixMap(m)])) };
  const img: DisplayImage = { ...r.image, data: toUint8(r.image.data) };
  if (S.result?.imagePath !== r.imagePath) baseMaps.clear();
  S.result = { ...r, maps, contrast, image: img, probs: toFloat32(r.probs) };
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
  const probs = S.result.probs;
  ui.klass.replaceChildren(...Array.from(probs, (p, i) => el('option', { value: String(i) }, `${i}: ${label(i)} (${(p * 100).toFixed(1)}%)`)));
  ui.klass.value = String(r.classIndex);
  ui.compareClass.replaceChildren(el('option', { value: '' }, 'none'), ...Array.from(probs, (p, i) => el('option', { value: String(i) }, `${i}: ${label(i)} (${(p * 100).toFixed(1)}%)`)));
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
  S.view = { ...S.view, base: r.base, denoise: r.denoise };
  if (!maps[S.view.layer]) S.view.layer = maps['input'] ? 'input' : r.camLayer;
  vscode.setState(S.view);
  syncControls();
  const ms = (t: Record<string, number>) => t.total ?? Object.values(t).reduce((a, b) => a + b, 0);
  const total = ms(r.timingsMs) + (contrast ? ms(contrast.timingsMs) : 0);
  const vs = contrast ? ` vs ${contrast.classIndex} (${label(contrast.classIndex)})` : '';
  ui.status.textContent = `${fileName(r.imagePath)} · class ${r.classIndex} (${label(r.classIndex)})${vs} · ${baseLabel(r.base)}${r.denoise ? ' + denoise' : ''} · backend ${r.backend} · ${Math.round(total)} ms`;
  ui.status.title = Object.entries(r.timingsMs).map(([k, v]) => `${k}: ${Math.round(v)} ms`).join('\n');
  render();
}

actions.setView = setView;
