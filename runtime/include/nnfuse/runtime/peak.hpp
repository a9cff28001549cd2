// This CPU's float32 multiply-add peak, measured: independent FMA chains (enough to cover the
// latency on every FMA port) in the widest vectors the CPU runs — AVX-512F, else AVX2 with FMA,
// else SSE2 multiplies and adds on x86-64; NEON on AArch64 — run on `threads` threads at once,
// best of several short runs (the machine may be shared; the peak is what it does unhindered).
// It is what nnfuse::profile and the benchmarks state shares of. pool_threads() is how many
// threads Halide's pool runs a parallel loop on (HL_NUM_THREADS, else the CPU count), which a
// node whose tiles go parallel may use.
#pragma once

#include <cstdint>
#include <string_view>

namespace nnfuse {

// One run of the chains: `steps` multiply-adds on every chain of one thread.
struct FmaChains {
  float (*run)(std::int64_t steps);
  double flops_per_step;  // chains x lanes x 2
  std::string_view isa;   // "avx512f", "avx2+fma", "sse2", "neon"
};

// The widest chains this CPU runs (chosen at run time).
FmaChains fma_chains();

// GFLOP/s of `threads` threads running the chains at once (about 70 ms per call).
double fma_peak_gflops(int threads = 1);

// Threads of Halide's pool: HL_NUM_THREADS when set, else the CPU count.
int pool_threads();

}  // namespace nnfuse
