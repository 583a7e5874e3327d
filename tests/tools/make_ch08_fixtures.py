"""Writes tests/fixtures/ch08_*.safetensors for tests/ch08/test_deform_torch.cpp, with
torchvision.ops.deform_conv2d (Debian's python3-torchvision 0.14):

- ch08_op_<case>.safetensors: the op alone. input, offset (N, 2*OG*R*S, P, Q) as (dy, dx)
  pairs, mask (N, OG*R*S, P, Q) unless the case is v1, weight, bias, dy; and output,
  grad.input, grad.offset, grad.mask, grad.weight, grad.bias. Metadata: stride, padding,
  dilation (as "h,w"), groups, offset_groups, v2 (0 or 1).
  Cases: basic (3x3, padding 1), strided (stride 2, padding 2, dilation 2, groups 2, offset
  groups 2), v1 (2x3 kernel, no mask), border (integer and half-integer offsets chosen so that
  samples land exactly on rows and columns -1, 0, H-1, W-1, on H and W, beyond, and fully
  outside: the derivative convention at the kinks of the bilinear interpolant).
- ch08_module_v2.safetensors: the whole DeformConv2d block of chapters/08_deformable, as a
  torch module with the same attribute names: offset = conv_offset(x), mask =
  sigmoid(conv_mask(x)), y = deform_conv2d(x, offset, weight, bias, mask=mask); the branch
  weights are random (not the zero init) so the offsets are not integers. input, dy, output,
  dx, every parameter and grad.<name>.

Everything is computed in float64 and stored as float32. Run with Debian's /usr/bin/python3
from the repository root:
    /usr/bin/python3 tests/tools/make_ch08_fixtures.py
"""
import os
import sys

import torch
import torch.nn as nn
from torchvision.ops import deform_conv2d

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))


def out_size(i, k, s, p, d):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def pair(v):
    return f"{v[0]},{v[1]}"


