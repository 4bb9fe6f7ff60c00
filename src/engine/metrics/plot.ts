// A tiny line-plot rasteriser for the mean deletion / insertion curves: RGBA pixels for
// encodePng, no plotting library. Axes [0, 1] x [0, 1], grid at quarters, one polyline per
// series, a legend with a 3x5 pixel font (scaled 2x).
import type { RgbaImage } from '../image/types';

export type Rgb = [number, number, number];

export interface Series {
  label: string;
  color: Rgb;
  /** Values at n + 1 equally spaced points of [0, 1]. */
  values: ArrayLike<number>;
}

/** tab10 colours. */
export const PALETTE: Rgb[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

const GLYPHS: Record<string, string> = {
  '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111', '4': '101101111001001',
  '5': '111100111001111', '6': '111100111101111', '7': '111001001001001', '8': '111101111101111', '9': '111101111001111',
  a: '010101111101101', b: '110101110101110', c: '011100100100011', d: '110101101101110', e: '111100110100111',
  f: '111100110100100', g: '011100101101011', h: '101101111101101', i: '111010010010111', j: '001001001101010',
  k: '101101110101101', l: '100100100100111', m: '101111111101101', n: '110101101101101', o: '010101101101010',
  p: '110101110100100', q: '010101101110011', r: '110101110101101', s: '011100010001110', t: '111010010010010',
  u: '101101101101111', v: '101101101101010', w: '101101111111101', x: '101101010101101', y: '101101010010010',
  z: '111001010100111', '-': '000000111000000', '.': '000000000000010', '+': '000010111010000', _: '000000000000111',
  ' ': '000000000000000', '(': '001010010010001', ')': '100010010010100', '=': '000111000111000', ':': '000010000010000',
  ',': '000000000010100', '/': '001001010100100', '%': '101001010100101', '@': '010101111100011',
};

export class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number, bg: Rgb = [255, 255, 255]) {
    this.data = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) this.data.set([...bg, 255], i * 4);
  }
  set(x: number, y: number, c: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.data.set(c, (y * this.width + x) * 4);
  }
  rect(x0: number, y0: number, w: number, h: number, c: Rgb): void {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) this.set(x, y, c);
  }
  /** A line of the given thickness (square pen), by stepping along the longer axis. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thick = 1): void {
    const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    const r = (thick - 1) / 2;
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) this.set(x + dx, y + dy, c);
    }
  }
  /** Text in the 3x5 font at `scale`; unknown characters are drawn as "?"-less gaps. Returns the width. */
  text(x: number, y: number, s: string, c: Rgb, scale = 2): number {
    let cx = x;
    for (const ch of s.toLowerCase()) {
      const g = GLYPHS[ch] ?? GLYPHS[' '];
      for (let row = 0; row < 5; row++) for (let col = 0; col < 3; col++) if (g[row * 3 + col] === '1') this.rect(cx + col * scale, y + row * scale, scale, scale, c);
      cx += 4 * scale;
    }
    return cx - x;
  }
  image(): RgbaImage {
    return { width: this.width, height: this.height, data: this.data };
  }
}

export interface PlotOptions {
  title?: string;
  width?: number;
  height?: number;
  xLabel?: string;
}

/** Line plot of the series over [0, 1] x [0, 1], legend on the right. */
export function plotCurves(series: Series[], opts: PlotOptions = {}): RgbaImage {
  const W = opts.width ?? 720;
  const H = opts.height ?? 420;
  const left = 44, right = 300, top = 30, bottom = 40;
  const pw = W - left - right;
  const ph = H - top - bottom;
  const cv = new Canvas(W, H);
  const grid: Rgb = [225, 225, 225];
  const ink: Rgb = [40, 40, 40];
  const px = (t: number) => left + t * pw;
  const py = (v: number) => top + (1 - Math.min(Math.max(v, 0), 1)) * ph;
  for (let q = 0; q <= 4; q++) {
    cv.line(px(q / 4), top, px(q / 4), top + ph, grid);
    cv.line(left, py(q / 4), left + pw, py(q / 4), grid);
    const lab = String(q / 4);
    cv.text(left - 8 - lab.length * 8, py(q / 4) - 5, lab, ink);
    cv.text(px(q / 4) - (lab.length * 8) / 2, top + ph + 8, lab, ink);
  }
  cv.line(left, top, left, top + ph, ink);
  cv.line(left, top + ph, left + pw, top + ph, ink);
  if (opts.title) cv.text(left, 8, opts.title, ink);
  if (opts.xLabel) cv.text(left + pw - opts.xLabel.length * 8, top + ph + 24, opts.xLabel, ink);
  series.forEach((s, k) => {
    const n = s.values.length - 1;
    for (let i = 0; i < n; i++) cv.line(px(i / n), py(s.values[i]), px((i + 1) / n), py(s.values[i + 1]), s.color, 2);
    if (n === 0) cv.rect(px(0) - 2, py(s.values[0]) - 2, 4, 4, s.color);
    const ly = top + 4 + k * 16;
    cv.rect(left + pw + 14, ly + 3, 18, 4, s.color);
    cv.text(left + pw + 38, ly, s.label, ink);
  });
  return cv.image();
}
