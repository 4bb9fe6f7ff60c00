// The one catalogue of explanation methods: ids, display labels, what each needs and where it
// applies. The CLI's flags, the worker, the comparison (metrics/compare.ts), the panel's
// labels and the output file names all read it; no other file lists methods.
// Pure data and small functions, no imports but types: the webview bundle uses it too.
import type { BaseMethod } from './types';

/**
 * Where a method gives a map:
 * - 'walk': every spatial layer from the CAM layer down to the input (one walk down)
 * - 'features': any spatial layer except the input (it needs feature channels)
 * - 'input': the input only
 */
export type MethodLayers = 'walk' | 'features' | 'input';

export type MethodKind = 'fgcam' | 'cam' | 'lrp' | 'random';

export interface MethodInfo {
  /** Stable id: CLI flags, protocol messages, file names, JSON reports. File-name safe. */
  id: string;
  /** Display name. */
  label: string;
  kind: MethodKind;
  /** FG-CAM: the base CAM it starts from; cam: the CAM itself. */
  base?: BaseMethod;
  /** FG-CAM with SVD denoising of the base CAM's components. */
  denoise?: boolean;
  /** Needs ∂y_c/∂A (a backward pass). */
  gradients: boolean;
  /** A forward pass per feature channel (Score-CAM): minutes on big models, run last. */
  slow: boolean;
  layers: MethodLayers;
  /** Where the panel's Compare methods scores it (LRP above the input reads as FG-CAM's walk: input only). */
  comparedAt: MethodLayers;
  /** Other names accepted on the command line (pytorch-grad-cam's spelling). */
  aliases?: string[];
}

interface BaseInfo {
  id: BaseMethod;
  label: string;
  gradients: boolean;
  slow: boolean;
  aliases?: string[];
}

/** Base CAMs in catalogue order. FG-CAM can start from any; the panel and settings offer FG-CAM's own two. */
const BASE_INFO: BaseInfo[] = [
  { id: 'gradcam', label: 'Grad-CAM', gradients: true, slow: false },
  { id: 'gradcampp', label: 'Grad-CAM++', gradients: true, slow: false, aliases: ['gradcam++'] },
  { id: 'xgradcam', label: 'XGrad-CAM', gradients: true, slow: false },
  { id: 'layercam', label: 'LayerCAM', gradients: true, slow: false },
  { id: 'scorecam', label: 'Score-CAM', gradients: false, slow: true },
];

/** The bases FG-CAM is defined with (the paper's): the panel's Base picker and fgcam.base. */
export const FGCAM_BASES: readonly BaseMethod[] = ['gradcam', 'scorecam'];
export const BASES: readonly BaseMethod[] = BASE_INFO.map((b) => b.id);

/** FG-CAM from a base, as a catalogue id: fgcam-<base>[-denoised]. */
export function fgcamId(base: BaseMethod, denoise: boolean): string {
  return `fgcam-${base}${denoise ? '-denoised' : ''}`;
}

function build(): MethodInfo[] {
  const out: MethodInfo[] = [];
  for (const b of BASE_INFO) {
    for (const denoise of [false, true]) {
      out.push({
        id: fgcamId(b.id, denoise),
        label: `FG-CAM (${b.label})${denoise ? ' denoised' : ''}`,
        kind: 'fgcam',
        base: b.id,
        denoise,
        // The walk itself needs no gradient; the base may.
        gradients: b.gradients,
        slow: b.slow,
        layers: 'walk',
        comparedAt: 'walk',
      });
    }
  }
  for (const b of BASE_INFO) {
    out.push({ id: b.id, label: b.label, kind: 'cam', base: b.id, gradients: b.gradients, slow: b.slow, layers: 'features', comparedAt: 'features', aliases: b.aliases });
  }
  out.push({ id: 'lrp', label: 'LRP (z+, zβ)', kind: 'lrp', gradients: false, slow: false, layers: 'walk', comparedAt: 'input' });
  out.push({ id: 'random', label: 'Random map', kind: 'random', gradients: false, slow: false, layers: 'input', comparedAt: 'input' });
  return out;
}

export const METHODS: readonly MethodInfo[] = build();

/** The default comparison (`fgcam evaluate`, the panel's Compare methods), in display order. */
export const DEFAULT_METHODS: readonly string[] = [
  'fgcam-gradcam',
  'fgcam-gradcam-denoised',
  'gradcam',
  'gradcampp',
  'xgradcam',
  'layercam',
  'scorecam',
  'fgcam-scorecam',
  'lrp',
];

const byId = new Map<string, MethodInfo>();
for (const m of METHODS) {
  byId.set(m.id, m);
  for (const a of m.aliases ?? []) byId.set(a, m);
}

/** The catalogue entry of an id or alias, or undefined. */
export function findMethod(id: string): MethodInfo | undefined {
  return byId.get(id);
}

/** Display name of an id (the id itself when it is not catalogued). */
export function methodLabel(id: string): string {
  return byId.get(id)?.label ?? id;
}

/** Display name of a base CAM. */
export function baseLabel(base: BaseMethod): string {
  return BASE_INFO.find((b) => b.id === base)?.label ?? base;
}

/** The method ids and aliases, for messages. */
export function methodNames(): string[] {
  return METHODS.flatMap((m) => [m.id, ...(m.aliases ?? [])]);
}

export type MethodSpec =
  | { id: string; kind: 'fgcam'; base: BaseMethod; denoise: boolean }
  | { id: string; kind: 'cam'; base: BaseMethod }
  | { id: string; kind: 'lrp' }
  | { id: string; kind: 'random' };

/** The spec the engine runs for an id or alias (ids come back canonical); throws naming the valid ones. */
export function parseMethod(id: string): MethodSpec {
  const m = byId.get(id);
  if (!m) throw new Error(`unknown method "${id}". Methods: ${methodNames().join(', ')}`);
  if (m.kind === 'fgcam') return { id: m.id, kind: 'fgcam', base: m.base!, denoise: m.denoise! };
  if (m.kind === 'cam') return { id: m.id, kind: 'cam', base: m.base! };
  return { id: m.id, kind: m.kind };
}

/** What the walk and the layer checks need to know of a model's layers. */
export interface LayerLike {
  name: string;
  spatial: boolean;
}

/**
 * The layers (names as listLayers gives them, "input" first) where `method` gives a map, for
 * a model whose layers are `layers` (model order) and whose CAM layer is `camLayer`.
 */
export function layersFor(method: MethodInfo, layers: readonly LayerLike[], camLayer: string, where: MethodLayers = method.layers): string[] {
  const spatial = layers.filter((l) => l.spatial);
  if (where === 'input') return spatial.filter((l) => l.name === 'input').map((l) => l.name);
  if (where === 'features') return spatial.filter((l) => l.name !== 'input').map((l) => l.name);
  const camIdx = layers.findIndex((l) => l.name === camLayer);
  return layers.filter((l, i) => l.spatial && i <= camIdx).map((l) => l.name);
}

/**
 * The part of an output file name after ".fgcam-": FG-CAM keeps its historical
 * `<base>[-denoised]`; every other method is `baseline-<id>`, so Grad-CAM's own map never
 * shares a name with FG-CAM from Grad-CAM.
 */
export function fileTag(method: MethodInfo): string {
  return method.kind === 'fgcam' ? `${method.base}${method.denoise ? '-denoised' : ''}` : `baseline-${method.id}`;
}
