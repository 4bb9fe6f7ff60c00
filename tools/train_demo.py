#!/usr/bin/python3
"""Train the bundled demo model (Fashion-MNIST, small VGG-style CNN) and export it.

Run from the repo root with Debian's Python (python3-torch, dataset-fashion-mnist):

    /usr/bin/python3 tools/train_demo.py

Writes models/fashion-vgg/{model.json, group1-shard1of1.bin, labels.json, metrics.json}
and samples/{*.png, samples.json}. The export is TF.js layers format (Keras 2 style
Sequential), checked against PyTorch by an independent numpy NHWC forward pass.
Preprocessing is the engine's "unit" preset: grayscale 28x28x1, pixel / 255.
Python is only needed to (re)train; the shipped product reads the exported files.
"""
import argparse
import gzip
import json
import os
import random
import struct
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA_DIR = '/usr/share/datasets/fashion-mnist'  # Debian package dataset-fashion-mnist
LABELS = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
          'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
WIDTHS = [16, 32, 64]
FC_UNITS = 128
BN_EPS = 1e-3  # Keras' default, so the exported config matches what was trained
DROPOUT = 0.3
# Classes shipped as samples; Coat and Shirt are left out (most confusable, least telling).
SAMPLE_CLASSES = [0, 1, 2, 3, 5, 7, 8, 9]


def read_idx(name):
    with gzip.open(os.path.join(DATA_DIR, name), 'rb') as f:
        data = f.read()
    magic, n = struct.unpack('>II', data[:8])
    if magic == 2051:  # images: n, rows, cols, then uint8 pixels
        rows, cols = struct.unpack('>II', data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows, cols)
    assert magic == 2049, f'{name}: bad idx magic {magic}'
    return np.frombuffer(data, np.uint8, offset=8)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        blocks, c_in = [], 1
        for w in WIDTHS:
            blocks.append(nn.Sequential(
                nn.Conv2d(c_in, w, 3, padding=1), nn.BatchNorm2d(w, eps=BN_EPS), nn.ReLU(),
                nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w, eps=BN_EPS), nn.ReLU(),
                nn.MaxPool2d(2)))  # floor: 28 -> 14 -> 7 -> 3
            c_in = w
        self.features = nn.Sequential(*blocks)
        self.fc1 = nn.Linear(WIDTHS[-1] * 3 * 3, FC_UNITS)
        self.dropout = nn.Dropout(DROPOUT)
        self.predictions = nn.Linear(FC_UNITS, 10)

    def forward(self, x):  # x: NCHW, values in [0, 1]
        x = torch.flatten(self.features(x), 1)
        return self.predictions(self.dropout(F.relu(self.fc1(x))))  # logits


