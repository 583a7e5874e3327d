"""Writes tests/fixtures/ch12_*.safetensors: the wide basic block and a tiny WRN in PyTorch,
forward, dx, parameter gradients and running statistics, for tests/ch12/test_wide_resnet_torch.cpp;
and prints the exact parameter counts of WRN-n-k that tests/ch12/test_wide_resnet.cpp checks.

Run with Debian's PyTorch, from the repository root:
    /usr/bin/python3 tests/tools/make_ch12_fixtures.py

Two PyTorch definitions are here. `official_resnet` is the functional WRN of the authors'
PyTorch code (github.com/szagoruyko/wide-residual-networks, pytorch/resnet.py): a flat dict of
parameters and a function; it gives the parameter counts. `WideBasic` / `wide_resnet` are the
same network as nn.Modules with convbook's state_dict names (conv0, group0.block0.bn0, ...,
convdim, bn, fc); the script checks that both compute the same logits from the same weights
before it writes anything. Fixtures are computed in float64 and stored as float32 (< 60 KB).
"""
import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import module_fixture  # noqa: E402
import safetensors_io  # noqa: E402

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))


# --- the authors' functional definition (pytorch/resnet.py), parameters only as needed here ---
def official_params(depth, width, num_classes, base=16):
    assert (depth - 4) % 6 == 0, "depth should be 6n+4"
    n = (depth - 4) // 6
    widths = [int(v * width) for v in (base, 2 * base, 4 * base)]

    def conv(ni, no, k):
        return torch.randn(no, ni, k, k, dtype=torch.float64) * (2.0 / (ni * k * k)) ** 0.5

    def bn(c):
        return {"weight": torch.rand(c, dtype=torch.float64) + 0.5,
                "bias": torch.randn(c, dtype=torch.float64) * 0.5,
                "running_mean": torch.randn(c, dtype=torch.float64) * 0.2,
                "running_var": torch.rand(c, dtype=torch.float64) + 0.5}

    def block(ni, no):
        p = {"conv0": conv(ni, no, 3), "conv1": conv(no, no, 3), "bn0": bn(ni), "bn1": bn(no)}
        if ni != no:
            p["convdim"] = conv(ni, no, 1)
        return p

    params = {"conv0": conv(3, base, 3), "bn": bn(widths[2]),
              "fc": {"weight": torch.randn(num_classes, widths[2], dtype=torch.float64) * 0.1,
                     "bias": torch.randn(num_classes, dtype=torch.float64) * 0.1}}
    ni = base
    for g, no in enumerate(widths):
        params[f"group{g}"] = {f"block{i}": block(ni if i == 0 else no, no) for i in range(n)}
        ni = no
    return params, n


def flatten(params, prefix=""):
    out = OrderedDict()
    for k, v in params.items():
        if isinstance(v, dict):
            out.update(flatten(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def official_forward(x, flat, n, mode):
    def batch_norm(x, base):
        return F.batch_norm(x, weight=flat[base + ".weight"], bias=flat[base + ".bias"],
                            running_mean=flat[base + ".running_mean"].clone(),
                            running_var=flat[base + ".running_var"].clone(), training=mode)

    def block(x, base, stride):
        o1 = F.relu(batch_norm(x, base + ".bn0"))
        y = F.conv2d(o1, flat[base + ".conv0"], stride=stride, padding=1)
        o2 = F.relu(batch_norm(y, base + ".bn1"))
        z = F.conv2d(o2, flat[base + ".conv1"], stride=1, padding=1)
        if base + ".convdim" in flat:
            return z + F.conv2d(o1, flat[base + ".convdim"], stride=stride)
        return z + x

    def group(o, base, stride):
        for i in range(n):
            o = block(o, f"{base}.block{i}", stride if i == 0 else 1)
        return o

    x = F.conv2d(x, flat["conv0"], padding=1)
    g0 = group(x, "group0", 1)
    g1 = group(g0, "group1", 2)
    g2 = group(g1, "group2", 2)
    o = F.relu(batch_norm(g2, "bn"))
    o = F.adaptive_avg_pool2d(o, 1).view(o.size(0), -1)  # avg_pool2d(o, 8) at 32x32
    return F.linear(o, flat["fc.weight"], flat["fc.bias"])


def official_parameter_count(depth, width, num_classes=10):
    flat = flatten(official_params(depth, width, num_classes)[0])
    return sum(t.numel() for k, t in flat.items() if "running" not in k)


# --- the same network as modules, with convbook's names ---
class WideBasic(nn.Module):
    def __init__(self, cin, cout, stride=1, dropout=0.0):
        super().__init__()
        self.bn0 = nn.BatchNorm2d(cin)
        self.conv0 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.dropout = nn.Dropout(dropout)
        self.conv1 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.convdim = (nn.Conv2d(cin, cout, 1, stride, bias=False)
                        if cin != cout or stride != 1 else None)

    def forward(self, x):
        o1 = F.relu(self.bn0(x))
        z = self.conv1(self.dropout(F.relu(self.bn1(self.conv0(o1)))))
        return z + (self.convdim(o1) if self.convdim is not None else x)


def wide_resnet(depth, width, dropout=0.0, num_classes=10, base=16):
    n = (depth - 4) // 6
    layers = OrderedDict(conv0=nn.Conv2d(3, base, 3, 1, 1, bias=False))
    cin = base
    for g, cout in enumerate((base * width, 2 * base * width, 4 * base * width)):
        layers[f"group{g}"] = nn.Sequential(OrderedDict(
            (f"block{i}", WideBasic(cin if i == 0 else cout, cout, 2 if g > 0 and i == 0 else 1,
                                    dropout)) for i in range(n)))
        cin = cout
    layers.update(bn=nn.BatchNorm2d(cin), relu=nn.ReLU(), avgpool=nn.AdaptiveAvgPool2d(1),
                  flatten=nn.Flatten(), fc=nn.Linear(cin, num_classes))
    return nn.Sequential(layers)


def randomize(model, running_stats):
    """Biases and BN affine terms away from their initial values (module_fixture), and for eval
    fixtures running statistics away from (0, 1)."""
    module_fixture.randomize_affine(model)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d) and running_stats:
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 1.5)


