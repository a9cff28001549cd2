// nnfuse::Statistics<Compiled>: what each activation layer's units do over a data set, counted by
// the network's statistics kernels (nnfuse_add_network(... STATISTICS)). Each call of
// `Model::forward(session, input, output, statistics)` or `Trainer::step(..., statistics)` runs
// those kernels, whose outputs are the training forward's bit for bit, and adds their per-unit
// counts of the call's rows: z > 0 (active), |f'(z)| < saturation_threshold · max |f'| (saturated)
// and y == 0. `layers()` gives per layer the sparsity (share of zero outputs), the units never
// active over every row seen (CS231n's dead units, for ReLU; for Leaky ReLU and PReLU the same
// units still pass a gradient through their slope), the share of saturated outputs and the units
// saturated on every row, and, when asked for, a histogram of the pre-activations (a separate
// pass over z in C++, not the kernels). Buffers are sized for the largest batch seen: a warmed
// call allocates nothing. One Statistics serves one caller at a time, like a Session.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <HalideRuntime.h>

#include <nnfuse/dsl/graph.hpp>
#include <nnfuse/runtime/kernel.hpp>
#include <nnfuse/runtime/model.hpp>
#include <nnfuse/runtime/session.hpp>

namespace nnfuse {

namespace detail {
// A statistics kernel's counts, int32 [3][width].
struct CountsBuffer {
  halide_dimension_t dims[2];  // NOLINT(*-avoid-c-arrays): Halide's ABI
  halide_buffer_t buffer{};
  CountsBuffer(std::int32_t* data, std::size_t width)
      : dims{{0, static_cast<int32_t>(width), 1, 0}, {0, 3, static_cast<int32_t>(width), 0}} {
    buffer.host = reinterpret_cast<uint8_t*>(data);  // NOLINT(*-reinterpret-cast)
    buffer.type = halide_type_t(halide_type_int, 32);
    buffer.dimensions = 2;
    buffer.dim = dims;
  }
};
}  // namespace detail

// Pre-activation histogram: `bins` equal bins over [low, high), and the values below, above and
// NaN counted apart.
struct HistogramRange {
  float low = -8.0F;
  float high = 8.0F;
  std::size_t bins = 64;
};

// One activation layer (a fused node whose epilogue is not the identity) over every row seen.
struct LayerStatistics {
  std::string name;  // the node's kernel name (`fc1_relu`)
  std::size_t units = 0;
  std::uint64_t rows = 0;
  std::vector<std::uint64_t> active;     // per unit: rows with z > 0
  std::vector<std::uint64_t> saturated;  // per unit: rows with |f'(z)| below the threshold
  std::vector<std::uint64_t> zero;       // per unit: rows with y == 0
  bool counts_saturation = false;        // false: the epilogue reads a parameter, or is row-wise
  // With a HistogramRange: bins, then below, above and NaN.
  std::vector<std::uint64_t> histogram;

  // Units with z <= 0 (or NaN) on every row seen: dead, for ReLU.
  [[nodiscard]] std::size_t never_active() const {
    return static_cast<std::size_t>(std::count(active.begin(), active.end(), 0U));
  }
  // Units saturated on every row seen.
  [[nodiscard]] std::size_t always_saturated() const {
    return counts_saturation
               ? static_cast<std::size_t>(std::count(saturated.begin(), saturated.end(), rows))
               : 0;
  }
  [[nodiscard]] double sparsity() const { return share(zero); }
  [[nodiscard]] double active_share() const { return share(active); }
  [[nodiscard]] double saturated_share() const { return share(saturated); }

