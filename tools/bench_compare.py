#!/usr/bin/env python3
"""convbook against PyTorch, measured back to back: one table of ratios.

Runs `convbook bench conv --json` then tools/bench_pytorch.py for each thread count, --rounds
times in alternation, and prints, per shape, pass and thread count: convbook's fastest algorithm
and its best ms, PyTorch's best ms, and ratio = pytorch_ms / convbook_ms (> 1 means convbook is
faster). A shared machine has slow spells that last seconds; alternating the two programs over
several rounds and keeping each one's best time compares them at the machine's speed, not at
whichever spell each happened to run in.

    /usr/bin/python3 tools/bench_compare.py --convbook build/convbook --threads 1 2
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_json(cmd):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--convbook", default="build/convbook", help="the convbook program")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--shape", action="append", default=[], help="only this shape (repeatable)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3,
                   help="alternate convbook and PyTorch this many times, keep each one's best")
    args = p.parse_args()
    if args.rounds < 1:
        p.error(f"--rounds must be >= 1, got {args.rounds}")

    common = ["--batch", str(args.batch), "--repeats", str(args.repeats)]
    for s in args.shape:
        common += ["--shape", s]
    ours, theirs, order = {}, {}, []
    for _ in range(args.rounds):
        for t in args.threads:
            for r in run_json([args.convbook, "bench", "conv", "--json", "--threads", str(t)]
                              + common):
                key = (r["shape"], r["pass"], r["threads"])
                if key not in ours:
                    order.append(key)
                if key not in ours or r["ms"] < ours[key]["ms"]:
                    ours[key] = r
            for r in run_json([sys.executable, os.path.join(HERE, "bench_pytorch.py"),
                               "--threads", str(t)] + common):
                key = (r["shape"], r["pass"], r["threads"])
                if key not in theirs or r["ms"] < theirs[key]["ms"]:
                    theirs[key] = r

    header = f"{'shape':<22} {'pass':<8} {'threads':>7} {'convbook algo':<16} " \
             f"{'convbook ms':>11} {'pytorch ms':>10} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for key in order:
        ours_r, theirs_r = ours[key], theirs.get(key)
        torch_ms = f"{theirs_r['ms']:10.3f}" if theirs_r else f"{'-':>10}"
        ratio = f"{theirs_r['ms'] / ours_r['ms']:6.2f}" if theirs_r else f"{'-':>6}"
        print(f"{key[0]:<22} {key[1]:<8} {key[2]:>7} {ours_r['algo']:<16} "
              f"{ours_r['ms']:11.3f} {torch_ms} {ratio}")


if __name__ == "__main__":
    main()
