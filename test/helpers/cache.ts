// The project's one cache folder for tests, the bench and the fixture tools: $FGCAM_CACHE,
// default ~/.cache/fgcam (XDG_CACHE_HOME respected). Subfolders: onnx/ (seeded torchvision
// exports), bench/ (full-size bench models), nsfwjs/ (unpacked test models), test-tools/
// (code-server, Node 24, playwright-core). Outside the checkout, so tests never touch it.
import * as os from 'os';
import * as path from 'path';

export function cacheRoot(): string {
  if (process.env.FGCAM_CACHE) return path.resolve(process.env.FGCAM_CACHE);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'fgcam');
}

export function cacheDir(...sub: string[]): string {
  return path.join(cacheRoot(), ...sub);
}
