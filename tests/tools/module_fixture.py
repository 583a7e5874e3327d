"""The fixture of one module's forward and backward in training mode, for
tests/support/fixture.hpp's check_against_pytorch: the contract between the fixture scripts
(tests/tools/make_*_fixtures.py) and the C++ tests.

A fixture holds the module's state_dict under its names (parameters and buffers, as they were
before the forward; num_batches_tracked left out), `input`, `output`, `dy` (a random upstream
gradient), the gradients of L = sum(output * dy): `dx` and `grad.<name>` per parameter, and
`after.<name>` per buffer after the forward (BatchNorm's running statistics updated once).
Computed in float64, stored as float32, so the reference carries no float32 rounding.
"""
import torch
from torch import nn


def randomize_affine(module):
    """gamma ~ U(0.5, 1.5) in every BatchNorm and every bias (BN's beta included) ~ N(0, 0.5),
    so that the affine parts are really tested (PyTorch starts them at 1, 0 and near 0)."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
            if getattr(m, "bias", None) is not None:
                m.bias.normal_(0, 0.5)


def forward_backward(module, input_shape, train=True):
    """Runs `module` (made float64, training mode, or eval mode when `train` is False) on a
    N(0, 1) input of `input_shape`; returns the fixture's tensors (float32) and the output, as
    described at the top of this file."""
    module = module.double().train(train)
    keep = lambda name: not name.endswith("num_batches_tracked")  # noqa: E731
    tensors = {k: v.detach().clone() for k, v in module.state_dict().items() if keep(k)}
    x = torch.randn(input_shape, dtype=torch.float64, requires_grad=True)
    y = module(x)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    tensors.update({"input": x, "output": y, "dy": dy, "dx": x.grad})
    for name, p in module.named_parameters():
        tensors["grad." + name] = p.grad
    for name, b in module.named_buffers():
        if keep(name):
            tensors["after." + name] = b
    return {n: t.detach().float().contiguous() for n, t in tensors.items()}, y
