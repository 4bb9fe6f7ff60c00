// Which preprocessing applies to a model: the user's (flag or setting), else the model's own
// default, else ImageNet's. The one place this is decided, for the CLI, evaluate and the worker.
import type { PreprocessPreset } from '../engine/model/graph';
import type { Preprocess } from '../engine/types';
import { DEFAULT_PRESET } from '../engine/image/preprocess';

export type PreprocessSource = 'user' | 'model' | 'default';

/** `requested`: undefined or 'auto' when the user set none. */
export function choosePreprocess(requested: Preprocess | 'auto' | undefined, modelDefault: PreprocessPreset | undefined): { pre: Preprocess; source: PreprocessSource } {
  if (requested && requested !== 'auto') return { pre: requested, source: 'user' };
  return modelDefault ? { pre: { preset: modelDefault }, source: 'model' } : { pre: { preset: DEFAULT_PRESET }, source: 'default' };
}

/** One line for logs and reports: the preset or mean/std, and where it came from. */
export function describePreprocess(pre: Preprocess, source: PreprocessSource = 'user', setting = '--preprocess'): string {
  if (pre.mean || pre.std) return `mean ${pre.mean ?? [0]} std ${pre.std ?? [1]} (0..1 scale)`;
  const why = { user: '', model: ` (the model's; set ${setting} to change)`, default: ` (default; set ${setting} to change)` }[source];
  return `${pre.preset ?? DEFAULT_PRESET}${why}`;
}
