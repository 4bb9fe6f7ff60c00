// One `fgcam evaluate` job: what every worker needs to score an image, and the scoring of
// one image file itself (the same code in a worker thread and in the CLI's own thread).
import type { BlurOptions } from '../../engine/metrics/blur';
import type { ImageScores } from '../../engine/metrics/compare';
import { parseMethod } from '../../engine/methods';
import type { Preprocess } from '../../engine/types';
import type { ModelSession, RgbaImage } from '../session';

export interface EvaluateJob {
  /** Absolute path of the model file. */
  model: string;
  preprocess: Preprocess;
  /** Catalogue ids. */
  methods: string[];
  /** Layer keys as listLayers names them. */
  layers: string[];
  step: number;
  blur: BlurOptions;
  camLayer?: string;
  /** Inputs per forward batch. */
  batch: number;
}

export type ImageResult = ImageScores & { image: string };

/** Every method's deletion / insertion curves and AD / IC inputs at every layer, for one image. */
export async function scoreImageFile(s: ModelSession, image: string, img: RgbaImage, job: EvaluateJob): Promise<ImageResult> {
  const x = s.input(img, job.preprocess);
  const r = await s.score(x, job.methods.map(parseMethod), job.layers, { step: job.step, blur: job.blur, camLayer: job.camLayer, batch: job.batch });
  return { image, ...r };
}
