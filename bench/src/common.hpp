// What every benchmark program shares. A group (nnfuse, or one peer) describes each benchmark as
// an `Entry`: its Google Benchmark name, the work of one call (FLOPs, bytes) and a `prepare`
// function that builds the fixture, runs it once, checks the output against the float64
// reference (throwing CheckFailure) and returns the call to time. `run_main` parses the
// program's own options (--threads=N, --check), sets the group's thread count, measures the
// machine's FMA peak and copy bandwidth at that thread count, registers every entry with
// counters GFLOP/s and peak_fraction (or GB/s and bandwidth_fraction), and runs them. With
// --check it only prepares (and so checks) every entry that matches --benchmark_filter: the
// CTest mode. Each program runs one group, so thread pools that spin never share a process.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "cases.hpp"

namespace nnfuse_bench {

struct Options {
  int threads = 1;          // --threads=N: the group's worker count (1 or 2 here)
  bool check_only = false;  // --check: check every selected benchmark's output, time nothing
};

struct Entry {
  std::string name;
  double flops = 0;  // per call; 0 for bandwidth benchmarks
  double bytes = 0;  // read + written per call, for bandwidth benchmarks (BM_Copy, elementwise)
  std::function<std::function<void()>()> prepare;
};

void add(Entry entry);

// The program's main: `group` names it in messages and in the JSON context, `set_threads`
// applies --threads to the group's library before `register_all` adds its entries.
int run_main(int argc, char** argv, std::string_view group, void (*set_threads)(int),
             void (*register_all)(const Options&));

// "B:32" and the like, as the names of the kernel grammar end.
inline std::string batch_suffix(std::size_t batch) {
  return "/B:" + std::to_string(batch);
}

// BM_PeakFma (the runtime's FMA chains, nnfuse/runtime/peak.hpp) and BM_Copy/64MiB, for the
// machine group (registered by the nnfuse program).
void add_machine_benchmarks(const Options& options);

// Measured once per process: the copy bandwidth in GB/s on `threads` threads (bytes read +
// written per second, best of a few runs). The FMA peak is nnfuse::fma_peak_gflops.
double copy_gbps(int threads);

}  // namespace nnfuse_bench
