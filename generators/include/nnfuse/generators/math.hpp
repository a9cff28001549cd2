// Vectorizable float64 math for the Halide lowering: exp, expm1, log, log1p, tanh, erf, erfc
// written as plain Halide arithmetic (polynomials, a continued fraction, exponent bit
// manipulation), so a kernel's epilogue vectorizes instead of calling libm once per lane.
// Halide 14's own functions are float32-accurate at best (vectorized exp ~2.7 ULP with no
// denormal results, erf ~6 ULP, tanh a scalar call) and it has no expm1/log1p. Each function
// here is accurate to ~1e-14 relative over the whole double range that matters for a float32
// result (subnormal results included), handles ±inf and NaN, and so keeps a kernel within
// 1 ULP of the correctly rounded float32 value, like the DSL's reference eval<float>.
// Polynomials are truncated Taylor / atanh series; their error bounds are in the comments.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>

#include <Halide.h>

namespace nnfuse::generators::math {

namespace detail {
inline Halide::Expr f64(double v) {
  return Halide::Expr(v);
}

// 2^k for integer-valued double k in [-1022, 1023], built from the exponent bits.
inline Halide::Expr pow2(const Halide::Expr& k) {
  return Halide::reinterpret(Halide::Float(64), (Halide::cast<int64_t>(k) + 1023) << 52);
}

// |magnitude| with the sign bit of x (copysign, from the bits: a select on x < 0 would give
// +0 for x = -0, and tanh(-0), erf(-0) are -0).
inline Halide::Expr with_sign_of(const Halide::Expr& x, const Halide::Expr& magnitude) {
  const Halide::Expr sign =
      Halide::reinterpret(Halide::Int(64), x) & Halide::Expr(std::numeric_limits<int64_t>::min());
  return Halide::reinterpret(Halide::Float(64),
                             Halide::reinterpret(Halide::Int(64), Halide::abs(magnitude)) | sign);
}

// sum c[i] t^i by Horner's rule.
template <std::size_t N>
Halide::Expr horner(const std::array<double, N>& c, const Halide::Expr& t) {
  Halide::Expr acc = f64(c[N - 1]);
  for (std::size_t i = N - 1; i-- > 0;) acc = acc * t + f64(c[i]);
  return acc;
}

// 1/n! for n = 0..N-1.
template <std::size_t N>
constexpr std::array<double, N> inverse_factorials(std::size_t first = 0) {
  std::array<double, N> c{};
  double f = 1;
  for (std::size_t n = 1; n <= first; ++n) f *= static_cast<double>(n);
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) f *= static_cast<double>(first + i);
    c[i] = 1.0 / f;
  }
  return c;
}

}  // namespace detail

// Whether a float32 or float64 value is NaN, read from its bits: exponent all ones and a
// non-zero mantissa, i.e. |bits| above the bits of infinity. Halide's is_nan is an unordered
// floating-point compare, and Halide compiles every function with LLVM's "no-nans-fp-math"
// attribute unless the whole target is strict: strict_float keeps the IR's compare, but the
// x86 back end may still fold it away. Measured on AVX-512 (it survives on AVX2): is_nan(x) was
// false for NaN inside exp, so sigmoid(NaN) gave 0 and softplus(NaN) 710.19. An integer
// compare cannot be folded that way.
inline Halide::Expr is_nan(const Halide::Expr& x) {
  const Halide::Type type = x.type();
  if (type.is_float() && type.bits() == 64) {
    const Halide::Expr magnitude =
        Halide::reinterpret(Halide::Int(64), x) & Halide::Expr(int64_t{0x7fffffffffffffff});
    return magnitude > Halide::Expr(int64_t{0x7ff0000000000000});
  }
  if (type.is_float() && type.bits() == 32) {
    const Halide::Expr magnitude =
        Halide::reinterpret(Halide::Int(32), x) & Halide::Expr(int32_t{0x7fffffff});
    return magnitude > Halide::Expr(int32_t{0x7f800000});
  }
  return Halide::is_nan(x);  // not a float32/float64 value: Halide reports the type error
}

