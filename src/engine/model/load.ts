// One entry point for every model file: picks the importer (each says whether it reads a
// file, by extension then by content), canonicalises its graph once, and turns filesystem
// mistakes into messages that say what to do.
import * as fs from 'fs';
import * as path from 'path';
import type { Graph } from './graph';
import { disposeGraph } from './graph';
import { inferShapes, shapeOf } from './shapes';
import type { Importer, LoadOptions } from './importer';
import { canonicalise } from './canonicalise';
import { layersImporter } from './layers';
import { onnxImporter } from './onnx';
import { openRegular } from '../read-file';

export type { LoadOptions } from './importer';

/** Every format we read, one importer each. */
export const IMPORTERS: readonly Importer[] = [layersImporter, onnxImporter];

/** "HxW" (or "H,W"; "" for none) -> [h, w], for models without a fixed input size. */
export function parseInputSize(text: string | undefined): [number, number] | undefined {
  if (!text || !text.trim()) return undefined;
  const m = /^\s*(\d+)\s*[x,]\s*(\d+)\s*$/i.exec(text);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new Error(`Input size must look like 224x224 (got "${text}")`);
  return [Number(m[1]), Number(m[2])];
}

export async function loadGraph(modelPath: string, opts: LoadOptions = {}): Promise<Graph> {
  let st: fs.Stats;
  try {
    st = fs.statSync(modelPath);
  } catch {
    throw new Error(`Model file "${modelPath}" does not exist. Give the path of a TF.js model.json or an .onnx file.`);
  }
  if (st.isDirectory()) {
    const inside = fs.readdirSync(modelPath).filter((f) => f === 'model.json' || f.endsWith('.onnx'));
    const hint = inside.length ? ` Did you mean "${path.join(modelPath, inside[0])}"?` : '';
    throw new Error(`Model path "${modelPath}" is a folder; give the model.json (TF.js layers) or .onnx file inside it.${hint}`);
  }
  const importer = pickImporter(modelPath);
  const g = await importer.open(modelPath, opts);
  try {
    canonicalise(g);
  } catch (e) {
    disposeGraph(g);
    throw e;
  }
  if (opts.inferShapes !== false) {
    try {
      inferShapes(g);
    } catch (e) {
      const why = explainFailure(g) ?? (e as Error).message;
      disposeGraph(g);
      throw new Error(`Model "${modelPath}" was read but does not run at input ${g.inputShape.join('x')}: ${why}`);
    }
  }
  return g;
}

/**
 * After failed shape inference: walks the graph node by node to name the layer that fails.
 * Also explains the one common Keras case: Dense applied per pixel to a map (Keras uses the
 * last axis; our dense flattens), which only agrees with Keras on 1x1 maps.
 */
function explainFailure(g: Graph): string | undefined {
  const shapes = new Map<string, number[]>();
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => shapes.get(i)!);
    const shown = ins.map((s) => `[${s.join(', ')}]`).join(', ');
    if (n.op.kind === 'dense' && g.format === 'tfjs-layers' && ins[0].length === 3 && ins[0][0] * ins[0][1] > 1) {
      return `Dense layer '${n.name}' is applied per pixel to a ${ins[0].join('x')} map, which FG-CAM does not support; the model needs a Flatten or GlobalAveragePooling2D before it.`;
    }
    try {
      const s = shapeOf(n, ins, g.inputShape);
      if (s.some((v) => !Number.isInteger(v) || v <= 0)) throw new Error(`its output shape would be [${s.join(', ')}]`);
      shapes.set(n.name, s);
    } catch (e) {
      return `layer '${n.name}' (${n.className}) fails on input shape ${shown}: ${(e as Error).message}`;
    }
  }
  return undefined;
}

/** The first importer that reads the file (by extension, else by its first bytes). */
function pickImporter(p: string): Importer {
  const ext = path.extname(p).toLowerCase();
  const { fd } = openRegular(p, 'Model file');
  let head: Buffer;
  try {
    head = Buffer.alloc(64);
    head = head.subarray(0, fs.readSync(fd, head, 0, 64, 0));
  } finally {
    fs.closeSync(fd);
  }
  const found = IMPORTERS.find((imp) => imp.match(ext, head));
  if (!found) throw new Error(`"${p}" is not a model this tool reads: expected a TF.js layers model.json or an ONNX (.onnx) file.`);
  return found;
}
