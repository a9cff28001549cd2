#!/usr/bin/python3
"""Makes the safetensors files the weights tests load, through tools/export_safetensors.py.

Regenerate (deterministic; needs python3-torch, e.g. Debian's 1.13) from the repository root:

    /usr/bin/python3 tests/weights/data/make_test_data.py [--output-dir DIR]

It writes, into DIR (default: next to this script):
  tiny.safetensors     a 3→2 nn.Linear saved the way users save models: the state_dict of an
                       nn.DataParallel around nn.Sequential(nn.Linear(3, 2)), torch.save'd, then
                       exported by the command line with `--rename 0=fc1`. Names "module.0.*"
                       become "fc1.weight" [2, 3] and "fc1.bias" [2], float32.
  dtypes.safetensors   one tensor per dtype, exported from Python with keep_dtype=True: F16, BF16
                       and F64 tensors holding edge cases (subnormals, extremes, rounding), an F32
                       one and an I64 scalar (as BatchNorm's num_batches_tracked).
and prints, as float.hex(), the values the C++ test hard-codes: the Linear's parameters, its
output for a fixed input, and torch's own float32 conversion of every dtypes.safetensors tensor
(the loader must match torch's conversion bit for bit).

With --compare-with DIR it then checks that the files written equal those in DIR byte for byte
(exit status 1 if not): the ctest WeightsExport.committed_data_reproducible runs it that way.
"""

import argparse
import filecmp
import pathlib
import subprocess
import sys
import tempfile

try:
    import torch
except ImportError:
    print("skipped: torch is not importable by", sys.executable)
    sys.exit(77)  # CTest's "skipped"

HERE = pathlib.Path(__file__).resolve().parent
TOOLS = HERE.parent.parent.parent / "tools"
sys.path.insert(0, str(TOOLS))
import export_safetensors  # noqa: E402

FILES = ("tiny.safetensors", "dtypes.safetensors")
LINEAR_WEIGHT = [[0.5, -1.25, 2.0], [0.1, 0.2, -0.3]]
LINEAR_BIAS = [0.25, -0.1]
LINEAR_INPUT = [[1.0, 2.0, 3.0], [-0.5, 0.25, 4.0]]


def hexes(tensor):
    return ", ".join(float(v).hex() for v in tensor.to(torch.float32).reshape(-1).tolist())


def make_tiny(out_dir):
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(LINEAR_WEIGHT))
        model[0].bias.copy_(torch.tensor(LINEAR_BIAS))
    wrapped = torch.nn.DataParallel(model)  # names become module.0.weight, module.0.bias
    with tempfile.TemporaryDirectory() as scratch:
        saved = pathlib.Path(scratch) / "tiny.pt"
        torch.save(wrapped.state_dict(), saved)
        subprocess.run([sys.executable, str(TOOLS / "export_safetensors.py"), str(saved), "-o",
                        str(out_dir / "tiny.safetensors"), "--rename", "0=fc1"],
                       check=True, stdout=subprocess.DEVNULL)
    with torch.no_grad():
        output = model(torch.tensor(LINEAR_INPUT))
    print("tiny fc1.weight:", hexes(model[0].weight))
    print("tiny fc1.bias:  ", hexes(model[0].bias))
    print("tiny input:     ", hexes(torch.tensor(LINEAR_INPUT)))
    print("tiny output:    ", hexes(output))


def make_dtypes(out_dir):
    inf, nan = float("inf"), float("nan")
    tensors = {
        # 1/3 rounds; 65504 is the largest half; 2^-24 the smallest subnormal; 2^-14 - 2^-24
        # the largest subnormal; -0, inf, NaN.
        "half": torch.tensor([[1 / 3, 65504.0, 2.0**-24], [2.0**-14 - 2.0**-24, -0.0, -inf],
                              [inf, nan, -2.5]], dtype=torch.float16),
        # bfloat16: rounding, near float's maximum, a subnormal (2^-133), -0.
        "bfloat": torch.tensor([1 / 3, 3.3895313892515355e38, 2.0**-133, -0.0, -1.5],
                               dtype=torch.bfloat16),
        # float64: values float32 rounds (0.1, 1/3), a float32 subnormal, one that underflows to
        # -0, a tie (1 + 2^-24 rounds to even: 1).
        "double": torch.tensor([0.1, 1 / 3, 1e-40, -1e-46, 1 + 2.0**-24, 123456789.0],
                               dtype=torch.float64),
        "single": torch.tensor([[1.5, -2.0]], dtype=torch.float32),
        "steps": torch.tensor(7, dtype=torch.int64),
    }
    export_safetensors.export_state_dict(tensors, out_dir / "dtypes.safetensors", keep_dtype=True)
    for name, tensor in tensors.items():
        if tensor.is_floating_point():
            print(f"dtypes {name} {list(tensor.shape)}:", hexes(tensor))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", type=pathlib.Path, default=HERE)
    parser.add_argument("--compare-with", type=pathlib.Path, metavar="DIR",
                        help="after writing, require the files to equal those in DIR")
    args = parser.parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    make_tiny(args.output_dir)
    make_dtypes(args.output_dir)
    if args.compare_with:
        for name in FILES:
            if not filecmp.cmp(args.output_dir / name, args.compare_with / name, shallow=False):
                print(f"{args.compare_with / name} differs from what {__file__} writes now: "
                      "regenerate it (see this script's docstring) and update the tests",
                      file=sys.stderr)
                return 1
        print("the committed files are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
