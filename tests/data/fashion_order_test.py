#!/usr/bin/python3
"""tools/fashion_order.py against SplitMix64's reference values and order_test.cpp's literals
(the C++ test checks nnfuse::data against the same numbers, so the two agree bit for bit).

Usage: fashion_order_test.py <tools directory>
"""

import sys

sys.path.insert(0, sys.argv[1])
import fashion_order as f  # noqa: E402

failures = []


def check(name, got, want):
    if got != want:
        failures.append(f"{name}: got {got}, want {want}")


rng = f.SplitMix64(0)
check("seed 0", [rng.next() for _ in range(3)],
      [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F])

rng = f.SplitMix64(1)
check("bounded(2^63 + 1), seed 1", [rng.bounded((1 << 63) + 1) for _ in range(8)],
      [0x7c49d1777d992aaf, 0x38e0c34877216485, 0x38ddaa6c6880dadc, 0x61a685ffc80a8140,
       0x65a1ae473a30b3cb, 0x33baee3b80ab27b0, 0x4d7e6a268a67c5ff, 0x43d9a0eb486bd145])
check("state after 14 draws", rng.state, (1 + 14 * 0x9E3779B97F4A7C15) % (1 << 64))

rng = f.SplitMix64(42)
epoch1 = f.shuffled_order(60000, rng)
epoch2 = f.shuffled_order(60000, rng)
check("epoch 1", epoch1[:10], [57630, 3518, 47514, 24059, 52744, 32630, 681, 56646, 16965, 42666])
check("epoch 2", epoch2[:10], [28175, 22287, 15881, 3941, 2839, 49408, 57247, 47988, 49985, 27936])
check("epoch 1 is a permutation", sorted(epoch1) == list(range(60000)), True)
check("epoch 2 is a permutation", sorted(epoch2) == list(range(60000)), True)

rng = f.SplitMix64(9)
check("n = 0", f.shuffled_order(0, rng), [])
check("n = 1", f.shuffled_order(1, rng), [0])
check("n <= 1 draws nothing", rng.state, 9)

for failure in failures:
    print("FAIL", failure)
print("ok" if not failures else f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
