#!/usr/bin/python3
"""Writes the PyTorch-parity fixtures of the core layers: tests/fixtures/layers_*.safetensors.

Run from the repository root with Debian's python3 (it has python3-torch):
    /usr/bin/python3 tests/tools/make_layer_fixtures.py
Each file holds inputs, parameters, a fixed upstream gradient `dy` and PyTorch's outputs and
gradients, in float32. Shapes are small and odd on purpose (7x5 images, 3 channels, stride 2
with padding 1) so the files stay a few KB and index mistakes cannot hide.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def grad_of(module, x, dy):
    """Runs module(x), backprops dy and returns (y, dx)."""
    x = x.clone().requires_grad_(True)
    y = module(x)
    y.backward(dy)
    return y.detach(), x.grad.detach()


def linear():
    torch.manual_seed(1)
    m = torch.nn.Linear(5, 3)
    x = torch.randn(4, 5)
    dy = torch.randn(4, 3)
    y, dx = grad_of(m, x, dy)
    safetensors_io.save(os.path.join(OUT, "layers_linear.safetensors"), {
        "x": x, "weight": m.weight, "bias": m.bias, "dy": dy, "y": y, "dx": dx,
        "dweight": m.weight.grad, "dbias": m.bias.grad})


def batchnorm():
    torch.manual_seed(2)
    m = torch.nn.BatchNorm2d(4)
    with torch.no_grad():
        m.weight.copy_(torch.rand(4) + 0.5)
        m.bias.copy_(torch.randn(4))
    t = {"weight": m.weight.detach().clone(), "bias": m.bias.detach().clone()}
    # two training steps with inputs of non-zero mean and non-unit variance
    x1 = torch.randn(3, 4, 5, 3) * 2 + 1
    x2 = torch.randn(3, 4, 5, 3) * 0.5 - 2
    dy = torch.randn(3, 4, 5, 3)
    m.train()
    y1, _ = grad_of(m, x1, dy)
    m.weight.grad = None
    m.bias.grad = None
    y2, dx2 = grad_of(m, x2, dy)
    t.update({"x1": x1, "x2": x2, "dy": dy, "train_y1": y1, "train_y2": y2, "train_dx2": dx2,
              "train_dweight2": m.weight.grad, "train_dbias2": m.bias.grad,
              "running_mean": m.running_mean, "running_var": m.running_var,
              "num_batches_tracked": m.num_batches_tracked})
    # evaluation with the running statistics of the two steps
    m.eval()
    m.weight.grad = None
    m.bias.grad = None
    x3 = torch.randn(2, 4, 3, 5)
    dy3 = torch.randn(2, 4, 3, 5)
    y3, dx3 = grad_of(m, x3, dy3)
    t.update({"x3": x3, "dy3": dy3, "eval_y3": y3, "eval_dx3": dx3,
              "eval_dweight3": m.weight.grad, "eval_dbias3": m.bias.grad})
    safetensors_io.save(os.path.join(OUT, "layers_batchnorm.safetensors"), t)


# (name, module, input shape); kernel, stride, padding chosen to hit clipped windows
POOLS = [
    ("max_k3_s2_p1", lambda: torch.nn.MaxPool2d(3, 2, 1), (2, 3, 7, 5)),
    ("max_k2_s1_p0", lambda: torch.nn.MaxPool2d(2, 1, 0), (2, 3, 5, 4)),
    ("max_k2_s2_p0", lambda: torch.nn.MaxPool2d(2), (1, 2, 7, 5)),
    ("avg_k3_s2_p1", lambda: torch.nn.AvgPool2d(3, 2, 1), (2, 3, 7, 5)),
    ("avg_k3_s2_p1_nopad", lambda: torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     (2, 3, 7, 5)),
    ("avg_k2_s2_p0", lambda: torch.nn.AvgPool2d(2), (1, 2, 7, 5)),
    ("adaptive_avg", lambda: torch.nn.AdaptiveAvgPool2d(1), (2, 3, 5, 7)),
]


def pools():
    torch.manual_seed(3)
    t = {}
    for name, make, shape in POOLS:
        m = make()
        x = torch.randn(*shape)
        y_shape = m(x).shape
        dy = torch.randn(*y_shape)
        y, dx = grad_of(m, x, dy)
        t.update({name + ".x": x, name + ".dy": dy, name + ".y": y, name + ".dx": dx})
    safetensors_io.save(os.path.join(OUT, "layers_pool.safetensors"), t)


def cross_entropy():
    torch.manual_seed(4)
    logits = torch.randn(6, 10) * 3
    labels = torch.randint(0, 10, (6,))
    t = {"logits": logits, "labels": labels}
    for name, eps in [("plain", 0.0), ("smooth", 0.1)]:
        z = logits.clone().requires_grad_(True)
        loss = torch.nn.CrossEntropyLoss(label_smoothing=eps)(z, labels)
        loss.backward()
        t[name + ".loss"] = loss.detach()
        t[name + ".dlogits"] = z.grad
    safetensors_io.save(os.path.join(OUT, "layers_cross_entropy.safetensors"), t)


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    linear()
    batchnorm()
    pools()
    cross_entropy()
    print("wrote", ", ".join(sorted(f for f in os.listdir(OUT) if f.startswith("layers_"))))
