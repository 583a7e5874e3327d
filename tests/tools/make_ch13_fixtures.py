"""Writes tests/fixtures/ch13_*.safetensors: the Shake-Shake block (identity shortcut, and the
two-path shortcut at stride 1 and 2) and a tiny Shake-Shake network in PyTorch with fixed
per-image alpha and beta, in training mode, for tests/ch13/test_shake_shake_torch.cpp; and
prints the parameter counts of the CIFAR Shake-Shake networks (tests/ch13 asserts them).

Run with Debian's PyTorch (python3-torch), from the repository root:
    /usr/bin/python3 tests/tools/make_ch13_fixtures.py

Which PyTorch code, and why: Shake-Shake is not in torch or torchvision, so it is written here
as the PyTorch ports of the official Lua code write it (Gastaldi 2017; e.g. hysts'
pytorch_shake_shake): the mix is a torch.autograd.Function whose forward computes
alpha x1 + (1 - alpha) x2 and whose backward returns beta dy and (1 - beta) dy, alpha and beta
of shape (N, 1, 1, 1); each residual path is ReLU-conv3x3-BN-ReLU-conv3x3-BN; the shortcut of a
block that changes the width is ReLU, two paths avg_pool2d(kernel 1, stride s) -> conv1x1 to
half the channels (the second on the image shifted by one pixel: x[:, :, 1:, 1:] padded at the
end), concatenated, BatchNorm. One difference from hysts' port: there the second path skips the
ReLU; here (as in the paper's description) both paths see ReLU(x).

Each file is a module fixture (tests/tools/module_fixture.py: state_dict, input, output, dy,
dx, grad.<name>, after.<buffer>), computed in float64 and stored as float32. The coefficients
are in the metadata, as text: "alpha" and "beta" (comma-separated, one per image) for a block,
"alpha.<block>" and "beta.<block>" (e.g. alpha.layer2.0) for the network. They are float32
values printed with repr, so the C++ side reads exactly the numbers PyTorch used.
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


class ShakeShake(torch.autograd.Function):
    """alpha in the forward, beta in the backward: the backward is not the forward's gradient."""

    @staticmethod
    def forward(ctx, x1, x2, alpha, beta):
        ctx.save_for_backward(beta)
        return alpha * x1 + (1 - alpha) * x2

    @staticmethod
    def backward(ctx, dy):
        (beta,) = ctx.saved_tensors
        return beta * dy, (1 - beta) * dy, None, None


class ResidualPath(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = F.relu(x)
        x = F.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(x))


class Shortcut(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.conv1 = nn.Conv2d(cin, cout // 2, 1, bias=False)
        self.conv2 = nn.Conv2d(cin, cout // 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = F.relu(x)
        y1 = self.conv1(F.avg_pool2d(x, 1, self.stride))
        y2 = self.conv2(F.avg_pool2d(F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1)), 1, self.stride))
        return self.bn(torch.cat([y1, y2], dim=1))


class ShakeBlock(nn.Module):
    """Training mode: the fixed alpha and beta (lists, one per image); eval: 0.5 and 0.5."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.residual_path1 = ResidualPath(cin, cout, stride)
        self.residual_path2 = ResidualPath(cin, cout, stride)
        if stride != 1 or cin != cout:
            self.shortcut = Shortcut(cin, cout, stride)
        else:
            self.shortcut = None
        self.alpha = self.beta = None

    def forward(self, x):
        x1, x2 = self.residual_path1(x), self.residual_path2(x)
        n = x.size(0)
        alpha = self.alpha if self.training else [0.5] * n
        beta = self.beta if self.training else [0.5] * n
        alpha = torch.tensor(alpha, dtype=x.dtype).view(n, 1, 1, 1)
        beta = torch.tensor(beta, dtype=x.dtype).view(n, 1, 1, 1)
        shortcut = x if self.shortcut is None else self.shortcut(x)
        return shortcut + ShakeShake.apply(x1, x2, alpha, beta)


def shake_shake_cifar(depth, width, num_classes=10):
    """convbook's shake_shake_cifar with its names: conv1, bn1, layer1..layer3, relu, fc."""
    n = (depth - 2) // 6
    net = nn.Sequential()
    net.add_module("conv1", nn.Conv2d(3, 16, 3, padding=1, bias=False))
    net.add_module("bn1", nn.BatchNorm2d(16))
    cin = 16
    for stage in range(3):
        cout = width << stage
        blocks = []
        for i in range(n):
            blocks.append(ShakeBlock(cin, cout, 2 if stage > 0 and i == 0 else 1))
            cin = cout
        net.add_module(f"layer{stage + 1}", nn.Sequential(*blocks))
    net.add_module("relu", nn.ReLU())
    net.add_module("avgpool", nn.AdaptiveAvgPool2d(1))
    net.add_module("flatten", nn.Flatten())
    net.add_module("fc", nn.Linear(cin, num_classes))
    return net


def coefficients(n):
    """n float32 values in (0, 1), as Python floats (exact in float32 and float64)."""
    return [float(v) for v in torch.rand(n, dtype=torch.float32)]


def text(values):
    return ",".join(repr(v) for v in values)


def write(name, module, shape, metadata):
    module_fixture.randomize_affine(module)
    tensors, _ = module_fixture.forward_backward(module, shape)
    metadata = {k: str(v) for k, v in metadata.items()}
    metadata["torch"] = torch.__version__
    path = os.path.join(FIXTURES, f"ch13_{name}.safetensors")
    safetensors_io.save(path, tensors, metadata)
    print(f"{path}: x{tuple(shape)}, {len(tensors)} tensors, {os.path.getsize(path)} bytes")


def write_block(name, cin, cout, stride, shape):
    block = ShakeBlock(cin, cout, stride)
    block.alpha, block.beta = coefficients(shape[0]), coefficients(shape[0])
    write(name, block, shape, {"in_channels": cin, "out_channels": cout, "stride": stride,
                               "alpha": text(block.alpha), "beta": text(block.beta)})


def write_net(name, depth, width, shape):
    net = shake_shake_cifar(depth, width)
    metadata = {"depth": depth, "width": width}
    for block_name, m in net.named_modules():
        if isinstance(m, ShakeBlock):
            m.alpha, m.beta = coefficients(shape[0]), coefficients(shape[0])
            metadata["alpha." + block_name] = text(m.alpha)
            metadata["beta." + block_name] = text(m.beta)
    write(name, net, shape, metadata)


def main():
    torch.manual_seed(20261129)
    os.makedirs(FIXTURES, exist_ok=True)
    write_block("block_identity", 4, 4, 1, (3, 4, 5, 6))
    write_block("block_widen", 4, 8, 1, (2, 4, 5, 5))       # stage 1 of 2x32d: 16 -> 32
    write_block("block_stride2", 3, 6, 2, (3, 3, 7, 5))     # odd sides: the shifted path's border
    write_net("net_8_2x4d", 8, 4, (2, 3, 8, 8))
    for depth, width in ((26, 32), (26, 96), (14, 16), (26, 16), (8, 16)):
        params = sum(p.numel() for p in shake_shake_cifar(depth, width).parameters())
        print(f"Shake-Shake-{depth} 2x{width}d: {params} parameters")


if __name__ == "__main__":
    main()
