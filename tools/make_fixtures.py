#!/usr/bin/env python3
"""Regenerate the FG-CAM test fixtures:  python3 tools/make_fixtures.py

Writes test/fixtures/vgg16bn-small/ (deterministic, ~30 s, CPU, 1 thread):
  model.json, group1-shard1of1.bin  a VGG16-BN-shaped net (13 convs, widths / 8, BN with
                                    random running stats), seeded, in TF.js layers format
  image.png, input.npy              a 64x64 synthetic RGB image and its ImageNet-normalised
                                    float32 NHWC tensor [64,64,3] (the exact network input)
  logits.npy                        float32 [10]
  components/*.npy                  CAM-layer components E, float32 NHWC [h,w,K]
  maps/<case>.<layer>.npy           raw FG-CAM maps (channel sum, before ReLU), float32 [h,w]
  basecam/<base>.<layer>.npy        plain base CAM maps (channel sum, before ReLU)
  expected.json                     describes all of the above (cases, sums, tolerances)

Input is 64x64 (not 32x32) so the CAM layer block5_pool is 2x2 and Score-CAM masks are not
all constant. Ground truth = tools/torch_fgcam.py: float32 forward, float64 FG-CAM walk.
Needs python3-torch; re-executes itself with /usr/bin/python3 if `python3` lacks torch.
"""
import os
import sys

import debian_torch  # noqa: E402,F401  (re-runs the script under /usr/bin/python3 when torch is missing)
import torch  # noqa: E402

import copy
import json
import shutil
import struct
import zlib

import numpy as np
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_fgcam as fg  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'vgg16bn-small')
SIZE = 64
CFG = [8, 8, 'M', 16, 16, 'M', 32, 32, 32, 'M', 64, 64, 64, 'M', 64, 64, 64, 'M']
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
HEAD_NAMES = ['flatten', 'fc1', 'fc1_relu', 'dropout', 'predictions']
MAP_LAYERS = ['block5_pool', 'block5_relu3', 'block4_pool', 'block3_conv1', 'block2_pool',
              'block1_relu2', 'block1_conv1', 'input']
BASECAM_LAYERS = ['block4_pool', 'block3_relu3']
# block5_pool is 2x2: d = floor(0.1*min(64,4)) = 0, so denoising there gives all zeros.
# The extra cases denoise at block3_pool (8x8x32: d = 3) to exercise the SVD for real.
EXTRA_DENOISE_CAM = 'block3_pool'


class SmallVGG(nn.Module):
    def __init__(self):
        super().__init__()
        layers, c = [], 3
        for v in CFG:
            if v == 'M':
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU()]
                c = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(c * (SIZE // 32) ** 2, 32), nn.ReLU(),
                                        nn.Dropout(0.5), nn.Linear(32, 10))

    def head(self, t):
        return self.classifier(torch.flatten(t, 1))  # NCHW flatten (export permutes)

    def forward(self, x):
        return self.head(self.features(x))


def build_model():
    torch.manual_seed(0)
    model = SmallVGG()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
                m.bias.uniform_(-0.1, 0.1)  # non-zero: the rules must ignore biases
            elif isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.6, 1.4)
                m.bias.normal_(0.05, 0.1)
    fg.prepare(model)
    return model


