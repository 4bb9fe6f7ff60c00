#!/usr/bin/env node
// Integration + UI tests of the extension in a real VS Code (code-server under Node 24, driven
// by playwright-core + Debian's chromium). Run `bash test/integration/setup.sh` first (it
// installs and caches all of it), then, with the system Node (>= 20):
//
//   node test/integration/run.mjs [--only suite,ui,package] [--skip-build] [--keep]
//                                 [--ext DIR] [--verbose]
//
// Parts:
//   suite    the extension-host suite (test/integration/suite/index.ts, bundled with esbuild)
//            runs inside VS Code's extension host through the smoke-test-driver payload;
//   ui       what a person does, in the browser: Explorer right-click > FG-CAM: Explain Image,
//            reads the heatmap canvas pixels, switches a layer, toggles denoise, exports,
//            screenshots the panel into the output folder (with --readme-screenshots also
//            media/screenshot-panel.png, the README's picture: `npm run screenshots`); then
//            Review Dataset: accuracy, a confusion cell, a mistake opened as "why X and not
//            Y" (both titled maps, layer and denoise switching both; media/screenshot-review.png
//            and media/screenshot-contrast.png);
//   package  `npm run package` (the universal VSIX: ONNX Runtime as WebAssembly) > the .vsix
//            installs into a fresh code-server > the palette command renders the heatmap.
// Prints `ok`/`not ok` per test and ONE final line `N passed, N failed`; exit code 1 on any
// failure. Output (logs, screenshots): test-results/integration/ (or $FGCAM_TEST_OUT).
//   --skip-build  do not run `npm run build` first;  --keep  keep the temp folders;
//   --readme-screenshots  refresh the README's screenshots in media/ (never done by `npm test`);
//   --ext DIR     another extension folder (harness development);  --verbose  more output.
// Environment: FGCAM_CACHE (as setup.sh), FGCAM_TEST_OUT (output folder), FGCAM_IT_TIMEOUT_MS
// (suite timeout, default 600000).
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const requireRepo = createRequire(path.join(REPO, 'package.json'));
import { bundleSuite, makeWorkspace, sampleImages } from './workspace.mjs';
const T0 = Date.now();

// ------------------------------------------------------------------ arguments
const argv = process.argv.slice(2);
const flag = (n) => argv.includes(n);
const opt = (n) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1] : undefined;
};
if (flag('--help') || flag('-h')) {
  const lines = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  console.log(lines.slice(1, lines.findIndex((l) => l.startsWith('import '))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const PARTS = new Set((opt('--only') ?? 'suite,ui,package').split(',').map((s) => s.trim()).filter(Boolean));
for (const p of PARTS) {
  if (!['suite', 'ui', 'package'].includes(p)) {
    console.error(`unknown part "${p}" (--only takes suite,ui,package)`);
    process.exit(2);
  }
}
const EXT_DIR = path.resolve(opt('--ext') ?? REPO);
const KEEP = flag('--keep') || process.env.FGCAM_IT_KEEP === '1';
const VERBOSE = flag('--verbose') || process.env.FGCAM_IT_VERBOSE === '1';
const SKIP_BUILD = flag('--skip-build') || EXT_DIR !== REPO;
const SUITE_TIMEOUT = Number(process.env.FGCAM_IT_TIMEOUT_MS ?? 600_000);
const CACHE = path.join(process.env.FGCAM_CACHE || path.join(os.homedir(), '.cache', 'fgcam'), 'test-tools');
const README_SCREENSHOTS = flag('--readme-screenshots');
const OUT = path.resolve(process.env.FGCAM_TEST_OUT ?? path.join(REPO, 'test-results', 'integration'));
const SCREENSHOT_README = path.join(REPO, 'media', 'screenshot-panel.png');
const EXT_ID = 'fgcam.fgcam-explorer';

// ------------------------------------------------------------------ results
let passed = 0;
let failed = 0;
const failures = [];
const elapsed = () => `${((Date.now() - T0) / 1000).toFixed(1)}s`;
function log(...a) {
  console.log(`[it ${elapsed()}]`, ...a);
}
function record(name, ok, detail) {
  if (ok) passed++;
  else {
    failed++;
    failures.push(`${name}${detail ? `: ${detail}` : ''}`);
  }
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${!ok && detail ? ` # ${String(detail).split('\n')[0]}` : ''}`);
  if (!ok && detail && String(detail).includes('\n')) console.log(String(detail).replace(/^/gm, '    '));
}

// ------------------------------------------------------------------ cleanup
const cleanups = [];
let cleaning;
/** Runs the cleanups once, newest first; a second call waits for the first. */
function cleanup() {
  cleaning ??= (async () => {
    for (const f of cleanups.reverse()) {
      try {
        await f();
      } catch (e) {
        if (VERBOSE) console.error('cleanup:', e);
      }
    }
  })();
  return cleaning;
}
let interrupted;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = sig;
    console.error(`\n[it] ${sig}: stopping code-server and chromium`);
    void cleanup().finally(() => {
      console.log(`${passed} passed, ${failed + 1} failed`);
      process.exit(130);
    });
  });
}
process.on('exit', () => {
  // Last resort (synchronous): kill the process groups still recorded.
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
});
const liveGroups = new Set();

// ------------------------------------------------------------------ helpers
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function poll(what, f, { timeout = 30_000, interval = 200 } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ` (last error: ${last.message ?? last})` : ''}`);
    await sleep(interval);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function readEnv() {
  const f = path.join(CACHE, 'env.json');
  if (!fs.existsSync(f)) throw new Error(`${f} not found: run \`bash test/integration/setup.sh\` first`);
  const env = JSON.parse(fs.readFileSync(f, 'utf8'));
  for (const k of ['node24', 'codeServer', 'playwrightCore', 'chromium']) {
    if (!fs.existsSync(env[k])) throw new Error(`${k} (${env[k]}) is missing: re-run test/integration/setup.sh`);
  }
  return env;
}

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: VERBOSE ? 'inherit' : 'pipe', encoding: 'utf8', ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}\n${(r.stdout ?? '').slice(-3000)}${(r.stderr ?? '').slice(-3000)}`);
  }
  return r;
}

// ------------------------------------------------------------------ code-server
const USER_SETTINGS = {
  'chat.disableAIFeatures': true,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
  'explorer.confirmDragAndDrop': false,
  'workbench.editor.enablePreview': false,
};

/** Folders of one code-server instance; the caller picks the extensions dir. */
function serverDirs(root) {
  const d = {
    root,
    userData: path.join(root, 'user-data'),
    extensions: path.join(root, 'extensions'),
    config: path.join(root, 'config.yaml'),
    xdg: path.join(root, 'xdg'),
  };
  fs.mkdirSync(path.join(d.userData, 'User'), { recursive: true });
  fs.mkdirSync(d.extensions, { recursive: true });
  for (const x of ['config', 'data', 'cache']) fs.mkdirSync(path.join(d.xdg, x), { recursive: true });
  fs.writeFileSync(d.config, 'auth: none\ncert: false\n');
  fs.writeFileSync(path.join(d.userData, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
  return d;
}

function serverEnv(env, dirs, extra = {}) {
  const e = { ...process.env };
  // Node 24 first on PATH: the extension host is a child of code-server and must run under it.
  e.PATH = `${path.dirname(env.node24)}:${e.PATH}`;
  e.XDG_CONFIG_HOME = path.join(dirs.xdg, 'config');
  e.XDG_DATA_HOME = path.join(dirs.xdg, 'data');
  e.XDG_CACHE_HOME = path.join(dirs.xdg, 'cache');
  delete e.VSCODE_IPC_HOOK_CLI;
  delete e.ELECTRON_RUN_AS_NODE;
  delete e.npm_config_prefix;
  return { ...e, ...extra };
}

function commonFlags(dirs) {
  return ['--config', dirs.config, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
}

async function startServer(env, dirs, workspace, extraEnv = {}, label = 'code-server') {
  const port = await freePort();
  const logFile = path.join(OUT, `${label}.log`);
  const out = fs.openSync(logFile, 'w');
  const args = [
    env.codeServer,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    ...commonFlags(dirs),
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--reconnection-grace-time', '5',
    '--vscode-option', 'enable-smoke-test-driver',
    workspace,
  ];
  const child = spawn(env.node24, args, { cwd: dirs.root, env: serverEnv(env, dirs, extraEnv), detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  liveGroups.add(child.pid);
  let exited = null;
  child.on('exit', (code, sig) => {
    exited = code ?? sig;
    liveGroups.delete(child.pid);
  });
  const server = {
    port,
    pid: child.pid,
    logFile,
    base: `http://127.0.0.1:${port}`,
    remote: (p) => `vscode-remote://127.0.0.1:${port}${p.split(path.sep).join('/')}`,
    async stop() {
      if (exited !== null) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
      const end = Date.now() + 5000;
      while (exited === null && Date.now() < end) await sleep(100);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      liveGroups.delete(child.pid);
    },
  };
  cleanups.push(() => server.stop());
  log(`${label}: pid ${child.pid}, port ${port}, log ${path.relative(REPO, logFile)}`);
  await poll(`${label} /healthz`, async () => {
    if (exited !== null) throw new Error(`${label} exited (${exited}); see ${logFile}:\n${tail(logFile)}`);
    const r = await fetch(`${server.base}/healthz`).catch(() => null);
    return r?.ok;
  }, { timeout: 60_000, interval: 250 }).catch((e) => {
    if (exited !== null) throw new Error(`${label} exited (${exited}); see ${logFile}:\n${tail(logFile)}`);
    throw e;
  });
  return server;
}

