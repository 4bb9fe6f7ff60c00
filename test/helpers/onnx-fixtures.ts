// The seeded torchvision ONNX exports the slow tests use (<cache>/onnx/<name>.onnx with its
// input and PyTorch logits), made by tools/make_onnx_fixtures.py when missing.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { cacheDir } from './cache';

export const ROOT = path.join(__dirname, '..', '..', '..');
export const ONNX_CACHE = cacheDir('onnx');

const have = (m: string) => ['.onnx', '.input.npy', '.logits.npy'].every((e) => fs.existsSync(path.join(ONNX_CACHE, m + e)));

/** A python3 that can import torch and torchvision (Debian's lives in /usr/bin). */
export function torchPython(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(py, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
}

/** Makes the missing exports; returns false when all are there, else why not (a skip reason). */
export function ensureOnnxFixtures(names: string[]): string | false {
  const missing = names.filter((m) => !have(m));
  if (!missing.length) return false;
  const py = torchPython();
  if (!py) return `${ONNX_CACHE} lacks ${missing.join(', ')} and no python3 with torch+torchvision (apt-get install python3-torch python3-torchvision) to make them`;
  execFileSync(py, [path.join(ROOT, 'tools', 'make_onnx_fixtures.py'), 'big', ...missing], { stdio: 'inherit', env: { ...process.env, FGCAM_CACHE: path.dirname(ONNX_CACHE) } });
  return false;
}