def export_layers_model(net, out_dir):
    """Keras-2-style Sequential topology + one weight shard, as tf.loadLayersModel reads."""
    layers, weights, blobs = [], [], []

    def add_weight(name, arr):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        weights.append({'name': name, 'shape': list(arr.shape), 'dtype': 'float32'})
        blobs.append(arr.tobytes())

    def layer(cls, **config):
        config.setdefault('trainable', True)
        config.setdefault('dtype', 'float32')
        layers.append({'class_name': cls, 'config': config})

    for b, block in enumerate(net.features, start=1):
        conv1, bn1, _, conv2, bn2, _, _ = block
        for i, (conv, bn) in enumerate([(conv1, bn1), (conv2, bn2)], start=1):
            name = f'block{b}_conv{i}'
            cfg = dict(name=name, filters=conv.out_channels, kernel_size=[3, 3], strides=[1, 1],
                       padding='same', data_format='channels_last', dilation_rate=[1, 1],
                       activation='linear', use_bias=True)
            if not layers:
                cfg['batch_input_shape'] = [None, 28, 28, 1]
            layer('Conv2D', **cfg)
            add_weight(f'{name}/kernel', conv.weight.detach().numpy().transpose(2, 3, 1, 0))  # OIHW -> HWIO
            add_weight(f'{name}/bias', conv.bias.detach().numpy())
            bn_name = f'block{b}_bn{i}'
            layer('BatchNormalization', name=bn_name, axis=-1, momentum=0.99, epsilon=bn.eps,
                  center=True, scale=True)
            for key, t in [('gamma', bn.weight), ('beta', bn.bias),
                           ('moving_mean', bn.running_mean), ('moving_variance', bn.running_var)]:
                add_weight(f'{bn_name}/{key}', t.detach().numpy())
            layer('Activation', name=f'block{b}_relu{i}', activation='relu')
        layer('MaxPooling2D', name=f'block{b}_pool', pool_size=[2, 2], strides=[2, 2],
              padding='valid', data_format='channels_last')
    layer('Flatten', name='flatten', data_format='channels_last')
    c = WIDTHS[-1]
    # PyTorch flattens (c, h, w), Keras flattens (h, w, c): reorder fc1's input rows.
    w1 = net.fc1.weight.detach().numpy().reshape(FC_UNITS, c, 3, 3).transpose(2, 3, 1, 0).reshape(-1, FC_UNITS)
    layer('Dense', name='fc1', units=FC_UNITS, activation='linear', use_bias=True)
    add_weight('fc1/kernel', w1)
    add_weight('fc1/bias', net.fc1.bias.detach().numpy())
    layer('Activation', name='fc1_relu', activation='relu')
    layer('Dropout', name='dropout', rate=DROPOUT)
    layer('Dense', name='predictions', units=10, activation='linear', use_bias=True)
    add_weight('predictions/kernel', net.predictions.weight.detach().numpy().T)
    add_weight('predictions/bias', net.predictions.bias.detach().numpy())
    layer('Activation', name='softmax', activation='softmax')

    model = {
        'format': 'layers-model',
        'generatedBy': f'tools/train_demo.py (PyTorch {torch.__version__})',
        'convertedBy': None,
        'modelTopology': {
            'class_name': 'Sequential',
            'config': {'name': 'fashion_vgg', 'layers': layers},
            'backend': 'tensorflow',
        },
        'weightsManifest': [{'paths': ['group1-shard1of1.bin'], 'weights': weights}],
        # How inputs are preprocessed, for fgcam (TF.js keeps userDefinedMetadata as is).
        'userDefinedMetadata': {'fgcam': {'preprocess': 'unit'}},
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, 'model.json'), 'w') as f:
        json.dump(model, f, indent=1)
    with open(os.path.join(out_dir, 'group1-shard1of1.bin'), 'wb') as f:
        f.write(b''.join(blobs))
    return sum(len(b) for b in blobs)


