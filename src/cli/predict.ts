// `fgcam predict <folder>`: the dataset review on the command line (app/dataset does the
// work): scores every image under the folder, compares with the truth, writes the report
// files, prints a summary (or the whole document with --json). Ctrl-C stops after the batch
// in flight; a re-run resumes from the cache. `--merge DIR...` combines shard outputs.
import * as path from 'node:path';
import type { Preprocess } from '../engine/types';
import { BACKENDS, parseInputSize, PRESET_NAMES, type BackendPreference } from '../app/options';
import { parseShard, type Shard } from '../app/dataset/shard';
import { defaultOutputFolder, prepareOutputFolder } from '../app/dataset/outdir';
import type { ReviewDocument } from '../app/dataset/review';
import { labelsBesideModel, loadLabels } from '../app/labels';
import { backendOption, oneOf, parse, positiveInt, preprocessOption, UsageError } from './args';
import { Progress } from './progress';
import { print, printableJson } from './print';

export const PREDICT_USAGE = `Usage: fgcam predict <folder> --model <model> [options]
       fgcam predict --merge <dir>... [--out <dir>] [--json] [--force]

Reviews a labelled dataset: runs the model over every PNG/JPEG/BMP under <folder> (recursively,
in batches) and compares with the truth. Truth: the image's parent folder is its class (a folder
name matches a label ignoring case and non-alphanumeric characters, or is the class index), or
--truth. Writes predictions.csv, report.md (accuracy, top-5, per-class precision/recall/F1, the
most confused pairs and most confident mistakes), confusion.png and review.json into --out.

  --model <file>        TF.js layers model.json or .onnx (required)
  --labels <file>       class names (default: labels.json / labels.txt next to the model)
  --truth <file.csv>    path,label rows (header optional; paths relative to <folder>) instead
                        of the class folders
  --out <dir>           output folder (default: <folder>.fgcam-review next to the dataset;
                        with --shard, <folder>.fgcam-review/shard-K-of-N)
  --batch <n>           images per forward pass (default 32)
  --shard K/N           score only the K-th (0-based) of N slices of the sorted file list
  --merge <dir>...      combine the outputs of all N shards into one review (default --out:
                        the folder the shard outputs are in)
  --preprocess <p>      ${PRESET_NAMES.join(' | ')} (default: the model's, else imagenet)
  --mean a,b,c / --std a,b,c   per-channel normalisation on the 0..1 scale
  --input-size HxW      input size for models without a fixed one
  --force               write into a folder whose report files were not written by a review
  --json                print the review as one JSON document on stdout
  --backend <b>         auto | wasm | cpu | node (default: auto)
  -h, --help            show this help

Re-runs resume: results are cached in <out>/cache.jsonl by file size, mtime and model.
Exit codes: 0 all good, 1 some image could not be read (the review is still written and lists
them; --merge: 1 only when it could not merge) or the review could not run, 2 usage error,
130 interrupted (what was done is cached).`;

export type PredictArgs =
  | { help: true }
  | {
      mode: 'score';
      folder: string;
      model: string;
      labels?: string;
      truth?: string;
      out?: string;
      batch: number;
      shard?: Shard;
      preprocess?: Preprocess;
      inputSize?: [number, number];
      force: boolean;
      json: boolean;
      backend: BackendPreference;
    }
  | { mode: 'merge'; dirs: string[]; out?: string; force: boolean; json: boolean };

