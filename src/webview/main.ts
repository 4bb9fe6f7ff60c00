// The panel's browser code: builds the controls, renders maps on canvases, and talks to the
// host by the typed messages of protocol.ts. Layer, colormap, opacity and side-by-side are
// local (instant, from the cached walk); class, denoise and base ask the host to recompute.
// State: state.ts; elements: dom.ts; one module per view under views/. This file dispatches
// the host's messages.
import type { HostToWebview, ViewState } from './protocol';
import { ui } from './dom';
import { baseMaps, DEFAULT_VIEW, faith, fileName, post, S, tables, vscode } from './state';
import { acceptResult, build, syncControls } from './views/controls';
import { render } from './views/heatmap';
import { renderCompare } from './views/compare';
import { acceptFaithfulness } from './views/curves';
import { renderMethods } from './views/methods';

function visualKey(v: ViewState): string {
  return `${v.layer}|${v.colormap}|${v.opacity}|${v.sideBySide}|${!!v.faithfulness}`;
}

function setRunning(on: boolean, text?: string): void {
  S.running = on;
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
      const before = visualKey(S.view);
      S.view = { ...DEFAULT_VIEW, ...m.view };
      vscode.setState(S.view);
      syncControls();
      // Redraw only for visual changes: an unneeded render would bump data-rendered with old data.
      if (visualKey(S.view) !== before) render();
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
      S.view = { ...DEFAULT_VIEW, ...m.view };
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
      if (S.tableRun) S.tableRun = { ...S.tableRun, key: m.key, done: m.done, total: m.total, what: m.what };
      renderMethods();
      break;
    case 'methodsTable':
      S.tableRun = undefined;
      if (m.table) tables.set(m.key, m.table);
      else S.tableError = { key: m.key, message: m.cancelled ? 'Comparison cancelled.' : `Comparison failed: ${m.error ?? 'unknown error'}` };
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
