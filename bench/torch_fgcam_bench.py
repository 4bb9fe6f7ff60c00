#!/usr/bin/env python3
"""PyTorch FG-CAM baseline on a full-size VGG16-BN at 224x224 (random seeded weights).

  python3 bench/torch_fgcam_bench.py --runs 3        # prints one JSON line on stdout
  python3 bench/torch_fgcam_bench.py --export-dir ~/.cache/fgcam/bench/vgg16bn   # TF.js layers export

Timed (median of --runs after one warm-up, torch's default thread count unless --threads):
  forward_ms           plain forward (no grad)
  fgcam_input_ms       FG-CAM (Grad-CAM base) to the input: recording forward + head
                       forward/backward for the components + walk to the input + channel sum
  fgcam_all_layers_ms  the same walk, keeping the map at every layer on the way
  scorecam_*           only with --scorecam (512 masked forwards: slow; --scorecam-limit N
                       times N of them and extrapolates)
The walk is tools/torch_fgcam.py FastWalker: float32, W+/W- split once, the X- branch
skipped only where X >= 0 by construction (after ReLU / pooling of ReLU outputs), the input
conv's z-beta rule fused into one conv on [X, L, H], max-pool relevance scattered with
max_unpool2d. Diagnostics go to stderr. The export is ~550 MB: keep it out of git.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools'))
import debian_torch  # noqa: E402,F401  (re-runs the script under /usr/bin/python3 when torch is missing)
import torch  # noqa: E402

import argparse
import json
import statistics
import time

import numpy as np
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools'))
import torch_fgcam as fg  # noqa: E402

SIZE = 224
HEAD_NAMES = ['flatten', 'fc1', 'fc1_relu', 'fc1_dropout', 'fc2', 'fc2_relu', 'fc2_dropout',
              'predictions']


def build_model():
    torch.manual_seed(0)
    model = torchvision.models.vgg16_bn(weights=None)
    fg.prepare(model)
    return model


def head_fn(model):
    return lambda t: model.classifier(torch.flatten(model.avgpool(t), 1))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def timed(fn, runs):
    fn()  # warm-up
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    return (statistics.median(ts) if ts else None), ts


def export(model, out_dir):
    # AdaptiveAvgPool2d(7x7) is the identity on the 7x7 map of a 224 input: not exported
    features = model.features
    x = torch.randn(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        f = features(x)
        assert torch.equal(model.avgpool(f), f), 'avgpool is not the identity at this size'
        logits = model.classifier(torch.flatten(f, 1))[0].numpy()
    names = fg.keras_names(features, [])
    layers = list(zip(names, features)) + list(zip(HEAD_NAMES, ['flatten', *model.classifier]))
    fg.export_tfjs_layers(layers, [SIZE, SIZE, 3], out_dir, 'vgg16_bn', tuple(f.shape[1:]))
    # independent NHWC numpy forward of the written files
    ref = fg.numpy_forward_tfjs(out_dir, x.permute(0, 2, 3, 1).numpy())[0]
    diff = float(np.abs(ref - logits).max())
    scale = float(np.abs(logits).max())
    log(f'export check: max |numpy - torch| logits = {diff:.2e} (max |logit| {scale:.2e})')
    if not diff <= 1e-4 * max(1.0, scale):
        sys.exit(f'EXPORT CHECK FAILED: {diff}')
    size = sum(os.path.getsize(os.path.join(out_dir, n)) for n in os.listdir(out_dir))
    log(f'wrote {out_dir} ({size / 2**20:.0f} MiB)')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--threads', type=int, default=0, help='0: torch default')
    ap.add_argument('--export-dir', help='write the seeded VGG16-BN in TF.js layers format and exit')
    ap.add_argument('--scorecam', action='store_true', help='also time Score-CAM components')
    ap.add_argument('--scorecam-limit', type=int, default=0, help='time only N masks, extrapolate')
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    model = build_model()
    if args.export_dir:
        export(model, args.export_dir)
        return
    features, head = model.features, head_fn(model)
    cam = len(features) - 1  # the last max-pool
    walker = fg.FastWalker(features)
    x = torch.randn(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))

    def forward():
        with torch.no_grad():
            return model(x)

    def explain(keep_maps):
        xs, idx = fg.record_fast(features, x)
        A = xs[-1].requires_grad_(True)
        y = head(A)
        c = int(y[0].argmax())
        (g,) = torch.autograd.grad(y[0, c], A)
        E = g.mean(dim=(2, 3), keepdim=True) * A.detach()
        R, maps = walker.walk(xs, idx, E, cam, -1, keep_maps)
        return E, R, fg.raw_map(R), maps

    E, R, _, maps = explain(True)
    log(f'conservation: sum(E) = {float(E.sum()):.6e}, sum(R_input) = {float(R.sum()):.6e}, '
        f'{len(maps)} maps')
    res = {'torch_version': torch.__version__, 'threads': torch.get_num_threads(),
           'model': 'vgg16_bn', 'input': [SIZE, SIZE, 3], 'runs': args.runs}
    for key, fn in (('forward_ms', forward), ('fgcam_input_ms', lambda: explain(False)),
                    ('fgcam_all_layers_ms', lambda: explain(True))):
        res[key], ts = timed(fn, args.runs)
        log(f'{key}: runs {[round(t) for t in ts]}')

    if args.scorecam:
        xs = fg.record(features, x)
        c = int(forward()[0].argmax())
        A = xs[cam + 1]
        n = args.scorecam_limit or A.shape[1]
        sub = list(xs)
        sub[cam + 1] = A[:, :n]  # components of the first n channels only
        t0 = time.perf_counter()
        fg.scorecam_components(features, head, x, sub, cam, c, batch=16)
        ms = (time.perf_counter() - t0) * 1000
        res['scorecam_masks_timed'] = n
        res['scorecam_components_ms'] = ms * A.shape[1] / n
        res['scorecam_extrapolated'] = n < A.shape[1]
    for k, v in res.items():
        if k.endswith('_ms'):
            res[k] = round(v, 1)
    print(json.dumps(res), flush=True)


if __name__ == '__main__':
    main()
