// The machine's own limits, which every other figure is a fraction of: the FMA peak
// (independent multiply-add chains, enough of them to cover the FMA latency on every port) and
// the bandwidth of a plain copy of 64 MiB. The FMA kernel is chosen at run time: zmm when the
// CPU has AVX-512F, ymm with AVX2+FMA otherwise, so one binary measures the widest vectors the
// CPU runs.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <immintrin.h>

#include "common.hpp"

namespace nnfuse_bench {
namespace {

// 12 ymm chains: 2 FMA ports x 4 cycles latency needs 8 in flight; 12 leaves slack and still
// fits the 16 ymm registers with the two constants.
constexpr int avx2_chains = 12;
constexpr int avx2_lanes = 8;
// 24 zmm chains of 32 registers: enough for 2 ports x 4-6 cycles on any AVX-512 core.
constexpr int avx512_chains = 24;
constexpr int avx512_lanes = 16;

// x <- x * a + b with a ~ 1 and b ~ 0 stays finite for any number of steps. The chains are
// written out by a fold over an index pack (constant indices), so the accumulators live in
// registers: a loop over an array kept them in memory at -O2.
template <std::size_t... C>
__attribute__((target("avx2,fma"))) float fma_chains_avx2(std::int64_t steps,
                                                          std::index_sequence<C...> /*chains*/) {
  const __m256 a = _mm256_set1_ps(0.999999F);
  const __m256 b = _mm256_set1_ps(1e-6F);
  __m256 acc[] = {_mm256_set1_ps(static_cast<float>(C))...};
  for (std::int64_t s = 0; s < steps; ++s) {
    ((acc[C] = _mm256_fmadd_ps(acc[C], a, b)), ...);
  }
  __m256 sum = _mm256_setzero_ps();
  ((sum = _mm256_add_ps(sum, acc[C])), ...);
  alignas(32) float out[avx2_lanes];
  _mm256_store_ps(out, sum);
  return out[0];  // the result is used, so the chains are not optimized away
}

template <std::size_t... C>
__attribute__((target("avx512f"))) float fma_chains_avx512(std::int64_t steps,
                                                           std::index_sequence<C...> /*chains*/) {
  const __m512 a = _mm512_set1_ps(0.999999F);
  const __m512 b = _mm512_set1_ps(1e-6F);
  __m512 acc[] = {_mm512_set1_ps(static_cast<float>(C))...};
  for (std::int64_t s = 0; s < steps; ++s) {
    ((acc[C] = _mm512_fmadd_ps(acc[C], a, b)), ...);
  }
  __m512 sum = _mm512_setzero_ps();
  ((sum = _mm512_add_ps(sum, acc[C])), ...);
  // A store, not _mm512_reduce_add_ps: g++ 12's header trips -Wuninitialized on that one.
  alignas(64) float out[avx512_lanes];
  _mm512_store_ps(out, sum);
  return out[0];
}

float run_avx2(std::int64_t steps) {
  return fma_chains_avx2(steps, std::make_index_sequence<avx2_chains>{});
}
float run_avx512(std::int64_t steps) {
  return fma_chains_avx512(steps, std::make_index_sequence<avx512_chains>{});
}

struct FmaKernel {
  float (*run)(std::int64_t);
  double flops_per_step;  // chains x lanes x 2
};

FmaKernel fma_kernel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    return {&run_avx512, 2.0 * avx512_chains * avx512_lanes};
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return {&run_avx2, 2.0 * avx2_chains * avx2_lanes};
  }
  throw std::runtime_error("BM_PeakFma needs a CPU with AVX2 and FMA (or AVX-512F)");
}

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
void fma_on_threads(const FmaKernel& kernel, int threads, std::int64_t steps) {
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

double peak_fma_gflops(int threads) {
  const FmaKernel kernel = fma_kernel();
  // Best of several short runs: the machine is shared, the peak is what it can do unhindered.
  const double seconds = best_seconds(7, [&] { fma_on_threads(kernel, threads, fma_steps); });
  return kernel.flops_per_step * static_cast<double>(fma_steps) * threads / seconds * 1e-9;
}

double copy_gbps(int threads) {
  CopyBuffers buffers;
  const double seconds = best_seconds(5, [&] { copy_on_threads(buffers, threads); });
  return 2.0 * static_cast<double>(copy_bytes) / seconds * 1e-9;
}

void add_machine_benchmarks(const Options& options) {
  const int threads = options.threads;
  add({"BM_PeakFma", static_cast<double>(fma_steps) * threads * fma_kernel().flops_per_step, 0,
       [threads] {
         return std::function<void()>(
             [threads, kernel = fma_kernel()] { fma_on_threads(kernel, threads, fma_steps); });
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
