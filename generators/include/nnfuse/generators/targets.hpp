// What the generators need to know of a target: the register tile of the micro-kernel its
// register file allows, how wide an epilogue is vectorized, and its features as the bit words
// Halide's runtime reads to decide whether this CPU can run a variant.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <Halide.h>

#include <nnfuse/generators/packing.hpp>

namespace nnfuse::generators {

// The register tile of the `manual` schedule's micro-kernel on one target: one panel of
// weights (manual_panel columns, panel / lanes vector registers) times `rows` rows of X, every
// accumulator in a register, plus one register for the broadcast X element. On AVX2 (16 ymm)
// that is 16 x 6 (12 accumulators); on AVX-512 (32 zmm) 16 x 12; on NEON (32 q) 16 x 6.
struct MicroKernel {
  int lanes;  // floats per vector register
  int rows;   // rows of X per tile
};

inline MicroKernel micro_kernel(const Halide::Target& target) {
  const int lanes = std::max(1, target.natural_vector_size<float>());
  const int registers =
      target.arch == Halide::Target::X86 && !target.has_feature(Halide::Target::AVX512) ? 16 : 32;
  const int vectors_per_row = std::max(1, static_cast<int>(manual_panel) / lanes);
  const int rows = std::clamp((registers - vectors_per_row - 1) / vectors_per_row, 1, 12);
  return {lanes, rows};
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