def check_same_as_official(depth, width, base):
    """The module twin, given the official parameters, gives the official logits (both modes)."""
    params, n = official_params(depth, width, 10, base)
    flat = flatten(params)
    model = wide_resnet(depth, width, 0.0, 10, base).double()
    # Their convolutions are bare tensors ("group0.block0.conv0"); ours are modules (".weight").
    state = {(k if k.split(".")[-1] in ("weight", "bias", "running_mean", "running_var")
              else k + ".weight"): v for k, v in flat.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), \
        (missing, unexpected)
    x = torch.randn(3, 3, 16, 16, dtype=torch.float64)
    for mode in (False, True):
        expected = official_forward(x, flat, n, mode)
        got = model.train(mode)(x)
        assert torch.allclose(got, expected, rtol=1e-10, atol=1e-12), (mode, got, expected)


# name: (what, args, input shape, train)
FIXTURE_CASES = {
    "block_identity": ("block", (4, 4, 1), (2, 4, 6, 5), True),
    "block_projection": ("block", (3, 6, 2), (2, 3, 7, 6), True),
    "block_projection_eval": ("block", (3, 6, 2), (2, 3, 7, 6), False),
    "wrn10_2_train": ("wrn", (10, 2, 0.0, 10, 2), (2, 3, 12, 12), True),
    "wrn10_2_eval": ("wrn", (10, 2, 0.0, 10, 2), (2, 3, 12, 12), False),
}


def write_fixture(name, what, args, shape, train):
    model = WideBasic(*args) if what == "block" else wide_resnet(*args)
    randomize(model, running_stats=not train)
    tensors, y = module_fixture.forward_backward(model, shape, train)
    keys = ("in_planes", "out_planes", "stride") if what == "block" else \
        ("depth", "width", "dropout", "num_classes", "base")
    metadata = {k: str(v) for k, v in zip(keys, args)}
    metadata.update(what=what, mode="train" if train else "eval", torch=torch.__version__)
    path = os.path.join(FIXTURES, f"ch12_{name}.safetensors")
    safetensors_io.save(path, tensors, metadata)
    print(f"{path}: {what}{args} {metadata['mode']} x{tuple(shape)} -> y{tuple(y.shape)}, "
          f"{os.path.getsize(path)} bytes")


def main():
    torch.manual_seed(20261129)
    os.makedirs(FIXTURES, exist_ok=True)
    for depth, width, base in ((10, 1, 4), (10, 2, 2), (16, 2, 4)):
        check_same_as_official(depth, width, base)
    print("module twin == the authors' functional code (eval and train mode)")
    for depth, width in ((10, 1), (16, 4), (16, 8), (22, 8), (28, 10), (40, 4)):
        official = official_parameter_count(depth, width)
        ours = sum(p.numel() for p in wide_resnet(depth, width).parameters())
        assert official == ours, (depth, width, official, ours)
        print(f"WRN-{depth}-{width}: {official} parameters")
    for name, case in FIXTURE_CASES.items():
        write_fixture(name, *case)


if __name__ == "__main__":
    main()
