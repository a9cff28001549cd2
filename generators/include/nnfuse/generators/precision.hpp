// How a network's epilogues are evaluated, chosen per network at generation time
// (`nnfuse_add_network(... PRECISION fast|exact)`): `fast` (the default) in float32 with
// nnfuse's float32 functions (math32.hpp), whose bounds tools/ulp_sweep measures over every
// float32 input; `exact` in float64 with the float64 functions (math.hpp), rounded once, so
// within 1 ULP of the correctly rounded value, at the cost of float64 vectors. The matmul is
// float32 either way.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace nnfuse::generators {

enum class Precision { fast, exact };

inline std::string_view to_string(Precision p) {
  return p == Precision::fast ? "fast" : "exact";
}

inline Precision parse_precision(std::string_view text) {
  if (text == "fast") return Precision::fast;
  if (text == "exact") return Precision::exact;
  throw std::invalid_argument("unknown precision '" + std::string(text) + "' (known: fast, exact)");
}

}  // namespace nnfuse::generators
