// The machine's own limits, which every other figure is a fraction of: the FMA peak (the
// runtime's chains, nnfuse/runtime/peak.hpp: the widest vectors the CPU runs, chosen at run
// time) and the bandwidth of a plain copy of 64 MiB.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <nnfuse/runtime/peak.hpp>

#include "common.hpp"

namespace nnfuse_bench {
namespace {

// Keeps a thread's result alive: the compiler must assume the empty asm reads it.
void keep(float value) {
  asm volatile("" : : "x"(value));
}

// Runs `work` on `threads` threads (the caller is one of them) and waits for all.
template <class Work>
void on_threads(int threads, const Work& work) {
  std::vector<std::thread> helpers;
  helpers.reserve(static_cast<std::size_t>(threads - 1));
  for (int t = 1; t < threads; ++t) helpers.emplace_back(work, t);
  work(0);
  for (auto& h : helpers) h.join();
}

// One call of the FMA benchmark: `steps` steps on each of `threads` threads.
void fma_on_threads(const nnfuse::FmaChains& kernel, int threads, std::int64_t steps) {
  on_threads(threads, [&](int) { keep(kernel.run(steps)); });
}

constexpr std::size_t copy_bytes = std::size_t{64} << 20;

struct CopyBuffers {
  std::unique_ptr<char[]> from = std::make_unique<char[]>(copy_bytes);
  std::unique_ptr<char[]> to = std::make_unique<char[]>(copy_bytes);
  CopyBuffers() {
    // Touch every page once, so the first timed copy does not pay the page faults.
    std::memset(from.get(), 1, copy_bytes);
    std::memset(to.get(), 0, copy_bytes);
  }
};

// Each thread copies its contiguous share, as a parallel elementwise kernel would.
void copy_on_threads(CopyBuffers& buffers, int threads) {
  on_threads(threads, [&](int t) {
    const std::size_t share = copy_bytes / static_cast<std::size_t>(threads);
    const std::size_t begin = share * static_cast<std::size_t>(t);
    const std::size_t end = t + 1 == threads ? copy_bytes : begin + share;
    std::memcpy(buffers.to.get() + begin, buffers.from.get() + begin, end - begin);
  });
}

template <class F>
double best_seconds(int runs, const F& f) {
  double best = 1e30;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

constexpr std::int64_t fma_steps = 1 << 20;  // ~10 ms per thread at 4 GHz

}  // namespace

double copy_gbps(int threads) {
  CopyBuffers buffers;
  const double seconds = best_seconds(5, [&] { copy_on_threads(buffers, threads); });
  return 2.0 * static_cast<double>(copy_bytes) / seconds * 1e-9;
}

void add_machine_benchmarks(const Options& options) {
  const int threads = options.threads;
  add({"BM_PeakFma", static_cast<double>(fma_steps) * threads * nnfuse::fma_chains().flops_per_step,
       0, [threads] {
         return std::function<void()>([threads, kernel = nnfuse::fma_chains()] {
           fma_on_threads(kernel, threads, fma_steps);
         });
       }});
  add({"BM_Copy/64MiB", 0, 2.0 * static_cast<double>(copy_bytes), [threads] {
         auto buffers = std::make_shared<CopyBuffers>();
         copy_on_threads(*buffers, threads);
         if (std::memcmp(buffers->from.get(), buffers->to.get(), copy_bytes) != 0) {
           throw CheckFailure("BM_Copy/64MiB: the copy differs from its source");
         }
         return std::function<void()>([buffers, threads] { copy_on_threads(*buffers, threads); });
       }});
}

}  // namespace nnfuse_bench
