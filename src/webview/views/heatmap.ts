// The main view: the selected layer's map over the image, its caption, and the hooks the UI
// tests read (data-rendered and friends); then the views that follow the layer.
import { displaySize } from '../render';
import { ui } from '../dom';
import { S } from '../state';
import { drawMap } from './draw';
import { renderCompare } from './compare';
import { renderFaithfulness } from './curves';

export function render(): void {
  if (!S.result) return;
  const map = S.result.maps[S.view.layer];
  if (!map) return;
  const size = displaySize(S.result.image);
  drawMap(ui.canvas, map, size.width, size.height);
  // An all-zero (or all-negative) map colours uniformly: say so rather than look broken.
  const empty = !map.raw.some((v) => v > 0);
  ui.caption.textContent = `FG-CAM at ${S.view.layer} (${map.height}×${map.width} map)${empty ? ' — empty map: no positive relevance at this layer' : ''}`;
  // Hooks for UI tests: a new counter value means a finished render of this layer/denoise.
  S.renderCount++;
  ui.canvas.dataset.layer = S.view.layer;
  ui.canvas.dataset.denoise = String(S.result.denoise);
  ui.canvas.dataset.base = S.result.base;
  ui.canvas.dataset.classIndex = String(S.result.classIndex);
  ui.canvas.dataset.colormap = S.view.colormap;
  ui.canvas.dataset.opacity = String(S.view.opacity);
  ui.canvas.dataset.rendered = String(S.renderCount);
  renderCompare();
  renderFaithfulness();
}
