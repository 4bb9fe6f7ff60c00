// `npm run bench -- --cli`: the whole `fgcam explain` process on 7 photos (500 x 375..495
// JPEGs) against a literal PyTorch port of it (bench/torch_cli_port.py) run the same way,
// rounds alternating: FG-CAM with the Grad-CAM base on the full VGG16-BN (the bench's seeded
// export), and with the Score-CAM base on a narrow VGG16-BN (an eighth of the channels).
// Wall time of each process, start to exit: import, model load, sessions, decode, explain, write.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as jpeg from 'jpeg-js';
import { cacheDir } from '../test/helpers/cache';
import { ensureDataset, scene } from './synthetic';

export interface CliRow {
  what: string;
  js: number;
  torch: number;
  jsRuns: number[];
  torchRuns: number[];
}

const root = path.resolve(__dirname, '..');
const portScript = path.join(root, 'bench', 'torch_cli_port.py');
const PHOTOS = 7;

function photos(): string {
  return ensureDataset('photos-7', (dir) => {
    for (let i = 0; i < PHOTOS; i++) {
      const w = 500;
      const h = 375 + 20 * i;
      fs.writeFileSync(path.join(dir, `photo${i}.jpg`), jpeg.encode({ width: w, height: h, data: scene(100 + i, w, h) }, 90).data);
    }
  });
}

/** The narrow VGG16-BN in TF.js layers form, written once by the port script. */
function narrowModel(py: string): string {
  const dir = path.join(cacheDir('bench'), 'vgg16bn-narrow');
  if (!fs.existsSync(path.join(dir, 'model.json'))) {
    const tmp = `${dir}.tmp-${process.pid}`;
    const r = spawnSync(py, [portScript, '--net', 'narrow', '--export', tmp], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error('exporting the narrow VGG16-BN failed');
    }
    fs.renameSync(tmp, dir);
  }
  return path.join(dir, 'model.json');
}

function timed(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')} failed (${r.status}): ${r.stderr.split('\n').slice(-5).join('\n')}`);
  return ms;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

export function benchCli(py: string, vggModel: string, runs: number, log: (s: string) => void): CliRow[] {
  const imgs = photos();
  const cases = [
    { what: `fgcam explain, ${PHOTOS} photos, Grad-CAM base, VGG16-BN`, model: vggModel, net: 'vgg16bn', base: 'gradcam' },
    { what: `fgcam explain, ${PHOTOS} photos, Score-CAM base, narrow VGG16-BN`, model: narrowModel(py), net: 'narrow', base: 'scorecam' },
  ];
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fgcam-bench-cli-'));
  try {
    return cases.map((c) => {
      const js: number[] = [];
      const torch: number[] = [];
      for (let i = 0; i < runs; i++) {
        js.push(timed(process.execPath, [path.join(root, 'dist', 'cli.js'), 'explain', imgs, '--model', c.model, '--base', c.base, '--out', path.join(out, 'js'), '--force']));
        fs.mkdirSync(path.join(out, 'torch'), { recursive: true });
        torch.push(timed(py, [portScript, '--net', c.net, '--base', c.base, imgs, path.join(out, 'torch')]));
        log(`bench: ${c.what}: round ${i + 1}/${runs}: ours ${(js[i] / 1000).toFixed(1)} s, PyTorch port ${(torch[i] / 1000).toFixed(1)} s`);
      }
      return { what: c.what, js: median(js), torch: median(torch), jsRuns: js, torchRuns: torch };
    });
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}
