// The registry, the option parser and main() of every benchmark program (see common.hpp).
#include "common.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <sched.h>

#include <nnfuse/runtime/peak.hpp>

namespace nnfuse_bench {
namespace {

std::vector<Entry>& entries() {
  static std::vector<Entry> all;
  return all;
}

// The fixture of the benchmark running now. Google Benchmark runs one benchmark's repetitions
// back to back, so one slot suffices, and the previous fixture (up to 64 MiB of weights) is
// freed before the next one is built.
struct Prepared {
  std::string name;
  std::function<void()> call;
  bool any_check_failed = false;
};

Prepared& current() {
  static Prepared slot;
  return slot;
}

// Prepares `entry` unless it is the current one; on a check failure reports it and returns
// nullptr (the benchmark is then skipped with the message, and the program exits 1).
const std::function<void()>* prepared(const Entry& entry, std::string& error) {
  Prepared& slot = current();
  if (slot.name != entry.name) {
    slot.name.clear();
    slot.call = nullptr;  // frees the previous fixture first
    try {
      slot.call = entry.prepare();
      slot.name = entry.name;
    } catch (const std::exception& e) {
      error = e.what();
      slot.any_check_failed = true;
      return nullptr;
    }
  }
  return &slot.call;
}

int parse_int(std::string_view flag, const std::string& value) {
  char* end = nullptr;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || v < 1 || v > 1024) {
    throw std::invalid_argument(std::string(flag) + " needs a positive integer, got '" + value +
                                "'");
  }
  return static_cast<int>(v);
}

// Takes the program's own flags out of argv (Google Benchmark rejects flags it does not know).
Options parse_options(int& argc, char** argv) {
  Options options;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--threads=", 0) == 0) {
      options.threads = parse_int("--threads", arg.substr(10));
    } else if (arg == "--check") {
      options.check_only = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  return options;
}

int cpus_allowed() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  return CPU_COUNT(&set);
}

int check_all(std::string_view group) {
  const std::string filter = benchmark::GetBenchmarkFilter();
  const std::regex selected(filter.empty() || filter == "all" ? "." : filter);
  int failed = 0;
  int passed = 0;
  for (const Entry& entry : entries()) {
    if (!std::regex_search(entry.name, selected)) continue;
    try {
      entry.prepare();
      ++passed;
      std::printf("ok      %s\n", entry.name.c_str());
    } catch (const std::exception& e) {
      ++failed;
      std::printf("FAILED  %s\n", e.what());
    }
    std::fflush(stdout);
  }
  std::printf("%s: %d passed, %d failed\n", std::string(group).c_str(), passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}

}  // namespace

void add(Entry entry) {
  entries().push_back(std::move(entry));
}

int run_main(int argc, char** argv, std::string_view group, void (*set_threads)(int),
             void (*register_all)(const Options&)) {
  try {
    const Options options = parse_options(argc, argv);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    set_threads(options.threads);
    register_all(options);
    if (options.check_only) return check_all(group);

    const int allowed = cpus_allowed();
    if (allowed < options.threads) {
      std::fprintf(stderr,
                   "%s: warning: %d threads requested but this process may run on %d CPU(s)\n",
                   std::string(group).c_str(), options.threads, allowed);
    }
    const double peak = nnfuse::fma_peak_gflops(options.threads);
    const double copy = copy_gbps(options.threads);
    benchmark::AddCustomContext("nnfuse_group", std::string(group));
    benchmark::AddCustomContext("nnfuse_threads", std::to_string(options.threads));
    benchmark::AddCustomContext("nnfuse_cpus_allowed", std::to_string(allowed));
    benchmark::AddCustomContext("nnfuse_peak_gflops", std::to_string(peak));
    benchmark::AddCustomContext("nnfuse_copy_gbps", std::to_string(copy));

    for (const Entry& entry : entries()) {
      const Entry* e = &entry;
      const int threads = options.threads;
      benchmark::RegisterBenchmark(
          entry.name.c_str(),
          [e, threads, peak, copy](benchmark::State& state) {
            std::string error;
            const std::function<void()>* call = prepared(*e, error);
            if (call == nullptr) {
              state.SkipWithError(error.c_str());
              return;
            }
            for (auto _ : state) (*call)();
            using benchmark::Counter;
            if (e->flops > 0) {
              state.counters["GFLOP/s"] =
                  Counter(e->flops * 1e-9, Counter::kIsIterationInvariantRate);
              state.counters["peak_fraction"] =
                  Counter(e->flops * 1e-9 / peak, Counter::kIsIterationInvariantRate);
            }
            if (e->bytes > 0) {
              state.counters["GB/s"] = Counter(e->bytes * 1e-9, Counter::kIsIterationInvariantRate);
              state.counters["bandwidth_fraction"] =
                  Counter(e->bytes * 1e-9 / copy, Counter::kIsIterationInvariantRate);
            }
            state.counters["threads"] = threads;
          })
          // Wall time decides iterations and rates; cpu_time is the whole process's user+sys
          // time, so cpu_time / real_time shows how many cores the run really had.
          ->UseRealTime()
          ->MeasureProcessCPUTime()
          ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (current().any_check_failed) {
      std::fprintf(stderr, "%s: some outputs disagreed with the reference (see the errors)\n",
                   std::string(group).c_str());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", std::string(group).c_str(), e.what());
    return 2;
  }
}

}  // namespace nnfuse_bench
