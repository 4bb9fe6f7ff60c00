// Test-only: the nsfwjs package ships Keras-converted TF.js layers models as JS
// modules (model.min.js exports the model.json object, each shard module exports
// the shard's bytes as base64). Unpack one into a plain model.json + shard files
// so the ordinary importer loads it from disk.
import * as fs from 'fs';
import * as path from 'path';
import { cacheDir } from './cache';

export type NsfwModel = 'mobilenet_v2' | 'mobilenet_v2_mid' | 'inception_v3';

/** The package's models folder, or undefined when nsfwjs is not installed. */
export function nsfwjsModelsDir(): string | undefined {
  try {
    // dist/cjs/index.js -> dist/models
    const dir = path.join(path.dirname(require.resolve('nsfwjs')), '..', 'models');
    return fs.existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Writes <cache>/nsfwjs/<name>/model.json (+ shards) once; returns the model.json path. */
export function extractNsfwjsModel(name: NsfwModel, outRoot = cacheDir('nsfwjs')): string {
  const src = nsfwjsModelsDir();
  if (!src) throw new Error('nsfwjs is not installed (npm install --save-dev nsfwjs)');
  const out = path.join(outRoot, name);
  const jsonPath = path.join(out, 'model.json');
  if (fs.existsSync(jsonPath)) return jsonPath;
  const model = require(path.join(src, name, 'model.min.js'));
  const json = model.default ?? model;
  const tmp = `${out}.tmp-${process.pid}`;
  fs.mkdirSync(tmp, { recursive: true });
  for (const group of json.weightsManifest) {
    for (const p of group.paths as string[]) {
      const mod = require(path.join(src, name, `${p}.min.js`));
      const b64: string = typeof mod === 'string' ? mod : mod.default;
      fs.writeFileSync(path.join(tmp, p), Buffer.from(b64, 'base64'));
    }
  }
  fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify({ format: 'layers-model', ...json }));
  // Rename at the end so a concurrent or interrupted run never sees half a model.
  try {
    fs.renameSync(tmp, out);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return jsonPath;
}
