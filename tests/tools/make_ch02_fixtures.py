#!/usr/bin/python3
"""Writes tests/fixtures/ch02_*.safetensors: PyTorch's version of chapter 02's NiN block
(mlpconv), forward and backward, for tests/ch02/test_nin_torch.cpp.

Run with Debian's PyTorch (python3-torch), from the repository root:
    /usr/bin/python3 tests/tools/make_ch02_fixtures.py

The block is the nn.Sequential Lin et al. (2014) describe and d2l.ai writes as `nin_block`:
Conv2d(k x k), ReLU, Conv2d(1x1), ReLU, Conv2d(1x1), ReLU; the "bn" variant puts BatchNorm2d
(training mode, batch statistics) between each convolution (bias=False) and its ReLU; the
"head" variant leaves the last 1x1 linear. Each file is a module fixture (tests/tools/
module_fixture.py: state_dict, input, output, dy, dx, grad.<name>, after.<buffer>) plus the
block's options in the metadata.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import module_fixture  # noqa: E402
import safetensors_io  # noqa: E402

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))


def nin_block(cin, mid, cout, kernel, stride, padding, bn, final_activation):
    layers = []

    def conv(c_in, c_out, k, s, p, activation):
        layers.append(torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=p,
                                      bias=not (bn and activation)))
        if bn and activation:
            layers.append(torch.nn.BatchNorm2d(c_out))
        if activation:
            layers.append(torch.nn.ReLU())

    conv(cin, mid, kernel, stride, padding, True)
    conv(mid, mid, 1, 1, 0, True)
    conv(mid, cout, 1, 1, 0, final_activation)
    return torch.nn.Sequential(*layers)


# name: (input shape N,C,H,W; mid; out; kernel; stride; padding; batch_norm; final_activation)
CASES = {
    "nin_plain": ((2, 3, 7, 5), 6, 4, 3, 2, 1, False, True),
    "nin_bn":    ((3, 3, 7, 5), 6, 4, 3, 1, 1, True, True),
    "nin_head":  ((2, 5, 6, 5), 7, 3, (3, 2), 1, (1, 0), True, False),
}


def main():
    torch.manual_seed(20240602)
    os.makedirs(FIXTURES, exist_ok=True)
    for name, (shape, mid, out, kernel, stride, padding, bn, final) in CASES.items():
        block = nin_block(shape[1], mid, out, kernel, stride, padding, bn, final)
        module_fixture.randomize_affine(block)
        tensors, y = module_fixture.forward_backward(block, shape)
        ks = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        pd = padding if isinstance(padding, tuple) else (padding, padding)
        metadata = {"in_channels": shape[1], "mid_channels": mid, "out_channels": out,
                    "kernel_h": ks[0], "kernel_w": ks[1], "stride": stride,
                    "pad_h": pd[0], "pad_w": pd[1], "batch_norm": int(bn),
                    "final_activation": int(final), "repr": repr(block).replace("\n", " "),
                    "torch": torch.__version__}
        path = os.path.join(FIXTURES, f"ch02_{name}.safetensors")
        safetensors_io.save(path, tensors, metadata)
        print(f"{path}: x{tuple(shape)} -> y{tuple(y.shape)}, {len(tensors)} tensors")


if __name__ == "__main__":
    main()
