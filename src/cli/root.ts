// Finds the package root (where package.json lives) from the running file: dist/cli.js
// when bundled, out/src/cli/main.js when compiled by tsc.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'fgcam-explorer') return dir;
      } catch {
        // keep looking upwards
      }
    }
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..');
}

export function packageVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
