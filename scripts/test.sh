#!/usr/bin/env bash
# The one test command: builds and tests nnfuse in every configuration, stage by stage.
#   scripts/test.sh                                  all stages
#   NNFUSE_STAGES="configure build test" scripts/test.sh   a subset, in the order given
# To add a stage: define stage_<name> below and add <name> to STAGES.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# Configure, build and test one preset.
preset_cycle() {
  nnfuse_cmd cmake --preset "$1"
  nnfuse_cmd cmake --build --preset "$1"
  nnfuse_cmd ctest --preset "$1"
}

stage_setup() { nnfuse_cmd bash scripts/setup.sh; }
stage_configure() { nnfuse_cmd cmake --preset dev; }
stage_build() { nnfuse_cmd cmake --build --preset dev; }
stage_test() { nnfuse_cmd ctest --preset dev; }

# Every C/C++ file git knows of (tracked, or new and not ignored) must be clang-formatted.
stage_format() {
  local -a files=()
  local f
  while IFS= read -r -d '' f; do
    [[ -f "$f" ]] && files+=("$f")
  done < <(git ls-files -z --cached --others --exclude-standard -- '*.hpp' '*.h' '*.cpp')
  echo "checking ${#files[@]} files with $(clang-format-14 --version)"
  ((${#files[@]} == 0)) || clang-format-14 --dry-run -Werror "${files[@]}"
}

# clang-tidy (.clang-tidy) over the examples, the DSL's header self-containment TUs, the sources
# of the runtime, the loader and the data reader (with their headers), and one generator program
# of the dev build, which includes every generators/ header; tests are left out (gtest's macros).
stage_tidy() {
  local -a files=(examples/*.cpp runtime/src/*.cpp runtime/weights/src/*.cpp runtime/data/src/*.cpp
    build/dev/tests/runtime/nnfuse/test_networks_generator.cpp)
  mapfile -t -O "${#files[@]}" files < <(find build/dev/dsl/header_check -name '*.cpp' | sort)
  nnfuse_cmd run-clang-tidy-14 -quiet -p build/dev -j 2 "${files[@]}"
}

# The same project built with clang++-14: every header must compile with clang 14 too.
stage_clang() { preset_cycle clang; }

# Debug build with AddressSanitizer + UndefinedBehaviorSanitizer (options in CMakePresets.json).
# It reuses the kernels the dev build generated (same sources, same machine code) when that
# build exists, instead of generating them again with sanitized generators.
stage_asan() {
  local -a reuse=()
  [[ -d build/dev ]] && reuse=("-DNNFUSE_PREGENERATED_DIR=$PWD/build/dev")
  nnfuse_cmd cmake --preset asan "${reuse[@]}"
  nnfuse_cmd cmake --build --preset asan
  nnfuse_cmd ctest --preset asan
}

# ThreadSanitizer on the concurrency test only (threads sharing one Model); Halide's runtime is
# not instrumented, so tests/runtime/tsan.supp suppresses the hand-offs through it.
stage_tsan() {
  nnfuse_cmd cmake --preset tsan
  nnfuse_cmd cmake --build --preset tsan --target runtime_concurrency_test
  nnfuse_cmd ctest --preset tsan -R '^Concurrency\.'
}

# libFuzzer (clang++-14, ASan + UBSan) on the safetensors loader for 60 s from the committed
# seed corpus (tests/fuzz/corpus, copied to build/fuzz/corpus first); fails on any crash.
stage_fuzz() { nnfuse_cmd tests/fuzz/fuzz.sh run 60; }

STAGES=(setup configure build test format tidy clang asan tsan fuzz)

nnfuse_main_stages "${STAGES[@]}"
