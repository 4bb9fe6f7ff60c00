// Which files are images: by extension (folder listings, menus) and by magic bytes (decoding).
// No decoder here, so the extension host can ask without bundling pngjs and jpeg-js.
import * as path from 'node:path';

export type ImageFormat = 'png' | 'jpeg' | 'bmp';

/** Lower-case extensions the CLI and the extension consider images when listing folders. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp'];

export function looksLikeImagePath(p: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(p).toLowerCase());
}

export function detectFormat(b: Uint8Array): ImageFormat | undefined {
  if (b.length >= 4 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  return undefined;
}
