// Plain image types shared by the image module (no tfjs, no vscode).

/** 8-bit RGBA, row-major, 4 bytes per pixel. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Thrown for any image that cannot be read; the message names the file and says what to do. */
export class ImageError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}
