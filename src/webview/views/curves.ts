// The Faithfulness view: the deletion / insertion curves of the shown map (asked from the host
// after a pause, cached per view), their areas and AD / IC, then the method comparison.
import { baseLabel } from '../../engine/methods';
import { faithfulnessKey, type FaithfulnessReply } from '../protocol';
import { aucText, drawCurves } from '../faithfulness';
import { toFloat32 } from '../render';
import { ui } from '../dom';
import { FAITH_DEBOUNCE_MS, faith, labelOf, post, S } from '../state';
import { renderMethods } from './methods';

export function currentFaithKey(): string | undefined {
  if (!S.result || !S.result.maps[S.view.layer]) return undefined;
  return faithfulnessKey(S.result.imagePath, S.result.base, S.result.denoise, S.result.classIndex, S.view.layer);
}

/** Shows the current view's curves (from the cache, else asks the host after a pause). */
export function renderFaithfulness(): void {
  ui.faith.hidden = !S.view.faithfulness || !S.result || ui.content.hidden;
  if (ui.faith.hidden || !S.result) return;
  const key = currentFaithKey();
  // An error is shown for its view only while it stays the current one; coming back retries.
  if (S.faithError && S.faithError.key !== key) S.faithError = undefined;
  const mode = `FG-CAM (${baseLabel(S.result.base)}${S.result.denoise ? ', denoised' : ''})`;
  ui.faithTitle.textContent = `Faithfulness of ${mode} at ${S.view.layer}, class ${S.result.classIndex} (${labelOf(S.result.classIndex)})`;
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
    if (!key) ui.faithAuc.textContent = `FG-CAM has no map at ${S.view.layer}.`;
    else if (S.faithError?.key === key) {
      ui.faithAuc.textContent = `Could not score this view: ${S.faithError.message}`;
      ui.faithAuc.classList.add('error-text');
    } else {
      ui.faithAuc.textContent = 'Computing the deletion and insertion curves…';
      ui.faithAuc.classList.remove('error-text');
      if (!got && !S.running) scheduleFaithfulness();
    }
  }
  renderMethods();
}

function scheduleFaithfulness(): void {
  if (S.faithTimer) clearTimeout(S.faithTimer);
  S.faithTimer = setTimeout(() => {
    S.faithTimer = undefined;
    const key = currentFaithKey();
    if (!S.view.faithfulness || !key || faith.has(key) || S.running) return;
    faith.set(key, 'pending');
    S.faithError = undefined;
    post({ type: 'requestFaithfulness', key, layer: S.view.layer });
  }, FAITH_DEBOUNCE_MS);
}

export function acceptFaithfulness(key: string, r: FaithfulnessReply | undefined, error: string | undefined): void {
  if (r) {
    faith.set(key, { ...r, deletion: toFloat32(r.deletion), insertion: toFloat32(r.insertion) });
    if (S.faithError?.key === key) S.faithError = undefined;
  } else {
    faith.delete(key);
    S.faithError = { key, message: error ?? 'unknown error' };
  }
  if (key === currentFaithKey()) renderFaithfulness();
}
