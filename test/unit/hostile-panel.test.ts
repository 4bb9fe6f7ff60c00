// The extension's trust boundaries without VS Code: every webview message is checked against
// what the host sent (checkWebviewMessage), and the engine worker runs under resourceLimits,
// so a runaway job ends the worker with a clear message and the next request gets a new one.
import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkWebviewMessage, InvalidMessage, type HostKnowledge } from '../../src/app/panelMessages';
import { EngineClient, EngineError } from '../../src/app/engineClient';
import { tempDir } from '../helpers/hostile';

const known: HostKnowledge = { layers: new Set(['input', 'conv1', 'block1_pool']), classes: 10 };
const view = { base: 'gradcam', denoise: false, classIndex: 3, layer: 'conv1', colormap: 'jet', opacity: 0.5, sideBySide: false };
const bad = (m: unknown, re: RegExp) => assert.throws(() => checkWebviewMessage(m, known), (e: unknown) => e instanceof InvalidMessage && re.test(e.message));

test('valid messages pass, rebuilt from their checked fields only', () => {
  for (const type of ['ready', 'export', 'cancel', 'retry']) assert.deepEqual(checkWebviewMessage({ type, extra: 1 }, known), { type });
  const r = checkWebviewMessage({ type: 'recompute', view: { ...view, imagePath: '/etc/passwd', evil: true } }, known);
  assert.deepEqual(r, { type: 'recompute', view });
  assert.deepEqual(checkWebviewMessage({ type: 'requestBaseMap', key: 'k', layer: 'block1_pool' }, known), { type: 'requestBaseMap', key: 'k', layer: 'block1_pool' });
  const { classIndex: _c, ...noClass } = view;
  assert.deepEqual(checkWebviewMessage({ type: 'viewChanged', view: noClass }, known), { type: 'viewChanged', view: noClass });
});

test('unknown layers, "__proto__" and other prototype names are refused', () => {
  for (const layer of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'conv2']) {
    bad({ type: 'requestFaithfulness', key: 'k', layer }, /unknown layer/);
    bad({ type: 'viewChanged', view: { ...view, layer } }, /unknown layer/);
  }
  // A message whose own "type" is missing but whose prototype has one is not a message.
  bad(Object.create({ type: 'export' }), /no "type"/);
  bad(JSON.parse('{"__proto__": {"type": "export"}}'), /no "type"/);
});

test('method and colormap enums, class range, types and shapes are enforced', () => {
  bad({ type: 'recompute', view: { ...view, base: 'lrp; rm -rf' } }, /unknown base method/);
  bad({ type: 'recompute', view: { ...view, colormap: 'hot' } }, /unknown colormap/);
  for (const classIndex of [-1, 10, 2.5, '3', NaN]) bad({ type: 'recompute', view: { ...view, classIndex } }, /class index .* out of range/);
  for (const compareClass of [-1, 10, 2.5, '3', NaN]) bad({ type: 'recompute', view: { ...view, compareClass } }, /"compareClass" .* out of range/);
  // The compare class passes when in range; the true class is the host's own, never the webview's.
  assert.deepEqual(checkWebviewMessage({ type: 'recompute', view: { ...view, compareClass: 4, trueClass: 4 } }, known), { type: 'recompute', view: { ...view, compareClass: 4 } });
  for (const opacity of [-0.1, 2, NaN, '0.5']) bad({ type: 'viewChanged', view: { ...view, opacity } }, /opacity/);
  bad({ type: 'recompute', view: { ...view, denoise: 'yes' } }, /"denoise" must be true or false/);
  bad({ type: 'recompute' }, /"view" must be an object/);
  bad({ type: 'requestBaseMap', key: 'x'.repeat(5000), layer: 'conv1' }, /"key" must be a string/);
  bad({ type: 'deleteEverything' }, /unknown type/);
  for (const m of [null, 42, 'ready', ['ready']]) bad(m, /not an object/);
});

// ---------------------------------------------------------------- worker limits and restart

const dir = tempDir('panel');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// A stand-in worker speaking the worker protocol: 'init' answers, 'explain' allocates without
// bound (a runaway job), 'render' answers with the worker's thread id.
fs.writeFileSync(path.join(dir, 'worker.js'), `
const { parentPort, threadId } = require('node:worker_threads');
parentPort.on('message', ({ id, req }) => {
  if (req.op === 'init') return parentPort.postMessage({ id, ok: true, result: { name: 'test', warnings: [] } });
  if (req.op === 'explain') { const keep = []; for (;;) keep.push(new Array(1e6).fill(Math.random())); }
  parentPort.postMessage({ id, ok: true, result: { threadId } });
});`);

test('the engine worker runs under resourceLimits: a runaway job ends it with a clear message, the next request gets a fresh worker', { timeout: 60_000 }, async () => {
  const logs: string[] = [];
  const c = new EngineClient({ distDir: dir, backend: () => 'auto', log: (l) => logs.push(l), memoryMb: () => 64 });
  try {
    const first = (await c.render('x.png', { layer: 'input', height: 1, width: 1, raw: new Float32Array(1) }, 'jet', 0.5)) as unknown as { threadId: number };
    await assert.rejects(c.explain({} as never, 1), (e: unknown) => {
      assert.ok(e instanceof EngineError, String(e));
      assert.equal(e.kind, 'worker');
      assert.match(e.message, /The engine ran out of memory \(its limit is 64 MB, setting fgcam\.engineMemoryMb\); it restarts on the next request/);
      return true;
    });
    const again = (await c.render('x.png', { layer: 'input', height: 1, width: 1, raw: new Float32Array(1) }, 'jet', 0.5)) as unknown as { threadId: number };
    assert.notEqual(again.threadId, first.threadId, 'the crashed worker was reused');
  } finally {
    c.dispose();
  }
});