function tail(file, n = 40) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

// ------------------------------------------------------------------ browser
let browserLaunch;
async function browser(env) {
  if (browserLaunch) return browserLaunch;
  browserLaunch = (async () => {
    const pw = createRequire(path.join(env.playwrightCore, 'package.json'))('playwright-core');
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fgcam-chromium-'));
    const ctx = await pw.chromium.launchPersistentContext(profile, {
      executablePath: env.chromium,
      headless: true,
      viewport: { width: 1400, height: 900 },
      deviceScaleFactor: 1,
      // Our own signal handlers close the browser after code-server (and remove temp folders).
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    cleanups.push(async () => {
      await ctx.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    });
    return ctx;
  })();
  return browserLaunch;
}

/** Opens a workbench page; console lines go to `consoleLog` (and those of the suite to stdout). */
async function openWorkbench(ctx, server, workspace, payload, label) {
  const page = await ctx.newPage();
  const consoleLog = fs.createWriteStream(path.join(OUT, `${label}.browser-console.log`));
  page.on('console', (m) => {
    const text = m.text();
    consoleLog.write(`[${m.type()}] ${text}\n`);
    const i = text.indexOf('[fgcam-it]');
    if (i >= 0) console.log(`  ${text.slice(i + 10).replace(/%c/g, '').trim()}`);
    else if (VERBOSE && (m.type() === 'error' || m.type() === 'warning')) console.log(`  [browser ${m.type()}] ${text.slice(0, 300)}`);
  });
  page.on('pageerror', (e) => consoleLog.write(`[pageerror] ${e.message}\n`));
  page.on('close', () => consoleLog.end());
  let url = `${server.base}/?folder=${encodeURIComponent(workspace)}`;
  if (payload) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return { page, url, consoleLog };
}

// ------------------------------------------------------------------ canvas reading (runs in the webview frame)
/**
 * Pixel statistics of the heatmap canvas (or the canvas with data-testid `testid`); `save` keeps
 * a copy under that name; `against` compares with a saved copy (of any canvas of that size).
 */
function canvasProbe({ save, against, testid = 'heatmap-canvas' }) {
  const c = document.querySelector(`[data-testid=${testid}]`);
  if (!c) return { missing: true };
  const w = c.width;
  const h = c.height;
  if (!w || !h) return { empty: true, rendered: c.getAttribute('data-rendered') };
  // Copy through a 2D canvas: works whatever context the panel draws with.
  const tmp = document.createElement('canvas');
  tmp.width = w;
  tmp.height = h;
  const t = tmp.getContext('2d', { willReadFrequently: true });
  t.drawImage(c, 0, 0);
  const d = t.getImageData(0, 0, w, h).data;
  const n = w * h;
  const colors = new Set();
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  let opaque = 0;
  for (let i = 0; i < d.length; i += 4) {
    for (let k = 0; k < 3; k++) {
      sum[k] += d[i + k];
      sq[k] += d[i + k] * d[i + k];
    }
    if (d[i + 3] > 0) opaque++;
    if (colors.size < 5000) colors.add(((d[i] >> 3) << 10) | ((d[i + 1] >> 3) << 5) | (d[i + 2] >> 3));
  }
  const std = sum.map((s, k) => Math.sqrt(Math.max(0, sq[k] / n - (s / n) ** 2)));
  const snaps = (window.__fgcamSnaps ??= {});
  let changed;
  if (against) {
    const prev = snaps[against];
    if (!prev) changed = { error: `no snapshot ${against}` };
    else if (prev.w !== w || prev.h !== h) changed = { fraction: 1, sizeChanged: true, prevRendered: prev.rendered };
    else {
      let diff = 0;
      let sad = 0;
      for (let i = 0; i < d.length; i += 4) {
        const a = Math.abs(d[i] - prev.d[i]) + Math.abs(d[i + 1] - prev.d[i + 1]) + Math.abs(d[i + 2] - prev.d[i + 2]);
        sad += a;
        if (a > 12) diff++;
      }
      changed = { fraction: diff / n, meanAbs: sad / (3 * n), prevRendered: prev.rendered };
    }
  }
  if (save) snaps[save] = { w, h, d: new Uint8ClampedArray(d), rendered: c.getAttribute('data-rendered') };
  return { w, h, rendered: c.getAttribute('data-rendered'), colors: colors.size, std, opaque: opaque / n, changed };
}

/** The (inner) webview frame holding an element that matches `selector`, if any. */
async function frameWith(page, selector) {
  for (const f of page.frames()) {
    if (f === page.mainFrame() || f.isDetached()) continue;
    try {
      if (await f.$(selector)) return f;
    } catch {}
  }
  return undefined;
}

/** The explain panel's webview frame (it holds the heatmap canvas), if any. */
const heatmapFrame = (page) => frameWith(page, '[data-testid=heatmap-canvas]');
/** The review panel's webview frame, if any. */
const reviewFrame = (page) => frameWith(page, '[data-testid=review-summary]');

async function waitRendered(page, what, timeout = 120_000) {
  return poll(what, async () => {
    const f = await heatmapFrame(page);
    if (!f) return undefined;
    const s = await f.evaluate(canvasProbe, {});
    return s && !s.missing && isRendered(s) && s.w > 0 ? { frame: f, stats: s } : undefined;
  }, { timeout, interval: 300 });
}

/** data-rendered: a render counter ("0" before the first render) or any other non-empty mark. */
function isRendered(s) {
  return s.rendered != null && s.rendered !== '' && s.rendered !== '0' && s.rendered !== 'false';
}

function notBlank(s) {
  return s && s.w > 0 && s.colors >= 8 && Math.max(...s.std) > 4 && s.opaque > 0.5;
}

/** Polls until the canvas differs from snapshot `name` (the render after a control change). */
async function waitChanged(frame, name, what, timeout = 60_000, { allowBlank = false } = {}) {
  let last;
  const count = (r) => (/^\d+$/.test(r ?? '') ? Number(r) : undefined);
  try {
    return await poll(what, async () => {
      last = await frame.evaluate(canvasProbe, { against: name });
      // A newer render (when data-rendered counts), different pixels, and not blank.
      const prev = count(last.changed?.prevRendered);
      const newer = prev === undefined || count(last.rendered) > prev;
      return isRendered(last) && newer && last.changed && last.changed.fraction > 0.005 && (allowBlank || notBlank(last)) ? last : undefined;
    }, { timeout, interval: 250 });
  } catch (e) {
    throw new Error(`${e.message}; last probe ${JSON.stringify(last)}`);
  }
}

async function waitWorkbench(page, timeout = 90_000) {
  await page.waitForSelector('.monaco-workbench', { timeout });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout });
}

