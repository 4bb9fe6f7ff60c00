// The `fgcam` argument parser: node:util parseArgs plus our validation. Flag names follow
// the extension's settings (fgcam.modelPath ~ --model, fgcam.base ~ --base, fgcam.denoise
// ~ --denoise, fgcam.preprocess ~ --preprocess, fgcam.labelsPath ~ --labels,
// fgcam.colormap ~ --colormap, fgcam.backend ~ --backend).
import { parseArgs } from 'node:util';
import type { BaseMethod, Preprocess } from '../engine/types';
import { fgcamId, findMethod, FGCAM_BASES, methodNames } from '../engine/methods';
import { BACKENDS, COLORMAPS, parseInputSize, parsePreprocess, PRESET_NAMES, retiredBackend, type BackendPreference, type ColormapName } from '../app/options';

export const MAIN_USAGE = `Usage: fgcam <command> [options]

Commands:
  explain <image|folder>... --model <model.json|.onnx>   write FG-CAM heatmaps for images
  layers --model <model.json|.onnx>                      list the model's layers and shapes
  demo [--out <dir>]                               explain the bundled samples with the bundled model
  evaluate <folder> --model <model.json|.onnx>           deletion/insertion faithfulness of every method
  predict <folder> --model <model.json|.onnx>            review a labelled dataset: accuracy, confusions, mistakes

Options:
  -h, --help       show help (also: fgcam <command> --help)
  -V, --version    print the version

Exit codes: 0 all good, 1 some file failed, 2 usage error.`;

/** --method's choices for help and errors: the catalogue's own methods, FG-CAM's variants as a pattern. */
const METHOD_CHOICES = `fgcam, ${methodNames().filter((n) => !n.startsWith('fgcam-')).join(', ')}, fgcam-<base>[-denoised]`;

export const EXPLAIN_USAGE = `Usage: fgcam explain <image|folder>... --model <model.json|.onnx> [options]

Writes one heatmap at the image's size per image, method and layer, next to the image or in
--out: <stem>.fgcam-<base>[-denoised].<layer>.png for FG-CAM, <stem>.fgcam-baseline-<id>.<layer>.png
for any other method. Folders: their PNG/JPEG/BMP images (not recursive).

  --model <file>        TF.js layers model.json or .onnx (required)
  --method <id>         method to write, repeatable (default: fgcam, FG-CAM from --base):
                        ${METHOD_CHOICES}
  --layer <name>        layer to explain, repeatable; the model's layer names or "input"
                        (default: input, or the CAM layer for methods with no map at the input)
  --base <m>            ${FGCAM_BASES.join(' | ')}: the base CAM of --method fgcam (default: gradcam)
  --denoise             SVD-denoise the base CAM components (--method fgcam)
  --class <n>           target class index (default: the top-1 prediction)
  --cam-layer <name>    layer the base CAM is computed at (default: detected)
  --input-size HxW      input size for models without a fixed one (e.g. dynamic ONNX exports)
  --preprocess <p>      ${PRESET_NAMES.join(' | ')} (default: the model's, else imagenet)
  --mean a,b,c          per-channel mean on the 0..1 scale (overrides the preset)
  --std a,b,c           per-channel std on the 0..1 scale (overrides the preset)
  --labels <file>       class names: JSON array or one per line (default: labels.json or
                        labels.txt next to the model, if there)
  --out <dir>           output folder (created if missing; default: next to each image)
  --raw                 also write the layer's raw map as <name>.npy (float32 [h, w])
  --overlay             also write the image blended with the heatmap (<name>.overlay.png)
  --colormap <name>     ${COLORMAPS.join(' | ')} (default: jet)
  --opacity <a>         overlay heatmap opacity, 0..1 (default: 0.5)
  --force               overwrite existing output files
  --json                print one JSON document with all results to stdout
  --backend <b>         auto | native | wasm | cuda | directml | coreml (default: auto)
  -h, --help            show this help`;

export const LAYERS_USAGE = `Usage: fgcam layers --model <model.json|.onnx> [--json] [--backend auto|native|wasm]

Lists the model's layers in order with output shapes; "*" marks layers you can pass to --layer.`;

