// Bundles every test file with esbuild, as the product itself is bundled: the tfjs reference's
// (test/reference/) gradient registrations are ES modules that only a bundler pulls in.
import { build } from 'esbuild';
import { readdirSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const dirs = process.argv.slice(2).length ? process.argv.slice(2) : ['test/unit'];
for (const dir of dirs) {
  if (!existsSync(dir)) continue;
  const entries = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).map((f) => join(dir, f));
  rmSync(join('out', dir), { recursive: true, force: true });
  await build({
    entryPoints: entries,
    outdir: join('out', dir),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    logLevel: 'warning',
    external: ['vscode', 'onnxruntime-node', 'onnxruntime-web'],
    // ESM builds everywhere: one tfjs-core copy, and its side-effect modules kept.
    mainFields: ['module', 'main'],
  });
}