export function parsePredict(argv: string[]): PredictArgs {
  const u = PREDICT_USAGE;
  const { values: v, positionals } = parse(
    argv,
    {
      model: { type: 'string' },
      labels: { type: 'string' },
      truth: { type: 'string' },
      out: { type: 'string' },
      batch: { type: 'string' },
      shard: { type: 'string' },
      merge: { type: 'boolean' },
      preprocess: { type: 'string' },
      mean: { type: 'string' },
      std: { type: 'string' },
      'input-size': { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      backend: { type: 'string' },
    },
    u,
  );
  if (v.help) return { help: true };
  const str = (k: string) => v[k] as string | undefined;
  if (v.merge) {
    if (!positionals.length) throw new UsageError('--merge needs the shard output folders', u);
    for (const k of ['model', 'truth', 'shard', 'batch', 'labels']) if (v[k] !== undefined) throw new UsageError(`--${k} does not apply to --merge`, u);
    return { mode: 'merge', dirs: positionals, out: str('out'), force: Boolean(v.force), json: Boolean(v.json) };
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `give one dataset folder (got ${positionals.length} arguments)` : 'no dataset folder given', u);
  const model = str('model');
  if (!model) throw new UsageError('--model <model.json|model.onnx> is required', u);
  const batch = positiveInt('--batch', str('batch'), 32, u);
  let shard: Shard | undefined;
  let inputSize: [number, number] | undefined;
  try {
    if (str('shard') !== undefined) shard = parseShard(str('shard')!);
    inputSize = parseInputSize(str('input-size'));
  } catch (e) {
    throw new UsageError((e as Error).message, u);
  }
  return {
    mode: 'score',
    folder: positionals[0],
    model,
    labels: str('labels'),
    truth: str('truth'),
    out: str('out'),
    batch,
    shard,
    preprocess: preprocessOption(str('preprocess'), str('mean'), str('std'), u),
    inputSize,
    force: Boolean(v.force),
    json: Boolean(v.json),
    backend: backendOption(str('backend'), u),
  };
}

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));
const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);

/** The human summary: accuracy, failures, unmatched folders, the worst mistakes. */
export function summaryLines(doc: ReviewDocument, worst = 5): string[] {
  const name = (i: number) => doc.classes[i] ?? String(i);
  const lines = [
    `${doc.images} images scored, ${doc.labelled} with truth: accuracy ${pct(doc.accuracy)} (${doc.correct}/${doc.labelled}), top-5 ${pct(doc.top5)}; ${doc.failed.length} unreadable`,
  ];
  for (const u of doc.unmatched) lines.push(`  not counted: ${u.name === '.' ? 'top-level images' : `"${u.name}"`} (${u.images} image${u.images === 1 ? '' : 's'}) ${u.why}`);
  if (doc.missing.length) lines.push(`  ${doc.missing.length} path${doc.missing.length === 1 ? '' : 's'} of the truth file are not in the folder (see report.md)`);
  for (const f of doc.failed) lines.push(`  unreadable: ${f.error}`);
  if (doc.confusedPairs.length) {
    lines.push(`most confused: ${doc.confusedPairs.slice(0, 3).map((p) => `${name(p.truth)} -> ${name(p.predicted)} (${p.count})`).join(', ')}`);
  }
  if (doc.confidentMistakes.length) lines.push('most confident mistakes:');
  for (const r of doc.confidentMistakes.slice(0, worst)) {
    lines.push(`  ${r.path}: ${name(r.truth!)} predicted as ${name(r.predicted)} (p=${r.prob.toFixed(3)}, p(true)=${(r.pTruth ?? 0).toFixed(3)})`);
  }
  return lines;
}

/** Resolves the class names: the file given, else next to the model, else the indices. */
function classNames(file: string | undefined, model: string, count: number, warn: (s: string) => void): string[] {
  const f = file ?? labelsBesideModel(model);
  const indices = Array.from({ length: count }, (_, i) => String(i));
  if (!f) {
    warn(`fgcam: note: no labels file (--labels, or labels.json next to the model): classes are named by index`);
    return indices;
  }
  const labels = loadLabels(f, { classes: count, warn });
  if (labels.length !== count) warn(`fgcam: warning: ${f} has ${labels.length} labels; the model has ${count} classes`);
  return indices.map((i, k) => labels[k] ?? i);
}

async function runMerge(a: Extract<PredictArgs, { mode: 'merge' }>, out: NodeJS.WriteStream): Promise<number> {
  const { readReview } = await import('../app/dataset/document');
  const { mergeReviews } = await import('../app/dataset/merge');
  const { writeReview } = await import('../app/dataset/writers');
  const dirs = a.dirs.map((d) => path.resolve(d));
  const parents = [...new Set(dirs.map((d) => path.dirname(d)))];
  if (!a.out && parents.length > 1) throw new UsageError('the shard folders are in different places: give --out <dir> for the merged review', PREDICT_USAGE);
  const dest = path.resolve(a.out ?? parents[0]);
  let doc: ReviewDocument;
  try {
    doc = mergeReviews(dirs.map((dir) => ({ dir, doc: readReview(dir) })));
    prepareOutputFolder(dest, a.force);
  } catch (e) {
    print(`fgcam: error: ${msg(e)}\n`, process.stderr);
    return 1;
  }
  const written = await writeReview(dest, doc);
  if (a.json) process.stdout.write(printableJson(doc, 0) + '\n');
  for (const l of [`fgcam predict: merged ${dirs.length} shard outputs`, ...summaryLines(doc), `wrote ${written.join(', ')}`]) print(l + '\n', out);
  return 0;
}

