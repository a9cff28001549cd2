#!/usr/bin/env bash
# The main job: installs what is missing, builds the release preset and runs the example
# that prints the activation table. Arguments are passed to the example.
#   NNFUSE_STAGES="build run" scripts/run.sh   runs a subset of the stages
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

EXAMPLE=build/release/examples/activation_table
RUN_ARGS=("$@")

stage_setup() { nnfuse_cmd bash scripts/setup.sh; }
stage_configure() { nnfuse_cmd cmake --preset release; }
stage_build() { nnfuse_cmd cmake --build --preset release; }
stage_run() {
  if [[ ! -x "$EXAMPLE" ]]; then
    echo "error: $EXAMPLE was not built (is examples/activation_table.cpp there?)" >&2
    return 1
  fi
  nnfuse_cmd "$EXAMPLE" "${RUN_ARGS[@]}"
}

STAGES=(setup configure build run)

nnfuse_main_stages "${STAGES[@]}"