export const DEMO_USAGE = `Usage: fgcam demo [--out <dir>] [--force] [--backend auto|native|wasm]

Copies the bundled sample images to <dir> (default ./fgcam-demo-output) and explains them with
the bundled fashion-vgg model at the input and at every max-pooling layer.`;

export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string = MAIN_USAGE,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ExplainArgs {
  inputs: string[];
  model: string;
  /** Catalogue ids (engine/methods.ts), canonical; "fgcam" already resolved with base and denoise. */
  methods: string[];
  /** Undefined: each method's default (input, else the CAM layer). */
  layers?: string[];
  base: BaseMethod;
  denoise: boolean;
  classIndex?: number;
  camLayer?: string;
  /** For models whose input size is not fixed. */
  inputSize?: [number, number];
  /** Undefined when the user gave none: the model's default applies. */
  preprocess?: Preprocess;
  labels?: string;
  out?: string;
  raw: boolean;
  overlay: boolean;
  colormap: ColormapName;
  opacity: number;
  force: boolean;
  json: boolean;
  backend: BackendPreference;
}

export type Command =
  | { cmd: 'help'; text: string }
  | { cmd: 'version' }
  | { cmd: 'explain'; args: ExplainArgs }
  | { cmd: 'layers'; model: string; json: boolean; backend: BackendPreference }
  | { cmd: 'demo'; out?: string; force: boolean; json: boolean; backend: BackendPreference };

export { BACKENDS };

