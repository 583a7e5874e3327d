"""Writes tests/fixtures/ch03_*.safetensors: the Inception block with dimension reductions
(GoogLeNet fig. 2b, written as torchvision's Inception) and the naive block (fig. 2a): forward,
dx and parameter gradients with BatchNorm in training mode, for
tests/ch03/test_inception_torch.cpp.

Run with Debian's PyTorch (python3-torch), from the repository root:
    /usr/bin/python3 tests/tools/make_ch03_fixtures.py

The blocks are written here in plain PyTorch with torchvision's attribute names (branch1.conv,
branch2.0.bn, branch4.1.conv, ...; BatchNorm eps 0.001 as torchvision's BasicConv2d), so the
state_dict keys are the C++ parameter names. Unlike torchvision's GoogLeNet, branch3 has the
paper's 5x5. Each file is a module fixture (tests/tools/module_fixture.py: state_dict, input,
output, dy, dx, grad.<name>, after.<name>), computed in float64 and stored as float32.
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


class BasicConv2d(nn.Module):
    """torchvision.models.googlenet.BasicConv2d, with the padding that keeps H x W."""

    def __init__(self, cin, cout, kernel):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """Fig. 2b: torchvision's Inception with the paper's 5x5 in branch3."""

    def __init__(self, cin, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(cin, ch1x1, 1)
        self.branch2 = nn.Sequential(BasicConv2d(cin, ch3x3red, 1), BasicConv2d(ch3x3red, ch3x3, 3))
        self.branch3 = nn.Sequential(BasicConv2d(cin, ch5x5red, 1), BasicConv2d(ch5x5red, ch5x5, 5))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                     BasicConv2d(cin, pool_proj, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionNaive(nn.Module):
    """Fig. 2a: 1x1, 3x3, 5x5 on x, and the 3x3 max-pool of x, concatenated."""

    def __init__(self, cin, ch1x1, ch3x3, ch5x5):
        super().__init__()
        self.branch1 = BasicConv2d(cin, ch1x1, 1)
        self.branch2 = BasicConv2d(cin, ch3x3, 3)
        self.branch3 = BasicConv2d(cin, ch5x5, 5)
        self.branch4 = nn.MaxPool2d(3, stride=1, padding=1)

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


def write_block(name, block, shape, metadata):
    module_fixture.randomize_affine(block)
    tensors, y = module_fixture.forward_backward(block, shape)
    metadata = {k: str(v) for k, v in metadata.items()}
    metadata["torch"] = torch.__version__
    path = os.path.join(FIXTURES, f"ch03_{name}.safetensors")
    safetensors_io.save(path, tensors, metadata)
    print(f"{path}: {metadata} x{tuple(shape)} -> y{tuple(y.shape)}")


def main():
    torch.manual_seed(20240603)
    os.makedirs(FIXTURES, exist_ok=True)
    # in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj: odd sizes, 7x5 images
    widths = (6, 3, 4, 5, 2, 3, 2)
    write_block("inception", Inception(*widths), (2, 6, 7, 5),
                dict(zip(("in_channels", "ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5",
                          "pool_proj"), widths)))
    naive = (5, 3, 4, 2)
    write_block("inception_naive", InceptionNaive(*naive), (3, 5, 6, 4),
                dict(zip(("in_channels", "ch1x1", "ch3x3", "ch5x5"), naive)))


if __name__ == "__main__":
    main()
