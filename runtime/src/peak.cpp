// The FMA peak (peak.hpp). The chains are written out by a fold over an index pack (constant
// indices), so the accumulators live in registers: a loop over an array kept them in memory at
// -O2. x <- x * a + b with a ~ 1 and b ~ 0 stays finite for any number of steps.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nnfuse/runtime/peak.hpp>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace nnfuse {
namespace {

#if defined(__x86_64__)
// 24 zmm chains of 32 registers: enough for 2 ports x 4-6 cycles on any AVX-512 core.
constexpr int avx512_chains = 24;
constexpr int avx512_lanes = 16;
// 12 ymm chains: 2 FMA ports x 4 cycles latency needs 8 in flight; 12 leaves slack and still
// fits the 16 ymm registers with the two constants. SSE2 has no FMA: a multiply and an add.
constexpr int avx2_chains = 12;
constexpr int avx2_lanes = 8;
constexpr int sse2_chains = 12;
constexpr int sse2_lanes = 4;

template <std::size_t... C>
__attribute__((target("avx512f"))) float avx512_chain_run(std::int64_t steps,
                                                          std::index_sequence<C...> /*chains*/) {
  const __m512 a = _mm512_set1_ps(0.999999F);
  const __m512 b = _mm512_set1_ps(1e-6F);
  __m512 acc[] = {_mm512_set1_ps(static_cast<float>(C))...};  // NOLINT(*-avoid-c-arrays)
  for (std::int64_t s = 0; s < steps; ++s) ((acc[C] = _mm512_fmadd_ps(acc[C], a, b)), ...);
  __m512 sum = _mm512_setzero_ps();
  ((sum = _mm512_add_ps(sum, acc[C])), ...);
  // A store, not _mm512_reduce_add_ps: g++ 12's header trips -Wuninitialized on that one.
  alignas(64) float out[avx512_lanes];  // NOLINT(*-avoid-c-arrays)
  _mm512_store_ps(out, sum);
  return out[0];  // the result is used, so the chains are not optimized away
}

template <std::size_t... C>
__attribute__((target("avx2,fma"))) float avx2_chain_run(std::int64_t steps,
                                                         std::index_sequence<C...> /*chains*/) {
  const __m256 a = _mm256_set1_ps(0.999999F);
  const __m256 b = _mm256_set1_ps(1e-6F);
  __m256 acc[] = {_mm256_set1_ps(static_cast<float>(C))...};  // NOLINT(*-avoid-c-arrays)
  for (std::int64_t s = 0; s < steps; ++s) ((acc[C] = _mm256_fmadd_ps(acc[C], a, b)), ...);
  __m256 sum = _mm256_setzero_ps();
  ((sum = _mm256_add_ps(sum, acc[C])), ...);
  alignas(32) float out[avx2_lanes];  // NOLINT(*-avoid-c-arrays)
  _mm256_store_ps(out, sum);
  return out[0];
}

template <std::size_t... C>
float sse2_chain_run(std::int64_t steps, std::index_sequence<C...> /*chains*/) {
  const __m128 a = _mm_set1_ps(0.999999F);
  const __m128 b = _mm_set1_ps(1e-6F);
  __m128 acc[] = {_mm_set1_ps(static_cast<float>(C))...};  // NOLINT(*-avoid-c-arrays)
  for (std::int64_t s = 0; s < steps; ++s) ((acc[C] = _mm_add_ps(_mm_mul_ps(acc[C], a), b)), ...);
  __m128 sum = _mm_setzero_ps();
  ((sum = _mm_add_ps(sum, acc[C])), ...);
  return _mm_cvtss_f32(sum);
}

float run_avx512(std::int64_t steps) {
  return avx512_chain_run(steps, std::make_index_sequence<avx512_chains>{});
}
float run_avx2(std::int64_t steps) {
  return avx2_chain_run(steps, std::make_index_sequence<avx2_chains>{});
}
float run_sse2(std::int64_t steps) {
  return sse2_chain_run(steps, std::make_index_sequence<sse2_chains>{});
}
#elif defined(__aarch64__)
// 24 of the 32 q registers: 2-4 FMA pipes x 4 cycles latency.
constexpr int neon_chains = 24;
constexpr int neon_lanes = 4;

template <std::size_t... C>
float neon_chain_run(std::int64_t steps, std::index_sequence<C...> /*chains*/) {
  const float32x4_t a = vdupq_n_f32(0.999999F);
  const float32x4_t b = vdupq_n_f32(1e-6F);
  float32x4_t acc[] = {vdupq_n_f32(static_cast<float>(C))...};  // NOLINT(*-avoid-c-arrays)
  for (std::int64_t s = 0; s < steps; ++s) ((acc[C] = vfmaq_f32(b, acc[C], a)), ...);
  float32x4_t sum = vdupq_n_f32(0.0F);
  ((sum = vaddq_f32(sum, acc[C])), ...);
  return vgetq_lane_f32(sum, 0);
}

float run_neon(std::int64_t steps) {
  return neon_chain_run(steps, std::make_index_sequence<neon_chains>{});
}
#endif

// Keeps a thread's result alive: the compiler must assume the empty asm reads it.
void keep(float value) {
#if defined(__x86_64__) || defined(__aarch64__)
  asm volatile("" : : "r"(&value) : "memory");
#else
  static_cast<void>(value);
#endif
}

constexpr std::int64_t fma_steps = 1 << 20;  // ~10 ms per thread at 4 GHz

}  // namespace

FmaChains fma_chains() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    return {&run_avx512, 2.0 * avx512_chains * avx512_lanes, "avx512f"};
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return {&run_avx2, 2.0 * avx2_chains * avx2_lanes, "avx2+fma"};
  }
  return {&run_sse2, 2.0 * sse2_chains * sse2_lanes, "sse2"};
#elif defined(__aarch64__)
  return {&run_neon, 2.0 * neon_chains * neon_lanes, "neon"};
#else
  throw std::runtime_error("nnfuse::fma_chains: no FMA chains for this CPU architecture");
#endif
}

double fma_peak_gflops(int threads) {
  if (threads < 1) {
    throw std::invalid_argument("nnfuse::fma_peak_gflops: threads must be at least 1, not " +
                                std::to_string(threads));
  }
  const FmaChains chains = fma_chains();
  double best = 1e30;
  for (int run = 0; run < 7; ++run) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> helpers;
    helpers.reserve(static_cast<std::size_t>(threads - 1));
    for (int t = 1; t < threads; ++t) {
      helpers.emplace_back([&chains] { keep(chains.run(fma_steps)); });
    }
    keep(chains.run(fma_steps));
    for (std::thread& h : helpers) h.join();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return chains.flops_per_step * static_cast<double>(fma_steps) * threads / best * 1e-9;
}

int pool_threads() {
  for (const char* name : {"HL_NUM_THREADS", "HL_NUMTHREADS"}) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read once by a profiling call, never written here
    if (const char* value = std::getenv(name)) {
      const int n = std::atoi(value);  // NOLINT(cert-err34-c): Halide reads it the same way
      if (n > 0) return n;
    }
  }
  return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
}

}  // namespace nnfuse
