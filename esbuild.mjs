// Bundles everything the extension and the CLI ship: node bundles (extension host, engine
// worker, CLI, bench), the browser bundle of the panel, and the static files they need at run
// time (codicons). Flags: --watch, --production (minify, no sourcemaps).
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, 'dist');
const argv = new Set(process.argv.slice(2));
const watch = argv.has('--watch');
const production = argv.has('--production');

const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'info',
  absWorkingDir: root,
};

// ONNX Runtime is loaded at run time (its native addon and wasm files cannot be bundled;
// tools/package-vsix.mjs stages it). 'vscode' is provided by the host.
const nodeCommon = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  external: ['vscode', 'onnxruntime-node', 'onnxruntime-web'],
  // ESM entries first where a package has both (what the bundles have been tested with).
  mainFields: ['module', 'main'],
};

const exists = (p) => fs.existsSync(path.join(root, p));

const targets = [
  { ...nodeCommon, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', need: 'src/extension/extension.ts' },
  { ...nodeCommon, entryPoints: ['src/app/worker.ts'], outfile: 'dist/worker.js', need: 'src/app/worker.ts' },
  {
    ...nodeCommon,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    need: 'src/cli/main.ts',
  },
  { ...nodeCommon, entryPoints: ['bench/bench.ts'], outfile: 'dist/bench.js', need: 'bench/bench.ts' },
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    entryPoints: ['src/webview/main.ts'],
    outfile: 'dist/webview.js',
    need: 'src/webview/main.ts',
  },
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    entryPoints: ['src/webview/review.ts'],
    outfile: 'dist/review.js',
    need: 'src/webview/review.ts',
  },
];

/** Static files copied into dist/ so the bundles work without node_modules (VSIX ships no node_modules). */
function copyAssets() {
  fs.mkdirSync(path.join(dist, 'media'), { recursive: true });
  const codicons = path.join(root, 'node_modules/@vscode/codicons/dist');
  for (const f of ['codicon.css', 'codicon.ttf']) {
    if (fs.existsSync(path.join(codicons, f))) fs.copyFileSync(path.join(codicons, f), path.join(dist, 'media', f));
  }
}

const active = targets.filter((t) => {
  if (exists(t.need)) return true;
  console.warn(`esbuild: skipping ${t.outfile} (${t.need} does not exist yet)`);
  return false;
});

copyAssets();
if (watch) {
  for (const { need, ...opts } of active) {
    const ctx = await esbuild.context(opts);
    await ctx.watch();
  }
  console.log('esbuild: watching for changes');
} else {
  const results = await Promise.allSettled(active.map(({ need, ...opts }) => esbuild.build(opts)));
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) {
    process.exitCode = 1;
  }
  // The CLI is run directly (`./dist/cli.js`), so it needs the executable bit.
  if (fs.existsSync(path.join(dist, 'cli.js'))) fs.chmodSync(path.join(dist, 'cli.js'), 0o755);
}
