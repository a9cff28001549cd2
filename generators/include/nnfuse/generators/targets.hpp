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

inline MicroKernel micro_kernel(const Halide::Target& target) {
  const int lanes = std::max(1, target.natural_vector_size<float>());
  const int registers =
      target.arch == Halide::Target::X86 && !target.has_feature(Halide::Target::AVX512) ? 16 : 32;
  const int panel = std::max(16, 2 * lanes);
  const int vectors_per_row = std::max(1, panel / lanes);
  const int rows = std::clamp((registers - vectors_per_row - 1) / vectors_per_row, 1, 8);
  return {lanes, panel, rows};
}

// The panel width a layer of `columns` outputs gets on `target`: the target's, or fewer whole
// vectors for a narrow layer (N = 10 pads to 16 columns on AVX-512, not 32).
inline int panel_columns(const Halide::Target& target, int columns) {
  const MicroKernel mk = micro_kernel(target);
  const int vectors = (columns + mk.lanes - 1) / mk.lanes;
  return std::min(mk.panel, std::max(1, vectors) * mk.lanes);
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
