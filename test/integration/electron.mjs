// The same extension-host suite under @vscode/test-electron, for machines that can download
// VS Code (this one cannot: use run.mjs, which drives code-server instead).
//   npm install --no-save @vscode/test-electron && npm run build && node test/integration/electron.mjs
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { bundleSuite, makeWorkspace, sampleImages } from './workspace.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
let runTests;
try {
  ({ runTests } = createRequire(path.join(REPO, 'package.json'))('@vscode/test-electron'));
} catch {
  console.error('@vscode/test-electron is not installed: npm install --no-save @vscode/test-electron');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fgcam-electron-'));
const images = sampleImages();
const workspace = makeWorkspace(path.join(tmp, 'ws'), images);
const suiteJs = path.join(tmp, 'suite', 'index.js');
await bundleSuite(suiteJs);
const config = path.join(tmp, 'suite-config.json');
const out = path.join(REPO, 'test-results', 'integration-electron');
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(config, JSON.stringify({ workspace, repo: REPO, images, model: path.join(REPO, 'models', 'fashion-vgg', 'model.json'), out }));
try {
  await runTests({
    extensionDevelopmentPath: REPO,
    extensionTestsPath: suiteJs,
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { FGCAM_IT_CONFIG: config },
  });
  console.log('1 passed, 0 failed');
} catch (e) {
  console.error(e);
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
