#!/usr/bin/env python3
"""PyTorch FG-CAM baseline beyond VGG: torchvision ResNet-50, DenseNet-121, MobileNetV2, InceptionV3.

  python3 bench/torch_arch_bench.py [--models resnet50,densenet121,mobilenet_v2,inception_v3]
                                    [--runs 3] [--threads N] [--bias-free]
  python3 bench/torch_arch_bench.py --models tiny_residual,tiny_concat --map-out DIR --runs 0

The nets are seeded exactly as tools/make_onnx_fixtures.py 'big' seeds them (weights=None,
torch.manual_seed(0), randomised BN statistics), so they are the ONNX files the engine is
timed on; inception_v3 at 299x299 without its auxiliary head. The walk is
tools/torch_arch_fgcam.py (Grad-CAM base, no denoise, BN folded, walked to the input).

One JSON line per model on stdout: model, input, forward_ms (no grad), fgcam_input_ms
(recording forward + components + walk + channel sum at the input), medians of --runs
after one warm-up, threads, torch_version, and the conservation sums. Diagnostics (logits
check, conservation) go to stderr. --map-out writes <model>.onnx (the same model, exported
before folding), .input.npy (NCHW), .map.npy (the raw input map) and .json (class, sums)
for the slow test; --bias-free zeroes every bias and BN shift first (conservation is then
exact wherever no rule denominator is zero).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools'))
import debian_torch  # noqa: E402,F401  (re-runs the script under /usr/bin/python3 when torch is missing)
import torch  # noqa: E402

import argparse
import json

import numpy as np
import torch.nn as nn
from torchvision.models.densenet import _DenseBlock, _Transition
from torchvision.models.inception import InceptionA, InceptionB
from torchvision.models.mobilenetv2 import InvertedResidual
from torchvision.models.resnet import Bottleneck
from torchvision.ops.misc import Conv2dNormActivation

import make_onnx_fixtures as fixtures  # noqa: E402
import torch_arch_fgcam as fg  # noqa: E402
from torch_fgcam_bench import log, timed  # noqa: E402  (this script's own folder)

BIG = ['resnet50', 'densenet121', 'mobilenet_v2', 'inception_v3']


# ---------------------------------------------------------------- small nets for the slow test
# torchvision's own blocks at 32x32, so that the test walks the same code paths as the big nets.

class TinyNet(nn.Module):
    def __init__(self, layers, width, classes=10):
        super().__init__()
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(width, classes)

    def forward(self, x):
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


def tiny_residual():
    """Bottleneck blocks (projection and identity shortcut), a linear-bottleneck inverted residual."""
    down = nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))
    return TinyNet([
        nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, 1),
        Bottleneck(16, 8, stride=2, downsample=down), Bottleneck(32, 8),
        InvertedResidual(32, 32, 1, 2),
        Conv2dNormActivation(32, 64, kernel_size=1, activation_layer=nn.ReLU6),
    ], 64)


def tiny_concat():
    """A dense block with its transition, Inception A (avg-pool branch) and B (max-pool branch)."""
    return TinyNet([
        nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
        _DenseBlock(num_layers=2, num_input_features=16, bn_size=2, growth_rate=8, drop_rate=0),
        _Transition(32, 16), nn.BatchNorm2d(16), nn.ReLU(),  # DenseNet's norm + ReLU after its last block
        InceptionA(16, pool_features=8),
        InceptionB(232),
    ], 712)


TINY = {'tiny_residual': tiny_residual, 'tiny_concat': tiny_concat}


def seeded(name):
    if name in TINY:  # seeded as make_onnx_fixtures.seeded_big
        torch.manual_seed(0)
        model = TINY[name]()
        fixtures.randomise_bn(model, 1)
        return model.eval(), torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    return fixtures.seeded_big(name)


def zero_biases(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d) and m.bias is not None:
            m.bias.data.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            m.running_mean.zero_()
            m.bias.data.zero_()


# ---------------------------------------------------------------- run

def run(name, args):
    model, x = seeded(name)
    if args.bias_free:
        zero_biases(model)
    if args.map_out:
        fixtures.export(model, x, os.path.join(args.map_out, name + '.onnx'))
    with torch.no_grad():
        ref = model(x)
    trunk, head, folded, zbeta = fg.prepare(model, x)
    with torch.no_grad():
        diff = float((head(trunk(x)) - ref).abs().max() / ref.abs().max())
    log(f'{name}: {folded} BN folded into convs, {zbeta} z-beta conv(s); folded logits vs model: max rel diff {diff:.1e}')
    if not diff < 1e-4 or zbeta != 1:
        sys.exit(f'{name}: PREPARE CHECK FAILED')

    def forward():
        with torch.no_grad():
            return head(trunk(x))

    def explain():
        return fg.explain(trunk, head, x)

    c, E, R, m = explain()
    se, sr = float(E.sum()), float(R.sum())
    log(f'{name}: conservation: sum(E) = {se:.6e}, sum(R_input) = {sr:.6e}, ratio {sr / se:.6f} (class {c})')
    res = {'model': name, 'input': [x.shape[2], x.shape[3], 3], 'threads': torch.get_num_threads(),
           'torch_version': torch.__version__, 'runs': args.runs, 'class': c, 'sum_E': se, 'sum_R_input': sr}
    if args.map_out:
        np.save(os.path.join(args.map_out, name + '.input.npy'), x.numpy().astype(np.float32))
        np.save(os.path.join(args.map_out, name + '.map.npy'), m.numpy().astype(np.float32))
        with open(os.path.join(args.map_out, name + '.json'), 'w') as f:
            json.dump(res, f)
    if args.runs > 0:
        for key, fn in (('forward_ms', forward), ('fgcam_input_ms', explain)):
            ms, ts = timed(fn, args.runs)
            res[key] = round(ms, 1)
            log(f'{name}: {key}: runs {[round(t) for t in ts]}')
    print(json.dumps(res), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--models', default=','.join(BIG), help=f'comma list of {BIG + list(TINY)}')
    ap.add_argument('--runs', type=int, default=3, help='0: no timing')
    ap.add_argument('--threads', type=int, default=0, help='0: torch default')
    ap.add_argument('--map-out', help='write the ONNX export, input and raw input map of each model here')
    ap.add_argument('--bias-free', action='store_true', help='zero every bias and BN shift first')
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.models.split(',')
    unknown = [n for n in names if n not in BIG and n not in TINY]
    if unknown:
        sys.exit(f'unknown model(s) {unknown}')
    for name in names:
        run(name, args)


if __name__ == '__main__':
    main()
