// One entry point for every model file: picks the importer by extension (then by
// content), and turns filesystem mistakes into messages that say what to do.
import * as fs from 'fs';
import * as path from 'path';
import type { Graph } from './graph';
import { disposeGraph } from './graph';
import { inferShapes } from './forward';
import { loadLayersModel } from './layers';
import { loadOnnxModel } from './onnx';

export interface LoadOptions {
  /** [height, width] for models whose input size is not fixed (overrides the model's). */
  inputSize?: [number, number];
  /** Fill outputShape with a zero forward pass (default true). */
  inferShapes?: boolean;
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
  const kind = detectFormat(modelPath);
  const g = kind === 'onnx' ? await loadOnnxModel(modelPath, opts) : await loadLayersModel(modelPath, opts);
  if (opts.inferShapes !== false) {
    try {
      inferShapes(g);
    } catch (e) {
      disposeGraph(g);
      throw new Error(`Model "${modelPath}" was read but does not run at input ${g.inputShape.join('x')}: ${(e as Error).message}`);
    }
  }
  return g;
}

/** By extension, else by the first byte: '{' is JSON, a protobuf ModelProto starts with field 1 (0x08). */
function detectFormat(p: string): 'layers' | 'onnx' {
  const ext = path.extname(p).toLowerCase();
  if (ext === '.json') return 'layers';
  if (ext === '.onnx') return 'onnx';
  const fd = fs.openSync(p, 'r');
  const head = Buffer.alloc(64);
  const n = fs.readSync(fd, head, 0, 64, 0);
  fs.closeSync(fd);
  const text = head.subarray(0, n).toString('utf8').trimStart();
  if (text.startsWith('{')) return 'layers';
  if (n > 0 && head[0] === 0x08) return 'onnx';
  throw new Error(`"${p}" is not a model this tool reads: expected a TF.js layers model.json or an ONNX (.onnx) file.`);
}
