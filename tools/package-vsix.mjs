#!/usr/bin/env node
// Builds a VSIX: `node tools/package-vsix.mjs [--target T] [--out FILE]` (npm run package).
//   no --target   the universal VSIX: ONNX Runtime as WebAssembly (onnxruntime-web), any platform;
//   --target T    a platform VSIX (linux-x64, linux-arm64, darwin-arm64, win32-x64, win32-arm64):
//                 onnxruntime-node with only that platform's native binary, wasm as its fallback.
// The bundles are built for production, the runtime packages are staged under dist/node_modules/
// (where the bundles' require() finds them), vsce packages, and the staging is removed again.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = { 'linux-x64': 'linux/x64', 'linux-arm64': 'linux/arm64', 'darwin-arm64': 'darwin/arm64', 'win32-x64': 'win32/x64', 'win32-arm64': 'win32/arm64' };

const argv = process.argv.slice(2);
const opt = (n) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1] : undefined;
};
const target = opt('--target');
if (target && !TARGETS[target]) {
  console.error(`package-vsix: unknown --target ${target} (one of ${Object.keys(TARGETS).join(', ')}; none for the universal VSIX)`);
  process.exit(2);
}
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const out = path.resolve(opt('--out') ?? `fgcam-explorer-${target ?? 'universal'}-${version}.vsix`);

const modules = path.join(root, 'node_modules');
const staging = path.join(root, 'dist', 'node_modules');

/** Copies `files` (paths relative to the package, folders copied whole) of one npm package. */
function stage(pkg, files) {
  for (const f of ['package.json', 'LICENSE', ...files]) {
    const from = path.join(modules, pkg, f);
    if (!fs.existsSync(from)) {
      if (f === 'LICENSE') continue;
      throw new Error(`package-vsix: ${pkg}/${f} is missing (npm ci first)`);
    }
    // Run-time files only: no source maps, no type declarations.
    fs.cpSync(from, path.join(staging, pkg, f), { recursive: true, filter: (src) => !/\.(map|d\.ts)$/.test(src) });
  }
}

execFileSync(process.execPath, [path.join(root, 'esbuild.mjs'), '--production'], { cwd: root, stdio: 'inherit' });
fs.rmSync(staging, { recursive: true, force: true });
try {
  stage('onnxruntime-common', ['dist/cjs']);
  // Node's entry of onnxruntime-web and the one wasm build it loads (SIMD + threads).
  stage('onnxruntime-web', ['dist/ort.node.min.js', 'dist/ort-wasm-simd-threaded.mjs', 'dist/ort-wasm-simd-threaded.wasm']);
  if (target) stage('onnxruntime-node', ['dist', `bin/napi-v6/${TARGETS[target]}`]);
  const vsce = path.join(modules, '@vscode', 'vsce', 'vsce');
  execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', ...(target ? ['--target', target] : []), '--out', out], { cwd: root, stdio: 'inherit' });
  console.log(`package-vsix: ${path.relative(process.cwd(), out)} (${target ?? 'universal'}, ${(fs.statSync(out).size / 1e6).toFixed(1)} MB)`);
} finally {
  fs.rmSync(staging, { recursive: true, force: true });
}
