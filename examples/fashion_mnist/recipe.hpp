// What the Fashion-MNIST examples share (train_fashion_mnist, compare_activations), so that every
// network of both starts and is measured the same way: PyTorch's default initialisation drawn from
// SplitMix64 (tools/train_fashion_mnist_torch.py draws the same), the batch of an epoch's order,
// and the accuracy of a Model on a labelled set.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <nnfuse/data/idx.hpp>
#include <nnfuse/dsl/graph.hpp>
#include <nnfuse/runtime/model.hpp>

namespace fashion {

inline constexpr std::size_t kBatch = 32;

template <class T>
T parse_number(std::string_view flag, std::string_view text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    throw std::invalid_argument(std::string(flag) + ": \"" + std::string(text) +
                                "\" is not a number");
  }
  return value;
}

// Calls handle(flag, value) for each `--flag value` pair of the command line; `--help` prints
// `usage` and exits, a flag without a value throws std::invalid_argument.
template <class Handle>
void for_each_flag(int argc, char** argv, const char* usage, Handle handle) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    if (i + 1 == args.size()) throw std::invalid_argument(std::string(flag) + " needs a value");
    handle(flag, args[++i]);
  }
}

// PyTorch's default init of nn.Linear (both tensors uniform in ±1/sqrt(fan_in)), PReLU's 0.25;
// u = (next() >> 40) * 2^-24 from SplitMix64(seed + 1). Networks of one architecture get the same
// Linear weights whatever their activation (PReLU's alpha draws nothing).
template <class Net>
std::vector<float> initial_parameters(std::uint64_t seed) {
  using G = nnfuse::graph<Net>;
  std::vector<float> block(G::parameter_bytes / sizeof(float), 0.0F);
  nnfuse::data::SplitMix64 rng(seed + 1);
  std::size_t fan_in = 0;
  for (const nnfuse::ParameterInfo& p : G::parameters) {
    float* values = block.data() + p.offset_bytes / sizeof(float);
    if (p.rank == 1 && !p.name.ends_with(".bias")) {  // a PReLU alpha
      std::fill_n(values, p.count, 0.25F);
      continue;
    }
    if (p.rank == 2) fan_in = p.shape[1];
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    for (std::size_t i = 0; i < p.count; ++i) {
      const double u = static_cast<double>(rng.next() >> 40U) * 0x1p-24;
      values[i] = static_cast<float>((2.0 * u - 1.0) * bound);
    }
  }
  return block;
}

// Copies the batch starting at `first` of an epoch's `order` into `pixels` and `labels`; returns
// its rows (kBatch, or what is left at the end of the epoch).
inline std::size_t gather_batch(const nnfuse::data::LabelledImages& set,
                                const std::vector<std::uint32_t>& order, std::size_t first,
                                std::size_t width, std::vector<float>& pixels,
                                std::vector<std::int32_t>& labels) {
  const std::size_t count = std::min(kBatch, order.size() - first);
  pixels.resize(kBatch * width);
  labels.resize(kBatch);
  for (std::size_t r = 0; r < count; ++r) {
    const std::size_t image = order[first + r];
    std::copy_n(set.images.pixels.begin() + static_cast<std::ptrdiff_t>(image * width), width,
                pixels.begin() + static_cast<std::ptrdiff_t>(r * width));
    labels[r] = set.labels[image];
  }
  return count;
}

// Percent of the rows of `scores` ([rows][classes]) whose largest score is at their label.
inline double percent_right(std::span<const float> scores, const std::vector<std::int32_t>& labels,
                            std::size_t classes) {
  std::size_t right = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const float* row = scores.data() + i * classes;
    const auto best = static_cast<std::int32_t>(std::max_element(row, row + classes) - row);
    right += best == labels[i] ? 1 : 0;
  }
  return 100.0 * static_cast<double>(right) / static_cast<double>(labels.size());
}

// The accuracy of `model` on `set`, in percent.
template <class Compiled>
double accuracy(const nnfuse::Model<Compiled>& model, nnfuse::Session& session,
                const nnfuse::data::LabelledImages& set, std::vector<float>& scores) {
  constexpr std::size_t classes = nnfuse::graph<typename Compiled::network>::out_width;
  scores.resize(set.labels.size() * classes);
  model.forward(session, set.images.pixels, scores);
  return percent_right(scores, set.labels, classes);
}

}  // namespace fashion