 private:
  [[nodiscard]] double share(const std::vector<std::uint64_t>& counts) const {
    if (rows == 0 || units == 0) return 0.0;
    std::uint64_t sum = 0;
    for (const std::uint64_t c : counts) sum += c;
    return static_cast<double>(sum) / (static_cast<double>(rows) * static_cast<double>(units));
  }
};

template <class Compiled>
requires(Compiled::has_statistics) class Statistics {
 public:
  using network = typename Compiled::network;
  using G = graph<network>;
  static constexpr std::size_t node_count = G::node_count;

  Statistics() : Statistics(std::nullopt) {}
  explicit Statistics(std::optional<HistogramRange> histogram) : histogram_(histogram) {
    for (std::size_t i = 0; i < node_count; ++i) {
      if (!Compiled::counts_units[i]) continue;
      LayerStatistics layer;
      layer.name = std::string(detail::node_label<Compiled>(i));
      layer.units = G::nodes[i].out_width;
      layer.counts_saturation = Compiled::saturation_slopes[i] > 0.0;
      layer.active.assign(layer.units, 0);
      layer.saturated.assign(layer.units, 0);
      layer.zero.assign(layer.units, 0);
      if (histogram_) layer.histogram.assign(histogram_->bins + 3, 0);
      layer_of_node_[i] = layers_.size();
      layers_.push_back(std::move(layer));
      counts_[i].assign(3 * G::nodes[i].out_width, 0);
    }
  }

  // Every counted node, in network order.
  [[nodiscard]] const std::vector<LayerStatistics>& layers() const noexcept { return layers_; }

  // Forgets every row seen (an epoch's count starts afresh).
  void reset() {
    for (LayerStatistics& layer : layers_) {
      layer.rows = 0;
      std::fill(layer.active.begin(), layer.active.end(), 0);
      std::fill(layer.saturated.begin(), layer.saturated.end(), 0);
      std::fill(layer.zero.begin(), layer.zero.end(), 0);
      std::fill(layer.histogram.begin(), layer.histogram.end(), 0);
    }
  }

  // A table: per layer, units, rows, sparsity, never-active units, active and saturated shares.
  [[nodiscard]] std::string to_string() const {
    std::string text =
        "layer                units     rows  sparsity  never active  active  saturated  "
        "always saturated\n";
    for (const LayerStatistics& l : layers_) {
      char line[256];  // NOLINT(*-avoid-c-arrays)
      const std::string saturation =
          l.counts_saturation ? format_share(l.saturated_share()) : std::string("       -");
      const std::string always =
          l.counts_saturation ? std::to_string(l.always_saturated()) : std::string("-");
      std::snprintf(line, sizeof line, "%-20s %5zu %8llu  %7.2f %%  %12zu  %5.1f %%  %s  %16s\n",
                    l.name.c_str(), l.units, static_cast<unsigned long long>(l.rows),
                    100.0 * l.sparsity(), l.never_active(), 100.0 * l.active_share(),
                    saturation.c_str(), always.c_str());
      text += line;
    }
    return text;
  }

  // ---- for Model and Trainer: one node's statistics kernel over `batch` rows, then its counts
  // (and histogram) added.
  void reserve(std::size_t batch) {
    if (batch <= capacity_) return;
    for (std::size_t i = 0; i < node_count; ++i) {
      outputs_[i].emplace(G::nodes[i].out_width * batch);
      if (Compiled::counts_units[i]) pre_activations_[i].emplace(G::nodes[i].out_width * batch);
    }
    capacity_ = batch;
  }
  [[nodiscard]] float* output(std::size_t node) { return outputs_[node]->data.get(); }
  [[nodiscard]] float* pre_activation(std::size_t node) {
    return pre_activations_[node] ? pre_activations_[node]->data.get() : nullptr;
  }

  // Runs node i's statistics kernel on `variant`; z and y go to the given rows.
  int run_node(void* user_context, std::size_t variant, std::size_t i, halide_buffer_t* input,
               halide_buffer_t* residual, halide_buffer_t* packed, float* z, float* y,
               std::size_t batch) {
    const std::size_t width = G::nodes[i].out_width;
    detail::RowsBuffer out(y, width, batch);
    detail::RowsBuffer pre(z != nullptr ? z : y, width, batch);
    detail::CountsBuffer counts(counts_[i].data(), width);
    const int code = Compiled::statistics_nodes[i](user_context, variant, input, residual, packed,
                                                   &pre.buffer, &out.buffer, &counts.buffer);
    if (code == 0 && Compiled::counts_units[i]) add(i, z, batch);
    return code;
  }

 private:
  static std::string format_share(double share) {
    char text[32];  // NOLINT(*-avoid-c-arrays)
    std::snprintf(text, sizeof text, "%6.2f %%", 100.0 * share);
    return text;
  }

  void add(std::size_t i, const float* z, std::size_t batch) {
    LayerStatistics& layer = layers_[layer_of_node_[i]];
    const std::size_t width = layer.units;
    const std::int32_t* counts = counts_[i].data();
    for (std::size_t n = 0; n < width; ++n) {
      layer.active[n] += static_cast<std::uint64_t>(counts[n]);
      layer.saturated[n] += static_cast<std::uint64_t>(counts[width + n]);
      layer.zero[n] += static_cast<std::uint64_t>(counts[2 * width + n]);
    }
    layer.rows += batch;
    if (!histogram_) return;
    const HistogramRange& h = *histogram_;
    const float scale = static_cast<float>(h.bins) / (h.high - h.low);
    for (std::size_t e = 0; e < width * batch; ++e) {
      const float v = z[e];
      std::size_t bin = 0;
      if (std::isnan(v)) {
        bin = h.bins + 2;
      } else if (v < h.low) {
        bin = h.bins;
      } else if (v >= h.high) {
        bin = h.bins + 1;
      } else {
        bin = std::min(h.bins - 1, static_cast<std::size_t>((v - h.low) * scale));
      }
      ++layer.histogram[bin];
    }
  }

  std::optional<HistogramRange> histogram_;
  std::vector<LayerStatistics> layers_;
  std::array<std::size_t, node_count> layer_of_node_{};
  std::array<std::vector<std::int32_t>, node_count> counts_;
  std::array<std::optional<detail::AlignedFloats>, node_count> outputs_;
  std::array<std::optional<detail::AlignedFloats>, node_count> pre_activations_;
  std::size_t capacity_ = 0;
};

}  // namespace nnfuse
