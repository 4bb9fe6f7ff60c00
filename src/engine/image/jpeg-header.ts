// What a JPEG says about itself before it is decoded: the frame size (so a huge image is
// refused before the decoder allocates anything) and the EXIF orientation (so the image is
// shown the way every viewer shows it). Bounds-checked throughout: the bytes are untrusted.

export interface JpegHeader {
  width: number;
  height: number;
  /** EXIF orientation 1..8 (1 when absent or unreadable). */
  orientation: number;
}

// Start-of-frame markers: baseline, extended, progressive, lossless, with either coding.
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** Walks the marker segments up to the first scan; undefined when no frame header is found. */
export function readJpegHeader(b: Uint8Array): JpegHeader | undefined {
  let orientation = 1;
  let o = 2; // after SOI
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) return undefined;
    const marker = b[o + 1];
    if (marker === 0xff) { o++; continue; } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { o += 2; continue; }
    const len = (b[o + 2] << 8) | b[o + 3];
    if (len < 2 || o + 2 + len > b.length) return undefined;
    const seg = b.subarray(o + 4, o + 2 + len);
    if (marker === 0xe1 && orientation === 1) orientation = exifOrientation(seg);
    if (SOF.has(marker)) {
      if (seg.length < 5) return undefined;
      return { height: (seg[1] << 8) | seg[2], width: (seg[3] << 8) | seg[4], orientation };
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // a scan before any frame
    o += 2 + len;
  }
  return undefined;
}

/** Tag 0x0112 of IFD0 in an APP1 "Exif\0\0" segment; 1 when absent or malformed. */
export function exifOrientation(seg: Uint8Array): number {
  if (seg.length < 14 || String.fromCharCode(...seg.subarray(0, 6)) !== 'Exif\0\0') return 1;
  const t = seg.subarray(6);
  const dv = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const le = t[0] === 0x49 && t[1] === 0x49;
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return 1;
  if (dv.getUint16(2, le) !== 42) return 1;
  const ifd = dv.getUint32(4, le);
  if (ifd + 2 > t.length) return 1;
  const n = dv.getUint16(ifd, le);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > t.length) return 1;
    if (dv.getUint16(e, le) !== 0x0112) continue;
    const type = dv.getUint16(e + 2, le);
    const v = type === 3 ? dv.getUint16(e + 8, le) : type === 4 ? dv.getUint32(e + 8, le) : 0;
    return v >= 1 && v <= 8 ? v : 1;
  }
  return 1;
}
