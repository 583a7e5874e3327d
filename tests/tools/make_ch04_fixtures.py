#!/usr/bin/python3
"""Writes tests/fixtures/ch04_grouped_cnn.safetensors: PyTorch's version of chapter 04's
grouped_cnn (three stages of a dense conv3x3 and a grouped conv3x3 with groups=8, each with
BatchNorm2d and ReLU; max-pools; global average pool; Linear), forward and backward, for
tests/ch04/test_grouped_torch.cpp.

Run with Debian's PyTorch (python3-torch), from the repository root:
    /usr/bin/python3 tests/tools/make_ch04_fixtures.py

The file is a module fixture (tests/tools/module_fixture.py: state_dict, input, output, dy,
dx, grad.<name>, after.<buffer>; training mode, float64 stored as float32).
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import module_fixture  # noqa: E402
import safetensors_io  # noqa: E402

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))


def grouped_cnn(num_classes=10, groups=8):
    layers = []

    def conv_bn_relu(cin, cout, g):
        layers.extend([nn.Conv2d(cin, cout, 3, padding=1, bias=False, groups=g),
                       nn.BatchNorm2d(cout), nn.ReLU()])

    conv_bn_relu(3, 32, 1)
    conv_bn_relu(32, 32, groups)
    layers.append(nn.MaxPool2d(2))
    conv_bn_relu(32, 64, 1)
    conv_bn_relu(64, 64, groups)
    layers.append(nn.MaxPool2d(2))
    conv_bn_relu(64, 128, 1)
    conv_bn_relu(128, 128, groups)
    layers.extend([nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, num_classes)])
    return nn.Sequential(*layers)


def main():
    torch.manual_seed(20261128)
    net = grouped_cnn()
    module_fixture.randomize_affine(net)
    tensors, y = module_fixture.forward_backward(net, (2, 3, 8, 8))
    path = os.path.join(FIXTURES, "ch04_grouped_cnn.safetensors")
    safetensors_io.save(path, tensors, {"groups": 8, "num_classes": 10,
                                        "repr": repr(net).replace("\n", " "),
                                        "torch": torch.__version__})
    print(f"{path}: x(2, 3, 8, 8) -> y{tuple(y.shape)}, {len(tensors)} tensors")


if __name__ == "__main__":
    main()