def write_op(name, N, C, H, W, K, R, S, stride=(1, 1), padding=(0, 0), dilation=(1, 1),
             groups=1, offset_groups=1, v2=True, offset=None):
    P = out_size(H, R, stride[0], padding[0], dilation[0])
    Q = out_size(W, S, stride[1], padding[1], dilation[1])
    x = torch.randn(N, C, H, W, dtype=torch.float64)
    if offset is None:
        offset = torch.randn(N, 2 * offset_groups * R * S, P, Q, dtype=torch.float64) * 1.5
    mask = torch.rand(N, offset_groups * R * S, P, Q, dtype=torch.float64)
    weight = torch.randn(K, C // groups, R, S, dtype=torch.float64) * 0.5
    bias = torch.randn(K, dtype=torch.float64)
    leaves = {"input": x, "offset": offset, "weight": weight, "bias": bias}
    if v2:
        leaves["mask"] = mask
    for t in leaves.values():
        t.requires_grad_(True)
    y = deform_conv2d(x, offset, weight, bias, stride=stride, padding=padding, dilation=dilation,
                      mask=leaves.get("mask"))
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    tensors = {n: t.detach() for n, t in leaves.items()}
    tensors.update({"grad." + n: t.grad for n, t in leaves.items()})
    tensors["output"] = y.detach()
    tensors["dy"] = dy
    tensors = {n: t.float() for n, t in tensors.items()}
    metadata = {"stride": pair(stride), "padding": pair(padding), "dilation": pair(dilation),
                "groups": groups, "offset_groups": offset_groups, "v2": int(v2),
                "torch": torch.__version__}
    path = os.path.join(FIXTURES, f"ch08_op_{name}.safetensors")
    safetensors_io.save(path, tensors, metadata)
    print(f"{path}: x{(N, C, H, W)} w{(K, C // groups, R, S)} -> y{tuple(y.shape)}")


def border_offsets(N, R, S, P, Q, H, W, padding):
    """Offsets that put samples exactly on the border rows/columns, on integer pixels, on the
    first row/column outside, half a pixel beyond it, and far outside."""
    targets = [-1.0, 0.0, H - 1.0, float(H), -0.5, H - 0.5, -1.5, H + 0.5, 2.0, -7.0]
    targets_w = [-1.0, 0.0, W - 1.0, float(W), -0.5, W - 0.5, 1.0, W + 0.25, -3.0, 1.5]
    off = torch.zeros(N, 2 * R * S, P, Q, dtype=torch.float64)
    i = 0
    for n in range(N):
        for k in range(R * S):
            r, s = divmod(k, S)
            for p in range(P):
                for q in range(Q):
                    th = targets[i % len(targets)]
                    tw = targets_w[(i * 7 + 3) % len(targets_w)]
                    i += 1
                    off[n, 2 * k, p, q] = th - (p - padding + r)
                    off[n, 2 * k + 1, p, q] = tw - (q - padding + s)
    return off


class DeformBlock(nn.Module):
    """chapters/08_deformable/deform_conv2d.hpp's DeformConv2d (v2), attribute for attribute."""

    def __init__(self, C, K, k, stride, padding, dilation, groups, offset_groups):
        super().__init__()
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.weight = nn.Parameter(torch.randn(K, C // groups, k, k) * 0.3)
        self.bias = nn.Parameter(torch.randn(K))
        kw = dict(stride=stride, padding=padding, dilation=dilation)
        self.conv_offset = nn.Conv2d(C, 2 * offset_groups * k * k, k, **kw)
        self.conv_mask = nn.Conv2d(C, offset_groups * k * k, k, **kw)
        with torch.no_grad():  # not the zero init: offsets away from the integers
            for conv in (self.conv_offset, self.conv_mask):
                conv.weight.normal_(0, 0.3)
                conv.bias.normal_(0, 0.5)

    def forward(self, x):
        offset = self.conv_offset(x)
        mask = torch.sigmoid(self.conv_mask(x))
        return deform_conv2d(x, offset, self.weight, self.bias, stride=self.stride,
                             padding=self.padding, dilation=self.dilation, mask=mask)


def write_module():
    C, K, k, stride, padding, dilation, groups, og = 4, 6, 3, 1, 1, 1, 2, 2
    block = DeformBlock(C, K, k, stride, padding, dilation, groups, og).double()
    x = torch.randn(2, C, 7, 6, dtype=torch.float64, requires_grad=True)
    y = block(x)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    tensors = {"input": x.detach(), "output": y.detach(), "dy": dy, "dx": x.grad}
    for n, p in block.named_parameters():
        tensors[n] = p.detach()
        tensors["grad." + n] = p.grad
    tensors = {n: t.float() for n, t in tensors.items()}
    metadata = {"in_channels": C, "out_channels": K, "kernel": k, "stride": stride,
                "padding": padding, "dilation": dilation, "groups": groups,
                "offset_groups": og, "torch": torch.__version__}
    path = os.path.join(FIXTURES, "ch08_module_v2.safetensors")
    safetensors_io.save(path, tensors, metadata)
    print(f"{path}: DeformConv2d v2 block, x{tuple(x.shape)} -> y{tuple(y.shape)}")


def main():
    torch.manual_seed(8)
    write_op("basic", 2, 3, 7, 5, 4, 3, 3, padding=(1, 1))
    write_op("strided", 2, 4, 9, 8, 6, 3, 3, stride=(2, 2), padding=(2, 2), dilation=(2, 2),
             groups=2, offset_groups=2)
    write_op("v1", 1, 3, 6, 7, 5, 2, 3, stride=(1, 2), padding=(1, 0), v2=False)
    N, H, W, pad = 2, 5, 6, 1
    write_op("border", N, 3, H, W, 4, 3, 3, padding=(pad, pad),
             offset=border_offsets(N, 3, 3, H, W, H, W, pad))
    write_module()


if __name__ == "__main__":
    main()
