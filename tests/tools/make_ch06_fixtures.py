"""Writes tests/fixtures/ch06_*.safetensors: the three separable blocks of chapter 06 in
PyTorch (forward, dx and parameter gradients, BatchNorm in training mode) and numpy's SVD of a
few small matrices, for tests/ch06/test_separable_torch.cpp and tests/ch06/test_svd.cpp.

Run with Debian's PyTorch (python3-torch), from the repository root:
    /usr/bin/python3 tests/tools/make_ch06_fixtures.py

The blocks are written here in plain PyTorch with the attribute names of
chapters/06_separable/separable_blocks.hpp, so the state_dict keys (depthwise.weight,
bn1.running_mean, ...) are the C++ parameter names. A block's file is a module fixture
(tests/tools/module_fixture.py: state_dict, input, output, dy, dx, grad.<name>, after.<buffer>;
training mode, float64 stored as float32).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import module_fixture  # noqa: E402
import safetensors_io  # noqa: E402

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))


class DepthwiseSeparable(nn.Module):
    """MobileNet (depthwise first) or Xception's order (pointwise first), as convbook's."""

    def __init__(self, cin, cout, kernel, stride, pointwise_first, middle):
        super().__init__()
        d = cout if pointwise_first else cin
        pad = (kernel[0] // 2, kernel[1] // 2)
        self.pointwise_first, self.middle = pointwise_first, middle
        self.depthwise = nn.Conv2d(d, d, kernel, stride=stride, padding=pad, groups=d, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)
        if middle:
            self.bn1 = nn.BatchNorm2d(d)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        first, second = ((self.pointwise, self.depthwise) if self.pointwise_first
                         else (self.depthwise, self.pointwise))
        h = first(x)
        if self.middle:
            h = F.relu(self.bn1(h))
        return F.relu(self.bn2(second(h)))


class SpatiallySeparable(nn.Module):
    def __init__(self, cin, cout, kernel, stride, mid, middle):
        super().__init__()
        r, s = kernel
        self.middle = middle
        self.vertical = nn.Conv2d(cin, mid, (r, 1), stride=(stride, 1), padding=(r // 2, 0),
                                  bias=False)
        if middle:
            self.bn1 = nn.BatchNorm2d(mid)
        self.horizontal = nn.Conv2d(mid, cout, (1, s), stride=(1, stride), padding=(0, s // 2),
                                    bias=False)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        h = self.vertical(x)
        if self.middle:
            h = F.relu(self.bn1(h))
        return F.relu(self.bn2(self.horizontal(h)))


class Flattened(nn.Module):
    def __init__(self, cin, cout, kernel, stride):
        super().__init__()
        r, s = kernel
        self.lateral = nn.Conv2d(cin, cout, 1, bias=False)
        self.vertical = nn.Conv2d(cout, cout, (r, 1), stride=(stride, 1), padding=(r // 2, 0),
                                  groups=cout, bias=False)
        self.horizontal = nn.Conv2d(cout, cout, (1, s), stride=(1, stride), padding=(0, s // 2),
                                    groups=cout, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.horizontal(self.vertical(self.lateral(x)))))


# name: (block, input shape, metadata)
BLOCKS = {
    "ds_mobilenet": (lambda: DepthwiseSeparable(4, 6, (3, 3), 2, False, True), (2, 4, 7, 5),
                     dict(in_channels=4, out_channels=6, R=3, S=3, stride=2, pointwise_first=0,
                          middle=1, mid=0)),
    "ds_xception": (lambda: DepthwiseSeparable(4, 6, (3, 5), 1, True, False), (2, 4, 5, 6),
                    dict(in_channels=4, out_channels=6, R=3, S=5, stride=1, pointwise_first=1,
                         middle=0, mid=0)),
    "spatial": (lambda: SpatiallySeparable(3, 5, (3, 5), 2, 4, True), (2, 3, 7, 9),
                dict(in_channels=3, out_channels=5, R=3, S=5, stride=2, pointwise_first=0,
                     middle=1, mid=4)),
    "flattened": (lambda: Flattened(3, 4, (3, 5), 2), (2, 3, 8, 7),
                  dict(in_channels=3, out_channels=4, R=3, S=5, stride=2, pointwise_first=0,
                       middle=0, mid=0)),
}


def write_block(name, make, shape, meta):
    block = make()
    module_fixture.randomize_affine(block)
    tensors, y = module_fixture.forward_backward(block, shape)
    meta = {k: str(v) for k, v in meta.items()}
    meta["torch"] = torch.__version__
    path = os.path.join(FIXTURES, f"ch06_{name}.safetensors")
    safetensors_io.save(path, tensors, meta)
    print(f"{path}: {name} x{tuple(shape)} -> y{tuple(y.shape)}")


def write_svd():
    """numpy.linalg.svd of small matrices: a{i} (m, n) and its singular values s{i}."""
    rng = np.random.default_rng(20240606)
    mats = [rng.standard_normal((3, 3)) for _ in range(4)]
    mats.append(rng.standard_normal((4, 3)))
    mats.append(rng.standard_normal((3, 5)))
    u, v = rng.standard_normal(3), rng.standard_normal(3)
    mats.append(np.outer(u, v))                       # rank 1: sigma = (|u||v|, 0, 0)
    mats.append(np.array([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]))  # the binomial blur, rank 1
    mats.append(np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]))  # Sobel x, rank 1
    mats.append(np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]))  # the Laplacian, rank 2
    tensors = {}
    for i, a in enumerate(mats):
        s = np.linalg.svd(a, compute_uv=False)
        tensors[f"a{i}"] = torch.from_numpy(a.astype(np.float32)).reshape(1, 1, *a.shape)
        tensors[f"s{i}"] = torch.from_numpy(s.astype(np.float32)).reshape(1, 1, 1, -1)
    path = os.path.join(FIXTURES, "ch06_svd.safetensors")
    safetensors_io.save(path, tensors, {"count": str(len(mats)), "numpy": np.__version__})
    print(f"{path}: {len(mats)} matrices and numpy's singular values")


def main():
    torch.manual_seed(20240606)
    os.makedirs(FIXTURES, exist_ok=True)
    for name, (make, shape, meta) in BLOCKS.items():
        write_block(name, make, shape, meta)
    write_svd()


if __name__ == "__main__":
    main()
