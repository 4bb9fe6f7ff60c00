"""FG-CAM (Grad-CAM base) in PyTorch for torchvision ResNet / DenseNet / MobileNetV2 / Inception.

Written from the method doc (fgcam-method.md, "Step 2" and "Beyond VGG") for
bench/torch_arch_bench.py and the slow test that compares it with the engine.
LRP as a modified gradient: every layer of the trunk (input -> CAM layer) is
wrapped in a torch.autograd.Function whose forward is the layer's own and whose
backward returns the relevance at its input given the relevance at its output.
One recording forward and torch.autograd.grad(A, x, grad_outputs=E) is then the
walk; autograd's own bookkeeping does fan-out (sums) and concatenation (slices).

Rules: z+ on every conv (the X- branch only where X has a negative entry: else it
is exactly zero), z-beta on the conv that reads the model input, identity for
ReLU / ReLU6 / BatchNorm / Dropout, max-pool / avg-pool / adaptive pool in
proportion to X+ within each window (max-pool: to the first max of X+), residual
add in proportion to the addends' positive parts (where none is positive, by the
negative parts: the engine's documented extension for linear bottlenecks). Batch
norm that follows a conv is folded into it first (as our ONNX importer does).
The head (global pool + classifier) keeps its true gradient for the components.
"""
import types

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models.inception as tv_inception
from torch.nn.grad import conv2d_input
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision.models.mobilenetv2 import InvertedResidual
from torchvision.models.resnet import Bottleneck

HEAD_NAMES = {'avgpool', 'dropout', 'fc', 'classifier', 'AuxLogits'}
# Identity, Dropout (eval): their own gradient is already the identity rule.
PASS_TYPES = (nn.ReLU, nn.ReLU6, nn.BatchNorm2d)
POOL_TYPES = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)


def safe_div(a, b):
    """a / b where b != 0, else 0."""
    return torch.where(b == 0, 0.0, a / b)


def recording(x):
    return torch.is_grad_enabled() and x.requires_grad


# ---------------------------------------------------------------- rules

class _Pass(torch.autograd.Function):
    """Identity rule: R_in = R_out."""

    @staticmethod
    def forward(ctx, x, fn):
        return fn(x)

    @staticmethod
    def backward(ctx, r):
        return r, None


class _Ratio(torch.autograd.Function):
    """Pools: P = X+; R_in = P * d/dP[pool(P)] (R_out / pool(P))."""

    @staticmethod
    def forward(ctx, x, fn):
        ctx.save_for_backward(x)
        ctx.fn = fn
        return fn(x)

    @staticmethod
    def backward(ctx, r):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            p = x.clamp(min=0).requires_grad_(True)
            z = ctx.fn(p)
            (g,) = torch.autograd.grad(z, p, safe_div(r, z))
        return p.detach() * g, None


class _Add(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a + b

    @staticmethod
    def backward(ctx, r):
        a, b = ctx.saved_tensors
        ap, bp = a.clamp(min=0), b.clamp(min=0)
        an, bn = a.clamp(max=0), b.clamp(max=0)
        sp = ap + bp
        use_pos = sp > 0
        s = torch.where(use_pos, safe_div(r, sp), safe_div(r, an + bn))
        return torch.where(use_pos, ap, an) * s, torch.where(use_pos, bp, bn) * s


class _Conv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, mod):
        ctx.save_for_backward(x)
        ctx.mod = mod
        return mod.conv(x)

    @staticmethod
    def backward(ctx, r):
        (x,) = ctx.saved_tensors
        return ctx.mod.relevance(x, r), None


