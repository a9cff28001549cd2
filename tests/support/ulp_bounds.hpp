// The stated accuracy of the float32 (`fast`) epilogues: for each catalog activation (by its
// kind), the largest error in ULP of the correctly rounded result over every float32 input and
// every target variant, as measured by tests/eval's nnfuse_ulp_sweep (`--stride 1`; the table
// in docs/ARCHITECTURE.md). The sweep's strided CI run and the special-value tests hold the
// kernels to these numbers; the `exact` precision promises 1 ULP for all of them.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace nnfuse_test {

inline double fast_ulp_bound(std::string_view kind) {
  struct Bound {
    std::string_view kind;
    double ulp;
  };
  static constexpr Bound bounds[] = {
      {"identity", 0},  {"relu", 0},        {"relu6", 0},    {"leaky_relu", 0.5},
      {"prelu", 0.5},   {"hardsigmoid", 1}, {"elu", 1.5},    {"selu", 2},
      {"hardswish", 2}, {"tanh", 1.5},      {"softplus", 2}, {"sigmoid", 1.5},
      {"gelu", 2},      {"gelu_tanh", 2},   {"silu", 2},     {"mish", 2},
  };
  for (const Bound& b : bounds) {
    if (b.kind == kind) return b.ulp;
  }
  throw std::invalid_argument("no stated float32 bound for activation '" + std::string(kind) + "'");
}

}  // namespace nnfuse_test