export function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[], usage: string): T {
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got "${v}")`, usage);
  return v as T;
}

/** --backend: one of BACKENDS; a removed tfjs-era name is a usage error that says what replaces it. */
export function backendOption(v: string | undefined, usage: string): BackendPreference {
  const retired = v === undefined ? undefined : retiredBackend(v);
  if (retired) throw new UsageError(`--${retired.message}`, usage);
  return oneOf('--backend', v ?? 'auto', BACKENDS, usage);
}

/** A positive integer option (`--batch 8`); `dflt` when it is not given. */
export function positiveInt(flag: string, s: string | undefined, dflt: number, usage: string): number {
  if (s === undefined) return dflt;
  if (!/^\d+$/.test(s) || Number(s) < 1) throw new UsageError(`${flag} must be a positive integer (got "${s}")`, usage);
  return Number(s);
}

type Spec = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

type Parsed = { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };

/** --preprocess / --mean / --std; undefined when none is given (the model's default applies). */
export function preprocessOption(preset: string | undefined, mean: string | undefined, std: string | undefined, usage: string): Preprocess | undefined {
  if (preset === undefined && mean === undefined && std === undefined) return undefined;
  try {
    return parsePreprocess(preset, mean, std);
  } catch (e) {
    throw new UsageError((e as Error).message, usage);
  }
}

export function parse(argv: string[], options: Spec, usage: string): Parsed {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true }) as Parsed;
  } catch (e) {
    throw new UsageError((e as Error).message, usage);
  }
}

function parseExplain(argv: string[]): Command {
  const u = EXPLAIN_USAGE;
  const { values: v, positionals } = parse(
    argv,
    {
      model: { type: 'string' },
      method: { type: 'string', multiple: true },
      layer: { type: 'string', multiple: true },
      base: { type: 'string' },
      denoise: { type: 'boolean' },
      class: { type: 'string' },
      'cam-layer': { type: 'string' },
      'input-size': { type: 'string' },
      preprocess: { type: 'string' },
      mean: { type: 'string' },
      std: { type: 'string' },
      labels: { type: 'string' },
      out: { type: 'string' },
      raw: { type: 'boolean' },
      overlay: { type: 'boolean' },
      colormap: { type: 'string' },
      opacity: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      backend: { type: 'string' },
    },
    u,
  );
  if (v.help) return { cmd: 'help', text: u };
  const str = (k: string) => v[k] as string | undefined;
  if (positionals.length === 0) throw new UsageError('no image or folder given', u);
  const model = str('model');
  if (!model) throw new UsageError('--model <model.json|.onnx> is required', u);
  let classIndex: number | undefined;
  if (str('class') !== undefined) {
    const s = str('class')!;
    if (!/^\d+$/.test(s)) throw new UsageError(`--class must be a non-negative integer (got "${s}")`, u);
    classIndex = Number(s);
  }
  let opacity = 0.5;
  if (str('opacity') !== undefined) {
    opacity = Number(str('opacity'));
    if (!(opacity >= 0 && opacity <= 1)) throw new UsageError(`--opacity must be a number in 0..1 (got "${str('opacity')}")`, u);
  }
  const preprocess = preprocessOption(str('preprocess'), str('mean'), str('std'), u);
  let inputSize: [number, number] | undefined;
  try {
    inputSize = parseInputSize(str('input-size'));
  } catch (e) {
    throw new UsageError((e as Error).message, u);
  }
  const layers = v.layer as string[] | undefined;
  if (layers?.some((l) => l.trim() === '')) throw new UsageError('--layer needs a layer name', u);
  const base = oneOf('--base', str('base') ?? 'gradcam', FGCAM_BASES, u);
  const denoise = Boolean(v.denoise);
  const methods = ((v.method as string[] | undefined) ?? ['fgcam']).map((m) => {
    if (m === 'fgcam') return fgcamId(base, denoise);
    const info = findMethod(m);
    if (!info) throw new UsageError(`unknown --method "${m}". Methods: ${METHOD_CHOICES}`, u);
    return info.id;
  });
  return {
    cmd: 'explain',
    args: {
      inputs: positionals,
      model,
      methods: [...new Set(methods)],
      layers: layers && [...new Set(layers)],
      base,
      denoise,
      classIndex,
      camLayer: str('cam-layer'),
      inputSize,
      preprocess,
      labels: str('labels'),
      out: str('out'),
      raw: Boolean(v.raw),
      overlay: Boolean(v.overlay),
      colormap: oneOf('--colormap', str('colormap') ?? 'jet', COLORMAPS, u),
      opacity,
      force: Boolean(v.force),
      json: Boolean(v.json),
      backend: backendOption(str('backend'), u),
    },
  };
}

/** argv without node and script. Throws UsageError. */
export function parseCommand(argv: string[]): Command {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new UsageError('no command given');
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    const sub = rest[0];
    const text = sub === 'explain' ? EXPLAIN_USAGE : sub === 'layers' ? LAYERS_USAGE : sub === 'demo' ? DEMO_USAGE : MAIN_USAGE;
    return { cmd: 'help', text };
  }
  if (cmd === '-V' || cmd === '--version' || cmd === '-v') return { cmd: 'version' };
  if (cmd === 'explain') return parseExplain(rest);
  if (cmd === 'layers') {
    const { values: v, positionals } = parse(rest, { model: { type: 'string' }, json: { type: 'boolean' }, backend: { type: 'string' } }, LAYERS_USAGE);
    if (v.help) return { cmd: 'help', text: LAYERS_USAGE };
    const model = (v.model as string | undefined) ?? (positionals.length === 1 ? positionals[0] : undefined);
    if (!model) throw new UsageError('--model <model.json|.onnx> is required', LAYERS_USAGE);
    if (positionals.length > 1 || (v.model && positionals.length)) throw new UsageError(`unexpected argument "${positionals[positionals.length - 1]}"`, LAYERS_USAGE);
    return { cmd: 'layers', model, json: Boolean(v.json), backend: backendOption(v.backend as string | undefined, LAYERS_USAGE) };
  }
  if (cmd === 'demo') {
    const { values: v, positionals } = parse(
      rest,
      { out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' }, backend: { type: 'string' } },
      DEMO_USAGE,
    );
    if (v.help) return { cmd: 'help', text: DEMO_USAGE };
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`, DEMO_USAGE);
    return {
      cmd: 'demo',
      out: v.out as string | undefined,
      force: Boolean(v.force),
      json: Boolean(v.json),
      backend: backendOption(v.backend as string | undefined, DEMO_USAGE),
    };
  }
  throw new UsageError(cmd.startsWith('-') ? `unknown option "${cmd}" (options go after the command)` : `unknown command "${cmd}"`);
}