def flip_transpose(w, groups):
    """(O, I/g, kh, kw) -> (I, O/g, kh, kw), in/out swapped within each group, flipped in space."""
    o, ig, kh, kw = w.shape
    t = w.reshape(groups, o // groups, ig, kh, kw).transpose(1, 2)
    return t.reshape(groups * ig, o // groups, kh, kw).flip((2, 3)).contiguous()


class RuleConv(nn.Module):
    """A conv (BN folded) with its z+ or z-beta rule; W+ and W- split once."""

    def __init__(self, conv):
        super().__init__()
        assert conv.padding_mode == 'zeros' and not isinstance(conv.padding, str), conv
        self.conv = conv
        self.zbeta = False
        w = conv.weight.detach()
        self.w, self.wp, self.wn = w, w.clamp(min=0), w.clamp(max=0)
        # Stride 1: conv-transpose is a conv with the kernel flipped in space and in/out swapped
        # per group, pads d*(k-1) - p (exact; 1.1-10x faster than conv2d_input on CPU here,
        # depthwise most). The engine does the same.
        k, d, pd = conv.kernel_size, conv.dilation, conv.padding
        self.adj_pad = tuple(d[i] * (k[i] - 1) - pd[i] for i in range(2))
        self.flipped = None
        if conv.stride == (1, 1) and min(self.adj_pad) >= 0:
            self.flipped = {id(v): flip_transpose(v, conv.groups) for v in (self.w, self.wp, self.wn)}

    def forward(self, x):
        return _Conv.apply(x, self) if recording(x) else self.conv(x)

    def _f(self, x, w):
        c = self.conv
        return F.conv2d(x, w, None, c.stride, c.padding, c.dilation, c.groups)

    def _t(self, s, w, shape):
        c = self.conv
        if self.flipped:
            return F.conv2d(s, self.flipped[id(w)], None, 1, self.adj_pad, c.dilation, c.groups)
        return conv2d_input(shape, w, s, c.stride, c.padding, c.dilation, c.groups)

    def relevance(self, x, r):
        if self.zbeta:
            low = torch.full_like(x, float(x.min()))
            high = torch.full_like(x, float(x.max()))
            s = safe_div(r, self._f(x, self.w) - self._f(low, self.wp) - self._f(high, self.wn))
            return x * self._t(s, self.w, x.shape) - low * self._t(s, self.wp, x.shape) - high * self._t(s, self.wn, x.shape)
        xp = x.clamp(min=0)
        if not bool((x < 0).any()):  # X- = 0: its branch is exactly zero
            return xp * self._t(safe_div(r, self._f(xp, self.wp)), self.wp, x.shape)
        xn = x.clamp(max=0)
        s = safe_div(r, self._f(xp, self.wp) + self._f(xn, self.wn))
        return xp * self._t(s, self.wp, x.shape) + xn * self._t(s, self.wn, x.shape)


class RuleLayer(nn.Module):
    """Wraps a layer with an identity or pool rule; the plain layer when not recording."""

    def __init__(self, mod, rule):
        super().__init__()
        self.mod, self.rule = mod, rule

    def forward(self, x):
        return self.rule.apply(x, self.mod) if recording(x) else self.mod(x)


def add(a, b):
    return _Add.apply(a, b) if recording(a) or recording(b) else a + b


def _fn_rule(rule, fn):
    def wrapped(x, *args, **kw):
        kw.pop('inplace', None)
        f = lambda t: fn(t, *args, **kw)  # noqa: E731
        return rule.apply(x, f) if recording(x) else f(x)
    return wrapped


class _RuleFunctional:
    """torch.nn.functional with the pools and ReLU that Inception's blocks call directly ruled."""
    relu = staticmethod(_fn_rule(_Pass, F.relu))
    max_pool2d = staticmethod(_fn_rule(_Ratio, F.max_pool2d))
    avg_pool2d = staticmethod(_fn_rule(_Ratio, F.avg_pool2d))

    def __getattr__(self, name):
        return getattr(F, name)


# Residual joins: torchvision writes them as `+`; the same forwards with the add rule.
def _bottleneck_forward(self, x):
    out = self.relu(self.bn1(self.conv1(x)))
    out = self.relu(self.bn2(self.conv2(out)))
    out = self.bn3(self.conv3(out))
    return self.relu(add(out, x if self.downsample is None else self.downsample(x)))


def _inverted_residual_forward(self, x):
    return add(x, self.conv(x)) if self.use_res_connect else self.conv(x)


# ---------------------------------------------------------------- preparing a model

def fold_bn(model):
    """Folds every BatchNorm2d that directly follows a conv into it (Sequential neighbours, conv/bn attribute pairs)."""
    n = 0
    for m in list(model.modules()):
        if isinstance(m, nn.Sequential):
            keys = list(m._modules)
            for a, b in zip(keys, keys[1:]):
                if isinstance(m._modules[a], nn.Conv2d) and isinstance(m._modules[b], nn.BatchNorm2d):
                    m._modules[a] = fuse_conv_bn_eval(m._modules[a], m._modules[b])
                    m._modules[b] = nn.Identity()
                    n += 1
        for c, b in (('conv', 'bn'), ('conv1', 'bn1'), ('conv2', 'bn2'), ('conv3', 'bn3')):
            if isinstance(getattr(m, c, None), nn.Conv2d) and isinstance(getattr(m, b, None), nn.BatchNorm2d):
                setattr(m, c, fuse_conv_bn_eval(getattr(m, c), getattr(m, b)))
                setattr(m, b, nn.Identity())
                n += 1
    return n


def split(model):
    """(trunk: input -> CAM layer, head: CAM layer -> logits), from a torchvision-style model."""
    trunk = nn.Sequential(*[m for k, m in model.named_children() if k not in HEAD_NAMES])
    if type(model).__name__ == 'DenseNet':
        trunk.append(nn.ReLU())  # DenseNet.forward applies F.relu after `features`
    classifier = model.fc if hasattr(model, 'fc') else model.classifier

    def head(a):
        return classifier(torch.flatten(F.adaptive_avg_pool2d(a, 1), 1))
    return trunk, head


def install_rules(trunk, x):
    """Wraps every layer of the trunk in its rule; z-beta for the convs that read x itself."""
    for m in trunk.modules():
        if hasattr(m, 'inplace'):
            m.inplace = False  # recorded inputs must stay as they were
        if isinstance(m, Bottleneck):
            m.forward = types.MethodType(_bottleneck_forward, m)
        elif isinstance(m, InvertedResidual):
            m.forward = types.MethodType(_inverted_residual_forward, m)
    tv_inception.F = _RuleFunctional()
    convs = []
    for m in list(trunk.modules()):
        for k, c in list(m._modules.items()):
            if isinstance(c, nn.Conv2d):
                m._modules[k] = RuleConv(c)
                convs.append(m._modules[k])
            elif isinstance(c, PASS_TYPES):
                m._modules[k] = RuleLayer(c, _Pass)
            elif isinstance(c, POOL_TYPES):
                m._modules[k] = RuleLayer(c, _Ratio)
    hooks = [c.register_forward_pre_hook(lambda mod, inp: setattr(mod, 'zbeta', mod.zbeta or inp[0] is x)) for c in convs]
    with torch.no_grad():
        trunk(x)
    for h in hooks:
        h.remove()
    return sum(c.zbeta for c in convs)


def prepare(model, x):
    """eval, BN folded, rules installed: (trunk, head, folded BNs, z-beta convs)."""
    model.eval()
    folded = fold_bn(model)
    trunk, head = split(model)
    return trunk, head, folded, install_rules(trunk, x)


def explain(trunk, head, x):
    """FG-CAM (Grad-CAM base, no denoise) to the input: (class, E, R at the input, channel-summed map)."""
    xr = x.detach().requires_grad_(True)
    A = trunk(xr)
    a = A.detach().requires_grad_(True)
    y = head(a)
    c = int(y[0].argmax())
    (g,) = torch.autograd.grad(y[0, c], a)
    E = g.mean(dim=(2, 3), keepdim=True) * a.detach()
    (R,) = torch.autograd.grad(A, xr, grad_outputs=E)
    return c, E, R, R.sum(dim=1)[0]
