// The vocabulary of the benchmark cases, shared by every group (nnfuse and each peer): a `Case`
// is a network type from the specs with its label, its activation (which peer operation
// implements it) and the batch sizes it is measured at; `Compiled` pairs a case with the
// schedule structs nnfuse generated for it. `Problem` makes a case's deterministic random
// parameter block (PyTorch layout: weight [N][K], bias [N]) and input, and `check_rows`
// compares an output with nnfuse::reference_forward (float64) on a few rows, so every group
// is held to the same oracle and the same tolerance before it is timed.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nnfuse/dsl.hpp>

namespace nnfuse_bench {

// The activations the peers know, by the names the benchmark names use.
enum class Activation { none, relu, sigmoid, tanh, elu, leaky_relu, gelu, silu };

constexpr std::string_view to_string(Activation a) {
  switch (a) {
    case Activation::none:
      return "none";
    case Activation::relu:
      return "relu";
    case Activation::sigmoid:
      return "sigmoid";
    case Activation::tanh:
      return "tanh";
    case Activation::elu:
      return "elu";
    case Activation::leaky_relu:
      return "leaky_relu";
    case Activation::gelu:
      return "gelu";
    case Activation::silu:
      return "silu";
  }
  return "?";
}

// PyTorch's defaults, which the DSL's ELU<> and LeakyReLU<> use too.
inline constexpr float elu_alpha = 1.0F;
inline constexpr float leaky_relu_slope = 0.01F;

template <nnfuse::FixedString Label, class Net, Activation Act, std::size_t... Batches>
struct Case {
  static_assert(sizeof...(Batches) > 0, "a benchmark case needs at least one batch size");
  using network = Net;
  static constexpr std::string_view label = Label.view();
  static constexpr Activation activation = Act;
  static constexpr std::array<std::size_t, sizeof...(Batches)> batches{Batches...};
  static constexpr std::size_t k = nnfuse::graph<Net>::in_width;
  static constexpr std::size_t n = nnfuse::graph<Net>::out_width;
};

template <class C, class Schedules>
struct Compiled {
  using case_type = C;
  using schedules = Schedules;
};

// Error of an output that disagrees with the reference (the message says where and by how
// much).
class CheckFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// |y - reference| <= tolerance * (1 + |reference|): float32 accumulation over K <= 4096 terms
// of size ~1/sqrt(K) stays below 1e-5 here, and the peers' activation approximations below a
// few ULP; a wrong layout, a missing bias or a wrong activation is off by ~0.01 to 1.
inline constexpr double tolerance = 2e-4;

struct Problem {
  std::size_t batch = 0;
  std::size_t k = 0;
  std::size_t n = 0;
  std::vector<float> parameters;  // graph<Net>::parameters' layout
  std::vector<float> input;       // [batch][k]
  std::size_t weight_offset = 0;  // floats; fc.weight [n][k] (single-layer networks)
  std::size_t bias_offset = 0;    // floats; fc.bias [n]

  [[nodiscard]] std::span<const float> weight() const {
    return {&parameters[weight_offset], n * k};
  }
  [[nodiscard]] std::span<const float> bias() const { return {&parameters[bias_offset], n}; }
};

// Deterministic data: inputs uniform in [-range, range], weights and biases uniform in
// +-1/sqrt(K) (nn.Linear's initialisation), so every output is O(1) and every activation sees
// both signs.
template <class Net>
Problem make_problem(std::size_t batch, float range = 1.0F) {
  using G = nnfuse::graph<Net>;
  Problem p;
  p.batch = batch;
  p.k = G::in_width;
  p.n = G::out_width;
  p.parameters.assign(G::parameter_bytes / sizeof(float), 0.0F);
  p.input.resize(batch * G::in_width);
  std::mt19937 random(20240601U + static_cast<unsigned>(G::in_width * 7 + G::out_width));
  std::uniform_real_distribution<float> in(-range, range);
  for (float& v : p.input) v = in(random);
  for (const nnfuse::ParameterInfo& info : G::parameters) {
    const std::size_t fan_in = info.rank == 2 ? info.shape[1] : G::in_width;
    const float bound = 1.0F / std::sqrt(static_cast<float>(fan_in));
    std::uniform_real_distribution<float> w(-bound, bound);
    const std::size_t offset = info.offset_bytes / sizeof(float);
    for (std::size_t i = 0; i < info.count; ++i) p.parameters[offset + i] = w(random);
  }
  if constexpr (G::parameters.size() >= 2) {
    p.weight_offset = G::parameters[0].offset_bytes / sizeof(float);
    p.bias_offset = G::parameters[1].offset_bytes / sizeof(float);
  }
  return p;
}

// The rows checked: all of a small batch, else the first, a middle and the last row (the
// float64 reference of a 128 x 4096 x 4096 layer would take seconds).
inline std::vector<std::size_t> checked_rows(std::size_t batch) {
  if (batch <= 4) {
    std::vector<std::size_t> rows(batch);
    for (std::size_t r = 0; r < batch; ++r) rows[r] = r;
    return rows;
  }
  return {0, batch / 2, batch - 1};
}

// Throws CheckFailure naming `what` when `output` ([batch][N]) disagrees with the reference on
// a checked row; returns the largest error relative to tolerance's scale.
template <class Net>
double check_rows(std::string_view what, const Problem& p, std::span<const float> output) {
  using G = nnfuse::graph<Net>;
  if (output.size() != p.batch * G::out_width) {
    throw CheckFailure(std::string(what) + ": the output has " + std::to_string(output.size()) +
                       " floats, expected " + std::to_string(p.batch * G::out_width));
  }
  double worst = 0;
  for (const std::size_t r : checked_rows(p.batch)) {
    const std::span<const float> row(&p.input[r * G::in_width], G::in_width);
    const std::vector<double> ref = nnfuse::reference_forward<Net>(p.parameters, row, 1);
    for (std::size_t j = 0; j < G::out_width; ++j) {
      const double y = output[r * G::out_width + j];
      const double scaled = std::fabs(y - ref[j]) / (1.0 + std::fabs(ref[j]));
      // NaN fails too: the comparison is written so that it is false for NaN.
      if (!(scaled <= tolerance)) {
        char message[256];
        std::snprintf(message, sizeof message,
                      ": output[%zu][%zu] = %.9g but the float64 reference is %.9g "
                      "(|diff| / (1 + |ref|) = %.3g > tolerance %.1g)",
                      r, j, y, ref[j], scaled, tolerance);
        throw CheckFailure(std::string(what) + message);
      }
      worst = std::max(worst, scaled);
    }
  }
  return worst;
}

}  // namespace nnfuse_bench
