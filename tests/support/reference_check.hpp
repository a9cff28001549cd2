// Shared support of nnfuse's tests (like Halide's test/common/): made-up parameters and inputs,
// and the one comparison of a kernel's output with the DSL's scalar reference,
// |kernel - reference| <= tolerance * max(1, |reference|). Header-only and free of GoogleTest,
// so the standalone consumers (tests/install, tests/cross) use it too; gtest_reference.hpp wraps
// it for GoogleTest.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nnfuse/dsl/graph.hpp>

namespace nnfuse_test {

inline constexpr double default_tolerance = 1e-5;

// `count` floats drawn uniformly from [-range, range] by a seeded generator.
inline std::vector<float> random_floats(std::size_t count, unsigned seed, float range) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-range, range);
  std::vector<float> values(count);
  for (float& v : values) v = dist(rng);
  return values;
}

// A parameter block for `Net`, laid out as nnfuse::graph<Net>::parameters says.
template <class Net>
std::vector<float> random_parameters(unsigned seed, float range = 0.2F) {
  return random_floats(nnfuse::graph<Net>::parameter_bytes / sizeof(float), seed, range);
}

// Where a kernel's output first differs from the reference by more than the tolerance.
struct Mismatch {
  std::size_t index = 0;  // element; row index / width, column index % width
  double kernel = 0;
  double reference = 0;
  std::size_t kernel_size = 0;  // differ only when the sizes do
  std::size_t reference_size = 0;
};

inline std::optional<Mismatch> first_mismatch(std::span<const float> kernel,
                                              std::span<const double> reference,
                                              double tolerance = default_tolerance) {
  if (kernel.size() != reference.size()) {
    return Mismatch{0, 0, 0, kernel.size(), reference.size()};
  }
  for (std::size_t i = 0; i < kernel.size(); ++i) {
    const double a = kernel[i];
    const double b = reference[i];
    // Written so that a NaN on either side is a mismatch.
    if (!(std::fabs(a - b) <= tolerance * std::max(1.0, std::fabs(b)))) {
      return Mismatch{i, a, b, kernel.size(), reference.size()};
    }
  }
  return std::nullopt;
}

// The largest |kernel - reference| / max(1, |reference|); NaN for a NaN or a size mismatch.
inline double max_relative_error(std::span<const float> kernel, std::span<const double> reference) {
  if (kernel.size() != reference.size()) return std::nan("");
  double worst = 0;
  for (std::size_t i = 0; i < kernel.size(); ++i) {
    const double b = reference[i];
    const double e = std::fabs(static_cast<double>(kernel[i]) - b) / std::max(1.0, std::fabs(b));
    if (std::isnan(e)) return e;
    worst = std::max(worst, e);
  }
  return worst;
}

// "schedule manual, variant avx2, batch 5: row 3 column 4 (element 20): kernel 0.5, reference
// 0.25" — what a failure report says.
inline std::string describe(const Mismatch& m, std::string_view schedule, std::string_view variant,
                            std::size_t batch, std::size_t width) {
  std::string text = "schedule " + std::string(schedule) + ", variant " + std::string(variant) +
                     ", batch " + std::to_string(batch) + ": ";
  if (m.kernel_size != m.reference_size) {
    return text + "the kernel gave " + std::to_string(m.kernel_size) + " values, the reference " +
           std::to_string(m.reference_size);
  }
  return text + "row " + std::to_string(m.index / width) + " column " +
         std::to_string(m.index % width) + " (element " + std::to_string(m.index) + "): kernel " +
         std::to_string(m.kernel) + ", reference " + std::to_string(m.reference);
}

}  // namespace nnfuse_test
