// Side by side: FG-CAM next to the plain base CAM at the selected layer, then every layer of
// the walk as small tiles (a click shows that layer).
import { baseLabel } from '../../engine/methods';
import { baseMapKey } from '../protocol';
import { fitSize, fixMap } from '../render';
import { el, ui } from '../dom';
import { actions, baseMaps, post, S } from '../state';
import { drawMap } from './draw';

/** Side-by-side: FG-CAM next to the plain base CAM at the selected layer, then every layer of the walk. */
export function renderCompare(): void {
  ui.compare.hidden = !S.view.sideBySide || !S.result;
  if (ui.compare.hidden || !S.result) return;
  const r = S.result;
  const box = 200;
  const size = fitSize(r.image, box);
  const key = baseMapKey(r.base, r.classIndex, S.view.layer);
  const cached = baseMaps.get(key);
  if (!cached) {
    baseMaps.set(key, 'pending');
    post({ type: 'requestBaseMap', key, layer: S.view.layer });
  }
  const fg = el('canvas', { 'data-testid': 'compare-fgcam', role: 'img', 'aria-label': `FG-CAM at ${S.view.layer}` });
  drawMap(fg, r.maps[S.view.layer], size.width, size.height);
  const baseName = baseLabel(r.base);
  let baseFig: HTMLElement;
  if (cached && cached !== 'pending' && cached.map) {
    const c = el('canvas', { 'data-testid': 'compare-base', role: 'img', 'aria-label': `${baseName} at ${S.view.layer}` });
    drawMap(c, fixMap(cached.map), size.width, size.height);
    baseFig = el('figure', {}, c, el('figcaption', {}, `${baseName} at ${S.view.layer}`));
  } else {
    const text = cached && cached !== 'pending' ? `${baseName} unavailable: ${cached.error ?? 'no map for this layer'}` : `Computing ${baseName}…`;
    baseFig = el('figure', { class: 'placeholder', 'data-testid': 'compare-base-pending' }, el('div', { class: 'placeholder-box' }, text));
  }
  const pair = el('div', { class: 'pair' }, el('figure', {}, fg, el('figcaption', {}, `FG-CAM at ${S.view.layer}`)), baseFig);

  const small = fitSize(r.image, 120);
  const grid = el('div', { class: 'grid', 'data-testid': 'layer-grid' });
  for (const l of r.layers) {
    const m = r.maps[l.name];
    if (!m) continue;
    const c = el('canvas', { role: 'img', 'aria-label': `FG-CAM at ${l.name}` });
    drawMap(c, m, small.width, small.height);
    const b = el('button', { class: l.name === S.view.layer ? 'tile selected' : 'tile', title: `Show ${l.name}`, 'data-layer': l.name }, c, el('span', {}, `${l.name} ${m.height}×${m.width}`));
    b.addEventListener('click', () => actions.setView({ layer: l.name }, false));
    grid.append(b);
  }
  ui.compare.replaceChildren(el('h3', {}, `FG-CAM vs ${baseName}`), pair, el('h3', {}, 'Every layer of the walk'), grid);
}