function explorerRow(page, name) {
  return page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`).first();
}

/**
 * Right-clicks `target` and clicks the menu entry matching `entry`. Extension menu entries
 * appear only once the extension host has registered the extension, a few seconds after the
 * workbench shows: retry (Escape, right-click again) until the entry is there.
 */
async function contextMenu(page, target, entry, timeout = 90_000) {
  const item = page.locator('.context-view .monaco-menu .action-item .action-label', { hasText: entry }).first();
  const menu = page.locator('.context-view .monaco-menu');
  let seen = [];
  let attempt = 0;
  await poll(`the context menu entry ${entry}`, async () => {
    attempt++;
    try {
      await target.click({ button: 'right' });
      await item.waitFor({ timeout: 3000 });
    } catch (e) {
      if (VERBOSE) log(`context menu: attempt ${attempt}: ${String(e.message).split('\n')[0]}`);
      seen = await page.locator('.context-view .monaco-menu .action-item .action-label').allTextContents().catch(() => []);
      await page.keyboard.press('Escape');
      return false;
    }
    if (VERBOSE) log(`context menu: attempt ${attempt}: entry ${entry} is there`);
    await item.hover();
    await item.click();
    // A click that lands while the menu is still settling can be swallowed (the menu stays
    // open with the entry focused): then press Enter on it, which runs it just the same.
    const closed = await menu.waitFor({ state: 'hidden', timeout: 2000 }).then(() => true, () => false);
    if (!closed) {
      if (VERBOSE) log('context menu: still open after the click: pressing Enter');
      await item.hover();
      await page.keyboard.press('Enter');
      await menu.waitFor({ state: 'hidden', timeout: 5000 });
    }
    return true;
  }, { timeout, interval: 1000 }).catch((e) => {
    throw new Error(`no context menu entry ${entry} after ${timeout} ms; the menu had: ${seen.filter(Boolean).join(' | ') || 'nothing'} (${e.message})`);
  });
}

/** F1, type the command's title, click its entry (retrying while the palette is not ready). */
async function runPaletteCommand(page, title, timeout = 60_000) {
  const input = page.locator('.quick-input-widget input');
  const entry = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  await poll(`the "${title}" entry in the command palette`, async () => {
    await page.keyboard.press('F1');
    await input.waitFor({ timeout: 10_000 });
    await page.keyboard.type(title);
    if (await entry.waitFor({ timeout: 5000 }).then(() => true, () => false)) return true;
    await page.keyboard.press('Escape');
    return false;
  }, { timeout, interval: 500 });
  await entry.click();
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
}

/** Every frame of the page with its URL and the start of its text (for failure reports). */
async function describeFrames(page) {
  const lines = [];
  for (const f of page.frames()) {
    let text = '';
    try {
      text = await f.evaluate(() => `${document.readyState} ${document.body?.innerText?.slice(0, 300).replace(/\s+/g, ' ')}`);
    } catch (e) {
      text = `(${String(e.message).split('\n')[0]})`;
    }
    lines.push(`${f === page.mainFrame() ? 'main' : f.parentFrame() === page.mainFrame() ? '  child' : '    grandchild'} ${f.url().slice(0, 200)}\n      ${text}`);
  }
  return lines.join('\n') + '\n';
}

async function shot(page, name) {
  const file = path.join(OUT, name);
  await page.screenshot({ path: file }).catch(() => {});
  return file;
}

/**
 * Runs one named UI step. A failing step fails the steps after it ("not run"), unless it was
 * declared { critical: false } (later steps do not depend on its outcome).
 */
function stepper(prefix, page) {
  let broken;
  let nfail = 0;
  return async (name, f, { critical = true } = {}) => {
    const full = `${prefix}: ${name}`;
    if (broken) {
      record(full, false, `not run: "${broken}" failed`);
      return undefined;
    }
    const t = Date.now();
    try {
      const v = await f();
      record(`${full} (${((Date.now() - t) / 1000).toFixed(1)}s)`, true);
      return v;
    } catch (e) {
      if (critical) broken = name;
      const base = `${prefix.replace(/\W+/g, '-')}-failure-${++nfail}`;
      await shot(page, `${base}.png`);
      await fs.promises.writeFile(path.join(OUT, `${base}.html`), await page.content().catch(() => '')).catch(() => {});
      await fs.promises.writeFile(path.join(OUT, `${base}.frames.txt`), await describeFrames(page)).catch(() => {});
      record(full, false, `${e?.stack ?? String(e)}\n(screenshot ${path.join(OUT, `${base}.png`)})`);
      return undefined;
    }
  };
}

function exportedFiles(dir, stem) {
  return fs.readdirSync(dir).filter((f) => f.startsWith(`${stem}.fgcam-`) && f.endsWith('.png')).sort();
}

function checkPng(file) {
  const { PNG } = requireRepo('pngjs');
  const png = PNG.sync.read(fs.readFileSync(file));
  let min = 255;
  let max = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const v = png.data[i] + png.data[i + 1] + png.data[i + 2];
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  if (max - min < 10) throw new Error(`${path.basename(file)} is uniform`);
  return `${png.width}x${png.height}`;
}

// ------------------------------------------------------------------ parts
async function partSuite(env, server, ctx, workspace, images, suiteJs) {
  const { page, url } = await openWorkbench(ctx, server, workspace, [
    ['extensionDevelopmentPath', server.remote(EXT_DIR)],
    ['extensionTestsPath', server.remote(suiteJs)],
  ], 'suite');
  let resolveExit;
  const exitCode = new Promise((r) => (resolveExit = r));
  await page.exposeFunction('codeAutomationExit', (code) => {
    resolveExit(code);
  });
  // The suite's summary line arrives through the console before the exit.
  let summary;
  page.on('console', (m) => {
    const mm = /\[fgcam-it\]\s*summary: (\d+) passed, (\d+) failed/.exec(m.text());
    if (mm) summary = { passed: +mm[1], failed: +mm[2] };
  });
  log(`suite: opening the workbench; the extension host runs ${suiteJs}`);
  await page.goto(url);
  const code = await Promise.race([exitCode, sleep(SUITE_TIMEOUT).then(() => 'timeout')]);
  await sleep(300); // let the last console lines arrive
  await shot(page, 'suite-end.png');
  if (summary) {
    passed += summary.passed;
    failed += summary.failed;
    if (summary.failed) failures.push(`suite: ${summary.failed} test(s) failed (see "not ok" above)`);
  }
  if (code === 'timeout') record('suite: finished in time', false, `no exit code after ${SUITE_TIMEOUT} ms; see ${path.join(OUT, 'suite.browser-console.log')}`);
  else if (!summary) record('suite: reported a summary', false, `exit code ${code} without a summary line; see ${path.join(OUT, 'suite.browser-console.log')}`);
  else if (code !== 0 && summary.failed === 0) record('suite: exit code', false, `exit code ${code} although no test failed`);
  log(`suite: exit code ${code}`);
  await page.close().catch(() => {});
}

/** The panel's content (the webview's <main>) with a margin, not the empty space below it. */
async function screenshotPanel(page, frame, file) {
  const outer = await frame.parentFrame()?.frameElement();
  if (!outer) throw new Error('no webview iframe element');
  const ob = await outer.boundingBox();
  const app = frame.locator('[data-testid=panel]');
  const ab = (await app.count()) ? await app.boundingBox() : null;
  if (ob && ab) {
    const x = Math.max(ob.x, ab.x - 16);
    const y = Math.max(ob.y, ab.y - 16);
    const right = Math.min(ob.x + ob.width, ab.x + ab.width + 16);
    const bottom = Math.min(ob.y + ob.height, ab.y + ab.height + 16);
    await page.screenshot({ path: file, clip: { x, y, width: right - x, height: bottom - y } });
  } else await outer.screenshot({ path: file });
}

/** Sets the panel's opacity slider and waits for the re-render. */
async function setOpacity(frame, value) {
  const slider = frame.locator('[data-testid=opacity]');
  if ((await slider.inputValue()) === String(value)) return;
  await frame.evaluate(canvasProbe, { save: 'beforeOpacity' });
  await slider.fill(String(value));
  await waitChanged(frame, 'beforeOpacity', `the canvas to re-render at opacity ${value}`, 30_000, { allowBlank: true });
}

async function partUi(env, server, ctx, workspace, images) {
  const { page, url } = await openWorkbench(ctx, server, workspace, [['extensionDevelopmentPath', server.remote(EXT_DIR)]], 'ui');
  const step = stepper('ui', page);
  const img = images[0].name;
  const stem = img.replace(/\.[^.]+$/, '');
  let frame;
  let pickedLayer;
  let defaultOpacity;
  await step('workbench loads with the Explorer', async () => {
    await page.goto(url);
    await waitWorkbench(page);
    await explorerRow(page, img).waitFor({ timeout: 30_000 });
  });
  await step(`Explorer: right-click ${img} > FG-CAM: Explain Image`, async () => {
    await contextMenu(page, explorerRow(page, img), /Explain Image/);
    await shot(page, 'ui-after-menu.png');
  });
  await step('the panel renders a heatmap that is not blank (canvas pixels)', async () => {
    const r = await waitRendered(page, 'the heatmap canvas with data-rendered', 120_000);
    frame = r.frame;
    const s = await frame.evaluate(canvasProbe, {});
    if (!notBlank(s)) throw new Error(`canvas looks blank/uniform: ${JSON.stringify(s)}`);
    // The canvas blends the image and the heatmap: at opacity 1 it is the heatmap alone,
    // so its pixels say whether the map itself has structure.
    defaultOpacity = await frame.locator('[data-testid=opacity]').inputValue();
    await setOpacity(frame, 1);
    const h = await frame.evaluate(canvasProbe, {});
    if (!notBlank(h)) throw new Error(`the heatmap alone (opacity 1) is uniform: ${JSON.stringify(h)}`);
    log(`ui: canvas ${h.w}x${h.h}; heatmap alone: ${h.colors} colours, std ${h.std.map((x) => x.toFixed(1)).join('/')}`);
  });
  await step('switching the layer changes the rendered map', async () => {
    const picker = frame.locator('[data-testid=layer-picker]');
    await picker.waitFor({ timeout: 10_000 });
    await frame.evaluate(canvasProbe, { save: 'beforeLayer' });
    const { values, current } = await picker.evaluate((e) => ({ values: [...e.options].filter((o) => !o.disabled).map((o) => o.value), current: e.value }));
    const others = values.filter((v) => v !== current);
    if (others.length === 0) throw new Error(`the layer picker offers only ${JSON.stringify(values)}`);
    // A layer half-way down the walk: its map differs most from the input's.
    pickedLayer = others[Math.floor(others.length / 2)];
    log(`ui: layer ${current} -> ${pickedLayer} (${values.length} layers offered)`);
    await picker.selectOption(pickedLayer);
    const s = await waitChanged(frame, 'beforeLayer', 'the canvas to change after the layer switch', 60_000, { allowBlank: true });
    if (!notBlank(s)) throw new Error(`the heatmap at ${pickedLayer} is uniform: ${JSON.stringify(s)}`);
  });
  await step('screenshot of the panel', async () => {
    await setOpacity(frame, defaultOpacity ?? 0.5);
    await frame.evaluate(() => document.activeElement?.blur?.());
    const panelShot = path.join(OUT, 'screenshot-panel.png');
    await screenshotPanel(page, frame, panelShot);
    const full = await shot(page, 'ui-workbench.png');
    if (README_SCREENSHOTS) {
      fs.mkdirSync(path.dirname(SCREENSHOT_README), { recursive: true });
      fs.copyFileSync(panelShot, SCREENSHOT_README);
    }
    log(`ui: screenshots ${README_SCREENSHOTS ? `${path.relative(REPO, SCREENSHOT_README)}, ` : ''}${path.relative(REPO, panelShot)}, ${path.relative(REPO, full)}`);
  }, { critical: false });
  await step('toggling denoise changes the rendered map (and it is not uniform)', async () => {
    await setOpacity(frame, 1);
    await frame.evaluate(canvasProbe, { save: 'beforeDenoise' });
    await frame.locator('[data-testid=denoise]').click();
    const s = await waitChanged(frame, 'beforeDenoise', 'the canvas to change after the denoise toggle', 120_000, { allowBlank: true });
    if (!notBlank(s)) throw new Error(`the denoised heatmap at ${pickedLayer} is uniform: ${JSON.stringify(s)}`);
  }, { critical: false });
  await step('the export button writes heatmap + overlay PNGs next to the image', async () => {
    // Back to the default opacity: the overlay file is written with the view's opacity.
    await setOpacity(frame, defaultOpacity ?? 0.5);
    const denoised = await frame.locator('[data-testid=denoise]').isChecked();
    const before = new Set(exportedFiles(workspace, stem));
    await frame.locator('[data-testid=export]').click();
    const files = await poll('exported files next to the image', () => {
      const now = exportedFiles(workspace, stem).filter((f) => !before.has(f));
      return now.some((f) => f.endsWith('.overlay.png')) && now.some((f) => !f.endsWith('.overlay.png')) ? now : undefined;
    }, { timeout: 60_000 });
    log(`ui: exported ${files.join(', ')}`);
    if (files.some((f) => f.includes('-denoised.') !== denoised)) throw new Error(`denoise is ${denoised ? 'on' : 'off'} but the names are ${files.join(', ')}`);
    if (/^[\w-]+$/.test(pickedLayer ?? '') && !files.every((f) => f.includes(`.${pickedLayer}.`))) throw new Error(`expected the layer ${pickedLayer} in the names, got ${files.join(', ')}`);
    const sizes = files.map((f) => `${f}: ${checkPng(path.join(workspace, f))}`);
    log(`ui: ${sizes.join('; ')}`);
  });
  await step('the panel restores after Developer: Reload Window (webview serializer)', async () => {
    // The palette command, not page.reload(): it runs VS Code's shutdown (which saves the
    // webview state) before reloading; a bare browser reload can lose unsaved state.
    const reloaded = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 60_000 });
    await runPaletteCommand(page, 'Developer: Reload Window');
    await reloaded;
    await waitWorkbench(page);
    const r = await waitRendered(page, 'the restored panel to render its heatmap', 120_000);
    frame = r.frame;
    const s = await frame.evaluate(canvasProbe, {});
    if (!notBlank(s)) throw new Error(`restored canvas looks blank: ${JSON.stringify(s)}`);
    const text = await frame.evaluate(() => document.body.innerText);
    if (!text.includes(img)) throw new Error(`the restored panel does not name ${img}: ${text.slice(0, 200)}`);
  }, { critical: false });
  await step('Explorer: explain broken.png > the panel and a notification show the decode error', async () => {
    await contextMenu(page, explorerRow(page, 'broken.png'), /Explain Image/);
    const f = await poll('the panel error', async () => {
      const fr = await heatmapFrame(page);
      if (!fr) return undefined;
      const visible = await fr.locator('[data-testid=error]').isVisible().catch(() => false);
      return visible ? fr : undefined;
    }, { timeout: 60_000 });
    const panelText = await f.locator('[data-testid=error]').innerText();
    if (!/broken\.png/.test(panelText) || !/cannot decode PNG/i.test(panelText)) throw new Error(`panel error text: ${panelText}`);
    // The error notification: a toast, or (when VS Code holds toasts back) the notification centre.
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /cannot decode PNG/i }).first();
    if (!(await toast.waitFor({ timeout: 5000 }).then(() => true, () => false))) {
      await page.locator('[id="status.notifications"]').click();
      const item = page.locator('.notifications-center .notification-list-item', { hasText: /cannot decode PNG/i }).first();
      await item.waitFor({ timeout: 10_000 }).catch(async (e) => {
        await shot(page, 'ui-notifications.png');
        throw new Error(`no "cannot decode PNG" notification (toast or centre): ${e.message.split('\n')[0]}`);
      });
      await page.keyboard.press('Escape');
    }
    log(`ui: panel error "${panelText.trim().split('\n')[0].slice(0, 160)}"`);
  }, { critical: false });
  await reviewSteps(page, workspace);
  await shot(page, 'ui-end.png');
  await page.close().catch(() => {});
}

/**
 * Review Dataset as a person uses it: right-click the class-per-folder dataset, read the
 * accuracy, click a confusion cell (the gallery shows its images), open a mistake (the explain
 * panel shows why the predicted class and not the true one), and a screenshot of the panel.
 */
async function reviewSteps(page, workspace) {
  const step = stepper('ui-review', page);
  const expect = JSON.parse(fs.readFileSync(path.join(workspace, '.vscode', 'dataset.json'), 'utf8'));
  // The workspace's model is the demo model: its labels name the classes of the matrix.
  const labels = JSON.parse(fs.readFileSync(path.join(REPO, 'models', 'fashion-vgg', 'labels.json'), 'utf8'));
  let frame;
  let cell;
  await step('Explorer: right-click dataset/ > FG-CAM: Review Dataset; the review finishes', async () => {
    await page.keyboard.press('Escape');
    await contextMenu(page, explorerRow(page, 'dataset'), /Review Dataset/);
    frame = await poll('the review panel to finish', async () => {
      const f = await reviewFrame(page);
      if (!f) return undefined;
      return (await f.evaluate(() => document.body.dataset.done === 'true')) ? f : undefined;
    }, { timeout: 180_000, interval: 500 });
  });
  await step('the summary shows the accuracy of the dataset', async () => {
    const acc = (await frame.locator('[data-testid=review-accuracy]').innerText()).trim();
    const images = (await frame.locator('[data-testid=review-images]').innerText()).trim();
    log(`ui: review shows accuracy ${acc} over ${images} images`);
    if (Number(images) !== expect.images) throw new Error(`${images} images shown, the dataset has ${expect.images}`);
    if (expect.correct !== undefined && acc !== `${((100 * expect.correct) / expect.images).toFixed(1)}%`) throw new Error(`accuracy ${acc}, expected ${expect.correct}/${expect.images}`);
    if (!/^\d+(\.\d)?%$/.test(acc)) throw new Error(`accuracy reads "${acc}"`);
  });
  await step('screenshot of the review panel (test output folder)', async () => {
    const outer = await frame.parentFrame()?.frameElement();
    const file = path.join(OUT, 'screenshot-review.png');
    if (outer) await outer.screenshot({ path: file });
    else await page.screenshot({ path: file });
    if (README_SCREENSHOTS) fs.copyFileSync(file, path.join(REPO, 'media', 'screenshot-review.png'));
    log(`ui: screenshot ${path.relative(REPO, file)}${README_SCREENSHOTS ? ' (and media/screenshot-review.png)' : ''}`);
  }, { critical: false });
  await step('clicking a confusion cell of mistakes filters the gallery to its images', async () => {
    const cells = frame.locator('[data-testid=confusion-cell]');
    const all = await cells.evaluateAll((es) => es.map((e) => ({ t: e.dataset.truth, p: e.dataset.predicted, n: Number(e.dataset.count) })));
    cell = all.find((c) => c.t !== c.p && c.n > 0);
    if (!cell) throw new Error(`no off-diagonal cell with images: ${JSON.stringify(all.filter((c) => c.n))}`);
    await frame.locator(`[data-testid=confusion-cell][data-truth="${cell.t}"][data-predicted="${cell.p}"]`).click();
    const tiles = await poll('the gallery to show the cell', async () => {
      const ts = await frame.locator('[data-testid=tile]').evaluateAll((es) => es.map((e) => ({ path: e.dataset.path, mistake: e.dataset.mistake })));
      return ts.length === cell.n ? ts : undefined;
    }, { timeout: 20_000 });
    if (!tiles.every((t) => t.mistake === 'true')) throw new Error(`tiles of an off-diagonal cell that are not mistakes: ${JSON.stringify(tiles)}`);
    if (expect.correct !== undefined && !tiles.some((t) => t.path === expect.mislabelled)) throw new Error(`the mislabelled ${expect.mislabelled} is not among ${JSON.stringify(tiles)}`);
    log(`ui: cell truth ${cell.t} / predicted ${cell.p}: ${tiles.map((t) => t.path).join(', ')}`);
  });
  let explainFrame;
  await step('clicking the mistake opens the explain panel on it: the predicted and the true class side by side, titled, at one layer', async () => {
    const tile = frame.locator('[data-testid=tile]').first();
    const rel = await tile.getAttribute('data-path');
    const name = rel.split('/').pop();
    await tile.click();
    const { f, v } = await poll('the explain panel to show the two maps of the mistake', async () => {
      const fr = await heatmapFrame(page);
      if (!fr) return undefined;
      const got = await fr.evaluate(contrastProbe);
      return got.shown && got.status.includes(name) && isRendered({ rendered: got.rendered }) ? { f: fr, v: got } : undefined;
    }, { timeout: 120_000, interval: 300 });
    explainFrame = f;
    log(`ui: ${rel}: "${v.heading}" — "${v.title}" | "${v.contrastTitle}" at ${v.layer}`);
    const pct = '\\(\\d+\\.\\d%\\)';
    const esc = (x) => x.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    if (!new RegExp(`^predicted: ${esc(labels[cell.p])} ${pct}$`).test(v.title)) throw new Error(`left title "${v.title}", want "predicted: ${labels[cell.p]} (p%)"`);
    if (!new RegExp(`^true: ${esc(labels[cell.t])} ${pct}$`).test(v.contrastTitle)) throw new Error(`right title "${v.contrastTitle}", want "true: ${labels[cell.t]} (p%)"`);
    if (v.mainClass !== cell.p || v.contrastClass !== cell.t) throw new Error(`maps of classes ${v.mainClass} | ${v.contrastClass}, want ${cell.p} | ${cell.t}`);
    if (v.layer !== v.contrastLayer) throw new Error(`maps at ${v.layer} and ${v.contrastLayer}`);
    // Two real maps, and not the same one twice.
    const a = await f.evaluate(canvasProbe, { save: 'predictedMap' });
    const b = await f.evaluate(canvasProbe, { testid: 'contrast-canvas', against: 'predictedMap' });
    if (!notBlank(a) || !notBlank(b)) throw new Error(`a map looks blank: ${JSON.stringify({ a, b })}`);
    if (!(b.changed?.fraction > 0.005)) throw new Error(`the two maps are the same picture: ${JSON.stringify(b.changed)}`);
    await shot(page, 'ui-review-explain.png');
  });
  await step('the layer picker and the denoise toggle switch both maps together', async () => {
    const f = explainFrame;
    const picker = f.locator('[data-testid=layer-picker]');
    const { values, current } = await picker.evaluate((e) => ({ values: [...e.options].filter((o) => !o.disabled).map((o) => o.value), current: e.value }));
    const other = values.find((x) => x !== current && x !== 'input') ?? values.find((x) => x !== current);
    if (!other) throw new Error(`the layer picker offers only ${JSON.stringify(values)}`);
    await picker.selectOption(other);
    await poll(`both maps at ${other}`, async () => {
      const v = await f.evaluate(contrastProbe);
      return v.shown && v.layer === other && v.contrastLayer === other;
    }, { timeout: 30_000, interval: 250 });
    const denoised = await f.locator('[data-testid=denoise]').isChecked();
    await f.locator('[data-testid=denoise]').click();
    const v = await poll(`both maps ${denoised ? 'without' : 'with'} denoising`, async () => {
      const got = await f.evaluate(contrastProbe);
      return got.shown && got.denoise === String(!denoised) && got.contrastDenoise === String(!denoised) && got.layer === other && got.contrastLayer === other ? got : undefined;
    }, { timeout: 120_000, interval: 300 });
    if (!/^predicted: /.test(v.title) || !/^true: /.test(v.contrastTitle)) throw new Error(`titles after the switch: "${v.title}" | "${v.contrastTitle}"`);
    log(`ui: both maps at ${other}, denoise ${!denoised}`);
    // The README's picture of the contrast (with --readme-screenshots).
    const panelShot = path.join(OUT, 'screenshot-contrast.png');
    await f.evaluate(() => document.activeElement?.blur?.());
    await screenshotPanel(page, f, panelShot);
    if (README_SCREENSHOTS) fs.copyFileSync(panelShot, path.join(REPO, 'media', 'screenshot-contrast.png'));
  });
}

/** What the explain panel shows of a "why X and not Y" view (runs in its webview frame). */
function contrastProbe() {
  const q = (id) => document.querySelector(`[data-testid=${id}]`);
  const fig = q('contrast-figure');
  const main = q('heatmap-canvas');
  const other = q('contrast-canvas');
  return {
    status: q('status')?.textContent ?? '',
    shown: !!fig && !fig.hidden && !!other,
    heading: q('contrast-heading')?.textContent ?? '',
    title: q('map-title')?.textContent ?? '',
    contrastTitle: q('contrast-title')?.textContent ?? '',
    rendered: main?.dataset.rendered,
    layer: main?.dataset.layer,
    contrastLayer: other?.dataset.layer,
    denoise: main?.dataset.denoise,
    contrastDenoise: other?.dataset.denoise,
    mainClass: main?.dataset.classIndex,
    contrastClass: other?.dataset.classIndex,
  };
}

async function partPackage(env, ctx, images) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fgcam-pkg-'));
  if (!KEEP) cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
  const vsix = path.join(root, 'fgcam-explorer.vsix');
  const stepNoPage = async (name, f) => {
    try {
      const v = await f();
      record(`package: ${name}`, true);
      return v;
    } catch (e) {
      record(`package: ${name}`, false, e?.stack ?? String(e));
      throw e;
    }
  };
  let dirs;
  try {
    await stepNoPage('npm run package produces a .vsix', async () => {
      run('npm', ['run', 'package', '--', '--out', vsix], { cwd: REPO });
      if (!fs.existsSync(vsix)) throw new Error(`no ${vsix}`);
      log(`package: ${(fs.statSync(vsix).size / 1e6).toFixed(1)} MB`);
    });
    await stepNoPage('the .vsix holds the bundles, wasm binaries and demo model, and no sources, tests or source maps', async () => {
      // python3's zipfile: unzip may be missing on a fresh machine.
      const r = spawnSync('python3', ['-c', 'import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.file_size, i.filename)', vsix], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`cannot list the .vsix: ${r.stderr}`);
      fs.writeFileSync(path.join(OUT, 'vsix-contents.txt'), r.stdout);
      const names = r.stdout.trim().split('\n').map((l) => l.slice(l.indexOf(' ') + 1));
      const need = ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/worker.js', 'extension/dist/webview.js', 'extension/models/fashion-vgg/model.json'];
      const missing = need.filter((n) => !names.includes(n));
      if (!names.some((n) => n.endsWith('.wasm'))) missing.push('*.wasm');
      const unwanted = names.filter((n) => /^extension\/(src|test|node_modules|out|bench|tools|\.vscode|\.ci|test-results)\//.test(n) || (/\.ts$/.test(n) && !/\.d\.ts$/.test(n)) || /\.map$/.test(n) || /\.vsix$/.test(n));
      if (missing.length || unwanted.length) throw new Error(`missing: ${missing.join(', ') || 'none'}; unwanted: ${unwanted.slice(0, 20).join(', ') || 'none'}`);
      log(`package: ${names.length} files in the .vsix`);
    });
    dirs = serverDirs(path.join(root, 'server'));
    await stepNoPage('the .vsix installs into a fresh code-server', async () => {
      run(env.node24, [env.codeServer, ...commonFlags(dirs), '--install-extension', vsix], { cwd: root, env: serverEnv(env, dirs) });
      const installed = fs.readdirSync(dirs.extensions).filter((f) => f.startsWith(`${EXT_ID}-`));
      if (installed.length !== 1) throw new Error(`extensions dir holds ${fs.readdirSync(dirs.extensions).join(', ')}`);
      log(`package: installed ${installed[0]}`);
    });
  } catch {
    return;
  }
  const ws = makeWorkspace(path.join(root, 'workspace'), images);
  const server = await startServer(env, dirs, ws, {}, 'code-server-package');
  const { page, url } = await openWorkbench(ctx, server, ws, null, 'package');
  const step = stepper('package', page);
  const img = images[1]?.name ?? images[0].name;
  await step('workbench loads the installed extension', async () => {
    await page.goto(url);
    await waitWorkbench(page);
  });
  await step('the extension is registered (its Explorer menu entry shows)', async () => {
    // Readiness: extension contributions arrive a few seconds after the workbench shows.
    const row = explorerRow(page, img);
    await row.waitFor({ timeout: 30_000 });
    const item = page.locator('.context-view .monaco-menu .action-item .action-label', { hasText: /Explain Image/ }).first();
    await poll('the Explain Image entry in the Explorer context menu', async () => {
      await row.click({ button: 'right' });
      const there = await item.waitFor({ timeout: 2000 }).then(() => true, () => false);
      await page.keyboard.press('Escape');
      return there;
    }, { timeout: 90_000, interval: 1000 });
  });
  await step(`open ${img} from the Explorer, then F1 > FG-CAM: Explain Image`, async () => {
    const row = explorerRow(page, img);
    await row.dblclick();
    await page.locator(`.tabs-container .tab.active[aria-label*="${img}"], .tabs-container .tab.active:has-text("${img}")`).first().waitFor({ timeout: 30_000 });
    await runPaletteCommand(page, 'FG-CAM: Explain Image');
  });
  await step('the heatmap renders (canvas pixels)', async () => {
    const r = await waitRendered(page, 'the heatmap canvas with data-rendered', 120_000);
    const s = await r.frame.evaluate(canvasProbe, {});
    if (!notBlank(s)) throw new Error(`canvas looks blank/uniform: ${JSON.stringify(s)}`);
    const text = await r.frame.evaluate(() => document.body.innerText);
    if (!text.includes(img)) throw new Error(`the panel does not name ${img}: ${text.slice(0, 200)}`);
    // The universal VSIX carries no native binary: ONNX Runtime runs as WebAssembly.
    if (!/onnxruntime-web/.test(text)) throw new Error(`the panel does not say onnxruntime-web runs: ${text.slice(0, 400)}`);
    await shot(page, 'package-workbench.png');
  });
  await page.close().catch(() => {});
  await server.stop();
}

// ------------------------------------------------------------------ main
async function main() {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const env = readEnv();
  log(`repo ${REPO}; extension ${EXT_DIR}; parts ${[...PARTS].join(',')}; output ${OUT}`);

  if (!SKIP_BUILD && (PARTS.has('suite') || PARTS.has('ui'))) {
    run('npm', ['run', 'build'], { cwd: REPO });
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fgcam-it-'));
  if (!KEEP) cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
  else log(`keeping ${tmp}`);

  const images = sampleImages();
  const ctx = await browser(env);

  if (PARTS.has('suite') || PARTS.has('ui')) {
    const dirs = serverDirs(path.join(tmp, 'server'));
    const wsSuite = makeWorkspace(path.join(tmp, 'ws-suite'), images);
    const wsUi = makeWorkspace(path.join(tmp, 'ws-ui'), images);
    // The suite reads what it needs from this file (the extension host inherits the env).
    const suiteConfig = path.join(tmp, 'suite-config.json');
    fs.writeFileSync(suiteConfig, JSON.stringify({ workspace: wsSuite, repo: REPO, images, model: path.join(REPO, 'models', 'fashion-vgg', 'model.json'), out: OUT }, null, 2));
    const server = await startServer(env, dirs, wsSuite, { FGCAM_IT_CONFIG: suiteConfig });
    server.dirsRoot = dirs.root;

    if (PARTS.has('suite')) {
      const suiteJs = path.join(tmp, 'suite', 'index.js');
      let built = false;
      try {
        await bundleSuite(suiteJs);
        built = true;
      } catch (e) {
        record('suite: bundles with esbuild', false, e?.message ?? String(e));
      }
      if (built) {
        const t = Date.now();
        try {
          await partSuite(env, server, ctx, wsSuite, images, suiteJs);
        } catch (e) {
          record('suite: runs', false, e?.stack ?? String(e));
        }
        log(`suite part took ${((Date.now() - t) / 1000).toFixed(1)}s`);
      }
    }
    if (PARTS.has('ui')) {
      const t = Date.now();
      try {
        await partUi(env, server, ctx, wsUi, images);
      } catch (e) {
        record('ui: runs', false, e?.stack ?? String(e));
      }
      log(`ui part took ${((Date.now() - t) / 1000).toFixed(1)}s`);
    }
    await server.stop();
  }
  if (PARTS.has('package')) {
    const t = Date.now();
    try {
      await partPackage(env, ctx, images);
    } catch (e) {
      record('package: runs', false, e?.stack ?? String(e));
    }
    log(`package part took ${((Date.now() - t) / 1000).toFixed(1)}s`);
  }
}

let fatal;
try {
  await main();
} catch (e) {
  fatal = e;
  record('harness', false, e?.stack ?? String(e));
} finally {
  await cleanup();
}
// After a signal, its handler prints the totals and exits (130).
if (interrupted) await new Promise(() => {});
if (failures.length) {
  console.log('\nFailures:');
  for (const f of failures) console.log(`  - ${f.split('\n')[0]}`);
}
console.log(`\nTotal time ${elapsed()}; output in ${OUT}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || fatal || passed === 0 ? 1 : 0);
