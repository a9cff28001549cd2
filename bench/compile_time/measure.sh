#!/usr/bin/env bash
# Compile time of network specs, measured (not asserted): generates a 1-, 10- and 50-layer MLP
# spec (Dense<64> + ReLU per layer, named fc1..fcN) whose translation unit instantiates the whole
# graph — parameter table, every fused node, reference_forward and summary — compiles each with
# /usr/bin/time -v and prints wall time and peak memory. The baseline row (0 layers) is a TU that
# only includes <nnfuse/dsl.hpp>, the cost every spec pays before its first layer.
#
# usage: bench/compile_time/measure.sh [compiler...]      (default: g++ clang++-14)
#   NNFUSE_CT_LAYERS="1 10 50"  NNFUSE_CT_FLAGS="-O0"      to change the sizes or the flags
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
compilers=("$@")
((${#compilers[@]} > 0)) || compilers=(g++ clang++-14)
read -r -a sizes <<<"${NNFUSE_CT_LAYERS:-1 10 50}"
read -r -a flags <<<"${NNFUSE_CT_FLAGS:--O0}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

generate() {  # generate <layers> <file>
  local n=$1 file=$2
  {
    echo '#include <span>'
    echo '#include <string>'
    echo '#include <vector>'
    echo '#include <nnfuse/dsl.hpp>'
    if ((n == 0)); then
      echo 'int main() { return 0; }'
      return
    fi
    echo 'using namespace nnfuse;'
    printf 'using Net = Sequential<Input<64>'
    for ((i = 1; i < n; ++i)); do printf ', Dense<64, Name<"fc%d">>, ReLU' "$i"; done
    printf ', Dense<10, Name<"fc%d">>>;\n' "$n"
    echo "static_assert(graph<Net>::node_count == $n);"
    echo 'int main() {'
    echo '  const std::vector<float> params(graph<Net>::parameter_bytes / sizeof(float));'
    echo '  const std::vector<double> input(64);'
    echo '  const auto y = reference_forward<Net>(params, std::span<const double>(input), 1);'
    echo '  const std::string s = summary<Net>(1);'
    echo '  return y.size() + s.size() == 0 ? 1 : 0;'
    echo '}'
  } >"$file"
}

printf '%-14s %7s %10s %14s\n' compiler layers "wall (s)" "peak RSS (MiB)"
for cxx in "${compilers[@]}"; do
  for n in 0 "${sizes[@]}"; do
    src="$work/mlp_$n.cpp"
    generate "$n" "$src"
    /usr/bin/time -v "$cxx" -std=c++20 "${flags[@]}" -I"$root/dsl/include" -c "$src" \
      -o "$work/mlp_$n.o" 2>"$work/time.txt" || {
      cat "$work/time.txt" >&2
      exit 1
    }
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
      n = split($2, t, ":"); s = 0; for (i = 1; i <= n; ++i) s = s * 60 + t[i]; printf "%.2f", s }' \
      "$work/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/time.txt")
    printf '%-14s %7s %10s %14s\n' "$cxx" "$n" "$wall" "$rss"
  done
done
