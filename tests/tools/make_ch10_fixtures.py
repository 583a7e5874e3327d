"""Writes tests/fixtures/ch10_*.safetensors: torchvision's own BasicBlock and Bottleneck (and a
BasicBlock with the CIFAR paper's option A shortcut) in training mode: forward, dx, parameter
gradients and running statistics, for tests/ch10/test_resnet_torch.cpp.

Run with Debian's PyTorch and torchvision (scripts/install-deps.sh --fixtures), from the
repository root:
    /usr/bin/python3 tests/tools/make_ch10_fixtures.py

The blocks are torchvision.models.resnet.BasicBlock / Bottleneck themselves, so the state_dict
keys (conv1.weight, bn1.running_mean, downsample.0.weight, ...) are torchvision's. A fixture
holds input, dy, output, dx, the weights the forward used, the running statistics after it and
grad.<name> for every parameter, computed in float64 and stored as float32 (a few KB each).
"""
import os
import sys

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))


class PadShortcut(nn.Module):
    """Option A of He et al. 2016 (sec. 4.2): x[:, :, ::s, ::s] with zero channels padded,
    (K - C) // 2 before and the rest after, as the common LambdaLayer + F.pad version."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.cin, self.cout, self.stride = cin, cout, stride

    def forward(self, x):
        y = x[:, :, ::self.stride, ::self.stride]
        before = (self.cout - self.cin) // 2
        return nn.functional.pad(y, (0, 0, 0, 0, before, self.cout - self.cin - before))


def cifar_resnet(depth, option="A", num_classes=10):
    """He et al.'s CIFAR ResNet built from torchvision's BasicBlock, with convbook's names:
    conv1, bn1, layer1..layer3, fc."""
    n = (depth - 2) // 6
    net = nn.Sequential()
    net.add_module("conv1", nn.Conv2d(3, 16, 3, padding=1, bias=False))
    net.add_module("bn1", nn.BatchNorm2d(16))
    net.add_module("relu", nn.ReLU())
    inplanes = 16
    for stage, planes in enumerate((16, 32, 64)):
        blocks = []
        for i in range(n):
            stride = 2 if stage > 0 and i == 0 else 1
            down = None
            if stride != 1 or inplanes != planes:
                down = (PadShortcut(inplanes, planes, stride) if option == "A" else
                        nn.Sequential(conv1x1(inplanes, planes, stride), nn.BatchNorm2d(planes)))
            blocks.append(BasicBlock(inplanes, planes, stride, down))
            inplanes = planes
        net.add_module(f"layer{stage + 1}", nn.Sequential(*blocks))
    net.add_module("avgpool", nn.AdaptiveAvgPool2d(1))
    net.add_module("flatten", nn.Flatten())
    net.add_module("fc", nn.Linear(64, num_classes))
    return net


def randomize_batchnorms(model, running_stats=False):
    """gamma != 1 and beta != 0 (and, for eval, running statistics away from (0, 1)), so every
    term of BatchNorm is really tested."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.5)
                if running_stats:
                    m.running_mean.normal_(0, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
                    m.num_batches_tracked.fill_(7)


# name: (block, inplanes, planes, stride, groups, base_width, dilation, shortcut, input shape)
BLOCKS = {
    "basic_identity": ("basic", 4, 4, 1, 1, 64, 1, None, (2, 4, 5, 6)),
    "basic_projection": ("basic", 3, 6, 2, 1, 64, 1, "B", (2, 3, 7, 5)),
    "basic_option_a": ("basic", 4, 8, 2, 1, 64, 1, "A", (2, 4, 7, 6)),
    "bottleneck_projection": ("bottleneck", 6, 2, 2, 1, 64, 1, "B", (2, 6, 7, 5)),
    "bottleneck_grouped_dilated": ("bottleneck", 8, 2, 1, 2, 64, 2, None, (2, 8, 6, 7)),
}


def write_block(name, kind, inplanes, planes, stride, groups, base_width, dilation, shortcut,
                shape):
    cls = BasicBlock if kind == "basic" else Bottleneck
    out = planes * cls.expansion
    down = None
    if shortcut == "A":
        down = PadShortcut(inplanes, out, stride)
    elif shortcut == "B":
        down = nn.Sequential(conv1x1(inplanes, out, stride), nn.BatchNorm2d(out))
    block = cls(inplanes, planes, stride, down, groups, base_width, dilation).double().train()
    randomize_batchnorms(block)
    params = {n: p.detach().clone() for n, p in block.named_parameters()}
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    y = block(x)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    tensors = {"input": x.detach(), "output": y.detach(), "dy": dy, "dx": x.grad}
    for n, t in block.state_dict().items():
        if not n.endswith("num_batches_tracked"):
            tensors[n] = t
    for n, p in block.named_parameters():
        tensors[n] = params[n]  # the weights the forward used
        tensors["grad." + n] = p.grad
    tensors = {n: t.detach().float() for n, t in tensors.items()}
    metadata = {"block": kind, "inplanes": inplanes, "planes": planes, "stride": stride,
                "groups": groups, "base_width": base_width, "dilation": dilation,
                "shortcut": shortcut or "identity", "torch": torch.__version__}
    path = os.path.join(FIXTURES, f"ch10_{name}.safetensors")
    safetensors_io.save(path, tensors, metadata)
    print(f"{path}: {cls.__name__}({inplanes}, {planes}, stride={stride}, groups={groups}, "
          f"base_width={base_width}, dilation={dilation}, shortcut={shortcut}) "
          f"x{tuple(shape)} -> y{tuple(y.shape)}")


def main():
    torch.manual_seed(20261128)
    os.makedirs(FIXTURES, exist_ok=True)
    for name, case in BLOCKS.items():
        write_block(name, *case)


if __name__ == "__main__":
    main()