export async function runPredict(argv: string[]): Promise<number> {
  const a = parsePredict(argv);
  if ('help' in a) {
    process.stdout.write(PREDICT_USAGE + '\n');
    return 0;
  }
  const out = a.json ? process.stderr : process.stdout;
  return a.mode === 'merge' ? runMerge(a, out) : reviewFolder(a, out);
}

/** Scores one folder (or shard) and reports; also the first half of `fgcam demo`. */
export async function reviewFolder(a: Extract<PredictArgs, { mode: 'score' }>, out: NodeJS.WriteStream): Promise<number> {
  const warn = (s: string) => print(s + '\n', process.stderr);
  // Loaded lazily so --help and usage errors never pay for the engine's start-up.
  const { startBackend, warningsToShow } = await import('../app/backend');
  const { ModelSession } = await import('../app/session');
  const { reviewDataset } = await import('../app/dataset/review');

  const backend = await startBackend(a.backend);
  for (const w of warningsToShow(a.backend, backend)) warn(`fgcam: warning: ${w}`);
  const fail = (m: string) => {
    warn(`fgcam: error: ${m}`);
    return 1;
  };
  let session;
  try {
    session = await ModelSession.open(a.model, { inputSize: a.inputSize });
  } catch (e) {
    return fail(`cannot load the model ${a.model}: ${msg(e)}`);
  }
  const graph = session.graph;
  let classes: string[];
  try {
    if (!session.numClasses) throw new Error(`the model ${a.model} has no class axis in its output`);
    classes = classNames(a.labels, a.model, session.numClasses, warn);
  } catch (e) {
    session.dispose();
    return fail(msg(e));
  }
  const preprocess = session.preprocess(a.preprocess).pre;
  const outDir = path.resolve(a.out ?? defaultOutputFolder(a.folder, a.shard));

  // Ctrl-C: stop after the batch in flight (the cache keeps it); a second one quits at once.
  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
    warn('\nfgcam: interrupted: finishing the batch in flight (Ctrl-C again to quit now)');
  };
  process.on('SIGINT', onSigint);
  let progress: Progress | undefined;
  try {
    const run = await reviewDataset({
      root: a.folder,
      graph,
      modelPath: a.model,
      labels: classes,
      preprocess,
      batch: a.batch,
      truthCsv: a.truth,
      shard: a.shard,
      outDir,
      force: a.force,
      signal: stop.signal,
      onStart: ({ files, cached }) => {
        warn(`fgcam predict: ${files.length} images under ${path.resolve(a.folder)}${a.shard ? ` (shard ${a.shard.index}/${a.shard.count})` : ''}; ` +
          `model ${a.model} (input ${graph.inputShape.join('x')}, ${classes.length} classes); backend ${backend.name}; batch ${a.batch}` +
          `${cached ? `; ${cached} cached results in ${outDir}` : ''}`);
        progress = new Progress(files.length, files.length > 0);
      },
      onProgress: (p) => progress?.set(p.done, p.cached ? `(${p.cached} from the cache)` : ''),
    });
    progress?.end();
    if (run.cancelled) {
      const n = run.doc.images + run.doc.failed.length;
      warn(`fgcam: stopped after ${n} images; their results are cached in ${outDir}: run the same command again to resume`);
      return 130;
    }
    if (a.json) process.stdout.write(printableJson(run.doc, 0) + '\n');
    const lines = [...summaryLines(run.doc), `${run.cached ? `${run.cached} results from the cache; ` : ''}wrote ${run.written.map((f) => path.basename(f)).join(', ')} in ${outDir}`];
    for (const l of lines) print(l + '\n', out);
    // As `fgcam explain` does when a file failed: the run is not all good, whatever it wrote.
    const n = run.doc.failed.length;
    if (n) warn(`fgcam predict: ${n} image${n === 1 ? '' : 's'} could not be read (listed above and in report.md): exit code 1`);
    return n ? 1 : 0;
  } catch (e) {
    progress?.end();
    return fail(msg(e));
  } finally {
    process.off('SIGINT', onSigint);
    session.dispose();
  }
}
