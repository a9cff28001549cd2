#!/usr/bin/python3
"""The recipe of examples/fashion_mnist/train_fashion_mnist.cpp in PyTorch, line for line.

Trains torch.nn's 784 -> 128 ReLU (or PReLU) -> 10 on Fashion-MNIST (Debian's
dataset-fashion-mnist) from the same initial weights (the example's
initial_<activation>.safetensors, or PyTorch's default init with --torch-init), visiting the training images in the same order
(tools/fashion_order.py: SplitMix64(seed) and Fisher-Yates, one shuffle per epoch from one
generator), with the same optimizer and learning-rate schedule, and prints one line per epoch
in the example's format, so the two runs compare line by line:

    build/release/examples/train_fashion_mnist --out run   # writes run/initial_relu.safetensors
    /usr/bin/python3 tools/train_fashion_mnist_torch.py --initial run/initial_relu.safetensors

The recipe (both sides): inputs = pixel / 255 (no further normalisation), mini-batch 32 (the
last batch of an epoch is whatever is left, as DataLoader's drop_last=False), CrossEntropy
(mean), Adam(lr, betas (0.9, 0.999), eps 1e-8, no weight decay), the learning rate of epoch e
(0-based) lr * 0.5 * (1 + cos(pi * e / epochs)) (cosine decay, set once per epoch). Train
accuracy is measured after the epoch on the whole training set, with the epoch's final weights.
One thread unless --threads says otherwise.
"""

import argparse
import collections
import gzip
import math
import pathlib
import struct
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import fashion_order  # noqa: E402
import import_safetensors  # noqa: E402

DATA = pathlib.Path("/usr/share/datasets/fashion-mnist")


def read_idx(path, dims):
    """An IDX file (gzip, unsigned bytes) as a uint8 tensor of `dims` dimensions."""
    raw = gzip.decompress(path.read_bytes())
    magic = struct.unpack(">I", raw[:4])[0]
    if magic != 0x0800 | dims:
        raise SystemExit(f"{path}: not an IDX file of {dims} dimensions (magic {magic:#x})")
    shape = struct.unpack(f">{dims}I", raw[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(raw[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def load(split):
    images = read_idx(DATA / f"{split}-images-idx3-ubyte.gz", 3)
    labels = read_idx(DATA / f"{split}-labels-idx1-ubyte.gz", 1)
    return images.reshape(len(images), -1).float() / 255.0, labels.long()


def model(activation):
    act = nn.PReLU(128) if activation == "prelu" else nn.ReLU()
    return nn.Sequential(collections.OrderedDict(fc1=nn.Linear(784, 128), act=act,
                                                 fc2=nn.Linear(128, 10)))


def accuracy(net, x, y):
    with torch.no_grad():
        return (net(x).argmax(dim=1) == y).float().mean().item() * 100.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--initial", type=pathlib.Path,
                        help="the example's initial_<activation>.safetensors")
    parser.add_argument("--torch-init", action="store_true",
                        help="PyTorch's default init (torch.manual_seed(seed)) instead")
    parser.add_argument("--activation", choices=("relu", "prelu"), default="relu")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.initial is None and not args.torch_init:
        parser.error("give --initial FILE (the example's initial weights) or --torch-init")
    torch.set_num_threads(args.threads)

    train_x, train_y = load("train")
    test_x, test_y = load("t10k")
    torch.manual_seed(args.seed)
    net = model(args.activation)
    if args.initial is not None:
        state = import_safetensors.load(args.initial)
        net.load_state_dict({k: v.float() for k, v in state.items()})
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    rng = fashion_order.SplitMix64(args.seed)
    print(f"torch: Adam lr {args.lr:g} cosine over {args.epochs} epochs, batch {args.batch}, "
          f"seed {args.seed}, {args.threads} thread(s)")
    for epoch in range(args.epochs):
        lr = args.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / args.epochs))
        for group in opt.param_groups:
            group["lr"] = lr
        order = torch.tensor(fashion_order.shuffled_order(len(train_x), rng))
        start = time.perf_counter()
        total = 0.0
        for first in range(0, len(order), args.batch):
            rows = order[first:first + args.batch]
            opt.zero_grad()
            loss = F.cross_entropy(net(train_x[rows]), train_y[rows])
            loss.backward()
            opt.step()
            total += loss.item() * len(rows)
        seconds = time.perf_counter() - start
        print(f"epoch {epoch + 1:2d}  lr {lr:.2e}  loss {total / len(order):.4f}  "
              f"train {accuracy(net, train_x, train_y):6.2f} %  "
              f"test {accuracy(net, test_x, test_y):6.2f} %  {seconds:6.2f} s", flush=True)
    if args.activation == "prelu":
        alpha = net.act.weight.detach().sort().values
        print(f"PReLU alpha per channel: min {alpha[0]:.4f}  median "
              f"{alpha[len(alpha) // 2]:.4f}  max {alpha[-1]:.4f}")


if __name__ == "__main__":
    main()
