// Faithfulness metrics: deletion / insertion curves (RISE), Average Drop / Increase in
// Confidence (Grad-CAM++), method comparison on one image, statistics, plots.
export { auc, classProbs, classProbsOf, curveInputs, curveWriter, deletionInsertion, mapAtInput, pixelsPerStepFor, relevanceOrder, DEFAULT_BATCH, DEFAULT_STEP, type Curves, type CurveOptions, type MapLike } from './curves';
export { averageDrop, confidencePair, dropOf, increaseInConfidence, increaseOf, maskedInput, type ConfidencePair } from './confidence';
export { gaussianBlur, gaussianKernel, DEFAULT_BLUR, type BlurOptions } from './blur';
export { methodMaps, parseMethod, scoreImage, BASES, DEFAULT_METHODS, type ImageScores, type MapScore, type MethodMaps, type MethodSpec, type ScoreOptions } from './compare';
export { meanCI, meanCurve, tQuantile975, type MeanCI } from './stats';
export { plotCurves, Canvas, PALETTE, type Series, type PlotOptions } from './plot';
