#!/usr/bin/python3
"""Recounts compare_activations' never-active units with a PyTorch forward hook.

For each network compare_activations saved (<out>/<experiment>_<activation>.safetensors, with
nnfuse's per-unit counts in <experiment>_<activation>_active.csv), loads the weights into
torch.nn's 784 -> 128 -> 10 with that activation, registers a forward hook on fc1 (the usual way
to watch a layer in PyTorch), runs the whole Fashion-MNIST training set in float32 and counts,
per hidden unit, the rows with z > 0. A unit is never active when that count is 0 (CS231n's dead
unit). Prints, per network, both counts of never-active units; any unit on which nnfuse and
PyTorch disagree is listed with its largest |z| near 0 (the two sum in other orders, so a unit
whose largest z is within float32 rounding of 0 may go either way). Exit status 1 when a
disagreement is not explained by such a margin (largest z above --margin).

    /usr/bin/python3 tools/never_active_torch.py build/release/compare_activations
"""

import argparse
import collections
import csv
import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import import_safetensors  # noqa: E402
import train_fashion_mnist_torch as recipe  # noqa: E402

ACTIVATIONS = {
    "relu": lambda: torch.nn.ReLU(),
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
    "prelu": lambda: torch.nn.PReLU(128),
    "elu": lambda: torch.nn.ELU(),
    "sigmoid": lambda: torch.nn.Sigmoid(),
    "tanh": lambda: torch.nn.Tanh(),
    "gelu": lambda: torch.nn.GELU(),
    "silu": lambda: torch.nn.SiLU(),
}


def network(activation):
    return torch.nn.Sequential(collections.OrderedDict(
        fc1=torch.nn.Linear(784, 128), act=ACTIVATIONS[activation](),
        fc2=torch.nn.Linear(128, 10)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=pathlib.Path, help="compare_activations' --out directory")
    parser.add_argument("--margin", type=float, default=1e-4,
                        help="a disagreement on a unit whose largest z is below this is rounding")
    args = parser.parse_args()
    torch.set_num_threads(1)
    images, _ = recipe.load("train")
    found = sorted(args.out.glob("*_active.csv"))
    if not found:
        raise SystemExit(f"{args.out}: no *_active.csv (run compare_activations --out {args.out})")
    unexplained = 0
    for counts_path in found:
        stem = counts_path.name[: -len("_active.csv")]
        activation = stem.split("_", 1)[1]
        net = network(activation)
        state = import_safetensors.load(args.out / f"{stem}.safetensors")
        net.load_state_dict(state)
        active = torch.zeros(128, dtype=torch.int64)
        largest = torch.full((128,), -float("inf"))

        def hook(_module, _inputs, z):
            nonlocal active, largest
            active += (z > 0).sum(dim=0)
            largest = torch.maximum(largest, z.max(dim=0).values)

        handle = net.fc1.register_forward_hook(hook)
        with torch.no_grad():
            for first in range(0, len(images), 4096):
                net(images[first:first + 4096])
        handle.remove()
        with open(counts_path, newline="") as f:
            nnfuse_active = [int(row["active_rows"]) for row in csv.DictReader(f)]
        torch_never = int((active == 0).sum())
        nnfuse_never = sum(1 for a in nnfuse_active if a == 0)
        print(f"{stem}: never active: nnfuse {nnfuse_never}, PyTorch hook {torch_never}")
        for n in range(128):
            if (nnfuse_active[n] == 0) != (int(active[n]) == 0):
                z = float(largest[n])
                note = "within the margin" if abs(z) < args.margin else "NOT within the margin"
                unexplained += 0 if abs(z) < args.margin else 1
                print(f"  unit {n}: nnfuse {nnfuse_active[n]} active rows, PyTorch "
                      f"{int(active[n])}; largest z {z:.3g} ({note})")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
