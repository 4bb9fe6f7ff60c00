#!/usr/bin/env python3
"""A literal PyTorch port of `fgcam explain` over a folder, for `npm run bench -- --cli`.

  python3 bench/torch_cli_port.py --net vgg16bn|narrow --base gradcam|scorecam IMAGES OUT
  python3 bench/torch_cli_port.py --net narrow --export DIR     # the narrow net, TF.js layers

What the CLI does, done the plain way: import torch, build the seeded net, then per photo:
decode, resize to 224 (bilinear), ImageNet-normalise, record the forward, the base CAM's
components at the last pool (Grad-CAM: gradient of the logit; Score-CAM: masked forwards in
batches of 16), FG-CAM's walk to the input (tools/torch_fgcam.fgcam_walk, float32), the
channel sum, a heatmap PNG at the photo's size. `vgg16bn` is bench/torch_fgcam_bench.py's
seeded VGG16-BN; `narrow` a seeded VGG16-BN with an eighth of its channels (8..64) and a
512-512-1000 head. Prints the elapsed seconds of the whole process on stderr.
"""
import os
import sys
import time

T0 = time.time()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools'))
import debian_torch  # noqa: E402,F401  (re-runs the script under /usr/bin/python3 when torch is missing)
import torch  # noqa: E402

import argparse
import glob

import numpy as np
import torch.nn as nn
import torchvision
from PIL import Image
from torchvision.models.vgg import make_layers

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tools'))
sys.path.insert(0, HERE)
import torch_fgcam as fg  # noqa: E402
import torch_fgcam_bench as vgg_bench  # noqa: E402

NARROW = [8, 8, 'M', 16, 16, 'M', 32, 32, 32, 'M', 64, 64, 64, 'M', 64, 64, 64, 'M']


def narrow_model():
    torch.manual_seed(0)
    m = torchvision.models.VGG(make_layers(NARROW, batch_norm=True), num_classes=1000)
    m.classifier = nn.Sequential(nn.Linear(64 * 49, 512), nn.ReLU(True), nn.Dropout(), nn.Linear(512, 512),
                                 nn.ReLU(True), nn.Dropout(), nn.Linear(512, 1000))
    for bn in m.modules():  # batch norm that is not the identity
        if isinstance(bn, nn.BatchNorm2d):
            bn.running_mean.uniform_(-0.1, 0.1)
            bn.running_var.uniform_(0.5, 1.5)
    fg.prepare(m)
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--net', choices=['vgg16bn', 'narrow'], default='vgg16bn')
    ap.add_argument('--base', choices=['gradcam', 'scorecam'], default='gradcam')
    ap.add_argument('--export', help='write the net in TF.js layers format to this folder and exit')
    ap.add_argument('images', nargs='?')
    ap.add_argument('out', nargs='?')
    a = ap.parse_args()
    model = narrow_model() if a.net == 'narrow' else vgg_bench.build_model()
    features = model.features
    if a.export:
        layers = list(zip(fg.keras_names(features, []), features)) + list(zip(vgg_bench.HEAD_NAMES, ['flatten', *model.classifier]))
        fg.export_tfjs_layers(layers, [224, 224, 3], a.export, f'vgg16_bn_{a.net}', (features[-4].out_channels, 7, 7))
        return
    head = vgg_bench.head_fn(model)
    cam = len(features) - 1
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    for f in sorted(glob.glob(os.path.join(a.images, '*.jpg'))):
        im = Image.open(f).convert('RGB')
        w, h = im.size
        x = torch.from_numpy(np.asarray(im.resize((224, 224), Image.BILINEAR), dtype=np.float32) / 255).permute(2, 0, 1)[None]
        x = (x - mean) / std
        xs = fg.record(features, x)
        if a.base == 'gradcam':
            A = xs[cam + 1].clone().requires_grad_(True)
            y = head(A)
            c = int(y[0].argmax())
            (g,) = torch.autograd.grad(y[0, c], A)
            E = g.mean(dim=(2, 3), keepdim=True) * A.detach()
        else:
            with torch.no_grad():
                c = int(head(xs[-1])[0].argmax())
            E, _ = fg.scorecam_components(features, head, x, xs, cam, c, batch=16)
        R = fg.fgcam_walk(features, xs, E, cam, -1, dtype=torch.float32)[-1]
        m = fg.raw_map(R).clamp(min=0).numpy()
        m = m / (m.max() or 1)
        out = os.path.join(a.out, os.path.basename(f) + '.png')
        Image.fromarray((m * 255).astype(np.uint8)).resize((w, h), Image.BILINEAR).save(out)
    print(f'{time.time() - T0:.2f}', file=sys.stderr)


if __name__ == '__main__':
    main()
