// `fgcam demo`: the bundled fashion-vgg model reviews the bundled labelled folder
// (samples/fashion-review: accuracy, the worst mistakes, a report in <out>/review), then
// explains the bundled samples at the input and at every max-pooling layer, heatmap +
// overlay next to copies of the samples.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from './root';
import { runExplain } from './run';
import type { BackendPreference } from '../app/options';
import { fgcamId } from '../engine/methods';
import { reviewFolder } from './predict';
import { print } from './print';

/** Marks a folder as the demo's own, so a re-run may replace what an earlier run wrote. */
const MARKER = '.fgcam-demo';

/** The sample images samples/samples.json lists (not whatever else lies in the folder). */
function bundledSamples(dir: string): string[] {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'samples.json'), 'utf8')) as Array<{ file?: unknown }>;
    return meta.map((m) => m.file).filter((f): f is string => typeof f === 'string' && path.basename(f) === f && fs.existsSync(path.join(dir, f)));
  } catch {
    return [];
  }
}

export async function runDemo(opts: { out?: string; force: boolean; json: boolean; backend: BackendPreference }): Promise<number> {
  const root = packageRoot();
  const model = path.join(root, 'models', 'fashion-vgg', 'model.json');
  const labels = path.join(root, 'models', 'fashion-vgg', 'labels.json');
  const samplesDir = path.join(root, 'samples');
  if (!fs.existsSync(model)) {
    print(`fgcam demo: the bundled model is missing (${model}); reinstall the package.\n`, process.stderr);
    return 1;
  }
  const samples = bundledSamples(samplesDir);
  if (samples.length === 0) {
    print(`fgcam demo: no sample images in ${samplesDir}; reinstall the package.\n`, process.stderr);
    return 1;
  }
  const out = path.resolve(opts.out ?? 'fgcam-demo-output');
  const ours = fs.existsSync(path.join(out, MARKER));
  if (!ours && fs.existsSync(out) && fs.readdirSync(out).length > 0 && !opts.force) {
    print(`fgcam demo: ${out} exists and is not empty; pass --out <new folder> or --force.\n`, process.stderr);
    return 1;
  }
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, MARKER), 'Written by `fgcam demo`; a re-run replaces the files in this folder.\n');
  const say = opts.json ? process.stderr : process.stdout;
  const dataset = path.join(samplesDir, 'fashion-review');
  if (fs.existsSync(dataset)) {
    print(`fgcam demo: reviewing the labelled folder ${dataset} (one class per folder)\n`, say);
    const reviewed = await reviewFolder(
      { mode: 'score', folder: dataset, model, labels: fs.existsSync(labels) ? labels : undefined, out: path.join(out, 'review'), batch: 64, force: false, json: false, backend: opts.backend },
      say,
    );
    if (reviewed !== 0) return reviewed;
    print(`fgcam demo: the review is in ${path.join(out, 'review', 'report.md')}; now explaining single images\n`, say);
  }
  const copies = samples.map((f) => {
    const dest = path.join(out, f);
    fs.copyFileSync(path.join(samplesDir, f), dest);
    return dest;
  });
  print(`fgcam demo: ${copies.length} samples copied to ${out}\n`, say);
  const code = await runExplain(
    {
      inputs: copies,
      model,
      methods: [fgcamId('gradcam', false)],
      base: 'gradcam',
      denoise: false,
      labels: fs.existsSync(labels) ? labels : undefined,
      raw: false,
      overlay: true,
      colormap: 'jet',
      opacity: 0.5,
      force: true, // our own folder (marker checked above)
      json: opts.json,
      backend: opts.backend,
    },
    {
      printTop: 3,
      listFiles: false,
      pickLayers: (layers) => ['input', ...layers.filter((l) => l.className === 'MaxPooling2D').map((l) => l.name)],
    },
  );
  print(`fgcam demo: outputs are in ${out}\n`, say);
  return code;
}
