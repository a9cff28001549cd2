// The bias and activation pass that follows a plain GEMM (the OpenBLAS peer): y = act(y + b)
// over [rows][n], one simple loop per activation with std:: math, written so the compiler can
// vectorize what it knows how to (max, select; exp, tanh and erf stay libm calls).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include "cases.hpp"

namespace nnfuse_bench {

template <class F>
void bias_then(std::span<float> y, std::span<const float> bias, const F& f) {
  const std::size_t n = bias.size();
  const std::size_t rows = y.size() / n;
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = y.data() + r * n;
    for (std::size_t j = 0; j < n; ++j) row[j] = f(row[j] + bias[j]);
  }
}

inline void bias_activation(std::span<float> y, std::span<const float> bias, Activation act) {
  switch (act) {
    case Activation::none:
      bias_then(y, bias, [](float v) { return v; });
      break;
    case Activation::relu:
      bias_then(y, bias, [](float v) { return v > 0 ? v : 0.0F; });
      break;
    case Activation::leaky_relu:
      bias_then(y, bias, [](float v) { return v > 0 ? v : v * leaky_relu_slope; });
      break;
    case Activation::sigmoid:
      bias_then(y, bias, [](float v) { return 1.0F / (1.0F + std::exp(-v)); });
      break;
    case Activation::tanh:
      bias_then(y, bias, [](float v) { return std::tanh(v); });
      break;
    case Activation::elu:
      bias_then(y, bias, [](float v) { return v > 0 ? v : elu_alpha * std::expm1(v); });
      break;
    case Activation::gelu:
      bias_then(y, bias,
                [](float v) { return 0.5F * v * (1.0F + std::erf(v * 0.70710678118654752F)); });
      break;
    case Activation::silu:
      bias_then(y, bias, [](float v) { return v / (1.0F + std::exp(-v)); });
      break;
  }
}

}  // namespace nnfuse_bench
