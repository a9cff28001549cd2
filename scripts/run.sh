#!/usr/bin/env bash
# The main job: installs what is missing, builds the release preset (which generates the seed
# network's kernels), prints the activation table, then runs the seed network 784 -> 128 ReLU
# -> 10 on a batch of 32 with PyTorch's weights, for every schedule built, and compares the
# schedules with the peers on the seed network (scripts/bench.sh --quick).
#   NNFUSE_STAGES="build run" scripts/run.sh   runs a subset of the stages
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

EXAMPLES=(build/release/examples/activation_table build/release/examples/mnist_demo)

stage_setup() { nnfuse_cmd bash scripts/setup.sh; }
stage_configure() { nnfuse_cmd cmake --preset release; }
stage_build() { nnfuse_cmd cmake --build --preset release; }
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

# The schedule comparison: the seed network and its layers, nnfuse's schedules against every
# peer found, 3 rounds (scripts/bench.sh; the full benchmark is `scripts/bench.sh`).
stage_bench() { nnfuse_cmd scripts/bench.sh --quick; }

STAGES=(setup configure build run bench)

nnfuse_main_stages "${STAGES[@]}"
