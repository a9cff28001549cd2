// The float32 inputs every activation test sweeps: a dense grid over [-20, 20], values near
// 0 (±1e-7, denormals, ±0), large magnitudes (±88, ±89, ±1e4, ±3e38), the kinks of the
// catalog, ±inf, NaN, and random floats drawn uniformly over every exponent (fixed seed, so a
// failure reproduces).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace nnfuse::test {

inline std::vector<float> special_inputs() {
  constexpr float inf = std::numeric_limits<float>::infinity();
  std::vector<float> xs = {0.0F,
                           -0.0F,
                           1e-7F,
                           -1e-7F,
                           1e-30F,
                           -1e-30F,
                           1e-40F,
                           -1e-40F,
                           1e-45F,
                           -1e-45F,
                           3.0F,
                           -3.0F,
                           6.0F,
                           -5.5F,
                           5.5F,
                           1.0F,
                           -1.0F,
                           88.0F,
                           -88.0F,
                           88.7F,
                           -88.7F,
                           89.0F,
                           -89.0F,
                           100.0F,
                           -100.0F,
                           1e4F,
                           -1e4F,
                           3e38F,
                           -3e38F,
                           inf,
                           -inf,
                           std::numeric_limits<float>::max(),
                           -std::numeric_limits<float>::max(),
                           std::numeric_limits<float>::min(),
                           -std::numeric_limits<float>::min(),
                           std::numeric_limits<float>::quiet_NaN()};
  for (float kink : {-3.0F, 0.0F, 3.0F, 6.0F, 20.0F}) {
    xs.push_back(std::nextafter(kink, -inf));
    xs.push_back(std::nextafter(kink, inf));
  }
  return xs;
}

inline std::vector<float> sample_inputs(int grid_points = 20001, int per_exponent = 16) {
  std::vector<float> xs = special_inputs();
  for (int i = 0; i < grid_points; ++i) {
    xs.push_back(-20.0F + 40.0F * static_cast<float>(i) / static_cast<float>(grid_points - 1));
  }
  std::mt19937 rng(20261127);
  std::uniform_int_distribution<std::uint32_t> mantissa(0, (1U << 23U) - 1U);
  for (std::uint32_t exponent = 0; exponent < 255; ++exponent) {
    for (std::uint32_t sign = 0; sign < 2; ++sign) {
      for (int k = 0; k < per_exponent; ++k) {
        const std::uint32_t bits = (sign << 31U) | (exponent << 23U) | mantissa(rng);
        xs.push_back(std::bit_cast<float>(bits));
      }
    }
  }
  return xs;
}

}  // namespace nnfuse::test