namespace detail {
inline Halide::Expr nan_if_nan(const Halide::Expr& x, const Halide::Expr& value) {
  return Halide::select(math::is_nan(x), x, value);
}
}  // namespace detail

// e^x. x = k·ln2 + r, |r| <= ln2/2; e^r by Taylor to r^12 (truncation r^13/13! < 2e-16);
// 2^k applied in two halves so results down to the smallest subnormal and up to DBL_MAX are
// exact scalings.
inline Halide::Expr exp(const Halide::Expr& x) {
  using detail::f64;
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // ln2 with its low 32 bits zero
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  const Halide::Expr xc = Halide::clamp(x, f64(-746.0), f64(710.0));
  const Halide::Expr k = Halide::floor(xc * f64(1.0 / std::numbers::ln2) + f64(0.5));
  const Halide::Expr r = (xc - k * f64(ln2_hi)) - k * f64(ln2_lo);
  const Halide::Expr p = detail::horner(detail::inverse_factorials<13>(), r);
  const Halide::Expr k1 = Halide::floor(k * f64(0.5));
  const Halide::Expr scaled = p * detail::pow2(k1) * detail::pow2(k - k1);
  const Halide::Expr value =
      Halide::select(x > f64(709.782712893384), f64(std::numeric_limits<double>::infinity()),
                     x < f64(-745.2), f64(0.0), scaled);
  return detail::nan_if_nan(x, value);
}

// e^x - 1: Taylor x·(1 + x/2! + ... + x^13/14!) for |x| < ln2/2 (truncation < 3e-17 relative),
// else exp(x) - 1, which cannot cancel there (|e^x - 1| > 0.29).
inline Halide::Expr expm1(const Halide::Expr& x) {
  using detail::f64;
  const Halide::Expr small = x * detail::horner(detail::inverse_factorials<14>(1), x);
  const Halide::Expr value = Halide::select(Halide::abs(x) < f64(0.3465735902799727), small,
                                            x < f64(-40.0), f64(-1.0), math::exp(x) - 1);
  return detail::nan_if_nan(x, value);
}

// ln x: x = m·2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2·atanh(s), s = (m-1)/(m+1),
// |s| <= 0.1716, series to s^23 (truncation < 1e-18). Subnormal x is scaled by 2^54 first.
inline Halide::Expr log(const Halide::Expr& x) {
  using detail::f64;
  const Halide::Expr subnormal = x < f64(std::numeric_limits<double>::min());
  const Halide::Expr xs = Halide::select(subnormal, x * f64(0x1p54), x);
  const Halide::Expr bits = Halide::reinterpret(Halide::Int(64), xs);
  Halide::Expr e = Halide::cast<double>(((bits >> 52) & 0x7ff) - 1023) -
                   Halide::select(subnormal, f64(54.0), f64(0.0));
  Halide::Expr m =
      Halide::reinterpret(Halide::Float(64), (bits & Halide::Expr(int64_t{0x000fffffffffffff})) |
                                                 Halide::Expr(int64_t{0x3ff0000000000000}));
  const Halide::Expr big = m > f64(std::numbers::sqrt2);
  m = Halide::select(big, m * f64(0.5), m);
  e = e + Halide::select(big, f64(1.0), f64(0.0));
  const Halide::Expr f = m - f64(1.0);
  const Halide::Expr s = f / (f64(2.0) + f);
  std::array<double, 12> c{};
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = 2.0 / static_cast<double>(2 * i + 1);
  const Halide::Expr log_m = s * detail::horner(c, s * s);
  constexpr double ln2_hi = 6.93147180369123816490e-01;
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  const Halide::Expr finite = e * f64(ln2_hi) + (log_m + e * f64(ln2_lo));
  const double inf = std::numeric_limits<double>::infinity();
  const Halide::Expr value = Halide::select(x == f64(0.0), f64(-inf), x < f64(0.0),
                                            f64(std::numeric_limits<double>::quiet_NaN()),
                                            x == f64(inf), f64(inf), finite);
  return detail::nan_if_nan(x, value);
}

