// Per-image results from logits, and the dataset summary computed from them alone (so a
// merge of shards, which only has the per-image results, gives the same numbers).
export interface ClassProb {
  index: number;
  prob: number;
}

export interface ImageResult {
  /** Relative to the dataset folder, '/'-separated. */
  path: string;
  /** Class index, or null when the image has no truth. */
  truth: number | null;
  predicted: number;
  /** Probability of the predicted class. */
  prob: number;
  /** Probability of the true class (null without truth). */
  pTruth: number | null;
  /** Cross-entropy, -ln p(truth), from the logits (null without truth). */
  loss: number | null;
  /** With truth: p(truth) minus the largest other probability (negative = a mistake). Without: p1 - p2. */
  margin: number;
  top5: ClassProb[];
}

/** One image's result from its logits (softmax in float64, log-sum-exp for the loss). */
export function resultOf(path: string, logits: ArrayLike<number>, truth: number | null): ImageResult {
  const n = logits.length;
  let max = -Infinity;
  for (let c = 0; c < n; c++) max = Math.max(max, logits[c]);
  let sum = 0;
  for (let c = 0; c < n; c++) sum += Math.exp(logits[c] - max);
  const lse = max + Math.log(sum);
  const p = (c: number) => Math.exp(logits[c] - lse);
  const order = Array.from({ length: n }, (_, c) => c).sort((a, b) => logits[b] - logits[a] || a - b);
  const predicted = order[0];
  const top5 = order.slice(0, 5).map((index) => ({ index, prob: p(index) }));
  if (truth === null) return { path, truth, predicted, prob: p(predicted), pTruth: null, loss: null, margin: n > 1 ? p(order[0]) - p(order[1]) : 1, top5 };
  const other = order[0] === truth ? order[1] : order[0];
  return {
    path,
    truth,
    predicted,
    prob: p(predicted),
    pTruth: p(truth),
    loss: lse - logits[truth],
    margin: p(truth) - (other === undefined ? 0 : p(other)),
    top5,
  };
}

export interface ClassStats {
  index: number;
  label: string;
  /** Images whose truth is this class. */
  support: number;
  /** Labelled images predicted as this class. */
  predicted: number;
  correct: number;
  /** null when undefined (nothing predicted as / labelled with this class). */
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export interface ConfusedPair {
  truth: number;
  predicted: number;
  count: number;
}

export interface Summary {
  classes: string[];
  /** Images scored (with or without truth). */
  images: number;
  /** Scored images with a truth. */
  labelled: number;
  correct: number;
  /** Top-1 accuracy over the labelled images (null when none is labelled). */
  accuracy: number | null;
  /** Truth among the five most probable classes. */
  top5: number | null;
  /** confusion[truth][predicted] = count. */
  confusion: number[][];
  perClass: ClassStats[];
  /** Mistakes, most confident first (at most `worst`). */
  confidentMistakes: ImageResult[];
  /** Off-diagonal cells, largest first (at most `worst`). */
  confusedPairs: ConfusedPair[];
}

export function summarize(classes: string[], results: ImageResult[], worst = 10): Summary {
  const k = classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let labelled = 0;
  let correct = 0;
  let inTop5 = 0;
  for (const r of results) {
    if (r.truth === null) continue;
    labelled++;
    confusion[r.truth][r.predicted]++;
    if (r.truth === r.predicted) correct++;
    if (r.top5.some((t) => t.index === r.truth)) inTop5++;
  }
  const perClass = classes.map((label, c) => {
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c], 0);
    const tp = confusion[c][c];
    const precision = predicted ? tp / predicted : null;
    const recall = support ? tp / support : null;
    const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { index: c, label, support, predicted, correct: tp, precision, recall, f1 };
  });
  const confidentMistakes = results
    .filter((r) => r.truth !== null && r.truth !== r.predicted)
    .sort((a, b) => b.prob - a.prob || (a.path < b.path ? -1 : 1))
    .slice(0, worst);
  const confusedPairs: ConfusedPair[] = [];
  for (let t = 0; t < k; t++) for (let p = 0; p < k; p++) if (t !== p && confusion[t][p] > 0) confusedPairs.push({ truth: t, predicted: p, count: confusion[t][p] });
  confusedPairs.sort((a, b) => b.count - a.count || a.truth - b.truth || a.predicted - b.predicted);
  return {
    classes,
    images: results.length,
    labelled,
    correct,
    accuracy: labelled ? correct / labelled : null,
    top5: labelled ? inTop5 / labelled : null,
    confusion,
    perClass,
    confidentMistakes,
    confusedPairs: confusedPairs.slice(0, worst),
  };
}
