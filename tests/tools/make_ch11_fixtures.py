"""Writes tests/fixtures/ch11_*.safetensors for tests/ch11/test_resnext_torch.cpp: module
fixtures (tests/tools/module_fixture.py: state_dict, input, output, dy, dx, grad.<name>,
after.<buffer>; training mode, float64 stored as float32) of

- ch11_block_c.safetensors: the ResNeXt block in form (c), torchvision's own Bottleneck with
  groups (4 groups of 2 channels), stride 2 and a conv1x1 + BN downsample;
- ch11_resnext29_tiny.safetensors: a tiny ResNeXt-29 (stem 8 channels, widen factor 1,
  cardinality 2, bottleneck width 2) built from torchvision's Bottleneck with convbook's names
  (conv1, bn1, layer1..layer3, fc), as the authors' CIFAR code lays the network out.

Run with Debian's PyTorch and torchvision, from the repository root:
    /usr/bin/python3 tests/tools/make_ch11_fixtures.py
"""
import os
import sys

import torch
import torch.nn as nn
from torchvision.models.resnet import Bottleneck, conv1x1

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import module_fixture  # noqa: E402
import safetensors_io  # noqa: E402

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))


def projection(cin, cout, stride):
    return nn.Sequential(conv1x1(cin, cout, stride), nn.BatchNorm2d(cout))


def resnext29(cardinality, width, widen=4, stem=64, num_classes=10):
    """ResNeXt-29 (Xie et al. 2017) as convbook::resnext29 builds it: stage s outputs
    stem * widen * 2^s channels, its 3x3 has `cardinality` groups of width * 2^s channels."""
    planes0 = stem * widen // 4
    base_width = 64 * width // planes0
    net = nn.Sequential()
    net.add_module("conv1", nn.Conv2d(3, stem, 3, padding=1, bias=False))
    net.add_module("bn1", nn.BatchNorm2d(stem))
    net.add_module("relu", nn.ReLU())
    inplanes = stem
    for stage in range(3):
        planes = planes0 << stage
        out = planes * Bottleneck.expansion
        blocks = []
        for i in range(3):
            stride = 2 if stage > 0 and i == 0 else 1
            down = projection(inplanes, out, stride) if stride != 1 or inplanes != out else None
            blocks.append(Bottleneck(inplanes, planes, stride, down, cardinality, base_width))
            inplanes = out
        net.add_module(f"layer{stage + 1}", nn.Sequential(*blocks))
    net.add_module("avgpool", nn.AdaptiveAvgPool2d(1))
    net.add_module("flatten", nn.Flatten())
    net.add_module("fc", nn.Linear(inplanes, num_classes))
    return net


def write(name, module, shape, metadata):
    module_fixture.randomize_affine(module)
    tensors, y = module_fixture.forward_backward(module, shape)
    metadata = {k: str(v) for k, v in metadata.items()}
    metadata["torch"] = torch.__version__
    path = os.path.join(FIXTURES, f"ch11_{name}.safetensors")
    safetensors_io.save(path, tensors, metadata)
    print(f"{path}: x{tuple(shape)} -> y{tuple(y.shape)}, "
          f"{sum(p.numel() for p in module.parameters())} parameters")


def main():
    torch.manual_seed(20261129)
    os.makedirs(FIXTURES, exist_ok=True)
    # 16 -> 32 channels, stride 2, 4 groups of planes * base_width / 64 = 8 * 16 / 64 = 2.
    block = Bottleneck(16, 8, 2, projection(16, 32, 2), groups=4, base_width=16)
    write("block_c", block, (2, 16, 7, 6),
          {"in_channels": 16, "out_channels": 32, "cardinality": 4, "bottleneck_width": 2,
           "stride": 2})
    net = resnext29(cardinality=2, width=2, widen=1, stem=8)
    write("resnext29_tiny", net, (2, 3, 8, 8),
          {"cardinality": 2, "bottleneck_width": 2, "widen_factor": 1, "stem_channels": 8})


if __name__ == "__main__":
    main()
