// The method comparison: one table per image, class and layer, asked for by the user (one at
// a time, with progress), best value per column highlighted.
import { methodLabel } from '../../engine/methods';
import { methodsKey } from '../protocol';
import { methodsTable } from '../faithfulness';
import { ui } from '../dom';
import { labelOf, post, S, tables } from '../state';

function currentTableKey(): string | undefined {
  return S.result ? methodsKey(S.result.imagePath, S.result.classIndex, S.view.layer) : undefined;
}

export function requestTable(): void {
  const key = currentTableKey();
  if (!key || S.tableRun) return;
  if (tables.has(key)) return renderMethods();
  S.tableRun = { key, layer: S.view.layer, done: 0, total: 0, what: '' };
  S.tableError = undefined;
  post({ type: 'compareMethods', key, layer: S.view.layer });
  renderMethods();
}

export function renderMethods(): void {
  const key = currentTableKey();
  const run = S.tableRun;
  ui.compareMethods.disabled = !!run || !S.result;
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
  } else if (S.tableError && S.tableError.key === key) {
    ui.methodsStatus.textContent = S.tableError.message;
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
