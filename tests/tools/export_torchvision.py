"""torchvision <-> convbook interop fixtures, written into the BUILD directory at test time
(never committed: resnet50's weights alone are 100 MB). Registered with ctest by
tests/ch10/interop.cmake; run with Debian's /usr/bin/python3.

    export_torchvision.py export DIR
        For resnet18, resnet50, resnext50_32x4d (torchvision, 1000 classes) and the CIFAR
        resnet20 (option A, 10 classes, tests/tools/make_ch10_fixtures.py's definition): random
        weights (fixed seed; BatchNorm affine and running statistics randomized too, so eval-mode
        BN is not the identity), written as DIR/<name>.safetensors with torchvision's state_dict
        names and dtypes (num_batches_tracked a 0-d int64); one input DIR/input.safetensors
        (1x3x64x64, key "x"; DIR/input_cifar.safetensors 2x3x32x32 for resnet20) and the
        eval-mode logits DIR/<name>.logits.safetensors (key "logits").

    export_torchvision.py check DIR
        The other direction: every DIR/convbook_<name>.safetensors (a checkpoint saved by
        convbook, with convbook's own random init) must load into the torchvision model with
        load_state_dict(strict=True) and give the logits convbook wrote next to it
        (DIR/convbook_<name>.logits.safetensors); and DIR/cli_<name>.safetensors, written by
        `convbook forward`, must equal torchvision's logits. Tolerance: max|a - b| / max|b|
        <= 1e-4.

When torch or torchvision cannot be imported, prints a SKIPPED line saying what to install,
writes it to DIR/SKIPPED.txt (the tests that need the export print it and skip too) and exits
with 77 (ctest's skip code for these tests): never a silent pass.
"""
import os
import sys
import time

SKIP = 77
try:
    import torch
    import torchvision
    from torchvision import models
except ImportError as e:  # pragma: no cover - depends on the machine
    message = (f"SKIPPED: {sys.executable} cannot import torch/torchvision ({e}); install them "
               f"with scripts/install-deps.sh --fixtures")
    print(message)
    if len(sys.argv) == 3 and sys.argv[1] == "export":  # tells the tests that depend on it
        os.makedirs(sys.argv[2], exist_ok=True)
        with open(os.path.join(sys.argv[2], "SKIPPED.txt"), "w") as f:
            f.write(message + "\n")
    sys.exit(SKIP)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from make_ch10_fixtures import cifar_resnet, randomize_batchnorms  # noqa: E402

TOLERANCE = 1e-4


def build(name):
    if name == "resnet20":
        return cifar_resnet(20, "A", 10)
    return getattr(models, name)(num_classes=1000)


def input_for(name, d):
    return os.path.join(d, "input_cifar.safetensors" if name == "resnet20" else "input.safetensors")


# name: the input it gets
MODELS = ["resnet18", "resnet50", "resnext50_32x4d", "resnet20"]


def export(d):
    os.makedirs(d, exist_ok=True)
    if os.path.exists(os.path.join(d, "SKIPPED.txt")):
        os.remove(os.path.join(d, "SKIPPED.txt"))
    torch.manual_seed(20261128)
    safetensors_io.save(os.path.join(d, "input.safetensors"), {"x": torch.randn(1, 3, 64, 64)})
    safetensors_io.save(os.path.join(d, "input_cifar.safetensors"), {"x": torch.randn(2, 3, 32, 32)})
    for name in MODELS:
        start = time.time()
        model = build(name)
        randomize_batchnorms(model, running_stats=True)
        model.eval()
        x = next(iter(safetensors_io.load(input_for(name, d)).values()))
        with torch.no_grad():
            logits = model(x)
        safetensors_io.save(os.path.join(d, f"{name}.safetensors"), model.state_dict())
        safetensors_io.save(os.path.join(d, f"{name}.logits.safetensors"), {"logits": logits})
        print(f"{name}: {len(model.state_dict())} tensors, logits {tuple(logits.shape)}, "
              f"{time.time() - start:.1f} s")


def scaled_error(a, b):
    return float((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-12))


def check(d):
    failures, checked = [], 0
    for name in MODELS:
        x = next(iter(safetensors_io.load(input_for(name, d)).values()))
        ours = os.path.join(d, f"convbook_{name}.safetensors")
        if os.path.exists(ours):
            model = build(name)
            model.load_state_dict(safetensors_io.load(ours), strict=True)
            model.eval()
            with torch.no_grad():
                ref = model(x)
            got = safetensors_io.load(os.path.join(d, f"convbook_{name}.logits.safetensors"))["output"]
            err = scaled_error(got, ref)
            print(f"convbook checkpoint of {name} in torchvision (strict): scaled error {err:.2e}")
            failures += [name] if err > TOLERANCE else []
            checked += 1
        cli = os.path.join(d, f"cli_{name}.safetensors")
        if os.path.exists(cli):
            ref = safetensors_io.load(os.path.join(d, f"{name}.logits.safetensors"))["logits"]
            err = scaled_error(safetensors_io.load(cli)["output"], ref)
            print(f"`convbook forward --model {name}` vs torchvision: scaled error {err:.2e}")
            failures += [f"cli {name}"] if err > TOLERANCE else []
            checked += 1
    if checked == 0:
        print(f"FAILED: nothing to check in {d} (convbook_*.safetensors, cli_*.safetensors)")
        return 1
    if failures:
        print(f"FAILED: {', '.join(failures)} above {TOLERANCE}")
        return 1
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("export", "check"):
        print(__doc__)
        return 2
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}")
    if sys.argv[1] == "export":
        export(sys.argv[2])
        return 0
    return check(sys.argv[2])


if __name__ == "__main__":
    sys.exit(main())
