#!/usr/bin/env bash
# The main job: installs what is missing, builds the release preset (which generates the seed
# network's kernels), prints the activation table, then runs the seed network 784 -> 128 ReLU
# -> 10 on a batch of 32 with PyTorch's weights, for every schedule built, trains it (and its
# PReLU twin) on Fashion-MNIST, compares eight hidden activations on it (dead and saturated units
# counted by the statistics kernels), and compares the schedules with the peers on the seed network
# (scripts/bench.sh --quick).
#   NNFUSE_STAGES="build run" scripts/run.sh   runs a subset of the stages
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

EXAMPLES=(build/release/examples/activation_table build/release/examples/mnist_demo)

stage_setup() { nnfuse_cmd bash scripts/setup.sh; }
# Configured from the preset once; a configured tree keeps the user's cache settings (the build
# re-runs CMake by itself when a CMakeLists changed).
stage_configure() {
  if [[ -f build/release/CMakeCache.txt ]]; then
    echo "build/release is configured already (its cache is kept; delete it to start over)"
  else
    nnfuse_cmd cmake --preset release
  fi
}

# A first build generates and compiles every kernel of the seed network and of the benchmark
# networks (~40 generator runs, ~300 compiler jobs): measured at 7-8 minutes on 2 cores, so the
# estimate is ~15 core-minutes over the cores this machine has.
stage_build() {
  local cores
  cores=$(nproc)
  if [[ -f build/release/examples/mnist_demo ]]; then
    echo "rebuilding what changed in build/release"
  else
    echo "first build of build/release: generating the seed network's and the benchmarks' kernels"
    echo "with Halide and compiling them; expect about $(((15 + cores - 1) / cores)) minutes on $cores cores"
    echo "(Halide's messages go to a .log next to each kernel; -DNNFUSE_VERBOSE_GENERATORS=ON prints them)"
  fi
  nnfuse_cmd cmake --build --preset release
}
stage_run() {
  local example
  for example in "${EXAMPLES[@]}"; do
    if [[ ! -x "$example" ]]; then
      echo "error: $example was not built" >&2
      return 1
    fi
    nnfuse_cmd "$example"
    echo
  done
}

# Training on real data: the seed network on Fashion-MNIST (Debian's dataset-fashion-mnist) with
# nnfuse's generated training kernels, then the same with PReLU (its learned alpha per channel);
# each run saves its weights and reloads them into a Model (about 10 s each on 2 cores).
stage_train() {
  local example=build/release/examples/train_fashion_mnist activation
  if [[ ! -x "$example" ]]; then
    echo "error: $example was not built" >&2
    return 1
  fi
  for activation in relu prelu; do
    nnfuse_cmd "$example" --activation "$activation" --out build/release/fashion_mnist
    echo
  done
}

# The seed tutorial's comparison of activations, measured: the seed architecture with eight hidden
# activations, 3 epochs each, units counted by the statistics kernels, then the dying-ReLU runs;
# the never-active counts are recounted with a PyTorch forward hook and the plots drawn.
stage_compare() {
  local example=build/release/examples/compare_activations out=build/release/compare_activations
  if [[ ! -x "$example" ]]; then
    echo "error: $example was not built" >&2
    return 1
  fi
  nnfuse_cmd "$example" --out "$out"
  nnfuse_cmd /usr/bin/python3 tools/never_active_torch.py "$out"
  nnfuse_cmd /usr/bin/python3 tools/plot_activations.py "$out"
}

# The schedule comparison: the seed network and its layers, nnfuse's schedules against every
# peer found, 3 rounds (scripts/bench.sh; the full benchmark is `scripts/bench.sh`).
stage_bench() { nnfuse_cmd scripts/bench.sh --quick; }

STAGES=(setup configure build run train compare bench)

nnfuse_main_stages "${STAGES[@]}"
