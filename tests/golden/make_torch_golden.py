#!/usr/bin/python3
"""Writes PyTorch float32 golden values for nnfuse's activation functions.

Regenerate (deterministic; needs python3-torch 1.13, e.g. Debian's) from the repository root:

    /usr/bin/python3 tests/golden/make_torch_golden.py

This rewrites, next to this script:
  torch_activations.csv  name,x,y,dy            one line per (activation, input)
  torch_softmax.csv      name,row_id,i,x,y,diag_dy  one line per row entry
All numbers are float32 values written with float.hex() ('0x1.8p+1', 'inf', '-inf', 'nan'), so
C's strtof reads them back exactly. dy is torch autograd's gradient for grad_output = 1 and
diag_dy the diagonal of the autograd Jacobian of the row function.

PyTorch's CPU kernels have a vectorized (AVX2/Sleef) path for the bulk of a tensor and a scalar
(libm) path for short tensors and tails, and the two can differ by a few ULPs. By default every
input is evaluated in a block of 64 copies so that only the vectorized path is used, which is what
large tensors see; --kernel scalar evaluates one-element tensors instead (for comparisons only).
"""

import argparse
import math
import pathlib

import torch
import torch.nn.functional as F

PRELU_WEIGHT = 0.25
COPIES_FOR_VECTORIZED_PATH = 64

ACTIVATIONS = {
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "prelu": lambda x: F.prelu(x, torch.tensor([PRELU_WEIGHT], dtype=torch.float32)),
    "elu": F.elu,
    "selu": F.selu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "mish": F.mish,
    "softplus": F.softplus,
    "hardsigmoid": F.hardsigmoid,
    "hardswish": F.hardswish,
    "relu6": F.relu6,
    "identity": lambda x: x.clone(),  # clone so autograd sees an operation
}

SPECIAL_INPUTS = [
    0.0, -0.0, 1e-7, -1e-7, 1e-30, -1e-30, 1e-40, -1e-40,  # tiny, and 1e-40 is subnormal
    3.0, -3.0, 6.0, 5.5, -5.5,  # kinks and gelu's underflow region
    88.0, -88.0, 88.7, -88.7, 89.0, -89.0, 100.0, -100.0,  # exp(x) overflow / underflow
    1e4, -1e4, 3e38, -3e38, math.inf, -math.inf, math.nan,
]

SOFTMAX_ROWS = [
    [0.5],
    [1.0, 2.0, 3.0],
    [(-1) ** i * 0.7 * i for i in range(10)],
    [((37 * i) % 17 - 8) * 0.75 for i in range(17)],
    [1.0, math.nan, 2.0],
    [1.0, math.inf, 2.0],
    [-math.inf, 0.0, 1.0],
    [1e4, -1e4, 9999.0, 0.0],
]


def to_float32(value):
    """The float32 nearest to value, as a Python float."""
    return torch.tensor(value, dtype=torch.float32).item()


def float32_key(value):
    """Identity of a float32 value that tells -0.0 from 0.0 and treats every NaN as one."""
    return "nan" if math.isnan(value) else value.hex()


def activation_inputs():
    grid = [to_float32((i - 100) / 5) for i in range(201)]  # [-20, 20] in steps of 0.2
    inputs, seen = [], set()
    for value in grid + [to_float32(v) for v in SPECIAL_INPUTS]:
        if float32_key(value) not in seen:
            seen.add(float32_key(value))
            inputs.append(value)
    return inputs


def all_columns_equal(matrix):
    first = matrix[:, :1]
    return bool(((matrix == first) | (matrix.isnan() & first.isnan())).all())


def value_and_gradient(function, inputs, kernel):
    """Float32 values and autograd gradients (grad_output = 1) of an elementwise function."""
    if kernel == "vectorized":
        x = torch.tensor(inputs, dtype=torch.float32).unsqueeze(1)
        x = x.repeat(1, COPIES_FOR_VECTORIZED_PATH).requires_grad_(True)
        y = function(x)
        y.backward(torch.ones_like(y))
        y, grad = y.detach(), x.grad
        assert all_columns_equal(y) and all_columns_equal(grad), "copies disagree"
        return y[:, 0].tolist(), grad[:, 0].tolist()
    ys, grads = [], []
    for value in inputs:
        x = torch.tensor([value], dtype=torch.float32, requires_grad=True)
        y = function(x)
        y.backward(torch.ones_like(y))
        ys.append(y.item())
        grads.append(x.grad.item())
    return ys, grads


def write_activations(path, kernel):
    inputs = activation_inputs()
    with open(path, "w", encoding="ascii") as out:
        out.write("name,x,y,dy\n")
        for name, function in ACTIVATIONS.items():
            ys, grads = value_and_gradient(function, inputs, kernel)
            for x, y, dy in zip(inputs, ys, grads):
                out.write(f"{name},{x.hex()},{y.hex()},{dy.hex()}\n")


def write_softmax(path):
    functions = {"softmax": lambda t: F.softmax(t, dim=-1),
                 "log_softmax": lambda t: F.log_softmax(t, dim=-1)}
    with open(path, "w", encoding="ascii") as out:
        out.write("name,row_id,i,x,y,diag_dy\n")
        for name, function in functions.items():
            for row_id, row in enumerate(SOFTMAX_ROWS):
                x = torch.tensor(row, dtype=torch.float32)
                y = function(x)
                jacobian = torch.autograd.functional.jacobian(function, x)
                for i, (xi, yi, di) in enumerate(
                        zip(x.tolist(), y.tolist(), torch.diagonal(jacobian).tolist())):
                    out.write(f"{name},{row_id},{i},{xi.hex()},{yi.hex()},{di.hex()}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parent)
    parser.add_argument("--kernel", choices=["vectorized", "scalar"], default="vectorized")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    write_activations(args.output_dir / "torch_activations.csv", args.kernel)
    write_softmax(args.output_dir / "torch_softmax.csv")
    print(f"torch {torch.__version__}: wrote {args.output_dir}/torch_activations.csv and "
          f"torch_softmax.csv ({args.kernel} kernels)")


if __name__ == "__main__":
    main()
