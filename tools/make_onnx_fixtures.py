#!/usr/bin/env python3
"""ONNX fixtures for the importer's tests, exported by PyTorch (Debian python3-torch 1.13).

  tools/make_onnx_fixtures.py tiny            -> test/fixtures/onnx-tiny/ (small, committed)
  tools/make_onnx_fixtures.py big [names...]  -> $FGCAM_CACHE/onnx/<name>.onnx + .input.npy + .logits.npy
                                                 (git-ignored; only the missing ones are made)

Weights are seeded (weights=None + torch.manual_seed); batch-norm statistics are
randomised too so that folding them is actually tested. Inputs are NCHW float32,
logits are the model's raw outputs (no softmax).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from cache_dir import cache_root

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIG_DIR = os.path.join(cache_root(), 'onnx')
TINY_DIR = os.path.join(ROOT, 'test', 'fixtures', 'onnx-tiny')
OPSET = 13


def randomise_bn(model, seed):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=g) * 0.1)


def export(model, x, path, preserve_bn=False, dynamic_axes=None, opset=OPSET):
    model.eval()
    tmp = path + '.tmp'
    # PRESERVE keeps BatchNormalization nodes (EVAL would fold them into the convs).
    training = torch.onnx.TrainingMode.PRESERVE if preserve_bn else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, x, tmp, opset_version=opset, input_names=['input'], output_names=['logits'],
                      training=training, do_constant_folding=True, dynamic_axes=dynamic_axes)
    os.replace(tmp, path)


# ---------------------------------------------------------------- big models

def big_models():
    """name -> (builder, keep BN nodes in the export, input size)."""
    import torchvision.models as tvm
    return {
        'vgg16_bn': (lambda: tvm.vgg16_bn(weights=None), True, 224),
        'resnet50': (lambda: tvm.resnet50(weights=None), False, 224),
        'mobilenet_v2': (lambda: tvm.mobilenet_v2(weights=None), False, 224),
        'densenet121': (lambda: tvm.densenet121(weights=None), False, 224),
        # No auxiliary head (only used in training); torchvision's own init, no input transform.
        'inception_v3': (lambda: tvm.inception_v3(weights=None, aux_logits=False, init_weights=True), False, 299),
    }


def seeded_big(name):
    """The seeded model in eval mode and its input (bench/torch_arch_bench.py builds the same)."""
    build, _, size = big_models()[name]
    torch.manual_seed(0)
    model = build()
    randomise_bn(model, 1)
    model.eval()
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(2))
    return model, x


def make_big(names):
    os.makedirs(BIG_DIR, exist_ok=True)
    models = big_models()
    for name in names or list(models):
        onnx_path = os.path.join(BIG_DIR, name + '.onnx')
        logits_path = os.path.join(BIG_DIR, name + '.logits.npy')
        if os.path.exists(onnx_path) and os.path.exists(logits_path):
            print(f'{name}: present')
            continue
        model, x = seeded_big(name)
        with torch.no_grad():
            logits = model(x)
        np.save(os.path.join(BIG_DIR, name + '.input.npy'), x.numpy().astype(np.float32))
        export(model, x, onnx_path, preserve_bn=models[name][1])
        np.save(logits_path, logits.numpy().astype(np.float32))
        print(f'{name}: wrote {onnx_path} ({os.path.getsize(onnx_path) / 1e6:.1f} MB)')


# ---------------------------------------------------------------- tiny models

class Tiny(nn.Module):
    """Every layout the importer must get right, on a 10x12 (non-square) input."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 16, 3, padding=(1, 2), dilation=(1, 2), groups=8, bias=False)  # depthwise, multiplier 2
        self.bn2 = nn.BatchNorm2d(16)
        self.gconv = nn.Conv2d(16, 8, 1, groups=4)
        self.se_fc = nn.Conv2d(8, 8, 1)
        self.avg_in = nn.AvgPool2d(3, 1, padding=1, count_include_pad=True)
        self.avg_ex = nn.AvgPool2d(3, 1, padding=1, count_include_pad=False)
        self.pool = nn.MaxPool2d(2, 2, padding=1)
        self.proj = nn.Conv2d(8, 8, 1, bias=False)
        self.fc = nn.Linear(16 * 3 * 4, 5)

    def forward(self, x):
        x = F.relu6(self.bn1(self.conv1(x)))               # Conv, BatchNormalization, Clip(0, 6)
        y = F.hardswish(self.bn2(self.dw(x)))              # depthwise with dilation, HardSwish
        y = F.leaky_relu(self.gconv(y), 0.1)               # grouped conv, LeakyRelu
        gate = torch.sigmoid(self.se_fc(F.adaptive_avg_pool2d(y, 1)))  # GlobalAveragePool, Sigmoid
        y = y * gate + self.proj(x)                        # Mul (broadcast gate), Add
        z = torch.cat([self.avg_in(y), self.avg_ex(y)], 1) # AveragePool both count modes, Concat axis 1
        z = F.hardsigmoid(self.pool(z) * 0.5 + 0.25)       # MaxPool with pads, Mul/Add constants, HardSigmoid
        z = z.view(z.size(0), -1)                          # Shape/Gather/Unsqueeze/Concat/Reshape chain
        return self.fc(z)                                  # Gemm on an NCHW-flattened 3x4 map


class TinyDynamic(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return torch.softmax(self.fc(torch.flatten(F.adaptive_avg_pool2d(F.relu(self.conv(x)), 1), 1)), 1)


def make_tiny():
    os.makedirs(TINY_DIR, exist_ok=True)
    torch.manual_seed(0)
    model = Tiny()
    randomise_bn(model, 1)
    model.eval()
    x = torch.randn(1, 3, 10, 12, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        logits = model(x)
    # Dynamic batch keeps the Shape -> Gather -> Unsqueeze -> Concat chain of view() in the file.
    export(model, x, os.path.join(TINY_DIR, 'tiny.onnx'), preserve_bn=True, opset=14,
           dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    ref = {
        'input_shape': list(x.shape),
        'input': [float(v) for v in x.flatten()],
        'logits': [float(v) for v in logits.flatten()],
        'conv1_weight_oihw': [float(v) for v in model.conv1.weight.detach().flatten()],
        'dw_weight_oihw': [float(v) for v in model.dw.weight.detach().flatten()],
        'fc_weight': [float(v) for v in model.fc.weight.detach().flatten()],
        'bn1': {k: [float(v) for v in getattr(model.bn1, k).detach()] for k in ['weight', 'bias', 'running_mean', 'running_var']},
    }
    with open(os.path.join(TINY_DIR, 'tiny.json'), 'w') as f:
        json.dump(ref, f)

    torch.manual_seed(3)
    dyn = TinyDynamic().eval()
    xd = torch.randn(1, 3, 9, 7, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        probs = dyn(xd)
    export(dyn, xd, os.path.join(TINY_DIR, 'tiny_dynamic.onnx'), opset=13,
           dynamic_axes={'input': {0: 'batch', 2: 'height', 3: 'width'}, 'logits': {0: 'batch'}})
    with open(os.path.join(TINY_DIR, 'tiny_dynamic.json'), 'w') as f:
        json.dump({'input_shape': list(xd.shape), 'input': [float(v) for v in xd.flatten()],
                   'probs': [float(v) for v in probs.flatten()]}, f)
    print('wrote', TINY_DIR)


if __name__ == '__main__':
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    what = sys.argv[1] if len(sys.argv) > 1 else 'big'
    if what == 'tiny':
        make_tiny()
    elif what == 'big':
        make_big(sys.argv[2:])
    else:
        sys.exit(__doc__)
