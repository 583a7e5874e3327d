"""Writes tests/fixtures/ch07_*.safetensors for tests/ch07/test_dilated_torch.cpp:

- ch07_stack_125.safetensors, ch07_stack_222.safetensors: convbook::dilated_stack(3, 5, d) as
  an nn.Sequential (conv3x3 dilation d padding d no bias, BatchNorm2d, ReLU per dilation): a
  module fixture (tests/tools/module_fixture.py: state_dict, input, output, dy, dx,
  grad.<name>, after.<buffer>; training mode). nn.Sequential numbers its children 0, 1, 2, ... as convbook's Sequential does, so
  the state_dict keys are the C++ parameter names.
- ch07_rf.safetensors: the receptive-field maps of all-ones 3x3 stacks with dilations
  (2, 2, 2) and (1, 2, 5) on a 21x21 input, by torch.autograd.grad of the centre output.

Run with Debian's PyTorch (python3-torch), from the repository root:
    /usr/bin/python3 tests/tools/make_ch07_fixtures.py
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import module_fixture  # noqa: E402
import safetensors_io  # noqa: E402

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))


def dilated_stack(cin, cout, dilations):
    layers = []
    for d in dilations:
        layers += [nn.Conv2d(cin, cout, 3, padding=d, dilation=d, bias=False),
                   nn.BatchNorm2d(cout), nn.ReLU()]
        cin = cout
    return nn.Sequential(*layers)


def write_stack(name, dilations, shape, cout):
    net = dilated_stack(shape[1], cout, dilations)
    module_fixture.randomize_affine(net)
    tensors, _ = module_fixture.forward_backward(net, shape)
    metadata = {"in_channels": shape[1], "channels": cout,
                "dilations": ",".join(str(d) for d in dilations), "torch": torch.__version__}
    path = os.path.join(FIXTURES, f"ch07_{name}.safetensors")
    safetensors_io.save(path, tensors, metadata)
    print(f"{path}: dilated_stack({shape[1]}, {cout}, {dilations}) x{tuple(shape)}")


def write_rf():
    tensors = {}
    for name, dilations in (("d222", (2, 2, 2)), ("d125", (1, 2, 5))):
        convs = [nn.Conv2d(1, 1, 3, padding=d, dilation=d, bias=False) for d in dilations]
        for c in convs:
            nn.init.ones_(c.weight)
        x = torch.zeros(1, 1, 21, 21, dtype=torch.float64, requires_grad=True)
        y = x
        for c in convs:
            y = c.double()(y)
        (dx,) = torch.autograd.grad(y[0, 0, 10, 10], x)
        tensors[name] = dx.float()
    path = os.path.join(FIXTURES, "ch07_rf.safetensors")
    safetensors_io.save(path, tensors, {"torch": torch.__version__})
    print(f"{path}: receptive-field maps d(2,2,2) and d(1,2,5), 21x21")


def main():
    torch.manual_seed(20240707)
    os.makedirs(FIXTURES, exist_ok=True)
    write_stack("stack_125", (1, 2, 5), (2, 3, 13, 11), 5)
    write_stack("stack_222", (2, 2, 2), (2, 3, 9, 12), 4)
    write_rf()


if __name__ == "__main__":
    main()
