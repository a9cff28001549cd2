#!/usr/bin/python3
"""nnfuse's epoch order in pure Python, bit for bit the same as nnfuse::data's C++.

SplitMix64 (`next`), Lemire's unbiased bounded draw (`bounded`) and the Fisher-Yates
`shuffled_order`, exactly as runtime/data/include/nnfuse/data/idx.hpp specifies them, so that a
PyTorch script visits the training images in the order an nnfuse trainer does:

    from fashion_order import SplitMix64, shuffled_order
    rng = SplitMix64(42)
    epoch1 = shuffled_order(60000, rng)
    epoch2 = shuffled_order(60000, rng)  # the next epoch, from the same generator

Run as a script it prints the first entries of successive epochs (the literals of
tests/data/order_test.cpp come from `tools/fashion_order.py --n 60000 --seed 42 --epochs 2
--head 10`).
"""

import argparse

MASK64 = (1 << 64) - 1


class SplitMix64:
    """SplitMix64: state += 0x9E3779B97F4A7C15, then the mix below, all modulo 2^64."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def bounded(self, r):
        """A uniform integer in [0, r), r >= 1: Lemire's multiply-shift with rejection."""
        if not 1 <= r <= MASK64:
            raise ValueError(f"bounded({r}): r must be in [1, 2^64)")
        m = self.next() * r
        low = m & MASK64
        if low < r:
            threshold = (-r) % (1 << 64) % r  # (2^64 - r) mod r, as uint64 arithmetic gives
            while low < threshold:
                m = self.next() * r
                low = m & MASK64
        return m >> 64


def shuffled_order(n, rng):
    """A permutation of range(n): Fisher-Yates from the back, j = rng.bounded(i + 1)."""
    if not 0 <= n <= 1 << 32:
        raise ValueError(f"shuffled_order({n}): n must be in [0, 2^32]")
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.bounded(i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60000, help="items per epoch (default 60000)")
    parser.add_argument("--seed", type=int, default=42, help="SplitMix64 seed (default 42)")
    parser.add_argument("--epochs", type=int, default=1, help="successive epochs (default 1)")
    parser.add_argument("--head", type=int, default=10, help="entries printed per epoch")
    args = parser.parse_args()
    rng = SplitMix64(args.seed)
    for epoch in range(1, args.epochs + 1):
        order = shuffled_order(args.n, rng)
        print(f"epoch {epoch}: " + ", ".join(str(k) for k in order[: args.head]))


if __name__ == "__main__":
    main()
