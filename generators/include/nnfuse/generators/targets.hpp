// What the generators need to know of a target: the register tile of the micro-kernel its
// register file allows (and the panel width a layer's packed weights follow), how wide an epilogue
// is vectorized, and its features as the bit words Halide's runtime reads to decide whether this
// CPU can run a variant.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <Halide.h>

namespace nnfuse::generators {

// The register tile of the `manual` schedule's micro-kernel on one target: a panel of
// `panel` weight columns (panel / lanes vector registers) times `rows` rows of X, every
// accumulator in a register, plus one register for the broadcast X element. Per k the tile
// loads panel / lanes weight vectors and broadcasts `rows` X elements, and issues
// rows * panel / lanes FMAs.
//   AVX-512 (32 zmm, 2 FMA and 2 load ports): 32 x 8. Two zmm per row halve the broadcasts per
//     FMA against one (16 x 12 ran 12 accumulators, each FMA with its own broadcast: 46 % of
//     peak on (32, 784, 128), measured 2026-12-01 on Sapphire Rapids); 16 accumulators are
//     twice the 4-cycle latency times 2 ports, and 10 loads per 16 FMAs stay under the load
//     ports' share. 8 rows, not the 14 the registers allow: a batch of 32, 64, ... is whole
//     tiles (12-row tiles compute 36 rows of 32), and the FMA:load ratio gains little more.
//   AVX2 (16 ymm): 16 x 6, 12 accumulators (latency 4-5 x 2 ports needs 8-10).
//   NEON (32 q): 16 x 6, 24 accumulators; SSE (16 xmm): 16 x 2.
struct MicroKernel {
  int lanes;  // floats per vector register
  int panel;  // weight columns per tile: a whole number of vectors
  int rows;   // rows of X per tile
};

// Whether an x86 target has AVX-512 in the spellings Halide 14 vectorizes 16 floats wide for:
// `avx512_skylake` and `avx512_cannonlake` imply the base feature in Halide's code generator but
// not in has_feature(AVX512), and a target string naming only them got the 16-register AVX2
// tile. (`avx512_sapphirerapids` alone is 4 floats wide in Halide 14's natural_vector_size; it
// comes with the others in a host target string.)
inline bool has_avx512(const Halide::Target& target) {
  return target.arch == Halide::Target::X86 &&
         target.features_any_of({Halide::Target::AVX512, Halide::Target::AVX512_KNL,
                                 Halide::Target::AVX512_Skylake,
                                 Halide::Target::AVX512_Cannonlake});
}

// Vector registers: 16 on x86 without AVX-512, 32 with it and on NEON.
inline int vector_registers(const Halide::Target& target) {
  return target.arch == Halide::Target::X86 && !has_avx512(target) ? 16 : 32;
}

inline MicroKernel micro_kernel(const Halide::Target& target) {
  const int lanes = std::max(1, target.natural_vector_size<float>());
  const int panel = std::max(16, 2 * lanes);
  const int vectors_per_row = std::max(1, panel / lanes);
  const int rows =
      std::clamp((vector_registers(target) - vectors_per_row - 1) / vectors_per_row, 1, 8);
  return {lanes, panel, rows};
}

// One plan of the micro-kernel: tiles of `rows` rows by `panels` panels. A batch takes the
// tallest plan it fills (batch >= rows) and shifts its last tile inwards.
struct RowPlan {
  int rows;
  int panels;
};

// The plans of a target, tallest first: the micro-kernel's tile, then half the rows each time
// down to one, each as many panels wide (up to four) as its registers hold: the accumulators,
// the panel's weight vectors when more than one row reuses them (two in flight otherwise), and
// the broadcast. Below the tall tile every row once read all the weights again: the seed
// network took 4.3 us at B = 1 and 28.6 us at B = 7 against 19.6 us at B = 8 (AVX-512, one
// thread, 2026-12-01). AVX-512: 8 x 1, 4 x 3, 2 x 4, 1 x 4; AVX2: 6 x 1, 3 x 1, 1 x 4 (a 3 x 2
// tile spilled: tests/generators/micro_kernel_asm_test.cpp); NEON: 6 x 1, 3 x 1, 1 x 4.
inline std::vector<RowPlan> row_plans(const Halide::Target& target) {
  const MicroKernel mk = micro_kernel(target);
  const int vectors = mk.panel / mk.lanes;
  std::vector<RowPlan> plans{{mk.rows, 1}};
  for (int rows = std::max(1, mk.rows / 2); plans.back().rows > 1; rows = std::max(1, rows / 2)) {
    auto registers_needed = [&](int p) {
      return rows * p * vectors + (rows > 1 ? p * vectors : 2) + 1;
    };
    int panels = 4;
    while (panels > 1 && registers_needed(panels) > vector_registers(target)) --panels;
    plans.push_back({rows, panels});
  }
  return plans;
}

// The panels a plan's tile really spans in a layer whose padded weights have `padded_panels`:
// the most up to the plan's that divide them, so a tile never leaves the weights.
inline int plan_panels(const RowPlan& plan, int padded_panels) {
  int panels = std::max(1, std::min(plan.panels, padded_panels));
  while (padded_panels % panels != 0) --panels;
  return panels;
}

// The panel width a layer of `columns` outputs gets on `target`: the target's, or fewer whole
// vectors for a narrow layer (N = 10 pads to 16 columns on AVX-512, not 32).
inline int panel_columns(const Halide::Target& target, int columns) {
  const MicroKernel mk = micro_kernel(target);
  const int vectors = (columns + mk.lanes - 1) / mk.lanes;
  return std::min(mk.panel, std::max(1, vectors) * mk.lanes);
}

// Below this many multiply-adds per call a node's tiles run on one thread: waking Halide's pool
// takes a few microseconds, the work of (32, 128, 10) is about one. A pass over rows without a
// matmul (an elementwise node, a row-wise epilogue) goes parallel from a 16th of it in elements.
inline constexpr int parallel_threshold_macs = 1 << 18;
inline constexpr int parallel_threshold_elements = parallel_threshold_macs / 16;

// How far ahead a pass over rows without matmul prefetches its input (Halide emits
// prefetchnta on x86). On a 2-core Intel Xeon with AVX-512 (a VM whose hardware prefetchers
// left a compute-bound loop waiting for memory: ELU 47 ms over 64 MiB against 16 ms over rows
// in L2), one thread, 64 MiB in place, medians of three interleaved runs (2026-12-04), none /
// 2 KiB / 4 KiB ahead: ReLU 5.5 / 4.7 / 3.8 ms, Sigmoid 56.9 / 37.5 / 39.7, Tanh 24.3 / 24.9 /
// 19.7, ELU 47.1 / 24.9 / 26.9, GELU 88.2 / 80.5 / 82.8, SiLU 58.4 / 45.2 / 43.4; 0.5–1 KiB
// slowed ReLU (6–7 ms), 32 KiB helped nothing.
inline constexpr int streaming_prefetch_bytes = 4096;

// Rows per chunk of the `fused` schedule: one micro-kernel tile. A chunk re-reads every
// layer's weights from L2 as a row tile of `manual` re-reads its panel, so larger chunks save
// nothing there, and the last chunk shifts inwards: measured on the seed network at B = 32,
// 24-row chunks computed 48 rows and took 104 us against manual's 80 us.
inline int fused_chunk_rows(const Halide::Target& target) {
  return micro_kernel(target).rows;
}

// Floats per vector of an epilogue, which is evaluated in float64: one float register's worth
// (two double registers). Measured on AVX2 (2026-11-27): 16-wide epilogues spilled and ran
// GELU at 31 ns per element, slower than the unvectorized naive schedule.
inline int epilogue_lanes(const Halide::Target& target) {
  return std::max(1, target.natural_vector_size<float>());
}

// A C++ initializer of `target`'s features as the bit words halide_can_use_target_features
// reads (Halide::Target::Feature and halide_target_feature_t share their numbers).
inline std::string feature_words(const Halide::Target& target, std::size_t& count) {
  count = (static_cast<std::size_t>(Halide::Target::FeatureEnd) + 63) / 64;
  std::vector<std::uint64_t> words(count, 0);
  for (int f = 0; f < Halide::Target::FeatureEnd; ++f) {
    if (target.has_feature(static_cast<Halide::Target::Feature>(f))) {
      words[static_cast<std::size_t>(f) / 64] |= std::uint64_t{1} << (f % 64);
    }
  }
  std::ostringstream text;
  text << "{";
  for (std::size_t w = 0; w < count; ++w)
    text << (w ? ", " : "") << "0x" << std::hex << words[w] << "ULL";
  text << "}";
  return text.str();
}

}  // namespace nnfuse::generators