def numpy_forward(out_dir, x):
    """Independent NHWC forward pass over the exported files; returns pre-softmax logits."""
    with open(os.path.join(out_dir, 'model.json')) as f:
        model = json.load(f)
    raw = np.fromfile(os.path.join(out_dir, model['weightsManifest'][0]['paths'][0]), np.float32)
    w, pos = {}, 0
    for spec in model['weightsManifest'][0]['weights']:
        n = int(np.prod(spec['shape']))
        w[spec['name']] = raw[pos:pos + n].reshape(spec['shape']).astype(np.float64)
        pos += n
    assert pos == raw.size, 'weight shard size does not match the manifest'
    x = x.astype(np.float64)  # [N, H, W, C]
    for L in model['modelTopology']['config']['layers']:
        cls, cfg, name = L['class_name'], L['config'], L['config']['name']
        if cls == 'Conv2D':  # 3x3, stride 1, 'same' -> pad 1 each side
            k = w[f'{name}/kernel']
            kh, kw = k.shape[:2]
            xp = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
            h, wd = x.shape[1:3]
            y = sum(xp[:, i:i + h, j:j + wd, :] @ k[i, j] for i in range(kh) for j in range(kw))
            x = y + w[f'{name}/bias']
        elif cls == 'BatchNormalization':
            x = ((x - w[f'{name}/moving_mean']) / np.sqrt(w[f'{name}/moving_variance'] + cfg['epsilon'])
                 * w[f'{name}/gamma'] + w[f'{name}/beta'])
        elif cls == 'Activation' and cfg['activation'] == 'relu':
            x = np.maximum(x, 0)
        elif cls == 'Activation' and cfg['activation'] == 'softmax':
            pass  # compare logits, as the engine does
        elif cls == 'MaxPooling2D':
            n, h, wd, c = x.shape
            x = x[:, :h // 2 * 2, :wd // 2 * 2].reshape(n, h // 2, 2, wd // 2, 2, c).max(axis=(2, 4))
        elif cls == 'Flatten':
            x = x.reshape(x.shape[0], -1)
        elif cls == 'Dense':
            x = x @ w[f'{name}/kernel'] + w[f'{name}/bias']
        elif cls == 'Dropout':
            pass
        else:
            raise ValueError(f'numpy check: unhandled layer {cls} {name}')
    return x


def write_png_gray(path, img):
    """Minimal 8-bit grayscale PNG writer (no PIL needed)."""
    h, w = img.shape
    raw = b''.join(b'\x00' + img[r].tobytes() for r in range(h))  # filter type 0 per row

    def chunk(tag, data):
        return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data))
    png = (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))
           + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))
    with open(path, 'wb') as f:
        f.write(png)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--limit', type=int, default=0, help='use only N training images (quick trial)')
    ap.add_argument('--out', default='models/fashion-vgg')
    ap.add_argument('--samples', default='samples')
    args = ap.parse_args()

    # Reproducibility: fixed seeds, deterministic kernels, fixed thread count.
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)

    xtr, ytr = read_idx('train-images-idx3-ubyte.gz'), read_idx('train-labels-idx1-ubyte.gz')
    xte_u8, yte = read_idx('t10k-images-idx3-ubyte.gz'), read_idx('t10k-labels-idx1-ubyte.gz')
    if args.limit:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    to_t = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)  # "unit" preset
    xtr_t, ytr_t = to_t(xtr), torch.from_numpy(ytr.astype(np.int64))
    xte_t, yte_t = to_t(xte_u8), torch.from_numpy(yte.astype(np.int64))

    net = Net()
    batch = 128
    steps = args.epochs * ((len(xtr_t) + batch - 1) // batch)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    gen = torch.Generator().manual_seed(args.seed)

    def evaluate():
        net.eval()
        with torch.no_grad():
            logits = torch.cat([net(xte_t[i:i + 1000]) for i in range(0, len(xte_t), 1000)])
        return logits, (logits.argmax(1) == yte_t).float().mean().item()

    t0 = time.time()
    for epoch in range(args.epochs):
        net.train()
        perm = torch.randperm(len(xtr_t), generator=gen)
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(net(xtr_t[idx]), ytr_t[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        _, acc = evaluate()
        print(f'epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}  test acc {acc:.4f}  '
              f'({time.time() - t0:.0f}s)', flush=True)
    train_seconds = time.time() - t0
    logits, acc = evaluate()

    nbytes = export_layers_model(net, args.out)
    # Verify the export: numpy NHWC forward on the exported files must match PyTorch.
    check = numpy_forward(args.out, xte_u8[:100, :, :, None] / 255.0)
    diff = float(np.abs(check - logits[:100].numpy()).max())
    print(f'export check: max |numpy - torch| logits over 100 test images = {diff:.2e}')
    if not diff < 1e-4:
        raise SystemExit(f'EXPORT CHECK FAILED: max abs diff {diff} >= 1e-4')

    with open(os.path.join(args.out, 'labels.json'), 'w') as f:
        json.dump(LABELS, f, indent=1)
    metrics = {
        'dataset': 'Fashion-MNIST (Debian dataset-fashion-mnist)',
        'train_images': len(xtr_t), 'test_images': len(xte_t),
        'test_accuracy': round(acc, 4), 'epochs': args.epochs, 'seed': args.seed,
        'batch_size': batch, 'threads': args.threads,
        'training_seconds': round(train_seconds, 1),
        'torch_version': torch.__version__, 'numpy_version': np.__version__,
        'parameters': sum(p.numel() for p in net.parameters()),
        'weights_bytes': nbytes, 'export_max_abs_diff': diff,
        'preprocess': 'unit (grayscale 28x28x1, pixel / 255)',
    }
    with open(os.path.join(args.out, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=1)

    # Samples: first correctly classified test image of each chosen class.
    probs = torch.softmax(logits, 1).numpy()
    pred = probs.argmax(1)
    os.makedirs(args.samples, exist_ok=True)
    entries = []
    for c in SAMPLE_CLASSES:
        i = int(next(j for j in range(len(yte)) if yte[j] == c and pred[j] == c))
        slug = LABELS[c].lower().replace('/', '-').replace(' ', '-')
        fname = f'{slug}-{i}.png'
        write_png_gray(os.path.join(args.samples, fname), xte_u8[i])
        entries.append({'file': fname, 'label': LABELS[c], 'labelIndex': c, 'testIndex': i,
                        'predicted': LABELS[int(pred[i])], 'probability': round(float(probs[i, pred[i]]), 4)})
    with open(os.path.join(args.samples, 'samples.json'), 'w') as f:
        json.dump(entries, f, indent=1)

    print(json.dumps(metrics, indent=1))


if __name__ == '__main__':
    main()
