// Per layer and method, the means with 95% intervals over images of what engine/metrics
// scored: deletion and insertion AUC, their difference, Average Drop and Increase in
// Confidence (per image from the metrics module's dropOf / increaseOf), and the mean curves.
import { dropOf, increaseOf } from '../../engine/metrics/confidence';
import { meanCI, meanCurve, type MeanCI } from '../../engine/metrics/stats';
import type { ImageResult } from './job';

export interface Row {
  method: string;
  n: number;
  deletion: MeanCI;
  insertion: MeanCI;
  difference: MeanCI;
  /** Percent. */
  averageDrop: MeanCI;
  /** Percent. */
  increase: MeanCI;
  meanDeletion: Float32Array;
  meanInsertion: Float32Array;
}

export interface Summary {
  /** Layers in the order asked, each with its methods in the order asked; empty ones left out. */
  layers: Record<string, Row[]>;
}

export function summarise(results: ImageResult[], methods: string[], layers: string[]): Summary {
  const out: Summary = { layers: {} };
  for (const layer of layers) {
    const rows: Row[] = [];
    for (const method of methods) {
      const s = results.flatMap((r) => r.scores.filter((x) => x.method === method && x.layer === layer));
      if (s.length === 0) continue;
      rows.push({
        method,
        n: s.length,
        deletion: meanCI(s.map((x) => x.deletionAuc)),
        insertion: meanCI(s.map((x) => x.insertionAuc)),
        difference: meanCI(s.map((x) => x.insertionAuc - x.deletionAuc)),
        averageDrop: meanCI(s.map((x) => 100 * dropOf(x))),
        increase: meanCI(s.map((x) => 100 * increaseOf(x))),
        meanDeletion: meanCurve(s.map((x) => x.deletion)),
        meanInsertion: meanCurve(s.map((x) => x.insertion)),
      });
    }
    if (rows.length) out.layers[layer] = rows;
  }
  return out;
}
