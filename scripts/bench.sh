#!/usr/bin/env bash
# The schedule benchmark, in one command: builds the benchmark programs of the release preset,
# runs nnfuse's schedules and every peer found (oneDNN, XNNPACK, OpenBLAS, Eigen; libtorch and
# PyTorch eager for the training step) on the same shapes, and writes
# build/release/bench/results.json (every sample, medians, ratios), prints the table and draws
# build/release/bench/schedules.png.
#
#   scripts/bench.sh [--quick] [--threads 1|2|both] [--filter REGEX] [--rounds N]
#                    [--repetitions N] [--pin yes|no|both] [--no-build] [--build-dir DIR]
#
#   --quick        the seed network and its layers (784x128 ReLU, 128x10) at B=32 and B=1,
#                  3 rounds of 1 repetition (the main job runs this); without the training
#                  step's peers (libtorch, torch_eager: ~35 s more, mostly their start-up)
#   --threads      1, 2 or both (default both); 1 thread runs on CPU 0, 2 threads on CPUs 0,1
#   --filter       a Google Benchmark regex (replaces --quick's selection), e.g. '1024x1024'
#   --rounds N     rounds (default 5; --quick 3); every group runs once per round, in
#                  alternating order, so nnfuse and the peers are interleaved in time
#   --repetitions  repetitions per round (default 2; --quick 1): medians are over
#                  rounds x repetitions samples (default 10)
#   --pin          pin with taskset (yes, the default), run unpinned (no), or both, reported
#                  apart: on a busy machine two unpinned threads may share one core
#   --no-build     use the programs already built
#   --build-dir    the configured tree whose bench/ programs run and get the results (default
#                  build/release, configured from the release preset when it is missing)
#
# Each group runs in its own process (spinning thread pools never share one), pinned; the
# report shows user+sys CPU time over wall time, so a 2-thread run that did not get two cores
# shows it. Every process starts with OPENBLAS_NUM_THREADS set to its thread count: libtorch
# and PyTorch do their matmuls in OpenBLAS, which their set_num_threads does not reach. Exit
# status: non-zero when a build fails, a benchmark fails its reference check or a program
# fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

quick=0
threads=both
filter=""
rounds=""
repetitions=""
pin=yes
build=1
tree=build/release

die() {
  echo "bench.sh: $*" >&2
  exit 2
}

while (($# > 0)); do
  case "$1" in
    --quick) quick=1 ;;
    --threads)
      [[ $# -ge 2 ]] || die "--threads needs 1, 2 or both"
      threads=$2
      shift
      ;;
    --filter)
      [[ $# -ge 2 ]] || die "--filter needs a regex"
      filter=$2
      shift
      ;;
    --rounds)
      [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a positive integer"
      rounds=$2
      shift
      ;;
    --repetitions)
      [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || die "--repetitions needs a positive integer"
      repetitions=$2
      shift
      ;;
    --pin)
      [[ $# -ge 2 ]] || die "--pin needs yes, no or both"
      pin=$2
      shift
      ;;
    --no-build) build=0 ;;
    --build-dir)
      [[ $# -ge 2 ]] || die "--build-dir needs a folder"
      tree=${2%/}
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

case "$threads" in
  1) thread_counts=(1) ;;
  2) thread_counts=(2) ;;
  both) thread_counts=(1 2) ;;
  *) die "--threads must be 1, 2 or both, not '$threads'" ;;
esac
case "$pin" in
  yes) pin_modes=(pinned) ;;
  no) pin_modes=(unpinned) ;;
  both) pin_modes=(pinned unpinned) ;;
  *) die "--pin must be yes, no or both, not '$pin'" ;;
esac

if ((quick)); then
  : "${rounds:=3}" "${repetitions:=1}"
  # The seed network whole and by node, its two layers alone (nnfuse's 784x128 ReLU and every
  # peer's), and the machine's FMA peak.
  [[ -n "$filter" ]] || filter='BM_PeakFma|BM_Runtime/|/seed/|/(dense_)?784x128_relu/|/128x10_none/'
  min_time=0.05
else
  : "${rounds:=5}" "${repetitions:=2}"
  min_time=0.1
fi
[[ -n "$filter" ]] || filter='.'

out=$tree/bench
if ((build)); then
  # Configured once from the preset; later runs keep the cache as the user left it (a
  # -DNNFUSE_WERROR=OFF or a -DNNFUSE_BENCH_SET given since), and the build re-runs CMake itself
  # when a CMakeLists changed.
  if [[ $tree == build/release ]]; then
    [[ -f build/release/CMakeCache.txt ]] || cmake --preset release >/dev/null
    cmake --build --preset release --target nnfuse_benchmarks
  else
    [[ -f $tree/CMakeCache.txt ]] || die "$tree is not a configured build tree"
    cmake --build "$tree" --target nnfuse_benchmarks
  fi
fi
[[ -f "$out/groups.txt" ]] || die "$out/groups.txt is missing: build the release preset first"
read -r -a groups <"$out/groups.txt"
if ((quick)); then
  kept=()
  for g in "${groups[@]}"; do
    [[ $g == libtorch || $g == torch_eager ]] || kept+=("$g")
  done
  groups=("${kept[@]}")
fi

cpus=$(nproc)
if ((cpus < 2)) && [[ " ${thread_counts[*]} " == *" 2 "* ]]; then
  echo "bench.sh: warning: only $cpus CPU(s) available; 2-thread runs will share one" >&2
fi

raw="$out/raw"
rm -rf "$raw"
mkdir -p "$raw"
log="$out/bench.log"
: >"$log"

echo "bench.sh: groups: ${groups[*]}; threads: ${thread_counts[*]}; ${rounds} rounds x" \
  "${repetitions} repetitions; filter '$filter'; log $log"
failed=0
for ((round = 1; round <= rounds; round++)); do
  # Alternate the order, so no group always runs right after the same neighbour.
  order=("${groups[@]}")
  if ((round % 2 == 0)); then
    order=()
    for ((i = ${#groups[@]} - 1; i >= 0; i--)); do order+=("${groups[$i]}"); done
  fi
  for mode in "${pin_modes[@]}"; do
    for t in "${thread_counts[@]}"; do
      cpuset=0
      ((t >= 2)) && cpuset="0-$((t - 1))"
      for g in "${order[@]}"; do
        runner=(env "OPENBLAS_NUM_THREADS=$t")
        [[ "$mode" == pinned ]] && runner+=(taskset -c "$cpuset")
        json="$raw/round${round}_${mode}_t${t}_${g}.json"
        printf 'round %d/%d  %-8s  %d thread(s)  %-8s ' "$round" "$rounds" "$mode" "$t" "$g"
        start=$SECONDS
        if "${runner[@]}" "$out/bench_$g" "--threads=$t" "--benchmark_filter=$filter" \
          "--benchmark_repetitions=$repetitions" "--benchmark_min_time=$min_time" \
          "--benchmark_out=$json" --benchmark_out_format=json >>"$log" 2>&1; then
          echo "$((SECONDS - start)) s"
        else
          echo "FAILED (see $log)"
          failed=1
        fi
      done
    done
  done
done

/usr/bin/python3 bench/report.py --raw "$raw" --json "$out/results.json" --png "$out/schedules.png" ||
  failed=1
if ((failed)); then
  echo "bench.sh: some benchmarks failed (see $log)" >&2
  exit 1
fi
