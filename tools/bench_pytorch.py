#!/usr/bin/env python3
"""PyTorch's speed on the shapes of `convbook bench conv`, in the same JSON lines.

One JSON object a line with the keys of `convbook bench conv --json`: shape, algo ("pytorch"),
threads, pass ("fwd" or "fwd+bwd"), ms (best of --repeats runs after a warm-up) and gflops
(2*N*K*P*Q*(C/G)*R*S for fwd, 3x that for fwd+bwd). fwd runs under torch.no_grad(); fwd+bwd
runs with requires_grad on the input and the weight (no bias, as in ResNet's convolutions),
so backward computes dx and dw.

    /usr/bin/python3 tools/bench_pytorch.py --threads 1 2 [--shape NAME] [--batch 128]
"""
import argparse
import json
import sys
import time

import torch
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


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--shape", action="append", default=[], help="only this shape (repeatable)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
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
