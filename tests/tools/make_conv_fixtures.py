"""Writes tests/fixtures/conv_*.safetensors: PyTorch's nn.Conv2d forward and backward on a grid
of stride / padding / dilation / groups / bias, for tests/ch01/test_conv_torch.cpp.

Run with Debian's PyTorch (python3-torch), from the repository root:
    /usr/bin/python3 tests/tools/make_conv_fixtures.py

Each file holds input, weight, [bias], output, dy (a random upstream gradient), and the
gradients dx, dweight, [dbias] of L = sum(output * dy); the layer's options are in the
metadata. Everything is computed in float64 and stored as float32, so the reference carries
no float32 rounding of its own.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))

# name: (input shape N,C,H,W; out_channels; kernel; stride; padding; dilation; groups; bias)
CASES = {
    "basic":     ((2, 3, 7, 5), 4, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    "stride2":   ((2, 3, 7, 5), 4, (3, 3), (2, 2), (1, 1), (1, 1), 1, False),
    "rect":      ((1, 2, 6, 7), 3, (2, 3), (2, 1), (1, 0), (1, 1), 1, True),
    "dilation":  ((2, 3, 8, 7), 2, (3, 3), (1, 1), (2, 2), (2, 2), 1, True),
    "groups":    ((2, 6, 5, 5), 9, (3, 3), (1, 1), (1, 1), (1, 1), 3, True),
    "depthwise": ((2, 4, 7, 7), 4, (3, 3), (2, 2), (1, 1), (1, 1), 4, False),
    "pointwise": ((2, 5, 4, 3), 3, (1, 1), (1, 1), (0, 0), (1, 1), 1, True),
    "mixed":     ((2, 6, 9, 8), 4, (3, 2), (2, 3), (2, 1), (2, 1), 2, True),
}


def main():
    torch.manual_seed(20240601)
    os.makedirs(FIXTURES, exist_ok=True)
    for name, (shape, k, kernel, stride, padding, dilation, groups, bias) in CASES.items():
        conv = torch.nn.Conv2d(shape[1], k, kernel, stride=stride, padding=padding,
                               dilation=dilation, groups=groups, bias=bias).double()
        with torch.no_grad():  # a non-zero bias, so adding it is actually tested
            if bias:
                conv.bias.normal_()
        x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
        y = conv(x)
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        tensors = {"input": x, "weight": conv.weight, "output": y, "dy": dy,
                   "dx": x.grad, "dweight": conv.weight.grad}
        if bias:
            tensors["bias"] = conv.bias
            tensors["dbias"] = conv.bias.grad
        tensors = {n: t.detach().float() for n, t in tensors.items()}
        metadata = {"in_channels": shape[1], "out_channels": k,
                    "kernel_h": kernel[0], "kernel_w": kernel[1],
                    "stride_h": stride[0], "stride_w": stride[1],
                    "pad_h": padding[0], "pad_w": padding[1],
                    "dil_h": dilation[0], "dil_w": dilation[1],
                    "groups": groups, "bias": int(bias), "repr": repr(conv),
                    "torch": torch.__version__}
        path = os.path.join(FIXTURES, f"conv_{name}.safetensors")
        safetensors_io.save(path, tensors, metadata)
        print(f"{path}: {repr(conv)} x{tuple(shape)} -> y{tuple(y.shape)}")


if __name__ == "__main__":
    main()
