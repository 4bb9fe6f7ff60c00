// The backend choices after tfjs left the product (issue 12): auto, native, wasm, cuda,
// directml, coreml. The tfjs-era names (wasm-tfjs, node, cpu) are refused by every command's
// --backend (exit 2, naming the value and its replacement) and, as the fgcam.backend setting,
// give a warning and run as auto.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { parseCommand, UsageError } from '../../src/cli/args';
import { parseEvaluate } from '../../src/cli/evaluate';
import { parsePredict } from '../../src/cli/predict';
import { BACKENDS, backendSetting } from '../../src/app/options';
import { initBackend } from '../../src/engine/backend';
import { fgcam } from '../helpers/cli';

const RETIRED: Array<[string, string]> = [
  ['wasm-tfjs', 'wasm'],
  ['node', 'native'],
  ['cpu', 'native'],
];

test('the backend choices are the ONNX Runtime ones, in package.json too', () => {
  assert.deepEqual([...BACKENDS], ['auto', 'native', 'wasm', 'cuda', 'directml', 'coreml']);
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
  const setting = pkg.contributes.configuration.properties['fgcam.backend'];
  assert.deepEqual(setting.enum, [...BACKENDS]);
  assert.equal(setting.enumDescriptions.length, BACKENDS.length);
  assert.equal(setting.default, 'auto');
});

test('--backend: every command refuses a tfjs-era name, saying what to use instead', () => {
  const commands = (b: string): Array<() => unknown> => [
    () => parseCommand(['explain', 'a.png', '--model', 'm.onnx', '--backend', b]),
    () => parseCommand(['layers', '--model', 'm.onnx', '--backend', b]),
    () => parseCommand(['demo', '--backend', b]),
    () => parseEvaluate(['photos', '--model', 'm.onnx', '--backend', b]),
    () => parsePredict(['photos', '--model', 'm.onnx', '--backend', b]),
  ];
  for (const [old, use] of RETIRED) {
    for (const run of commands(old)) {
      assert.throws(run, (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.match(e.message, new RegExp(`^--backend "${old}" \\(.*\\) was removed with the TensorFlow\\.js compute path.*Use "${use}" instead`));
        return true;
      });
    }
  }
  // The current names still parse; an unknown one is the usual usage error.
  for (const b of BACKENDS) {
    const c = parseCommand(['explain', 'a.png', '--model', 'm.onnx', '--backend', b]);
    assert.ok(c.cmd === 'explain' && c.args.backend === b);
  }
  assert.throws(() => parseCommand(['explain', 'a.png', '--model', 'm.onnx', '--backend', 'gpu']), /--backend must be one of auto, native, wasm, cuda, directml, coreml \(got "gpu"\)/);
});

test('CLI: --backend wasm-tfjs exits 2 with the message, before loading anything', () => {
  const r = fgcam('explain', 'a.png', '--model', 'none.onnx', '--backend', 'wasm-tfjs');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /fgcam: --backend "wasm-tfjs" \(TensorFlow\.js on WebAssembly\) was removed .*Use "wasm" instead \(or "auto"\)\./);
  assert.doesNotMatch(r.err, /does not exist/);
});

test('fgcam.backend: a tfjs-era value warns, naming it and its replacement, and runs as auto', () => {
  for (const [old, use] of RETIRED) {
    const r = backendSetting(old);
    assert.equal(r.backend, 'auto');
    assert.match(r.warning ?? '', new RegExp(`^fgcam\\.backend: backend "${old}" .* was removed .*Use "${use}" instead .*Using "auto" for now\\.$`));
  }
  for (const b of BACKENDS) assert.deepEqual(backendSetting(b), { backend: b });
  for (const bad of ['gpu', 42, null]) {
    const r = backendSetting(bad);
    assert.equal(r.backend, 'auto');
    assert.match(r.warning ?? '', /^fgcam\.backend: unknown backend .*\(one of auto, native, wasm, cuda, directml, coreml\)\. Using "auto"\.$/);
  }
});

test('the engine itself refuses a tfjs-era name (a worker asked by an old client)', async () => {
  await assert.rejects(initBackend('cpu' as never), /backend "cpu" .* was removed .*Use "native" instead/);
});
