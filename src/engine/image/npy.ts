// NumPy .npy files (format v1.0), the raw-map export: numpy.load() reads them directly.
// Layout: "\x93NUMPY", major 1, minor 0, uint16 LE header length, ASCII dict header padded
// with spaces and ending in "\n" so that data starts at a multiple of 64 bytes; then data.

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function shapeTuple(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** float32 little-endian, C order. */
export function encodeNpy(data: Float32Array, shape: number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`encodeNpy: shape [${shape}] holds ${count} values, data has ${data.length}`);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeTuple(shape)}, }`;
  const unpadded = 10 + header.length + 1; // magic+version+len, header, "\n"
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = Buffer.alloc(10 + header.length + data.length * 4);
  MAGIC.forEach((b, i) => (out[i] = b));
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  const body = 10 + header.length;
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], body + i * 4);
  return out;
}

/** Reads a C-order .npy of '<f4' or '<f8' (converted to float32). For tests and fixtures. */
export function decodeNpy(buf: Uint8Array): { data: Float32Array; shape: number[] } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 10 || !MAGIC.every((m, i) => b[i] === m)) throw new Error('decodeNpy: not a .npy file (bad magic)');
  const major = b[6];
  const lenBytes = major === 1 ? 2 : 4;
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = 8 + lenBytes;
  const header = b.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeStr === undefined) throw new Error(`decodeNpy: bad header ${header}`);
  if (fortran === 'True') throw new Error('decodeNpy: Fortran-order arrays are not supported');
  const shape = shapeStr.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const n = shape.reduce((a, c) => a * c, 1);
  const body = start + hlen;
  const size = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  if (!size) throw new Error(`decodeNpy: dtype ${descr} not supported (use <f4 or <f8)`);
  if (b.length < body + n * size) throw new Error('decodeNpy: truncated data');
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = size === 4 ? b.readFloatLE(body + i * 4) : b.readDoubleLE(body + i * 8);
  return { data, shape };
}
