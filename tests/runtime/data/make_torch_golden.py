#!/usr/bin/python3
"""PyTorch golden data for the runtime tests (Debian's python3-torch; deterministic):

  odd_net.safetensors    state_dict of 300 -> 257 ELU -> 33 LeakyReLU(0.1) -> 7 Softmax,
                         named fc1/fc2/fc3 (nnfuse_test::OddNet), torch.manual_seed(0)
  odd_batch.safetensors  "input" [5, 300] uniform [-2, 2) and "output" [5, 7], PyTorch's
                         float32 forward

Regenerate: /usr/bin/python3 tests/runtime/data/make_torch_golden.py
"""
import collections
import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "tools"))
import export_safetensors  # noqa: E402


def main():
    torch.manual_seed(0)
    model = torch.nn.Sequential(collections.OrderedDict(
        fc1=torch.nn.Linear(300, 257), elu=torch.nn.ELU(),
        fc2=torch.nn.Linear(257, 33), leaky=torch.nn.LeakyReLU(0.1),
        fc3=torch.nn.Linear(33, 7), softmax=torch.nn.Softmax(dim=1)))
    export_safetensors.export_module(model, HERE / "odd_net.safetensors")
    x = torch.rand(5, 300, generator=torch.Generator().manual_seed(1)) * 4 - 2
    with torch.no_grad():
        y = model(x)
    export_safetensors.export_state_dict({"input": x, "output": y}, HERE / "odd_batch.safetensors")


if __name__ == "__main__":
    main()
