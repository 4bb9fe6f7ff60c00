// Export Explanation (the panel's current view) and Export Folder (every image in a folder).
// Files land next to each image, named as the CLI names them (app/files.ts outputName),
// written atomically (writeFileAtomic: temp file + link/rename), never overwritten without a
// modal Overwrite / Skip / Cancel. Cancelling stops between files: nothing half-written remains.
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fgcamTag, outputName, outputStems, writeFileAtomic } from '../app/files';
import { imagesInFolder } from '../app/images';
import type { EngineClient } from '../app/engineClient';
import type { RenderReply, ModelSpec } from '../app/protocol';
import type { Settings } from './settings';
import type { PanelController } from './panel';

export type OverwritePolicy = 'overwrite' | 'skip';

export interface ExportResult {
  written: string[];
  skipped: string[];
  failed: { file: string; error: string }[];
  cancelled: boolean;
}

const emptyResult = (): ExportResult => ({ written: [], skipped: [], failed: [], cancelled: false });

/** Modal question when some targets exist. undefined = Cancel. */
async function askOverwrite(existing: string[]): Promise<OverwritePolicy | undefined> {
  if (existing.length === 0) return 'skip';
  const names = existing.slice(0, 4).map((f) => path.basename(f)).join(', ') + (existing.length > 4 ? `, … (${existing.length} in all)` : '');
  const overwrite: vscode.MessageItem = { title: 'Overwrite' };
  const skip: vscode.MessageItem = { title: 'Skip' };
  const cancel: vscode.MessageItem = { title: 'Cancel', isCloseAffordance: true };
  const pick = await vscode.window.showWarningMessage(
    `${existing.length === 1 ? 'This file already exists' : `${existing.length} files already exist`}: ${names}. Overwrite?`,
    { modal: true, detail: 'Skip keeps the existing files and writes only the new ones.' },
    overwrite,
    skip,
    cancel,
  );
  return pick === overwrite ? 'overwrite' : pick === skip ? 'skip' : undefined;
}

/** Writes the heatmap and overlay of one render; existing targets follow `policy`. */
async function writeRender(imagePath: string, r: RenderReply, base: Settings['base'], denoise: boolean, policy: OverwritePolicy, out: ExportResult, stem?: string): Promise<void> {
  const files: [string, Uint8Array][] = [
    [outputName(imagePath, fgcamTag(base, denoise), r.layer, 'heatmap', undefined, stem), r.heatmap],
    [outputName(imagePath, fgcamTag(base, denoise), r.layer, 'overlay', undefined, stem), r.overlay],
  ];
  for (const [file, data] of files) {
    try {
      await writeFileAtomic(file, data, { overwrite: policy === 'overwrite' });
      out.written.push(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') out.skipped.push(file);
      else out.failed.push({ file, error: String((e as Error).message) });
    }
  }
}

export async function exportExplanation(panel: PanelController | undefined, engine: EngineClient, log: (s: string) => void): Promise<ExportResult | undefined> {
  const cur = panel?.currentExport();
  if (!panel || !cur) {
    void vscode.window.showWarningMessage('FG-CAM: nothing to export yet. Explain an image first (FG-CAM: Explain Image).');
    return undefined;
  }
  const { imagePath, map, view } = cur;
  const targets = (['heatmap', 'overlay'] as const).map((k) => outputName(imagePath, fgcamTag(view.base, view.denoise), map.layer, k));
  const policy = await askOverwrite(targets.filter((f) => fs.existsSync(f)));
  if (!policy) return { ...emptyResult(), cancelled: true };
  const result = emptyResult();
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `FG-CAM: exporting ${path.basename(imagePath)}`, cancellable: true },
    async (_p, token) => {
      const r = await engine.render(imagePath, map, view.colormap, view.opacity);
      // Cancel before writing: nothing is written at all.
      if (token.isCancellationRequested) {
        result.cancelled = true;
        return;
      }
      await writeRender(imagePath, r, view.base, view.denoise, policy, result);
    },
  );
  report(result, log, `Exported ${path.basename(imagePath)}`);
  panel.notifyExported(result.written);
  return result;
}

export async function exportFolder(folder: string, model: ModelSpec, s: Settings, engine: EngineClient, log: (s: string) => void): Promise<ExportResult | undefined> {
  const images = imagesInFolder(folder);
  if (images.length === 0) {
    void vscode.window.showInformationMessage(`FG-CAM: no images (png, jpg, jpeg, bmp) in ${folder}.`);
    return undefined;
  }
  return exportImages(images, path.basename(folder), model, s, engine, log);
}

/** Explains and writes every image of `images` (Export Folder, and the review panel's selection). */
export async function exportImages(images: string[], label: string, model: ModelSpec, s: Settings, engine: EngineClient, log: (s: string) => void): Promise<ExportResult | undefined> {
  // Names use the configured layer; a model without that layer falls back to "input" (checked at write time).
  // Images sharing a stem (x.png, x.jpg) keep their extensions, as in the CLI.
  const stems = outputStems(images);
  const existing = images.flatMap((img) => (['heatmap', 'overlay'] as const).map((k) => outputName(img, fgcamTag(s.base, s.denoise), s.layer, k, undefined, stems.get(img)))).filter((f) => fs.existsSync(f));
  const policy = await askOverwrite(existing);
  if (!policy) return { ...emptyResult(), cancelled: true };
  const result = emptyResult();
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `FG-CAM: exporting ${label}`, cancellable: true },
    async (progress, token) => {
      // Terminating the worker is the only way to stop a running explanation.
      const sub = token.onCancellationRequested(() => engine.cancel('Export cancelled.'));
      try {
        for (const [i, img] of images.entries()) {
          if (token.isCancellationRequested) break;
          progress.report({ message: `${i + 1}/${images.length}: ${path.basename(img)}`, increment: 100 / images.length });
          const job = { imagePath: img, model, options: { base: s.base, denoise: s.denoise, scoreBatch: s.scoreBatch } };
          try {
            const r = await engine.explainAndRender(job, s.layer, s.colormap, s.opacity);
            if (token.isCancellationRequested) break;
            await writeRender(img, r, s.base, s.denoise, policy, result, stems.get(img));
          } catch (e) {
            if (token.isCancellationRequested) break;
            result.failed.push({ file: img, error: String((e as Error).message) });
            log(`export failed for ${img}: ${(e as Error).message}`);
            // A missing or broken model fails every image the same way: stop at the first.
            if ((e as { kind?: string }).kind === 'model' || (e as { kind?: string }).kind === 'model-not-found') throw e;
          }
        }
      } finally {
        sub.dispose();
        result.cancelled = token.isCancellationRequested;
      }
    },
  );
  report(result, log, `Exported ${label}`);
  return result;
}

function report(r: ExportResult, log: (s: string) => void, what: string): void {
  for (const f of r.written) log(`wrote ${f}`);
  for (const f of r.skipped) log(`skipped existing ${f}`);
  const parts = [`${r.written.length} file${r.written.length === 1 ? '' : 's'} written`];
  if (r.skipped.length) parts.push(`${r.skipped.length} skipped (already exist)`);
  if (r.failed.length) parts.push(`${r.failed.length} failed`);
  const msg = `FG-CAM: ${what}${r.cancelled ? ' (cancelled)' : ''}: ${parts.join(', ')}.`;
  if (r.failed.length) {
    void vscode.window.showWarningMessage(msg, 'Show Log').then((a) => a && vscode.commands.executeCommand('fgcam.showLog'));
  } else {
    void vscode.window.showInformationMessage(msg);
  }
}
