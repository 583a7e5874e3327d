#!/usr/bin/env python3
"""convbook against PyTorch, measured back to back: one table of ratios.

Runs `convbook bench conv --json` then tools/bench_pytorch.py for each thread count, --rounds
times in alternation, and prints, per shape, pass and thread count: convbook's fastest algorithm
and its best ms, PyTorch's best ms, and ratio = pytorch_ms / convbook_ms (> 1 means convbook is
faster). A shared machine has slow spells that last seconds; alternating the two programs over
several rounds and keeping each one's best time compares them at the machine's speed, not at
whichever spell each happened to run in.

    /usr/bin/python3 tools/bench_compare.py --convbook build/convbook --threads 1 2

With --model NAME (repeatable) it compares whole models instead (`convbook bench model --json`
against `bench_pytorch.py --model`), in training steps and in eval-mode inference (--mode), with
ratio = convbook img/s / pytorch img/s (> 1 means convbook is faster), each side's best of the
rounds:

    /usr/bin/python3 tools/bench_compare.py --convbook build/convbook --model resnet20
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
    p.add_argument("--markdown", action="store_true",
                   help="print the table as Markdown (the form the book quotes)")
    p.add_argument("--rounds", type=int, default=3,
                   help="alternate convbook and PyTorch this many times, keep each one's best")
    p.add_argument("--model", action="append", default=[],
                   help="compare this whole model's img/s instead of the shapes (repeatable)")
    p.add_argument("--mode", nargs="+", choices=("train", "eval"), default=["train", "eval"],
                   help="models: training step, eval-mode inference, or both")
    args = p.parse_args()
    if args.rounds < 1:
        p.error(f"--rounds must be >= 1, got {args.rounds}")
    if args.model:
        compare_models(args)
        return

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

    rows = []
    for key in order:
        ours_r, theirs_r = ours[key], theirs.get(key)
        torch_ms = f"{theirs_r['ms']:.3f}" if theirs_r else "-"
        ratio = f"{theirs_r['ms'] / ours_r['ms']:.2f}" if theirs_r else "-"
        rows.append((key[0], key[1], str(key[2]), ours_r["algo"], f"{ours_r['ms']:.3f}", torch_ms,
                     ratio))
    names = ("shape", "pass", "threads", "convbook algo", "convbook ms", "pytorch ms", "ratio")
    print_table(names, rows, (22, 8, 7, 16, 11, 10, 6),
                (True, True, False, True, False, False, False), args.markdown)


def print_table(names, rows, widths, left, markdown):
    """Rows of strings as aligned columns (left-aligned where `left`), or as Markdown."""
    if markdown:
        print("| " + " | ".join(names) + " |")
        print("|" + "|".join("---" if l else "---:" for l in left) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return

    def line(cells):
        return " ".join(c.ljust(w) if l else c.rjust(w) for c, w, l in zip(cells, widths, left))

    header = line(names)
    print(header)
    print("-" * len(header))
    for row in rows:
        print(line(row))


def compare_models(args):
    """Whole models: img/s of convbook and PyTorch, alternated over the rounds, best of each."""
    ours, theirs, order = {}, {}, []
    common = ["--batch-size", str(args.batch), "--repeats", str(args.repeats)]
    for _ in range(args.rounds):
        for t in args.threads:
            for mode in args.mode:
                extra = ["--threads", str(t)] + (["--eval"] if mode == "eval" else [])
                for m in args.model:
                    extra += ["--model", m]
                for side, cmd in ((ours, [args.convbook, "bench", "model", "--json"]),
                                  (theirs, [sys.executable, os.path.join(HERE, "bench_pytorch.py")])):
                    for r in run_json(cmd + common + extra):
                        key = (r["model"], r["mode"], r["threads"])
                        if side is ours and key not in ours:
                            order.append(key)
                        if key not in side or r["img_per_s"] > side[key]["img_per_s"]:
                            side[key] = r
    rows = []
    for key in sorted(order, key=lambda k: (args.model.index(k[0]), k[1] != "train", k[2])):
        a, b = ours[key]["img_per_s"], theirs.get(key, {}).get("img_per_s")
        rows.append((key[0], key[1], str(key[2]), str(args.batch), f"{a:.1f}",
                     f"{b:.1f}" if b else "-", f"{a / b:.2f}" if b else "-"))
    names = ("model", "mode", "threads", "batch", "convbook img/s", "pytorch img/s", "ratio")
    print_table(names, rows, (20, 5, 7, 5, 14, 13, 6),
                (True, True, False, False, False, False, False), args.markdown)


if __name__ == "__main__":
    main()
