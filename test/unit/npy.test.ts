import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { decodeNpy, encodeNpy } from '../../src/engine/image';

test('encodeNpy: v1.0 header, <f4, C order, data at a multiple of 64', () => {
  const b = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  assert.deepEqual(Array.from(b.subarray(0, 8)), [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const hlen = b.readUInt16LE(8);
  assert.equal((10 + hlen) % 64, 0);
  const header = b.toString('latin1', 10, 10 + hlen);
  assert.ok(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header);
  assert.equal(header[header.length - 1], '\n');
  assert.match(header, /^[^\n]*\}\s*\n$/);
  assert.equal(b.length, 10 + hlen + 24);
  assert.equal(b.readFloatLE(10 + hlen + 4 * 5), 6);
});

test('1-D shape is written as (n,)', () => {
  const b = encodeNpy(new Float32Array(3), [3]);
  assert.match(b.toString('latin1', 10, 10 + b.readUInt16LE(8)), /'shape': \(3,\)/);
});

test('round trip keeps values and shape', () => {
  const data = Float32Array.from({ length: 7 * 5 }, (_, i) => Math.sin(i) * 1e3);
  const back = decodeNpy(encodeNpy(data, [7, 5]));
  assert.deepEqual(back.shape, [7, 5]);
  assert.deepEqual(Array.from(back.data), Array.from(data));
});

test('decodeNpy reads <f8 and rejects other dtypes and bad shapes', () => {
  let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const b = Buffer.alloc(10 + header.length + 16);
  b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  b.writeUInt16LE(header.length, 8);
  b.write(header, 10, 'latin1');
  b.writeDoubleLE(0.5, 10 + header.length);
  b.writeDoubleLE(-2.25, 10 + header.length + 8);
  assert.deepEqual(decodeNpy(b), { data: new Float32Array([0.5, -2.25]), shape: [2] });
  assert.throws(() => decodeNpy(Buffer.from(b.toString('latin1').replace('<f8', '<i8'), 'latin1')), /dtype <i8/);
  assert.throws(() => encodeNpy(new Float32Array(5), [2, 3]), /holds 6 values/);
  assert.throws(() => decodeNpy(Buffer.from('nope')), /bad magic/);
});