// ln(1 + x): 2·atanh(s) with s = x/(2 + x) for |x| < 0.4 (|s| < 0.25, series to s^29,
// truncation < 1e-18), else ln(1 + x), where rounding 1 + x costs < 3e-16 relative (and x
// near -1 makes 1 + x exact). No test of 1 + x == 1: Halide's simplifier rewrites such
// comparisons as x == 0 regardless of strict_float, which broke expm1(log1p(tiny)).
inline Halide::Expr log1p(const Halide::Expr& x) {
  using detail::f64;
  const Halide::Expr s = x / (f64(2.0) + x);
  std::array<double, 15> c{};
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = 2.0 / static_cast<double>(2 * i + 1);
  const Halide::Expr series = s * detail::horner(c, s * s);
  const Halide::Expr value =
      Halide::select(x > f64(-0.4) && x < f64(0.4), series, math::log(f64(1.0) + x));
  return detail::nan_if_nan(x, value);
}

// tanh x = sign(x)·e/(e + 2), e = expm1(2|x|): no cancellation anywhere; 1 beyond |x| > 22.
inline Halide::Expr tanh(const Halide::Expr& x) {
  using detail::f64;
  const Halide::Expr a = Halide::abs(x);
  const Halide::Expr e = expm1(f64(2.0) * a);
  const Halide::Expr magnitude = Halide::select(a > f64(22.0), f64(1.0), e / (e + f64(2.0)));
  return detail::nan_if_nan(x, detail::with_sign_of(x, magnitude));
}

namespace detail {
// erf(x) for |x| < 2: 2/sqrt(pi)·x·Σ (-1)^n x^2n/(n!(2n+1)), 32 terms (error < 3e-16 at 2).
inline Halide::Expr erf_series(const Halide::Expr& x) {
  std::array<double, 32> c{};
  double factorial = 1;
  for (std::size_t n = 0; n < c.size(); ++n) {
    if (n > 0) factorial *= static_cast<double>(n);
    c[n] = (n % 2 == 0 ? 1.0 : -1.0) / (factorial * static_cast<double>(2 * n + 1));
  }
  return f64(2.0 * std::numbers::inv_sqrtpi) * x * horner(c, x * x);
}

// erfc(a) for a >= 2: exp(-a²)/sqrt(pi) / K with Laplace's continued fraction
// K = a + (1/2)/(a + 1/(a + (3/2)/(a + ...))), 40 levels (relative error < 5e-14 at a = 2).
// K is evaluated from the bottom as a ratio P/Q (K_n = a + c_n/K_{n+1} = (a·P + c_n·Q)/P), one
// division instead of forty: measured on AVX2, the divisions made a GELU kernel ~40 ns per
// element. All terms are positive, so nothing cancels. Above a = 27 exp(-a²) < 3e-317 and
// the result is 0 in float32 whatever K is; clamping a there keeps P (~a^41) finite.
inline Halide::Expr erfc_fraction(const Halide::Expr& a) {
  const Halide::Expr ac = Halide::min(a, f64(27.0));
  Halide::Expr p = ac;
  Halide::Expr q = f64(1.0);
  for (int n = 40; n >= 1; --n) {
    const Halide::Expr next_p = ac * p + f64(n * 0.5) * q;
    q = p;
    p = next_p;
  }
  return math::exp(-(a * a)) * f64(std::numbers::inv_sqrtpi) * q / p;
}
}  // namespace detail

inline Halide::Expr erf(const Halide::Expr& x) {
  using detail::f64;
  const Halide::Expr a = Halide::abs(x);
  const Halide::Expr magnitude =
      Halide::select(a < f64(2.0), detail::erf_series(a), f64(1.0) - detail::erfc_fraction(a));
  return detail::nan_if_nan(x, detail::with_sign_of(x, magnitude));
}

inline Halide::Expr erfc(const Halide::Expr& x) {
  using detail::f64;
  const Halide::Expr fraction = detail::erfc_fraction(Halide::abs(x));
  const Halide::Expr value = Halide::select(x >= f64(2.0), fraction, x <= f64(-2.0),
                                            f64(2.0) - fraction, f64(1.0) - detail::erf_series(x));
  return detail::nan_if_nan(x, value);
}

}  // namespace nnfuse::generators::math
