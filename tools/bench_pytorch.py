#!/usr/bin/env python3
"""PyTorch's speed on the shapes of `convbook bench conv` and on the models of `convbook bench
model`, in the same JSON lines.

One JSON object a line with the keys of `convbook bench conv --json`: shape, algo ("pytorch"),
threads, pass ("fwd" or "fwd+bwd"), ms (best of --repeats runs after a warm-up) and gflops
(2*N*K*P*Q*(C/G)*R*S for fwd, 3x that for fwd+bwd). fwd runs under torch.no_grad(); fwd+bwd
runs with requires_grad on the input and the weight (no bias, as in ResNet's convolutions),
so backward computes dx and dw.

    /usr/bin/python3 tools/bench_pytorch.py --threads 1 2 [--shape NAME] [--batch 128]

With --model NAME (repeatable) it times whole models instead, as `convbook bench model --json`
does: keys model, mode ("train": forward, cross-entropy, backward, SGD momentum step with
`convbook train`'s defaults lr 0.1, momentum 0.9, weight decay 5e-4; "eval": inference in eval
mode under torch.no_grad()), threads, batch, img_per_s (batch / best step of --repeats after
--warmup steps), on synthetic N(0, 1) 3x32x32 images. NAME is a CIFAR ResNet (resnet20, 32, 44,
56, 110: He et al. 2016, option A), small_cnn (chapter 00's model), or a torchvision model.

    /usr/bin/python3 tools/bench_pytorch.py --model resnet20 --threads 1 2 [--eval]
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# name: (C, K, H=W, R=S or (R, S), stride, padding, dilation, groups); the names and sizes of
# chapters/01_convolution/conv_benchmark.cpp.
SHAPES = {
    "3x3_16-16_32x32": (16, 16, 32, 3, 1, 1, 1, 1),
    "3x3_32-32_16x16": (32, 32, 16, 3, 1, 1, 1, 1),
    "3x3_64-64_8x8": (64, 64, 8, 3, 1, 1, 1, 1),
    "3x3_3-16_32x32_stem": (3, 16, 32, 3, 1, 1, 1, 1),
    "3x3s2_16-32_32x32": (16, 32, 32, 3, 2, 1, 1, 1),
    "1x1_64-256_8x8": (64, 256, 8, 1, 1, 0, 1, 1),
    "1x1_256-64_8x8": (256, 64, 8, 1, 1, 0, 1, 1),
    "3x3g32_128-128_16x16": (128, 128, 16, 3, 1, 1, 1, 32),
    "dw3x3_64_16x16": (64, 64, 16, 3, 1, 1, 1, 64),
    "dw3x3_128_8x8": (128, 128, 8, 3, 1, 1, 1, 128),
    "3x3d2_32-32_16x16": (32, 32, 16, 3, 1, 2, 2, 1),
    "5x5_32-32_16x16": (32, 32, 16, 5, 1, 2, 1, 1),
    # chapter 03: googlenet_cifar's inception3b (1x1 of branch 1, the 3x3 and the 5x5)
    "1x1_64-32_16x16": (64, 32, 16, 1, 1, 0, 1, 1),
    "3x3_32-48_16x16": (32, 48, 16, 3, 1, 1, 1, 1),
    "5x5_8-24_16x16": (8, 24, 16, 5, 1, 2, 1, 1),
    # chapter 06: rectangular kernels, R x S as (R, S) and padding (R/2, S/2)
    "1x3_64-64_16x16": (64, 64, 16, (1, 3), 1, (0, 1), 1, 1),
    "3x1_64-64_16x16": (64, 64, 16, (3, 1), 1, (1, 0), 1, 1),
    "dw1x3_64_16x16": (64, 64, 16, (1, 3), 1, (0, 1), 1, 64),
    "dw3x1_64_16x16": (64, 64, 16, (3, 1), 1, (1, 0), 1, 64),
}


def best_ms(repeats, f):
    f()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        best = min(best, (time.perf_counter() - t0) * 1e3)
    return best


def bench_shape(name, batch, threads, repeats):
    C, K, HW, RS, stride, pad, dil, G = SHAPES[name]
    R, S = RS if isinstance(RS, tuple) else (RS, RS)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.rand(batch, C, HW, HW) * 2 - 1
    w = torch.rand(K, C // G, R, S) * 2 - 1
    conv = lambda a, b: F.conv2d(a, b, None, stride, pad, dil, G)  # noqa: E731
    with torch.no_grad():
        y = conv(x, w)
    P, Q = y.shape[2], y.shape[3]
    flops = 2.0 * batch * K * P * Q * (C // G) * R * S
    dy = torch.rand_like(y) * 2 - 1

    def forward():
        with torch.no_grad():
            conv(x, w)

    xg = x.clone().requires_grad_(True)
    wg = w.clone().requires_grad_(True)

    def forward_backward():
        xg.grad = None
        wg.grad = None
        conv(xg, wg).backward(dy)

    fwd = best_ms(repeats, forward)
    fwd_bwd = best_ms(repeats, forward_backward)
    for pass_, ms, f in (("fwd", fwd, flops), ("fwd+bwd", fwd_bwd, 3 * flops)):
        yield {"shape": name, "algo": "pytorch", "threads": threads, "pass": pass_,
               "ms": round(ms, 4), "gflops": round(f / ms * 1e-6, 2)}


# Chapter 08: torchvision.ops.deform_conv2d on the shape of `convbook bench deform` (3x3,
# 64 -> 64, 16x16, padding 1, no bias; offsets uniform in [-2, 2), mask uniform in [0, 1)).
# fwd+bwd computes the gradients to the input, the offsets, the mask and the weight.
def bench_deform(batch, threads, repeats):
    from torchvision.ops import deform_conv2d
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.rand(batch, 64, 16, 16) * 2 - 1
    w = torch.rand(64, 64, 3, 3) * 2 - 1
    offset = torch.rand(batch, 18, 16, 16) * 4 - 2
    mask = torch.rand(batch, 9, 16, 16)
    dy = torch.rand(batch, 64, 16, 16) * 2 - 1
    leaves = [t.clone().requires_grad_(True) for t in (x, offset, mask, w)]

    def forward():
        with torch.no_grad():
            deform_conv2d(x, offset, w, padding=1, mask=mask)

    def forward_backward():
        for t in leaves:
            t.grad = None
        xg, og, mg, wg = leaves
        deform_conv2d(xg, og, wg, padding=1, mask=mg).backward(dy)

    for pass_, f in (("fwd", forward), ("fwd+bwd", forward_backward)):
        yield {"shape": "deform3x3_64-64_16x16", "algo": "torchvision", "threads": threads,
               "pass": pass_, "ms": round(best_ms(repeats, f), 4)}
# --- whole models ----------------------------------------------------------------------------

class OptionABlock(nn.Module):
    """He et al. 2016's CIFAR BasicBlock: two conv3x3-BN, identity shortcut; where the shape
    changes, option A: subsample by 2 and pad the new channels with zeros (no parameters)."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.stride, self.pad = stride, planes - in_planes

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.stride != 1 or self.pad:
            shortcut = x[:, :, ::self.stride, ::self.stride]
            shortcut = F.pad(shortcut, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(out + shortcut)


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for CIFAR (He et al. 2016, section 4.2): conv3x3 16, three stages of n
    blocks at 16, 32, 64 channels (stride 2 at the first block of stages 2 and 3), global
    average pooling, linear."""

    def __init__(self, n, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, in_planes = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for i in range(n):
                blocks.append(OptionABlock(in_planes, planes, stride if i == 0 else 1))
                in_planes = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def small_cnn(num_classes=10):
    """chapters/00_framework/small_cnn.cpp, layer for layer."""
    layers, in_ch = [], 3
    for i, out_ch in enumerate((16, 16, 32, 32, 64, 64)):
        layers += [nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False), nn.BatchNorm2d(out_ch),
                   nn.ReLU()]
        in_ch = out_ch
        if i in (1, 3):
            layers.append(nn.MaxPool2d(2))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, num_classes)]
    return nn.Sequential(*layers)


MODELS = {f"resnet{6 * n + 2}": (lambda n=n: CifarResNet(n)) for n in (3, 5, 7, 9, 18)}
MODELS["small_cnn"] = small_cnn


def make_model(name):
    if name in MODELS:
        return MODELS[name]()
    import torchvision.models  # only when asked: the CIFAR models above do not need it
    factory = getattr(torchvision.models, name, None)
    if not callable(factory) or name.startswith("_") or name[0].isupper():
        return None
    return factory(num_classes=10)


def bench_model(name, batch, threads, eval_mode, warmup, repeats):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = make_model(name)
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    # convbook train's defaults (src/convbook/train/trainer.hpp)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    model.train(not eval_mode)

    def train_step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def eval_step():
        with torch.no_grad():
            model(x)

    step = eval_step if eval_mode else train_step
    for _ in range(warmup):
        step()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    return {"model": name, "mode": "eval" if eval_mode else "train", "threads": threads,
            "batch": batch, "img_per_s": round(batch / best, 1)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--shape", action="append", default=[], help="only this shape (repeatable)")
    p.add_argument("--batch", "--batch-size", type=int, default=128)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--deform", action="store_true",
                   help="chapter 08: only torchvision's deform_conv2d (convbook bench deform)")
    p.add_argument("--model", action="append", default=[],
                   help="time this whole model instead of the shapes (repeatable)")
    p.add_argument("--eval", action="store_true", help="models: eval-mode inference")
    p.add_argument("--warmup", type=int, default=2, help="models: untimed steps first")
    args = p.parse_args()
    if args.deform:
        for threads in args.threads:
            for record in bench_deform(args.batch, threads, args.repeats):
                print(json.dumps(record), flush=True)
        return
    if args.model:
        for name in args.model:
            if make_model(name) is None:
                sys.exit(f"bench_pytorch.py: error: --model '{name}' is unknown, expected one "
                         "of: " + ", ".join(MODELS) + " or a torchvision model name")
        for name in args.model:
            for threads in args.threads:
                record = bench_model(name, args.batch, threads, args.eval, args.warmup,
                                     args.repeats)
                print(json.dumps(record), flush=True)
        return
    for name in args.shape:
        if name not in SHAPES:
            sys.exit(f"bench_pytorch.py: error: --shape '{name}' is unknown, expected one of: "
                     + ", ".join(SHAPES))
    for name in SHAPES:
        if args.shape and name not in args.shape:
            continue
        for threads in args.threads:
            for record in bench_shape(name, args.batch, threads, args.repeats):
                print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
