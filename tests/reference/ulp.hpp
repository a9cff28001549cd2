// Float32 error measurement in units in the last place (ULPs) against a double reference, for
// judging float32 activation results against nnfuse::reference. The ULP is that of float32 at the
// magnitude of the reference itself: 2^(e - 23) with e = floor(log2 |ref|) for normal magnitudes,
// 2^-149 (the smallest subnormal) below FLT_MIN, and 2^104 beyond FLT_MAX. NaN matches only NaN,
// equal infinities match, a reference beyond float range matches the float it rounds to
// (possibly +-inf), and the sign of zero is ignored. Header-only, no dependencies.
#pragma once

#include <cfloat>
#include <cmath>
#include <limits>

namespace nnfuse::reference {

// Rounds to the nearest float (ties to even), overflowing to +-inf exactly where IEEE 754 does;
// written out because a C++ conversion of an out-of-range double is formally undefined.
inline float round_to_float(double value) {
  constexpr double kOverflowThreshold = 0x1.ffffffp+127;  // FLT_MAX + half of its ULP
  constexpr float kFloatInfinity = std::numeric_limits<float>::infinity();
  if (std::isnan(value)) return std::numeric_limits<float>::quiet_NaN();
  if (std::fabs(value) >= kOverflowThreshold) return value > 0 ? kFloatInfinity : -kFloatInfinity;
  if (std::fabs(value) > FLT_MAX) return value > 0 ? FLT_MAX : -FLT_MAX;
  return static_cast<float>(value);
}

// One float32 ULP at the magnitude of `ref` (exact, from frexp, so powers of two get the larger
// ULP above them rather than the smaller one below).
inline double float_ulp(double ref) {
  const double magnitude = std::fabs(ref);
  if (magnitude < FLT_MIN) return 0x1p-149;
  if (magnitude > FLT_MAX) return 0x1p104;
  int exponent = 0;
  std::frexp(magnitude, &exponent);  // magnitude = m * 2^exponent with m in [0.5, 1)
  return std::ldexp(1.0, exponent - 1 - (FLT_MANT_DIG - 1));
}

// |y - ref| in float32 ULPs of ref; 0 for a match and +inf for a NaN or infinity mismatch.
inline double ulp_error(float y, double ref) {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  const bool y_is_nan = std::isnan(y);
  const bool ref_is_nan = std::isnan(ref);
  if (y_is_nan || ref_is_nan) return (y_is_nan && ref_is_nan) ? 0.0 : kInfinity;
  if (std::fabs(ref) > FLT_MAX && round_to_float(ref) == y) return 0.0;
  // Exact in double whenever y and ref are close; any remaining infinity makes this +inf.
  return std::fabs(static_cast<double>(y) - ref) / float_ulp(ref);
}

// 0 when |y - ref| <= abs_tol, otherwise ulp_error(y, ref): for quantities such as derivatives
// that cross zero, where a relative (ULP) bound alone is too strict near the zero.
inline double abs_or_ulp_error(float y, double ref, double abs_tol) {
  if (std::fabs(static_cast<double>(y) - ref) <= abs_tol) return 0.0;
  return ulp_error(y, ref);
}

}  // namespace nnfuse::reference
