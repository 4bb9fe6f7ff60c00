"""Independent PyTorch reference implementation of FG-CAM (Qiu, Jin, Zhang, AAAI 2024).

Written from /work/shared/docs/fgcam-method.md ("the spec"); it produces the test
fixtures (tools/make_fixtures.py) and the speed baseline (bench/torch_fgcam_bench.py)
for the TypeScript engine.

Model interface: a VGG-style `features` nn.Sequential (Conv2d, BatchNorm2d, ReLU,
MaxPool2d, AvgPool2d/AdaptiveAvgPool2d, Dropout, Identity) and a `head` callable that
maps the output of `features` to the logits. Layers are addressed by their index in
`features`; index -1 means the model input. Tensors are NCHW, batch 1.

Two walks:
  * fgcam_walk       : the spec's rules literally, in float64 (fixtures / ground truth);
  * fgcam_walk_fast  : the same rules in float32 with exact shortcuts (the bench).
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.grad import conv2d_input

IDENTITY_TYPES = (nn.BatchNorm2d, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.Sigmoid,
                  nn.Tanh, nn.Hardswish, nn.SiLU, nn.Dropout, nn.Identity)
POOL_TYPES = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)


def prepare(*modules):
    """eval mode and no in-place ops: in-place ReLU would overwrite recorded activations."""
    for mod in modules:
        mod.eval()
        for m in mod.modules():
            if hasattr(m, 'inplace'):
                m.inplace = False


def safe_div(a, b):
    """a / b where b != 0, else 0 (the spec's safe divide)."""
    return torch.where(b == 0, torch.zeros_like(a), a / torch.where(b == 0, torch.ones_like(b), b))


@torch.no_grad()
def record(features, x):
    """float32 forward through `features`; xs[i] is the input of module i, xs[-1] the output."""
    xs = [x]
    for m in features:
        xs.append(m(xs[-1]))
    return xs


def run_from(features, t, start):
    """Run features[start:] on t (t is the input of module `start`)."""
    for m in list(features)[start:]:
        t = m(t)
    return t


# ---------------------------------------------------------------- step 1: components

def gradcam_components(features, head, xs, layer, c):
    """Grad-CAM components at the output of features[layer]: E = alpha * A (not summed).

    alpha_k = spatial mean of d y_c / d A_k, y_c the LOGIT. Returns (E, alpha) float32."""
    A = xs[layer + 1].detach().clone().requires_grad_(True)
    y = head(run_from(features, A, layer + 1))
    (g,) = torch.autograd.grad(y[0, c], A)
    alpha = g.mean(dim=(2, 3), keepdim=True)
    return (alpha * A).detach(), alpha.flatten()


@torch.no_grad()
def scorecam_masks(A, size):
    """Bilinear upsample (align_corners=False) + per-channel min-max to [0,1].

    Returns (masks [K,H,W], live [K] bool); a constant channel (max == min) is not live."""
    up = F.interpolate(A, size=size, mode='bilinear', align_corners=False)[0]
    mn = up.amin(dim=(1, 2), keepdim=True)
    mx = up.amax(dim=(1, 2), keepdim=True)
    live = (mx > mn).flatten()
    masks = safe_div(up - mn, mx - mn)
    return masks, live


@torch.no_grad()
def scorecam_components(features, head, x, xs, layer, c, batch=16):
    """Score-CAM components: s_k = softmax(f(x * M_k))[c], E = s_k * A; s_k = 0 if M_k is constant."""
    A = xs[layer + 1]
    masks, live = scorecam_masks(A, x.shape[2:])
    s = torch.zeros(A.shape[1], dtype=A.dtype)
    idx = live.nonzero().flatten()
    for i in range(0, len(idx), batch):
        k = idx[i:i + batch]
        logits = head(features(x * masks[k].unsqueeze(1)))  # mask multiplies every channel
        s[k] = torch.softmax(logits, dim=1)[:, c]
    return s.view(1, -1, 1, 1) * A, s


def svd_rank(K, hw):
    """d = floor(0.1 * min(K, h*w)); integer arithmetic so 0.1 never rounds the wrong way."""
    return min(K, hw) // 10


def svd_denoise(E):
    """Spec denoising, float64: NaN/Inf -> 0, K x hw, subtract row means, keep the d largest
    singular values, rebuild, reshape back. Row means are NOT added back (as the reference)."""
    E = E.double()
    E = torch.where(torch.isfinite(E), E, torch.zeros_like(E))
    _, K, h, w = E.shape
    M = E.reshape(K, h * w)
    M = M - M.mean(dim=1, keepdim=True)
    U, S, Vh = torch.linalg.svd(M, full_matrices=False)
    d = svd_rank(K, h * w)
    return (U[:, :d] @ torch.diag(S[:d]) @ Vh[:d, :]).reshape(1, K, h, w)


def components(base, features, head, x, xs, layer, c, batch=16):
    if base == 'gradcam':
        return gradcam_components(features, head, xs, layer, c)
    if base == 'scorecam':
        return scorecam_components(features, head, x, xs, layer, c, batch)
    raise ValueError(base)


def base_cam(base, features, head, x, xs, layer, c):
    """Plain base CAM at features[layer]: its components there, channel sum, before ReLU."""
    E, _ = components(base, features, head, x, xs, layer, c)
    return E.sum(dim=1)[0]


# ---------------------------------------------------------------- step 2: the walk (exact)

def conv_params(m):
    if m.padding_mode != 'zeros' or isinstance(m.padding, str):
        raise ValueError('only explicit zero padding is supported')
    return dict(stride=m.stride, padding=m.padding, dilation=m.dilation, groups=m.groups)


def conv_zplus(m, X, R):
    """z+ rule, both branches: Z = conv(X+,W+) + conv(X-,W-), S = R / Z,
    R_in = X+ * convT(S,W+) + X- * convT(S,W-). No bias."""
    p = conv_params(m)
    W = m.weight.detach().to(X.dtype)
    Wp, Wn = W.clamp(min=0), W.clamp(max=0)
    Xp, Xn = X.clamp(min=0), X.clamp(max=0)
    Z = F.conv2d(Xp, Wp, None, **p) + F.conv2d(Xn, Wn, None, **p)
    S = safe_div(R, Z)
    return Xp * conv2d_input(X.shape, Wp, S, **p) + Xn * conv2d_input(X.shape, Wn, S, **p)


def conv_zbeta(m, X, R):
    """z-beta rule for the conv that reads the model input; l, h = min/max over the WHOLE input
    (scalars); conv's zero padding also applies to L and H."""
    p = conv_params(m)
    W = m.weight.detach().to(X.dtype)
    Wp, Wn = W.clamp(min=0), W.clamp(max=0)
    L = torch.full_like(X, X.min().item())
    H = torch.full_like(X, X.max().item())
    Z = F.conv2d(X, W, None, **p) - F.conv2d(L, Wp, None, **p) - F.conv2d(H, Wn, None, **p)
    S = safe_div(R, Z)
    return (X * conv2d_input(X.shape, W, S, **p) - L * conv2d_input(X.shape, Wp, S, **p)
            - H * conv2d_input(X.shape, Wn, S, **p))


def pool_rule(m, X, R):
    """P = X+; R_in = P * d/dP[pool(P)] applied to (R / pool(P)). Autograd routes max-pool
    ties to the first maximum of the window (PyTorch's argmax)."""
    P = X.clamp(min=0).detach().requires_grad_(True)
    Y = m(P)
    (g,) = torch.autograd.grad(Y, P, safe_div(R, Y.detach()))
    return P.detach() * g


def fgcam_walk(features, xs, E, cam_layer, stop=-1, dtype=torch.float64, input_conv=0):
    """Walk relevance E (at the output of features[cam_layer]) down to the output of
    features[stop] (stop = -1: the model input). Activations recorded in float32 are cast
    to `dtype`. Returns {i: R at the output of module i} for i = cam_layer .. stop.
    `input_conv` is the index of the conv that reads the model input (z-beta rule)."""
    R = E.to(dtype)
    out = {cam_layer: R}
    for i in range(cam_layer, stop, -1):
        m, X = features[i], xs[i].to(dtype)
        if isinstance(m, IDENTITY_TYPES):
            pass
        elif isinstance(m, POOL_TYPES):
            R = pool_rule(m, X, R)
        elif isinstance(m, nn.Conv2d):
            R = conv_zbeta(m, X, R) if i == input_conv else conv_zplus(m, X, R)
        else:
            raise TypeError(f'no FG-CAM rule for {type(m).__name__}')
        out[i - 1] = R
    return out


def raw_map(R):
    """Channel sum (before ReLU): [h, w]."""
    return R.sum(dim=1)[0]


# ---------------------------------------------------------------- step 2: fast float32 walk

def nonneg_inputs(features):
    """For each module: is its input >= 0 by construction (after ReLU, or a pool of such)?
    Only then may the W- branch of the z+ rule be skipped (it is exactly zero)."""
    flags, nonneg = [], False
    for m in features:
        flags.append(nonneg)
        if isinstance(m, (nn.ReLU, nn.ReLU6)):
            nonneg = True
        elif isinstance(m, POOL_TYPES + (nn.Dropout, nn.Identity)):
            pass  # pooling / identity of non-negative values stays non-negative
        else:
            nonneg = False
    return flags


@torch.no_grad()
def record_fast(features, x):
    """float32 forward keeping module inputs and, for max-pools, the argmax indices."""
    xs, idx = [x], {}
    for i, m in enumerate(features):
        if isinstance(m, nn.MaxPool2d):
            y, idx[i] = F.max_pool2d(xs[-1], m.kernel_size, m.stride, m.padding, m.dilation,
                                     m.ceil_mode, return_indices=True)
        else:
            y = m(xs[-1])
        xs.append(y)
    return xs, idx


class FastWalker:
    """Float32 FG-CAM walk with exact shortcuts; weights split once (W+, W-, fused z-beta)."""

    def __init__(self, features, input_conv=0):
        self.features, self.input_conv = features, input_conv
        self.nonneg = nonneg_inputs(features)
        self.w = {}
        for i, m in enumerate(features):
            if isinstance(m, nn.Conv2d):
                W = m.weight.detach()
                Wp, Wn = W.clamp(min=0), W.clamp(max=0)
                if m.groups != 1:      # channel stacking would break the groups: exact rules
                    self.w[i] = None
                elif i == input_conv:  # one conv on [X, L, H] stacked along channels
                    self.w[i] = torch.cat([W, -Wp, -Wn], dim=1).contiguous()
                elif self.nonneg[i]:   # X- == 0: the W- branch is exactly zero
                    self.w[i] = Wp.contiguous()
                else:                  # X+ and X- stacked along channels
                    self.w[i] = torch.cat([Wp, Wn], dim=1).contiguous()

    @torch.no_grad()
    def walk(self, xs, idx, E, cam_layer, stop=-1, keep_maps=False):
        """Returns (R at the output of features[stop], {i: map} if keep_maps)."""
        R, maps = E, {}
        if keep_maps:
            maps[cam_layer] = raw_map(R)
        for i in range(cam_layer, stop, -1):
            m, X = self.features[i], xs[i]
            if isinstance(m, IDENTITY_TYPES):
                pass
            elif isinstance(m, nn.MaxPool2d):
                # P * grad(maxpool)(R / Y) = R scattered to the argmax where Y != 0 (P = Y there).
                # Needs input >= 0 (after ReLU) and non-overlapping windows; else the plain rule.
                if self.nonneg[i] and _pair(m.kernel_size) == _pair(m.stride or m.kernel_size):
                    Y = xs[i + 1]  # non-overlapping windows: unpool scatters without collisions
                    R = F.max_unpool2d(torch.where(Y == 0, torch.zeros_like(R), R), idx[i],
                                       m.kernel_size, m.stride, m.padding, output_size=X.shape[2:])
                else:
                    with torch.enable_grad():
                        R = pool_rule(m, X, R)
            elif isinstance(m, POOL_TYPES):
                with torch.enable_grad():
                    R = pool_rule(m, X, R)
            elif isinstance(m, nn.Conv2d):
                p, W = conv_params(m), self.w[i]
                if W is None:
                    R = (conv_zbeta if i == self.input_conv else conv_zplus)(m, X, R)
                elif i == self.input_conv:
                    L = torch.full_like(X, X.min().item())
                    H = torch.full_like(X, X.max().item())
                    XLH = torch.cat([X, L, H], dim=1)
                    S = safe_div(R, F.conv2d(XLH, W, None, **p))
                    G = conv2d_input(XLH.shape, W, S, **p)
                    R = (XLH * G).view(1, 3, X.shape[1], *X.shape[2:]).sum(dim=1)
                elif self.nonneg[i]:
                    S = safe_div(R, F.conv2d(X, W, None, **p))
                    R = X * conv2d_input(X.shape, W, S, **p)
                else:
                    X2 = torch.cat([X.clamp(min=0), X.clamp(max=0)], dim=1)
                    S = safe_div(R, F.conv2d(X2, W, None, **p))
                    R = (X2 * conv2d_input(X2.shape, W, S, **p)).view(1, 2, X.shape[1], *X.shape[2:]).sum(dim=1)
            else:
                raise TypeError(f'no FG-CAM rule for {type(m).__name__}')
            if keep_maps:
                maps[i - 1] = raw_map(R)
        return R, maps


# ---------------------------------------------------------------- TF.js layers export

def keras_names(features, classifier_names):
    """Keras-like names for a VGG features Sequential: block{b}_conv{i}, _bn{i}, _relu{i}, _pool."""
    names, b, i = [], 1, 0
    for m in features:
        if isinstance(m, nn.Conv2d):
            i += 1
            names.append(f'block{b}_conv{i}')
        elif isinstance(m, nn.BatchNorm2d):
            names.append(f'block{b}_bn{i}')
        elif isinstance(m, nn.ReLU):
            names.append(f'block{b}_relu{i}')
        elif isinstance(m, nn.MaxPool2d):
            names.append(f'block{b}_pool')
            b, i = b + 1, 0
        else:
            raise TypeError(type(m).__name__)
    return names + list(classifier_names)


def _pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


def export_tfjs_layers(layers, input_hwc, out_dir, model_name, feature_chw):
    """Write model.json + group1-shard1of1.bin (Keras 2 Sequential, TF.js 'layers-model').

    layers: list of (name, module or 'flatten'). feature_chw: the (C,H,W) shape flattened by
    'flatten'; the first Linear after it gets its input rows permuted NCHW -> NHWC order."""
    import json
    import numpy as np
    init = lambda cls: {'class_name': cls, 'config': {'seed': None} if cls == 'GlorotUniform' else {}}
    cfgs = [{'class_name': 'InputLayer', 'config': {
        'batch_input_shape': [None, *input_hwc], 'dtype': 'float32', 'sparse': False,
        'ragged': False, 'name': 'input_1'}}]
    specs, blobs, flat_seen, first_dense = [], [], False, True

    def add_w(name, arr):
        arr = np.ascontiguousarray(arr, dtype='<f4')
        specs.append({'name': name, 'shape': list(arr.shape), 'dtype': 'float32'})
        blobs.append(arr.tobytes())

    for name, m in layers:
        base = {'name': name, 'trainable': True, 'dtype': 'float32'}
        if m == 'flatten':
            cfgs.append({'class_name': 'Flatten', 'config': {**base, 'data_format': 'channels_last'}})
            flat_seen = True
        elif isinstance(m, nn.Conv2d):
            k = _pair(m.kernel_size)
            pad = _pair(m.padding)
            d = _pair(m.dilation)
            s = _pair(m.stride)
            # TF 'same' == symmetric torch padding only for stride 1 and odd effective kernels
            same = all(s_ == 1 and p == (k_ - 1) * d_ // 2 and (k_ - 1) * d_ % 2 == 0
                       for s_, p, k_, d_ in zip(s, pad, k, d))
            if not (same or pad == [0, 0]) or m.groups != 1:
                raise ValueError(f'{name}: padding {pad} not expressible as same/valid')
            cfgs.append({'class_name': 'Conv2D', 'config': {
                **base, 'filters': m.out_channels, 'kernel_size': k, 'strides': s,
                'padding': 'same' if same and pad != [0, 0] else 'valid',
                'data_format': 'channels_last', 'dilation_rate': d, 'activation': 'linear',
                'use_bias': m.bias is not None, 'kernel_initializer': init('GlorotUniform'),
                'bias_initializer': init('Zeros'), 'kernel_regularizer': None,
                'bias_regularizer': None, 'activity_regularizer': None,
                'kernel_constraint': None, 'bias_constraint': None}})
            add_w(f'{name}/kernel', m.weight.detach().numpy().transpose(2, 3, 1, 0))  # OIHW -> HWIO
            if m.bias is not None:
                add_w(f'{name}/bias', m.bias.detach().numpy())
        elif isinstance(m, nn.BatchNorm2d):
            cfgs.append({'class_name': 'BatchNormalization', 'config': {
                **base, 'axis': -1, 'momentum': 1 - (m.momentum or 0.1), 'epsilon': m.eps,
                'center': True, 'scale': True, 'beta_initializer': init('Zeros'),
                'gamma_initializer': init('Ones'), 'moving_mean_initializer': init('Zeros'),
                'moving_variance_initializer': init('Ones'), 'beta_regularizer': None,
                'gamma_regularizer': None, 'beta_constraint': None, 'gamma_constraint': None}})
            add_w(f'{name}/gamma', m.weight.detach().numpy())
            add_w(f'{name}/beta', m.bias.detach().numpy())
            add_w(f'{name}/moving_mean', m.running_mean.numpy())
            add_w(f'{name}/moving_variance', m.running_var.numpy())
        elif isinstance(m, nn.ReLU):
            cfgs.append({'class_name': 'Activation', 'config': {**base, 'activation': 'relu'}})
        elif isinstance(m, nn.MaxPool2d):
            if _pair(m.padding) != [0, 0] or m.ceil_mode or _pair(m.dilation) != [1, 1]:
                raise ValueError(f'{name}: unsupported max-pool options')
            cfgs.append({'class_name': 'MaxPooling2D', 'config': {
                **base, 'pool_size': _pair(m.kernel_size), 'padding': 'valid',
                'strides': _pair(m.stride), 'data_format': 'channels_last'}})
        elif isinstance(m, nn.Dropout):
            cfgs.append({'class_name': 'Dropout', 'config': {**base, 'rate': m.p,
                                                              'noise_shape': None, 'seed': None}})
        elif isinstance(m, nn.Linear):
            W = m.weight.detach().numpy()  # [out, in]
            if flat_seen and first_dense:  # rows of the flattened vector: NCHW -> NHWC order
                C, H, Wd = feature_chw
                W = W.reshape(-1, C, H, Wd).transpose(0, 2, 3, 1).reshape(W.shape[0], -1)
            first_dense = False
            cfgs.append({'class_name': 'Dense', 'config': {
                **base, 'units': m.out_features, 'activation': 'linear',
                'use_bias': m.bias is not None, 'kernel_initializer': init('GlorotUniform'),
                'bias_initializer': init('Zeros'), 'kernel_regularizer': None,
                'bias_regularizer': None, 'activity_regularizer': None,
                'kernel_constraint': None, 'bias_constraint': None}})
            add_w(f'{name}/kernel', W.T)  # [out,in] -> [in,out]
            if m.bias is not None:
                add_w(f'{name}/bias', m.bias.detach().numpy())
        else:
            raise TypeError(f'{name}: cannot export {type(m).__name__}')

    os.makedirs(out_dir, exist_ok=True)
    model = {
        'format': 'layers-model',
        'generatedBy': f'torch {torch.__version__} (tools/torch_fgcam.py)',
        'convertedBy': 'tools/torch_fgcam.py export_tfjs_layers',
        'modelTopology': {'keras_version': '2.11.0', 'backend': 'tensorflow', 'model_config': {
            'class_name': 'Sequential', 'config': {'name': model_name, 'layers': cfgs}}},
        'weightsManifest': [{'paths': ['group1-shard1of1.bin'], 'weights': specs}],
    }
    with open(os.path.join(out_dir, 'model.json'), 'w') as f:
        json.dump(model, f, indent=1)
    with open(os.path.join(out_dir, 'group1-shard1of1.bin'), 'wb') as f:
        for b in blobs:
            f.write(b)


def numpy_forward_tfjs(out_dir, x_nhwc):
    """Independent NHWC numpy forward of an exported model (checks the export). Returns logits."""
    import json
    import numpy as np
    with open(os.path.join(out_dir, 'model.json')) as f:
        model = json.load(f)
    raw = np.fromfile(os.path.join(out_dir, 'group1-shard1of1.bin'), dtype='<f4')
    weights, off = {}, 0
    for s in model['weightsManifest'][0]['weights']:
        n = int(np.prod(s['shape']))
        weights[s['name']] = raw[off:off + n].reshape(s['shape'])  # float32 view; cast at use
        off += n
    w64 = lambda key: weights[key].astype(np.float64)
    assert off == raw.size, 'weight manifest does not cover the shard exactly'
    t = x_nhwc.astype(np.float64)
    for layer in model['modelTopology']['model_config']['config']['layers']:
        cls, cfg = layer['class_name'], layer['config']
        name = cfg['name']
        if cls == 'InputLayer':
            assert list(t.shape[1:]) == cfg['batch_input_shape'][1:]
        elif cls == 'Conv2D':
            Wk = w64(name + '/kernel')
            b = w64(name + '/bias') if name + '/bias' in weights else None
            kh, kw = cfg['kernel_size']
            assert cfg['strides'] == [1, 1] and cfg['dilation_rate'] == [1, 1]
            if cfg['padding'] == 'same':
                t = np.pad(t, ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
            N, Hp, Wp, C = t.shape
            Ho, Wo = Hp - kh + 1, Wp - kw + 1
            y = np.zeros((N, Ho, Wo, Wk.shape[3]))
            for dy in range(kh):
                for dx in range(kw):
                    y += t[:, dy:dy + Ho, dx:dx + Wo, :] @ Wk[dy, dx]
            t = y + (b if b is not None else 0)
        elif cls == 'BatchNormalization':
            g, be = w64(name + '/gamma'), w64(name + '/beta')
            mu, var = w64(name + '/moving_mean'), w64(name + '/moving_variance')
            t = (t - mu) / np.sqrt(var + cfg['epsilon']) * g + be
        elif cls == 'Activation':
            assert cfg['activation'] == 'relu'
            t = np.maximum(t, 0)
        elif cls == 'MaxPooling2D':
            ph, pw = cfg['pool_size']
            assert cfg['strides'] == [ph, pw] and cfg['padding'] == 'valid'
            N, H, W, C = t.shape
            t = t[:, :H // ph * ph, :W // pw * pw].reshape(N, H // ph, ph, W // pw, pw, C).max(axis=(2, 4))
        elif cls == 'Flatten':
            t = t.reshape(t.shape[0], -1)  # NHWC order
        elif cls == 'Dense':
            t = t @ w64(name + '/kernel') + (w64(name + '/bias') if name + '/bias' in weights else 0)
        elif cls == 'Dropout':
            pass
        else:
            raise TypeError(cls)
    return t
