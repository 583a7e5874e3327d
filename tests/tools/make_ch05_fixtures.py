"""Writes tests/fixtures/ch05_*.safetensors: PyTorch's channel shuffle and the ShuffleNet v1
unit (forward, dx and parameter gradients, BatchNorm in training mode), for
tests/ch05/test_shuffle_torch.cpp.

Run with Debian's PyTorch (python3-torch), from the repository root:
    /usr/bin/python3 tests/tools/make_ch05_fixtures.py

The unit is written here in plain PyTorch with the attribute names of convbook::ShuffleUnit, so
the state_dict keys (conv1.weight, bn1.running_mean, ...) are the C++ parameter names. A unit's
file is a module fixture (tests/tools/module_fixture.py: state_dict, input, output, dy, dx,
grad.<name>, after.<buffer>; training mode, float64 stored as float32).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import module_fixture  # noqa: E402
import safetensors_io  # noqa: E402

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))


def shuffle_formula(x, g):
    """The shuffle as the paper describes it: reshape (N, g, C/g, H, W), transpose, flatten."""
    n, c, h, w = x.shape
    return x.view(n, g, c // g, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleUnit(nn.Module):
    """ShuffleNet v1 unit, fig. 2b (stride 1) / 2c (stride 2), as convbook::ShuffleUnit."""

    def __init__(self, cin, cout, stride, groups, mid=None, group_first_conv=True):
        super().__init__()
        mid = mid or cout // 4
        main = cout if stride == 1 else cout - cin
        self.stride, self.groups = stride, groups
        self.conv1 = nn.Conv2d(cin, mid, 1, groups=groups if group_first_conv else 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, main, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(main)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = shuffle_formula(h, self.groups)  # nn.ChannelShuffle has no backward in 1.13
        h = self.bn2(self.conv2(h))
        h = self.bn3(self.conv3(h))
        if self.stride == 1:
            return F.relu(h + x)
        return F.relu(torch.cat([F.avg_pool2d(x, 3, stride=2, padding=1), h], 1))


# name: (input shape N,C,H,W; out_channels; stride; groups; mid; group_first_conv)
UNITS = {
    "unit_stride1": ((2, 12, 5, 7), 12, 1, 3, 6, True),
    "unit_stride2": ((2, 6, 7, 5), 18, 2, 3, 6, True),
    "unit_stride2_dense_first": ((3, 4, 6, 6), 12, 2, 2, 4, False),
}


def write_shuffle():
    x = torch.randn(2, 12, 3, 2, dtype=torch.float64, requires_grad=True)
    tensors = {"input": x.detach()}
    for g in (2, 3, 4, 6):
        # torch 1.13's nn.ChannelShuffle has no backward ("derivative for channel_shuffle is
        # not implemented"), so gradients go through the view/transpose formula, which must
        # give the same forward.
        y = shuffle_formula(x, g)
        assert torch.equal(y, nn.ChannelShuffle(g)(x.detach())), "ChannelShuffle != formula"
        dy = torch.randn_like(y)
        (dx,) = torch.autograd.grad((y * dy).sum(), x)
        tensors[f"g{g}.output"] = y.detach()
        tensors[f"g{g}.dy"] = dy
        tensors[f"g{g}.dx"] = dx
    tensors = {n: t.float() for n, t in tensors.items()}
    path = os.path.join(FIXTURES, "ch05_shuffle.safetensors")
    safetensors_io.save(path, tensors, {"torch": torch.__version__})
    print(f"{path}: nn.ChannelShuffle(g) for g in 2, 3, 4, 6 on x(2, 12, 3, 2)")


def write_unit(name, shape, cout, stride, groups, mid, group_first_conv):
    unit = ShuffleUnit(shape[1], cout, stride, groups, mid, group_first_conv)
    module_fixture.randomize_affine(unit)
    tensors, y = module_fixture.forward_backward(unit, shape)
    metadata = {"in_channels": shape[1], "out_channels": cout, "stride": stride,
                "groups": groups, "mid_channels": mid, "group_first_conv": int(group_first_conv),
                "torch": torch.__version__}
    path = os.path.join(FIXTURES, f"ch05_{name}.safetensors")
    safetensors_io.save(path, tensors, metadata)
    print(f"{path}: ShuffleUnit({shape[1]}, {cout}, stride={stride}, groups={groups}, mid={mid}, "
          f"group_first_conv={group_first_conv}) x{tuple(shape)} -> y{tuple(y.shape)}")


def main():
    torch.manual_seed(20240605)
    os.makedirs(FIXTURES, exist_ok=True)
    write_shuffle()
    for name, case in UNITS.items():
        write_unit(name, *case)


if __name__ == "__main__":
    main()
