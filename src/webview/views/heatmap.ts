// The main view: the selected layer's map over the image, its caption, and the hooks the UI
// tests read (data-rendered and friends); beside it, for a "why X and not Y" view, the compare
// class's map at the same layer, both titled; then the views that follow the layer.
import type { LayerMap } from '../../engine/types';
import { classTitle } from '../protocol';
import { displaySize } from '../render';
import { ui } from '../dom';
import { labelOf, S } from '../state';
import { drawMap } from './draw';
import { renderCompare } from './compare';
import { renderFaithfulness } from './curves';

export function render(): void {
  if (!S.result) return;
  const map = S.result.maps[S.view.layer];
  if (!map) return;
  const size = displaySize(S.result.image);
  drawMap(ui.canvas, map, size.width, size.height);
  ui.caption.textContent = caption(map);
  // Hooks for UI tests: a new counter value means a finished render of this layer/denoise.
  S.renderCount++;
  ui.canvas.dataset.layer = S.view.layer;
  ui.canvas.dataset.denoise = String(S.result.denoise);
  ui.canvas.dataset.base = S.result.base;
  ui.canvas.dataset.classIndex = String(S.result.classIndex);
  ui.canvas.dataset.colormap = S.view.colormap;
  ui.canvas.dataset.opacity = String(S.view.opacity);
  ui.canvas.dataset.rendered = String(S.renderCount);
  renderContrast(size);
  renderCompare();
  renderFaithfulness();
}

function caption(map: LayerMap): string {
  // An all-zero (or all-negative) map colours uniformly: say so rather than look broken.
  const empty = !map.raw.some((v) => v > 0);
  return `FG-CAM at ${S.view.layer} (${map.height}×${map.width} map)${empty ? ' — empty map: no positive relevance at this layer' : ''}`;
}

/** The compare class's map beside the main one, at the same layer, with both titles; hidden without one. */
function renderContrast(size: { width: number; height: number }): void {
  const r = S.result!;
  const c = r.contrast;
  const map = c?.maps[S.view.layer];
  const on = !!(c && map);
  ui.contrastFigure.hidden = !on;
  ui.contrastHeading.hidden = !on;
  ui.mapTitle.hidden = !on;
  if (!c || !map) return;
  const title = (k: number) => classTitle(k, r.probs, r.labels, S.view.trueClass);
  ui.mapTitle.textContent = title(r.classIndex);
  ui.contrastTitle.textContent = title(c.classIndex);
  ui.contrastHeading.textContent = `Why ${labelOf(r.classIndex)} and not ${labelOf(c.classIndex)}? Both explained at ${S.view.layer}`;
  drawMap(ui.contrastCanvas, map, size.width, size.height);
  ui.contrastCaption.textContent = caption(map);
  ui.contrastCanvas.dataset.layer = S.view.layer;
  ui.contrastCanvas.dataset.denoise = String(r.denoise);
  ui.contrastCanvas.dataset.classIndex = String(c.classIndex);
  ui.contrastCanvas.dataset.rendered = String(S.renderCount);
}
