"""Writes tests/fixtures/ch09_sk_*.safetensors and ch09_splat_*.safetensors: the SK convolution
and ResNeSt's split-attention convolution (forward, dx, parameter gradients, BatchNorm in
training mode), for tests/ch09/test_sk_torch.cpp.

Run with Debian's PyTorch (python3-torch), from the repository root:
    /usr/bin/python3 tests/tools/make_ch09_sk_fixtures.py

SKConv is written as the SKNet reference implementations do (grouped conv-BN-ReLU branches of
growing dilation, fuse by sum + global pool + FC-BN-ReLU, select by one FC per branch and a
softmax across branches); SplAtConv2d and rSoftMax are copied from ResNeSt's official
resnest/torch/splat.py (BatchNorm on, no DropBlock, no rectified conv), with the hidden width's
floor of 32 made a parameter. The attribute names are convbook's parameter names. Each
fixture is one module fixture (tests/tools/module_fixture.py: state_dict, input, output, dy, dx,
grad.<name>, after.<name>) with the block's options in the metadata, for
tests/support/fixture.hpp's check_against_pytorch.
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


class SKConv(nn.Module):
    """Selective kernel convolution (Li et al. 2019): split, fuse, select."""

    def __init__(self, cin, cout, M=2, G=32, r=16, L=32, stride=1):
        super().__init__()
        d = max(cout // r, L)
        self.convs = nn.ModuleList([nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, padding=1 + i, dilation=1 + i, groups=G, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=False)) for i in range(M)])
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Conv2d(cout, d, 1, bias=False), nn.BatchNorm2d(d), nn.ReLU())
        self.fcs = nn.ModuleList([nn.Conv2d(d, cout, 1) for _ in range(M)])
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        feats = torch.stack([conv(x) for conv in self.convs], dim=1)  # (N, M, K, H, W)
        z = self.fc(self.gap(feats.sum(dim=1)))                        # (N, d, 1, 1)
        att = self.softmax(torch.stack([fc(z) for fc in self.fcs], dim=1))  # over M
        return (feats * att).sum(dim=1)


class rSoftMax(nn.Module):
    """resnest/torch/splat.py"""

    def __init__(self, radix, cardinality):
        super().__init__()
        self.radix = radix
        self.cardinality = cardinality

    def forward(self, x):
        batch = x.size(0)
        if self.radix > 1:
            x = x.view(batch, self.cardinality, self.radix, -1).transpose(1, 2)
            x = F.softmax(x, dim=1)
            x = x.reshape(batch, -1)
        else:
            x = torch.sigmoid(x)
        return x


class SplAtConv2d(nn.Module):
    """resnest/torch/splat.py's SplAtConv2d with norm_layer=BatchNorm2d, bias=False."""

    def __init__(self, in_channels, channels, kernel_size, stride=1, padding=0, groups=1,
                 radix=2, reduction_factor=4, min_inter=32):
        super().__init__()
        inter_channels = max(in_channels * radix // reduction_factor, min_inter)
        self.radix = radix
        self.cardinality = groups
        self.channels = channels
        self.conv = nn.Conv2d(in_channels, channels * radix, kernel_size, stride, padding,
                              groups=groups * radix, bias=False)
        self.bn0 = nn.BatchNorm2d(channels * radix)
        self.relu = nn.ReLU(inplace=True)
        self.fc1 = nn.Conv2d(channels, inter_channels, 1, groups=self.cardinality)
        self.bn1 = nn.BatchNorm2d(inter_channels)
        self.fc2 = nn.Conv2d(inter_channels, channels * radix, 1, groups=self.cardinality)
        self.rsoftmax = rSoftMax(radix, groups)

    def forward(self, x):
        x = self.conv(x)
        x = self.bn0(x)
        x = self.relu(x)
        batch, rchannel = x.shape[:2]
        if self.radix > 1:
            splited = torch.split(x, rchannel // self.radix, dim=1)
            gap = sum(splited)
        else:
            gap = x
        gap = F.adaptive_avg_pool2d(gap, 1)
        gap = self.fc1(gap)
        gap = self.bn1(gap)
        gap = self.relu(gap)
        atten = self.fc2(gap)
        atten = self.rsoftmax(atten).view(batch, -1, 1, 1)
        if self.radix > 1:
            attens = torch.split(atten, rchannel // self.radix, dim=1)
            out = sum([att * split for (att, split) in zip(attens, splited)])
        else:
            out = atten * x
        return out.contiguous()


# name: (input shape N,C,H,W; module arguments)
SK = {
    "sk_m2": ((4, 8, 7, 6), dict(cout=12, M=2, G=4, r=4, L=4, stride=1)),
    "sk_m3_stride2": ((3, 6, 9, 7), dict(cout=6, M=3, G=2, r=2, L=5, stride=2)),
}
SPLAT = {
    "splat_r2_g2": ((4, 8, 6, 5), dict(channels=12, kernel_size=3, stride=1, padding=1, groups=2,
                                        radix=2, reduction_factor=2, min_inter=4)),
    "splat_r1_g2": ((4, 8, 5, 5), dict(channels=8, kernel_size=3, stride=1, padding=1, groups=2,
                                        radix=1, reduction_factor=4, min_inter=6)),
    "splat_r3_g1_stride2": ((3, 6, 7, 7), dict(channels=9, kernel_size=3, stride=2, padding=1,
                                                groups=1, radix=3, reduction_factor=4,
                                                min_inter=32)),
}


def write(name, module, shape, metadata):
    module_fixture.randomize_affine(module)
    tensors, y = module_fixture.forward_backward(module, shape)
    metadata = dict(metadata, in_channels=shape[1], torch=torch.__version__)
    path = os.path.join(FIXTURES, f"ch09_{name}.safetensors")
    safetensors_io.save(path, tensors, metadata)
    print(f"{path}: {type(module).__name__} {metadata} x{tuple(shape)} -> y{tuple(y.shape)}")


def main():
    torch.manual_seed(20240909)
    os.makedirs(FIXTURES, exist_ok=True)
    for name, (shape, args) in SK.items():
        write(name, SKConv(shape[1], **args), shape, args)
    for name, (shape, args) in SPLAT.items():
        write(name, SplAtConv2d(shape[1], **args), shape, args)


if __name__ == "__main__":
    main()
