#!/usr/bin/python3
"""Makes the seed network's committed data with Debian's python3-torch:

  mnist_mlp.safetensors     the state_dict of nn.Sequential(fc1 784->128, ReLU, fc2 128->10),
                            default PyTorch initialisation with torch.manual_seed(0), written
                            by tools/export_safetensors.py;
  mnist_batch32.safetensors "input" [32, 784] (uniform [0, 1), like normalised pixels) and
                            "output" [32, 10], PyTorch's float32 forward of that batch.

Regenerate (deterministic): /usr/bin/python3 examples/mnist/make_weights.py
"""
import collections
import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tools"))
import export_safetensors  # noqa: E402


def main():
    torch.manual_seed(0)
    model = torch.nn.Sequential(collections.OrderedDict(
        fc1=torch.nn.Linear(784, 128), relu=torch.nn.ReLU(), fc2=torch.nn.Linear(128, 10)))
    export_safetensors.export_module(model, HERE / "mnist_mlp.safetensors")
    x = torch.rand(32, 784, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = model(x)
    export_safetensors.export_state_dict({"input": x, "output": y},
                                         HERE / "mnist_batch32.safetensors")


if __name__ == "__main__":
    main()
