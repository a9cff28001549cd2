// Packed weights: where each tensor of PyTorch's parameter block lives in the buffer a schedule
// reads (its WeightLayout: PyTorch's [N][K], the micro-kernel's panels, or transposed for the
// autoschedulers), padded to whole tiles so no tile or vector load leaves its tensor, and the
// C++ source of the function that packs the block once at load time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nnfuse/dsl/graph.hpp>
#include <nnfuse/generators/schedule.hpp>

namespace nnfuse::generators {

// Panel width of the `manual` schedule's packed weights: 16 floats, one AVX-512 vector, two
// AVX2 or four NEON vectors, so one layout serves every target of a multi-target build.
inline constexpr std::size_t manual_panel = 16;

// Columns of one tile of the tuned schedules: up to four panels. Weights and vectors are
// zero-padded to a whole number of tiles, so a tile never reads past its tensor.
inline constexpr std::size_t tile_columns(std::size_t n) {
  const std::size_t panels = (n + manual_panel - 1) / manual_panel;
  return std::min<std::size_t>(panels, 4) * manual_panel;
}
inline constexpr std::size_t packed_alignment_floats = 16;

// Where each tensor of the parameter block lives in a schedule's packed buffer.
struct PackedTensor {
  std::string name;
  std::size_t torch_offset;  // floats, in the PyTorch-layout parameter block
  std::size_t rows;          // N
  std::size_t cols;          // K, 0 for a vector
  std::size_t offset;        // floats, in the packed buffer
  std::size_t padded_rows;   // N rounded up to the panel width (weights of `manual`)
  bool panels;               // [N/P][K][P] instead of [N][K]
  bool transposed = false;   // [K][padded N] (the autoschedulers' layout) instead of [N][K]
};

struct PackedLayout {
  std::vector<PackedTensor> tensors;
  std::size_t floats = 0;

  [[nodiscard]] const PackedTensor& at(std::string_view name) const {
    for (const auto& t : tensors) {
      if (t.name == name) return t;
    }
    throw std::logic_error("nnfuse generator: no tensor '" + std::string(name) + "'");
  }
};

template <class Net>
PackedLayout packed_layout(Schedule schedule) {
  PackedLayout layout;
  for (const ParameterInfo& p : graph<Net>::parameters) {
    PackedTensor t{std::string(p.name),
                   p.offset_bytes / sizeof(float),
                   p.shape[0],
                   p.shape[1],
                   0,
                   p.shape[0],
                   false};
    const WeightLayout weights = info(schedule).weights;
    if (weights != WeightLayout::torch) {
      // Whole tiles: the micro-kernel's tiles and vector loads never leave the tensor. The
      // autoschedulers get [K][N], where any split of n is a dense vector load (given panels,
      // their n/16, n%16 indexing became gathers: measured 600 us for the seed network at
      // B = 32, slower than naive).
      t.panels = p.rank == 2 && weights == WeightLayout::panels;
      t.transposed = p.rank == 2 && weights == WeightLayout::transposed;
      const std::size_t tile = tile_columns(t.rows);
      t.padded_rows = (t.rows + tile - 1) / tile * tile;
    }
    layout.floats = (layout.floats + packed_alignment_floats - 1) / packed_alignment_floats *
                    packed_alignment_floats;
    t.offset = layout.floats;
    layout.floats += t.padded_rows * std::max<std::size_t>(t.cols, 1);
    layout.tensors.push_back(t);
  }
  return layout;
}

// C++ source of the packing function for `layout` (plain loops, run once at load time).
inline std::string pack_function_source(const PackedLayout& layout, const std::string& name) {
  std::ostringstream s;
  s << "void " << name << "(const float* torch, float* packed) noexcept {\n";
  s << "  std::fill(packed, packed + " << layout.floats << ", 0.0F);\n";
  for (const auto& t : layout.tensors) {
    if (t.transposed) {
      s << "  // " << t.name << ": [" << t.rows << "][" << t.cols << "] -> [" << t.cols << "]["
        << t.padded_rows << "], padding columns zero\n";
      s << "  for (std::size_t n = 0; n < " << t.rows << "; ++n) {\n"
        << "    for (std::size_t k = 0; k < " << t.cols << "; ++k) {\n"
        << "      packed[" << t.offset << " + k * " << t.padded_rows << " + n] = torch["
        << t.torch_offset << " + n * " << t.cols << " + k];\n    }\n  }\n";
    } else if (!t.panels) {
      s << "  std::copy_n(torch + " << t.torch_offset << ", "
        << t.rows * std::max<std::size_t>(t.cols, 1) << ", packed + " << t.offset << ");  // "
        << t.name << "\n";
    } else {
      s << "  // " << t.name << ": [" << t.rows << "][" << t.cols << "] -> panels ["
        << t.padded_rows / manual_panel << "][" << t.cols << "][" << manual_panel
        << "], padding rows zero\n";
      s << "  for (std::size_t n = 0; n < " << t.rows << "; ++n) {\n"
        << "    for (std::size_t k = 0; k < " << t.cols << "; ++k) {\n"
        << "      packed[" << t.offset << " + (n / " << manual_panel << ") * "
        << t.cols * manual_panel << " + k * " << manual_panel << " + n % " << manual_panel
        << "] = torch[" << t.torch_offset << " + n * " << t.cols << " + k];\n    }\n  }\n";
    }
  }
  s << "}\n";
  return s.str();
}

}  // namespace nnfuse::generators
