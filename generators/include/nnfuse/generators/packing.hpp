// Packed weights: where each tensor of PyTorch's parameter block lives in the buffer a schedule
// reads on one target (its WeightLayout: PyTorch's [N][K], the micro-kernel's panels of the
// target's width, or transposed for the autoschedulers), padded to whole tiles so no tile or
// vector load leaves its tensor, and the C++ source of the functions that pack the block once at
// load time and unpack it back to PyTorch's layout.
#pragma once

#include <algorithm>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <Halide.h>

#include <nnfuse/dsl/graph.hpp>
#include <nnfuse/generators/schedule.hpp>
#include <nnfuse/generators/targets.hpp>

namespace nnfuse::generators {

// Columns of one short-plan tile of the tuned schedules: up to four panels (one row of X, so
// four panels give the FMAs enough independent accumulators). Weights and vectors are
// zero-padded to a whole number of tiles, so a tile never reads past its tensor.
inline constexpr std::size_t tile_columns(std::size_t n, std::size_t panel) {
  const std::size_t panels = (n + panel - 1) / panel;
  return std::min<std::size_t>(panels, 4) * panel;
}
inline constexpr std::size_t packed_alignment_floats = 16;

// The tile each of `target`'s row plans (tallest first) cuts a layer of `columns` outputs into:
// the plan's rows by as many of its panels as divide the layer's padded panels. The `manual`
// schedule runs these tiles, and the generated header lists them for nnfuse::describe.
struct LayerTile {
  int rows;
  int columns;
};
inline std::vector<LayerTile> layer_tiles(const Halide::Target& target, int columns) {
  const int panel = panel_columns(target, columns);
  const int padded_panels = static_cast<int>(tile_columns(static_cast<std::size_t>(columns),
                                                          static_cast<std::size_t>(panel))) /
                            panel;
  std::vector<LayerTile> tiles;
  for (const RowPlan& plan : row_plans(target)) {
    tiles.push_back({plan.rows, plan_panels(plan, padded_panels) * panel});
  }
  return tiles;
}

// Where each tensor of the parameter block lives in a schedule's packed buffer.
struct PackedTensor {
  std::string name;
  std::size_t torch_offset;  // floats, in the PyTorch-layout parameter block
  std::size_t rows;          // N
  std::size_t cols;          // K, 0 for a vector
  std::size_t offset;        // floats, in the packed buffer
  std::size_t padded_rows;   // N rounded up to whole tiles (all but `naive`)
  bool panels;               // [N/P][K][P] instead of [N][K]
  std::size_t panel = 1;     // P, the panel width on this layout's target
  bool transposed = false;   // [K][padded N] (the autoschedulers' layout) instead of [N][K]
};

struct PackedLayout {
  std::vector<PackedTensor> tensors;
  std::size_t floats = 0;

  // Two targets whose schedules read the same layout share one packed copy.
  [[nodiscard]] bool same_as(const PackedLayout& other) const {
    if (floats != other.floats || tensors.size() != other.tensors.size()) return false;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      const PackedTensor& a = tensors[i];
      const PackedTensor& b = other.tensors[i];
      if (a.offset != b.offset || a.padded_rows != b.padded_rows || a.panels != b.panels ||
          a.transposed != b.transposed || (a.panels && a.panel != b.panel)) {
        return false;
      }
    }
    return true;
  }

  [[nodiscard]] const PackedTensor& at(std::string_view name) const {
    for (const auto& t : tensors) {
      if (t.name == name) return t;
    }
    throw std::logic_error("nnfuse generator: no tensor '" + std::string(name) + "'");
  }
};

// One schedule's layouts across a build's targets: the distinct ones, and the one each variant
// (target) reads.
struct VariantLayouts {
  std::vector<PackedLayout> distinct;
  std::vector<std::size_t> of_variant;
};

// The layout `schedule` reads on `target`: the panel width and the tile padding follow the
// target's micro-kernel and each layer's width (targets.hpp).
template <class Net>
PackedLayout packed_layout(Schedule schedule, const Halide::Target& target) {
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
      t.panel = static_cast<std::size_t>(panel_columns(target, static_cast<int>(t.rows)));
      const std::size_t tile = tile_columns(t.rows, t.panel);
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

// Where PyTorch's element (n, k) of tensor `t` lives in the packed buffer, as a C++ expression
// of the loop variables `n` and `k`.
inline std::string packed_index(const PackedTensor& t) {
  std::ostringstream s;
  s << t.offset << " + ";
  if (t.transposed) {
    s << "k * " << t.padded_rows << " + n";
  } else if (t.panels) {
    s << "(n / " << t.panel << ") * " << t.cols * t.panel << " + k * " << t.panel << " + n % "
      << t.panel;
  } else {
    s << "n * " << t.cols << " + k";
  }
  return s.str();
}

// C++ source of the packing function for `layout` (plain loops, run once at load time), and
// of its inverse, which writes PyTorch's parameter block back from a packed buffer.
inline std::string pack_function_source(const PackedLayout& layout, const std::string& name,
                                        bool unpack = false) {
  std::ostringstream s;
  s << "void " << name
    << (unpack ? "(const float* packed, float* torch) noexcept {\n"
               : "(const float* torch, float* packed) noexcept {\n");
  if (!unpack) s << "  std::fill(packed, packed + " << layout.floats << ", 0.0F);\n";
  for (const auto& t : layout.tensors) {
    const std::size_t cols = std::max<std::size_t>(t.cols, 1);
    if (!t.panels && !t.transposed) {
      s << "  std::copy_n(" << (unpack ? "packed + " : "torch + ")
        << (unpack ? t.offset : t.torch_offset) << ", " << t.rows * cols << ", "
        << (unpack ? "torch + " : "packed + ") << (unpack ? t.torch_offset : t.offset) << ");  // "
        << t.name << "\n";
      continue;
    }
    s << "  // " << t.name << ": [" << t.rows << "][" << t.cols << "] " << (unpack ? "<- " : "-> ");
    if (t.transposed) {
      s << "[" << t.cols << "][" << t.padded_rows << "]";
    } else {
      s << "panels [" << t.padded_rows / t.panel << "][" << t.cols << "][" << t.panel << "]";
    }
    s << (unpack ? "\n" : ", padding zero\n");
    const std::string packed = "packed[" + packed_index(t) + "]";
    const std::string torch =
        "torch[" + std::to_string(t.torch_offset) + " + n * " + std::to_string(t.cols) + " + k]";
    s << "  for (std::size_t n = 0; n < " << t.rows << "; ++n) {\n"
      << "    for (std::size_t k = 0; k < " << t.cols << "; ++k) {\n"
      << "      " << (unpack ? torch : packed) << " = " << (unpack ? packed : torch)
      << ";\n    }\n  }\n";
  }
  s << "}\n";
  return s.str();
}

}  // namespace nnfuse::generators
