// The layers `fgcam evaluate` scores at: the ones asked for, each checked to have a spatial
// map at or below the CAM layer (where every method of the comparison can give one), or by
// default the input, every pooling layer up to the CAM layer, and the CAM layer.
import type { ModelSession } from '../session';

export function evaluateLayers(s: ModelSession, camLayer: string, wanted?: string[]): string[] {
  const g = s.graph;
  const camIdx = g.nodes.findIndex((n) => n.name === camLayer);
  if (!wanted) {
    const out = ['input'];
    g.nodes.forEach((n, i) => {
      if (i > 0 && i <= camIdx && (n.op.kind === 'maxpool' || n.op.kind === 'avgpool' || i === camIdx) && n.outputShape.length === 3) out.push(n.name);
    });
    return out;
  }
  const scorable = s.layers.filter((l, i) => l.spatial && i <= camIdx).map((l) => l.name);
  const layers = [...new Set(wanted.map((l) => s.layerKey(l)))];
  for (const l of layers) {
    if (!scorable.includes(l)) throw new Error(`layer "${l}" cannot be scored: layers with a spatial map at or below the CAM layer (${camLayer}): ${scorable.join(', ')}`);
  }
  return layers;
}
