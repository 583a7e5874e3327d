"""Writes tests/fixtures/ch09_*.safetensors: the SE block, CBAM and ResNeSt's r-softmax in
PyTorch (forward, dx and parameter gradients, BatchNorm in training mode), for
tests/ch09/test_attention_torch.cpp.

Run with Debian's PyTorch (python3-torch, python3-torchvision), from the repository root:
    /usr/bin/python3 tests/tools/make_ch09_fixtures.py

Which PyTorch code, and why:
- SE is torchvision.ops.SqueezeExcitation itself (fc1, fc2: 1x1 convolutions with bias), the
  module torchvision's own networks use; convbook::SqueezeExcitation has its state_dict.
- CBAM is copied from the authors' official code (github.com/Jongchan/attention-module,
  MODELS/cbam.py; only F.sigmoid became torch.sigmoid): the shared MLP is Linear layers with
  bias, the spatial gate's 7x7 convolution has no bias and is followed by
  BatchNorm2d(momentum=0.01) and no ReLU, the channel pool stacks (max, mean) in that order.
- rSoftMax is copied from the official ResNeSt code (github.com/zhanghang1989/ResNeSt,
  resnest/torch/models/splat.py).
Each file is a module fixture (tests/tools/module_fixture.py: state_dict, input, output, dy, dx,
grad.<name>, after.<buffer>), computed in float64 and stored as float32.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import SqueezeExcitation

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import module_fixture  # noqa: E402
import safetensors_io  # noqa: E402

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))


# ---- official CBAM code (MODELS/cbam.py), pool_types=['avg', 'max'] ----
class BasicConv(nn.Module):
    def __init__(self, in_planes, out_planes, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, relu=True, bn=True, bias=False):
        super().__init__()
        self.out_channels = out_planes
        self.conv = nn.Conv2d(in_planes, out_planes, kernel_size=kernel_size, stride=stride,
                              padding=padding, dilation=dilation, groups=groups, bias=bias)
        self.bn = nn.BatchNorm2d(out_planes, eps=1e-5, momentum=0.01, affine=True) if bn else None
        self.relu = nn.ReLU() if relu else None

    def forward(self, x):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.relu is not None:
            x = self.relu(x)
        return x


class Flatten(nn.Module):
    def forward(self, x):
        return x.view(x.size(0), -1)


class ChannelGate(nn.Module):
    def __init__(self, gate_channels, reduction_ratio=16, pool_types=("avg", "max")):
        super().__init__()
        self.gate_channels = gate_channels
        self.mlp = nn.Sequential(
            Flatten(),
            nn.Linear(gate_channels, gate_channels // reduction_ratio),
            nn.ReLU(),
            nn.Linear(gate_channels // reduction_ratio, gate_channels))
        self.pool_types = pool_types

    def forward(self, x):
        channel_att_sum = None
        for pool_type in self.pool_types:
            if pool_type == "avg":
                avg_pool = F.avg_pool2d(x, (x.size(2), x.size(3)), stride=(x.size(2), x.size(3)))
                channel_att_raw = self.mlp(avg_pool)
            elif pool_type == "max":
                max_pool = F.max_pool2d(x, (x.size(2), x.size(3)), stride=(x.size(2), x.size(3)))
                channel_att_raw = self.mlp(max_pool)
            if channel_att_sum is None:
                channel_att_sum = channel_att_raw
            else:
                channel_att_sum = channel_att_sum + channel_att_raw
        scale = torch.sigmoid(channel_att_sum).unsqueeze(2).unsqueeze(3).expand_as(x)
        return x * scale


class ChannelPool(nn.Module):
    def forward(self, x):
        return torch.cat((torch.max(x, 1)[0].unsqueeze(1), torch.mean(x, 1).unsqueeze(1)), dim=1)


class SpatialGate(nn.Module):
    def __init__(self):
        super().__init__()
        kernel_size = 7
        self.compress = ChannelPool()
        self.spatial = BasicConv(2, 1, kernel_size, stride=1, padding=(kernel_size - 1) // 2,
                                 relu=False)

    def forward(self, x):
        x_compress = self.compress(x)
        x_out = self.spatial(x_compress)
        scale = torch.sigmoid(x_out)  # broadcasting
        return x * scale


class CBAM(nn.Module):
    def __init__(self, gate_channels, reduction_ratio=16, pool_types=("avg", "max"),
                 no_spatial=False):
        super().__init__()
        self.ChannelGate = ChannelGate(gate_channels, reduction_ratio, pool_types)
        self.no_spatial = no_spatial
        if not no_spatial:
            self.SpatialGate = SpatialGate()

    def forward(self, x):
        x_out = self.ChannelGate(x)
        if not self.no_spatial:
            x_out = self.SpatialGate(x_out)
        return x_out


# ---- official ResNeSt code (resnest/torch/models/splat.py) ----
class rSoftMax(nn.Module):
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


def write_block(name, block, shape, metadata):
    """A module fixture (module_fixture.py) of `block` on a random x of `shape`."""
    module_fixture.randomize_affine(block)
    tensors, _ = module_fixture.forward_backward(block, shape)
    metadata = {k: str(v) for k, v in metadata.items()}
    metadata["torch"] = torch.__version__
    path = os.path.join(FIXTURES, f"ch09_{name}.safetensors")
    safetensors_io.save(path, tensors, metadata)
    print(f"{path}: {block.__class__.__name__} {metadata} x{tuple(shape)}")


def main():
    torch.manual_seed(20240909)
    os.makedirs(FIXTURES, exist_ok=True)
    # SqueezeExcitation(input_channels, squeeze_channels): convbook's (channels, reduction)
    write_block("se", SqueezeExcitation(8, 8 // 4), (2, 8, 5, 3), {"channels": 8, "reduction": 4})
    write_block("se_r3", SqueezeExcitation(12, 12 // 3), (3, 12, 4, 4),
                {"channels": 12, "reduction": 3})
    write_block("cbam", CBAM(8, 2), (2, 8, 6, 5), {"channels": 8, "reduction": 2})
    write_block("cbam_r4", CBAM(12, 4), (3, 12, 7, 7), {"channels": 12, "reduction": 4})
    for radix, cardinality in ((1, 2), (2, 1), (2, 2), (4, 3)):
        shape = (2, radix * cardinality * 5, 1, 1)  # the (N, C, 1, 1) logits of split attention
        write_block(f"rsoftmax_r{radix}_g{cardinality}", rSoftMax(radix, cardinality), shape,
                    {"radix": radix, "cardinality": cardinality})


if __name__ == "__main__":
    main()
