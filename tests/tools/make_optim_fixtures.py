"""Writes tests/fixtures/optim_sgd.safetensors: torch.optim.SGD trajectories.

One parameter w of shape (3, 4), starting at w0, is stepped 5 times with fixed gradients
grads[t] under each configuration below; `<config>.trajectory[t]` is w after step t + 1.
Run with Debian's python3 (it has python3-torch):  /usr/bin/python3 tests/tools/make_optim_fixtures.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io  # noqa: E402

CONFIGS = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.1, momentum=0.9),
    "nesterov": dict(lr=0.1, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=0.1, momentum=0.9, weight_decay=0.05),
    "dampening": dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01),
}
STEPS = 5


def main():
    torch.manual_seed(0)
    w0 = torch.randn(3, 4, dtype=torch.float64)
    grads = torch.randn(STEPS, 3, 4, dtype=torch.float64)
    tensors = {"w0": w0.float(), "grads": grads.float()}
    for name, cfg in CONFIGS.items():
        w = torch.nn.Parameter(w0.float().double().clone())
        opt = torch.optim.SGD([w], **cfg)
        traj = []
        for t in range(STEPS):
            w.grad = grads[t].float().double().clone()
            opt.step()
            traj.append(w.detach().clone())
        tensors[name + ".trajectory"] = torch.stack(traj).float()
    meta = {name: str(cfg) for name, cfg in CONFIGS.items()}
    meta["torch"] = torch.__version__
    out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "optim_sgd.safetensors")
    safetensors_io.save(out, tensors, meta)
    print("wrote", os.path.normpath(out))


if __name__ == "__main__":
    main()
