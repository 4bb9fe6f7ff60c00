#!/usr/bin/python3
"""Full-size cross-check, as a user would run it: the `fgcam` CLI on a seeded torchvision
VGG16-BN (224x224, ImageNet preprocessing, TF.js layers export) against the independent
PyTorch reference (tools/torch_fgcam.py, float64 walk), raw .npy maps at several layers.

  /usr/bin/python3 tools/check_full_vgg16bn.py [--bases gradcam,scorecam] [--denoise both|on|off]

Prints one JSON line: {case: {layer: max|ours - ref| / max|ref|}}; exit 1 if any > 1e-3.
The model (~530 MB) is cached in $FGCAM_CACHE/bench/vgg16bn (default ~/.cache/fgcam) (shared with `npm run bench`).
"""
import argparse, atexit, json, os, shutil, subprocess, sys, tempfile
import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
sys.path.insert(0, os.path.join(ROOT, 'bench'))
import torch_fgcam as fg  # noqa: E402
import torch_fgcam_bench as bench  # noqa: E402
from make_fixtures import write_png  # noqa: E402
from cache_dir import cache_root  # noqa: E402

LAYERS = ['block5_pool', 'block5_relu3', 'block4_pool', 'block3_conv1', 'block2_pool', 'block1_relu2', 'input']
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def image():
    """A smooth deterministic 224x224 RGB picture with a few shapes."""
    g = np.random.default_rng(3)
    yy, xx = np.mgrid[0:224, 0:224] / 223.0
    img = np.stack([0.5 + 0.4 * np.sin(6 * xx + 2 * yy), 0.5 + 0.4 * np.cos(5 * yy - xx), xx * yy], -1)
    for _ in range(6):
        cy, cx, r = g.integers(20, 204, 2).tolist() + [int(g.integers(10, 40))]
        img[(yy * 223 - cy) ** 2 + (xx * 223 - cx) ** 2 < r * r] = g.random(3)
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bases', default='gradcam')
    ap.add_argument('--denoise', default='both', choices=['both', 'on', 'off'])
    a = ap.parse_args()
    torch.set_num_threads(2)
    model_dir = os.path.join(cache_root(), 'bench', 'vgg16bn')
    model = bench.build_model()
    if not os.path.exists(os.path.join(model_dir, 'model.json')):
        os.makedirs(model_dir, exist_ok=True)
        bench.export(model, model_dir)
    work = tempfile.mkdtemp(prefix='fgcam-vgg16bn-')
    atexit.register(shutil.rmtree, work, True)  # also on sys.exit
    img = image()
    write_png(os.path.join(work, 'picture.png'), img)
    x = torch.from_numpy(((img / 255.0 - MEAN) / STD).astype(np.float32)).permute(2, 0, 1)[None]
    feats, head = model.features, bench.head_fn(model)
    names = fg.keras_names(feats, [])
    idx = {n: i for i, n in enumerate(names)}
    xs = fg.record(feats, x)
    with torch.no_grad():
        c = int(head(xs[-1]).argmax())
    cam = len(feats) - 1
    errors, worst = {}, 0.0
    for base in a.bases.split(','):
        for den in {'both': [False, True], 'on': [True], 'off': [False]}[a.denoise]:
            case = base + ('-denoised' if den else '')
            out = os.path.join(work, case)
            cmd = ['node', os.path.join(ROOT, 'dist', 'cli.js'), 'explain', os.path.join(work, 'picture.png'),
                   '--model', os.path.join(model_dir, 'model.json'), '--preprocess', 'imagenet', '--base', base,
                   '--raw', '--out', out, '--json'] + (['--denoise'] if den else [])
            for layer in LAYERS:
                cmd += ['--layer', layer]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                sys.exit(f'fgcam failed ({case}): {res.stderr[-2000:]}')
            E, _ = fg.components(base, feats, head, x, xs, cam, c)
            if den:
                E = fg.svd_denoise(E)
            R = fg.fgcam_walk(feats, xs, E, cam)
            errors[case] = {}
            for layer in LAYERS:
                ref = fg.raw_map(R[-1 if layer == 'input' else idx[layer]]).numpy()
                ours = np.load(os.path.join(out, f'picture.fgcam-{case}.{layer}.npy'))
                err = float(np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-30))
                errors[case][layer] = err
                worst = max(worst, err)
    print(json.dumps({'class': c, 'max_rel_err': errors, 'worst': worst}))
    sys.exit(0 if worst < 1e-3 else 1)


if __name__ == '__main__':
    main()
