#!/usr/bin/env bash
# Builds and runs the libFuzzer target of the safetensors loader, without CMake:
#   tests/fuzz/fuzz.sh build                      compile build/fuzz/safetensors_fuzzer
#   tests/fuzz/fuzz.sh run [SECONDS] [ARGS...]    build, then fuzz SECONDS (default 60) from a
#                                                 scratch copy of tests/fuzz/corpus; extra
#                                                 ARGS go to libFuzzer (e.g. -seed=1)
#   build/fuzz/safetensors_fuzzer FILE...         replay inputs (a crash file, a seed)
# `run` exits non-zero on any crash, sanitizer report, leak, timeout or out-of-memory; the
# input is saved under build/fuzz/artifacts/: minimize it (build/fuzz/safetensors_fuzzer
# -minimize_crash=1 -runs=10000 FILE) and commit it as tests/fuzz/corpus/regression-<what>
# (tests/fuzz/make_corpus.py keeps regression-* seeds). The committed corpus is never written to.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

out=build/fuzz
fuzzer=$out/safetensors_fuzzer
cxx=${NNFUSE_FUZZ_CXX:-clang++-14}
sources=(runtime/weights/src/safetensors.cpp tests/fuzz/safetensors_fuzzer.cpp)
# nlohmann-json comes from /usr/include (nlohmann-json3-dev). _GLIBCXX_ASSERTIONS bounds-checks
# std::span and std::vector indexing: an out-of-range read that stays inside the input buffer
# (the header read as data) is invisible to ASan otherwise.
# shellcheck disable=SC2054 # the commas are inside -fsanitize=...
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
  -D_GLIBCXX_ASSERTIONS -Iruntime/weights/include)

build() {
  mkdir -p "$out"
  # Rebuild only when the compiler, the flags or a source changed (the stamp is their hash).
  local stamp
  stamp=$({
    "$cxx" --version
    printf '%s\n' "${flags[@]}"
    cat "${sources[@]}" runtime/weights/include/nnfuse/weights/safetensors.hpp
    dpkg-query -W -f='${Version}\n' nlohmann-json3-dev 2>/dev/null || true
  } | sha256sum | cut -d' ' -f1)
  if [[ -x "$fuzzer" && -f "$out/stamp" && "$(cat "$out/stamp")" == "$stamp" ]]; then
    echo "fuzz: $fuzzer is up to date"
    return
  fi
  rm -f "$out/stamp"
  local -a pids=() objects=()
  local src obj pid
  for src in "${sources[@]}"; do
    obj=$out/$(basename "${src%.cpp}").o
    objects+=("$obj")
    printf '+ %s\n' "$cxx ${flags[*]} -c $src -o $obj"
    "$cxx" "${flags[@]}" -c "$src" -o "$obj" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  printf '+ %s\n' "$cxx ${flags[*]} ${objects[*]} -o $fuzzer"
  "$cxx" "${flags[@]}" "${objects[@]}" -o "$fuzzer"
  echo "$stamp" >"$out/stamp"
}

run() {
  local seconds=${1:-60}
  (($# == 0)) || shift
  build
  # A scratch copy: libFuzzer adds the inputs it finds to the first corpus directory.
  rm -rf "$out/corpus" "$out/artifacts"
  mkdir -p "$out/artifacts"
  cp -R tests/fuzz/corpus "$out/corpus"
  local seeds log rc=0
  seeds=$(find "$out/corpus" -type f | wc -l)
  log=$out/fuzz.log
  echo "fuzz: ${seconds} s from $seeds seeds (log: $log)"
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  set +e
  "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
    -dict=tests/fuzz/safetensors.dict -artifact_prefix="$out/artifacts/" "$@" \
    "$out/corpus" >"$log" 2>&1
  rc=$?
  set -e
  local runs
  runs=$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' |
    awk '{ s += $1 } END { print s + 0 }')
  if ((rc != 0)); then
    tail -n 80 "$log"
    echo "fuzz: FAILED (exit $rc) after $runs executions; inputs saved:" >&2
    find "$out/artifacts" -type f >&2
    echo "fuzz: replay with: $fuzzer <input>" >&2
    return "$rc"
  fi
  # libFuzzer's progress lines are many; show the start and the final statistics.
  grep -E '^(INFO: Seed|#[0-9]+[[:space:]]+INITED|Done [0-9]+ runs|stat::)' "$log" || true
  echo "fuzz: $runs executions in $seconds s, corpus $seeds -> $(find "$out/corpus" -type f |
    wc -l) inputs, no crash"
}

case "${1:-}" in
  build) build ;;
  run)
    shift
    run "$@"
    ;;
  *)
    echo "usage: $0 build | run [SECONDS] [libFuzzer args...]" >&2
    exit 2
    ;;
esac