def make_image():
    """Smooth colour gradients plus a disc, a rectangle and a triangle (seeded), uint8 HWC."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    img = np.stack([200 * xx + 30, 180 * yy + 40, 128 + 90 * np.sin(6 * xx + 4 * yy)], -1)
    disc = (xx - 0.3) ** 2 + (yy - 0.35) ** 2 < 0.15 ** 2
    rect = (xx > 0.55) & (xx < 0.9) & (yy > 0.15) & (yy < 0.45)
    tri = (yy > 0.55) & (yy < 0.92) & (np.abs(xx - 0.6) < (yy - 0.55) * 0.8)
    for mask in (disc, rect, tri):
        img[mask] = rng.integers(0, 256, 3)
    img += rng.normal(0, 4, img.shape)  # a little texture
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def write_png(path, img):
    """Minimal deterministic 8-bit RGB PNG writer (zlib only)."""
    h, w, _ = img.shape
    raw = b''.join(b'\x00' + img[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


def nhwc(t):
    """[1,C,H,W] or [C,H,W] tensor -> float32 numpy [H,W,C]."""
    t = t[0] if t.dim() == 4 else t
    return t.permute(1, 2, 0).detach().to(torch.float32).numpy()


def save(rel, arr):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, np.ascontiguousarray(arr, dtype=np.float32))
    return rel


def main():
    torch.set_num_threads(1)
    for sub in ('maps', 'basecam', 'components'):
        shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)
    os.makedirs(OUT, exist_ok=True)

    model = build_model()
    features, head = model.features, model.head
    names = fg.keras_names(features, [])
    index = {n: i for i, n in enumerate(names)}
    index['input'] = -1

    # image and exact network input (normalised in float64, then rounded once to float32)
    img = make_image()
    write_png(os.path.join(OUT, 'image.png'), img)
    x_np = ((img / 255.0 - np.array(MEAN)) / np.array(STD)).astype(np.float32)
    np.save(os.path.join(OUT, 'input.npy'), x_np)
    x = torch.from_numpy(x_np).permute(2, 0, 1).unsqueeze(0).contiguous()

    xs = fg.record(features, x)
    with torch.no_grad():
        logits = head(xs[-1])[0]
    np.save(os.path.join(OUT, 'logits.npy'), logits.numpy())
    top2 = torch.topk(logits, 2).values
    c = int(logits.argmax())
    print('logits', np.round(logits.numpy(), 3).tolist(), 'class', c)

    # export to TF.js layers format and check it with an independent NHWC numpy forward
    fchw = tuple(xs[-1].shape[1:])
    layers = list(zip(names, features)) + list(zip(HEAD_NAMES, ['flatten', *model.classifier]))
    fg.export_tfjs_layers(layers, [SIZE, SIZE, 3], OUT, 'vgg16bn_small', fchw)
    np_logits = fg.numpy_forward_tfjs(OUT, x_np[None])[0]
    diff = float(np.abs(np_logits - logits.numpy()).max())
    if not diff < 1e-4:
        sys.exit(f'EXPORT CHECK FAILED: numpy NHWC forward differs from torch by {diff}')
    print(f'export check: max |numpy - torch| logits = {diff:.2e}')

    walker = fg.FastWalker(features)
    xs_fast, pool_idx = fg.record_fast(features, x)
    # the whole method with a float64 forward: how much float32 forward rounding moves the maps
    m64 = copy.deepcopy(model).double()
    x64 = x.double()
    xs64 = fg.record(m64.features, x64)
    components = {}  # (base, cam) -> (E float32, weights)

    def get_components(base, cam):
        if (base, cam) not in components:
            components[(base, cam)] = fg.components(base, features, head, x, xs, index[cam], c)
        return components[(base, cam)]

    cases = []
    plan = [(b, d, 'block5_pool') for b in ('gradcam', 'scorecam') for d in (False, True)]
    plan += [(b, True, EXTRA_DENOISE_CAM) for b in ('gradcam', 'scorecam')]
    for base, denoise, cam in plan:
        ci = index[cam]
        E32, w = get_components(base, cam)
        if base == 'scorecam' and not bool((w != 0).any()):
            sys.exit('Score-CAM weights are all zero: degenerate fixture')
        E = fg.svd_denoise(E32) if denoise else E32.double()
        case_id = (f'{base}-denoised' if denoise else base) + ('' if cam == 'block5_pool' else f'@{cam}')
        _, K, h, wd = E32.shape
        comp_rel = save(f'components/{base}.{cam}.npy', nhwc(E32))
        rel = fg.fgcam_walk(features, xs, E, ci)
        # float32 fast walk (the bench's implementation) vs this float64 walk
        _, fast = walker.walk(xs_fast, pool_idx, E.float(), ci, keep_maps=True)
        maps, f32err = {}, 0.0
        for layer in [cam] + [n for n in MAP_LAYERS if n in index and index[n] < ci]:
            i = index[layer]
            m = fg.raw_map(rel[i])
            maps[layer] = {'file': save(f'maps/{case_id}.{layer}.npy', m.numpy()),
                           'shape': list(m.shape), 'sum': float(m.sum())}
        E64, _ = fg.components(base, m64.features, m64.head, x64, xs64, ci, c)
        rel64 = fg.fgcam_walk(m64.features, xs64, fg.svd_denoise(E64) if denoise else E64, ci)
        f64err = 0.0
        for i in rel:
            ref = fg.raw_map(rel[i])
            scale = float(ref.abs().max())
            if scale > 0:
                f32err = max(f32err, float((fast[i].double() - ref).abs().max()) / scale)
                f64err = max(f64err, float((fg.raw_map(rel64[i]) - ref).abs().max()) / scale)
        case = {
            'id': case_id, 'base': base, 'denoise': denoise, 'cam_layer': cam,
            'target_class': c, 'cam_shape': [h, wd, K],
            'components': comp_rel,  # E before denoising, NHWC
            'alpha' if base == 'gradcam' else 'score_weights': [float(v) for v in w.flatten()],
            'total_relevance': float(E.sum()),  # sum(E) after denoising if any
            'maps': maps,
            # sum of R at the output of every layer from the CAM layer down (conservation)
            'relevance_sums': {('input' if i < 0 else names[i]): float(rel[i].sum()) for i in rel},
            'float32_walk_max_rel_err': f32err,
            'float64_forward_max_rel_err': f64err,
        }
        if denoise:
            case['svd_d'] = fg.svd_rank(K, h * wd)
            case['denoised_components'] = save(f'components/{case_id}.npy', nhwc(E))
            if case['svd_d'] == 0:
                case['note'] = 'd = floor(0.1*min(K,h*w)) = 0: denoised components and maps are all zero'
        cases.append(case)
        print(f'{case_id:28s} total={case["total_relevance"]:+.6e} input_sum='
              f'{case["relevance_sums"]["input"]:+.6e} f32_walk={f32err:.1e} f64_fwd={f64err:.1e}')

    basecams = []
    for base in ('gradcam', 'scorecam'):
        for layer in BASECAM_LAYERS:
            m = fg.base_cam(base, features, head, x, xs, index[layer], c)
            basecams.append({'base': base, 'layer': layer, 'target_class': c, 'shape': list(m.shape),
                             'file': save(f'basecam/{base}.{layer}.npy', m.numpy()),
                             'sum': float(m.sum())})

    expected = {
        'generator': 'python3 tools/make_fixtures.py (reference: tools/torch_fgcam.py)',
        'torch_version': torch.__version__,
        'model': 'model.json', 'image': 'image.png', 'input': 'input.npy', 'logits': 'logits.npy',
        'input_shape': [SIZE, SIZE, 3],
        'preprocessing': {'scale': 1 / 255, 'mean': MEAN, 'std': STD, 'resize': None,
                          'note': 'input.npy = float32((png/255 - mean)/std) computed in float64'},
        'layers': names,
        'target_class': c, 'top2_logit_gap': float(top2[0] - top2[1]),
        'default_cam_layer': 'block5_pool',
        'layout': 'maps/basecam: float32 [h,w], channel sum before ReLU; components: float32 NHWC [h,w,K]',
        'precision': 'float32 forward (torch), float64 FG-CAM walk and SVD. Per case, over all '
                     'layers, relative to max|map|: float32_walk_max_rel_err = the float32 walk '
                     '(bench) vs these maps; float64_forward_max_rel_err = the whole method on a '
                     'float64 forward vs these maps (sensitivity to forward rounding)',
        'suggested_tolerance': {'map_abs_err_over_max_abs': 1e-4, 'logits_abs': 1e-4,
                                'relevance_sum_rel': 1e-4},
        'cases': cases,
        'basecam': basecams,
    }
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, fs in os.walk(OUT) for n in fs)
    print(f'wrote {OUT} ({total / 1024:.0f} KiB)')


if __name__ == '__main__':
    main()
