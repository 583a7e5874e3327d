"""Writes tests/fixtures/io_python_written.safetensors: a file made by Python, read by the C++
safetensors reader in tests/core/test_safetensors.cpp.

One tensor per dtype the reader supports, a 0-d int64 like BatchNorm's num_batches_tracked, an
empty tensor and metadata. Values are simple formulas, so the test can state them exactly.

Run with Debian's python3-torch:  /usr/bin/python3 tests/tools/make_io_fixture.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "io_python_written.safetensors")


def main():
    torch.manual_seed(0)
    tensors = {
        # f32[i] = i / 4 - 1: exact in float, and covers negative values
        "f32": (torch.arange(24, dtype=torch.float32) / 4 - 1).reshape(2, 3, 4),
        # f64 holds a value that float cannot: 1 + 2^-40
        "f64": torch.tensor([1.0 + 2.0 ** -40, -0.5, 3.0], dtype=torch.float64),
        "i64": torch.tensor([[-3, 0], [7, 1 << 40]], dtype=torch.int64),
        "i32": torch.tensor([-2147483648, 2147483647, 5], dtype=torch.int32),
        "bn.num_batches_tracked": torch.tensor(391, dtype=torch.int64),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        # a random 4-D tensor: the test checks its sum and a few entries
        "conv.weight": torch.randn(2, 3, 3, 3),
    }
    safetensors_io.save(OUT, tensors, metadata={"format": "pt", "written_by": "make_io_fixture.py"})
    w = tensors["conv.weight"]
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")
    print("conv.weight[0,0,0,0] = %.9g  [1,2,2,2] = %.9g  sum = %.9g"
          % (w[0, 0, 0, 0].item(), w[1, 2, 2, 2].item(), w.sum().item()))


if __name__ == "__main__":
    main()
