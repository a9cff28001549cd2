// Vectorizable float32 math for the default (`fast`) lowering: exp, expm1, log, log1p, tanh,
// erf and erfc as plain float32 Halide arithmetic (Cody–Waite range reduction, polynomials,
// exponent bit manipulation), with no float64 and no libm call, so an epilogue runs at the
// vector width of the matmul it follows. The lowering wraps everything in strict_float, which
// is what keeps the error-free transformations below intact (measured: without it Halide's
// simplifier folds Fast2Sum's error term `b - ((a + b) - a)` to 0) and NaN guards alive; the
// price is that LLVM contracts no multiply–add into an FMA, so every target computes the same
// bits, the baseline without FMA included. exp and erfc also come unscaled, as (hi + lo)·2^k
// (`Scaled`), for the lowering's two-piece evaluation (lower.hpp). Each function handles NaN,
// ±inf, ±0 and subnormals as IEEE/libm do. Their errors, and those of every catalog activation
// built from them, are measured over all 2^32 inputs by tests/eval's nnfuse_ulp_sweep
// (docs/ARCHITECTURE.md has the table); the per-function comments give the design budget.
// Polynomials are Taylor series where one is short enough, otherwise least-squares fits on
// Chebyshev nodes whose coefficients were rounded to float32 one at a time, refitting the rest
// after each.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>

#include <Halide.h>

#include <nnfuse/generators/math.hpp>

namespace nnfuse::generators::math32 {

namespace detail {
inline Halide::Expr f32(double v) {
  return {static_cast<float>(v)};
}

// 2^k for integer-valued k (float, or int32) in [-126, 127], built from the exponent bits.
inline Halide::Expr pow2(const Halide::Expr& k) {
  return Halide::reinterpret(Halide::Float(32), (Halide::cast<int32_t>(k) + 127) << 23);
}

// v·2^k for integer-valued k in [-150, 128]: two exact scalings, so the product rounds once
// (into the subnormals, or to ±inf past FLT_MAX). The halves are split in integers: floor(k/2)
// is k's arithmetic shift, the same exponents as floor(k·0.5) in float32, which Halide 14 lowers
// on AVX-512 to two 256-bit rounds with an extract and an insert (5 vector operations fewer).
inline Halide::Expr scale(const Halide::Expr& v, const Halide::Expr& k) {
  const Halide::Expr whole = Halide::cast<int32_t>(k);
  const Halide::Expr half = whole >> 1;
  return v * pow2(half) * pow2(whole - half);
}

// |magnitude| with the sign bit of x (tanh(-0) and erf(-0) are -0; a select on x < 0 is not).
inline Halide::Expr with_sign_of(const Halide::Expr& x, const Halide::Expr& magnitude) {
  const Halide::Expr sign =
      Halide::reinterpret(Halide::Int(32), x) & Halide::Expr(std::numeric_limits<int32_t>::min());
  return Halide::reinterpret(Halide::Float(32),
                             Halide::reinterpret(Halide::Int(32), Halide::abs(magnitude)) | sign);
}

inline Halide::Expr nan_if_nan(const Halide::Expr& x, const Halide::Expr& value) {
  return Halide::select(math::is_nan(x), x, value);
}

template <std::size_t N>
Halide::Expr horner(const std::array<float, N>& c, const Halide::Expr& t) {
  Halide::Expr acc = Halide::Expr(c[N - 1]);
  for (std::size_t i = N - 1; i-- > 0;) acc = acc * t + Halide::Expr(c[i]);
  return acc;
}

// 1/n! for n = first .. first + N - 1, each rounded to float32 once.
template <std::size_t N>
constexpr std::array<float, N> inverse_factorials(std::size_t first) {
  std::array<float, N> c{};
  double f = 1;
  for (std::size_t n = 2; n <= first; ++n) f *= static_cast<double>(n);
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) f *= static_cast<double>(first + i);
    c[i] = static_cast<float>(1.0 / f);
  }
  return c;
}

// ln2 split so that k·ln2_hi is exact for |k| < 256 (ln2_hi has 16 significant bits).
constexpr float ln2_hi = 0x1.62e4p-1F;
constexpr float ln2_lo = static_cast<float>(std::numbers::ln2 - static_cast<double>(ln2_hi));

// x = k·ln2 + r with k = round(x/ln2), |r| <= ln2/2 (+ rounding), for |x| < 128·ln2.
struct Reduced {
  Halide::Expr k;
  Halide::Expr r;
};
inline Reduced reduce(const Halide::Expr& x) {
  const Halide::Expr k = Halide::floor(x * f32(1.0 / std::numbers::ln2) + f32(0.5));
  return {k, (x - k * f32(ln2_hi)) - k * f32(ln2_lo)};
}

// (hi, lo) with hi + lo = a·b exactly (Dekker's product, Veltkamp's split: no FMA needed).
struct Pair {
  Halide::Expr hi;
  Halide::Expr lo;
};
inline Pair split(const Halide::Expr& a) {
  const Halide::Expr c = a * f32(4097.0);  // 2^12 + 1
  const Halide::Expr hi = c - (c - a);
  return {hi, a - hi};
}
inline Pair two_product(const Halide::Expr& a, const Halide::Expr& b) {
  const Halide::Expr p = a * b;
  const Pair sa = split(a);
  const Pair sb = split(b);
  const Halide::Expr error = ((sa.hi * sb.hi - p) + sa.hi * sb.lo + sa.lo * sb.hi) + sa.lo * sb.lo;
  return {p, error};
}
}  // namespace detail

namespace detail {
// e^x as (hi + lo)·2^k, hi in [0.70, 1.42] and |lo| below an ULP of hi: what exp rounds once,
// and what a caller that multiplies or divides the exponential keeps apart (so the product is
// scaled, and rounded, once). x = k·ln2 + r + c, where r + c is the reduced argument carried in
// two pieces (k·ln2_hi is exact, and so is r_hi = x - k·ln2_hi: Sterbenz), r + c with c the
// rounding error of r_hi - k·ln2_lo plus the caller's tail. e^r = 1 + (r + r²·q(r)), q Taylor
// from 1/2! to 1/8! (truncation < 3e-10 relative); the two outer additions are Fast2Sums
// (|1| >= |s|, |r| >= |r²·q|), so their errors join lo, with c·e^r. What is left is r²·q's own
// rounding (< 0.07 ULP).
struct ExpParts {
  Halide::Expr k;
  Halide::Expr hi;
  Halide::Expr lo;
};
inline ExpParts exp_parts(const Halide::Expr& xc, const Halide::Expr& tail) {
  const Halide::Expr k = Halide::floor(xc * f32(1.0 / std::numbers::ln2) + f32(0.5));
  const Halide::Expr r_hi = xc - k * f32(ln2_hi);
  const Halide::Expr t = k * f32(ln2_lo);
  const Halide::Expr r = r_hi - t;
  const Halide::Expr c = ((r_hi - r) - t) + tail;
  const Halide::Expr w = r * (r * horner(inverse_factorials<7>(2), r));
  const Halide::Expr s = r + w;
  const Halide::Expr s_lo = w - (s - r);
  const Halide::Expr hi = f32(1.0) + s;
  const Halide::Expr lo = ((f32(1.0) - hi) + s) + (s_lo + c * hi);
  return {k, hi, lo};
}
}  // namespace detail

// e^(x + tail) for a small correction `tail` (|tail| << ulp(x) is what callers pass: the low
// part of an argument computed in two pieces), ~0.6 ULP, subnormal results included.
inline Halide::Expr exp(const Halide::Expr& x, const Halide::Expr& tail) {
  using detail::f32;
  // e^89 > FLT_MAX and e^-104 < half the smallest subnormal: the clamp keeps k in range and
  // the scaling then overflows to inf or rounds to 0 by itself (±inf included).
  const Halide::Expr xc = Halide::clamp(x, f32(-104.0), f32(89.0));
  // The tail belongs to x, not to the clamp: exp(-3.4e38 + 1) is 0, not e^(-104 + 1).
  const detail::ExpParts e = detail::exp_parts(xc, Halide::select(xc == x, tail, f32(0.0)));
  return detail::nan_if_nan(x, detail::scale(e.hi + e.lo, e.k));
}

// A value kept as (hi + lo)·2^k, with k an integer-valued float in [-245, 128]: an exponential
// before its final scaling, so that a caller multiplying or dividing it (x·sigmoid(x) at
// x = -95, where sigmoid alone is subnormal) rounds into the subnormals once, at the end
// (lower.hpp). hi carries NaN and ±inf; lo is 0 where hi is not finite.
struct Scaled {
  Halide::Expr hi;
  Halide::Expr lo;
  Halide::Expr k;
};

// e^(x + tail) as Scaled: hi + lo is e^r to ~2^-30 (see exp_parts), k the exponent; 0 below
// -170 (e^-170 < 2^-245, which any factor below 2^95 leaves below half the smallest subnormal)
// and +inf above 89, so that 0·e^x is NaN there as in IEEE.
inline Scaled exp_scaled(const Halide::Expr& x, const Halide::Expr& tail) {
  using detail::f32;
  const Halide::Expr in_range = x >= f32(-170.0) && x <= f32(89.0);
  const Halide::Expr xc = Halide::clamp(x, f32(-170.0), f32(89.0));
  const detail::ExpParts e = detail::exp_parts(xc, Halide::select(in_range, tail, f32(0.0)));
  const Halide::Expr underflows = x < f32(-170.0);
  const Halide::Expr overflows = x > f32(89.0);
  const Halide::Expr hi = Halide::select(
      underflows, f32(0.0), overflows, Halide::Expr(std::numeric_limits<float>::infinity()), e.hi);
  return {detail::nan_if_nan(x, hi), Halide::select(in_range, e.lo, f32(0.0)), e.k};
}

// v as hi + lo with lo 0 where v is subnormal (hi is then as accurate as the subnormal spacing
// allows) or not finite; above 2^-100, 2^k·lo is a normal float or negligible, and hi + lo is
// v to ~2^-30 relative. hi is rounded once (detail::scale).
inline detail::Pair unscaled(const Scaled& v) {
  using detail::f32;
  const Halide::Expr sum = v.hi + v.lo;
  const Halide::Expr hi = detail::scale(sum, v.k);
  const Halide::Expr normal = v.k > f32(-100.0) && v.k < f32(127.0) &&
                              Halide::abs(sum) < f32(std::numeric_limits<float>::max());
  const Halide::Expr lo =
      detail::pow2(Halide::clamp(v.k, f32(-100.0), f32(126.0))) * ((v.hi - sum) + v.lo);
  return {hi, Halide::select(normal, lo, f32(0.0))};
}

namespace detail {
// e^r - 1 for |r| <= ln2: r + r·(r·q(r)), q Taylor from 1/2! to 1/10! (truncation < 6.5e-10
// relative); r is exact, so the error is the last addition's plus < 0.2 ULP.
inline Halide::Expr expm1_near_zero(const Halide::Expr& r) {
  return r + r * (r * horner(inverse_factorials<9>(2), r));
}
}  // namespace detail

namespace detail {
// expm1 x for 0 <= x <= 87, where 2^k and 2^-k are normal (tanh passes 2|x| <= 20): expm1's
// form for k >= 0 alone, the same operations on the lanes where they matter, so the same bits,
// without the branches no such x takes.
inline Halide::Expr expm1_nonnegative(const Halide::Expr& x) {
  const Reduced red = reduce(x);
  const Halide::Expr m = expm1_near_zero(red.r);
  return pow2(red.k) * (m + (f32(1.0) - pow2(-red.k)));
}
}  // namespace detail

// e^x - 1, about 1 ULP. |x| < ln2: the polynomial. Elsewhere x = k·ln2 + r and, with
// m = expm1(r): 2^k·(m + (1 - 2^-k)) for k >= -1 (1 - 2^-k is exact, and m has the sign that
// avoids cancelling) and 2^k·(1 + m) - 1 for k <= -2 (the one rounding is the final - 1). -1
// below -17.5, where e^x is below half an ULP of 1.
inline Halide::Expr expm1(const Halide::Expr& x) {
  using detail::f32;
  const Halide::Expr near_zero = Halide::abs(x) < f32(std::numbers::ln2);
  const detail::Reduced red = detail::reduce(Halide::clamp(x, f32(-17.5), f32(89.0)));
  // One polynomial for both forms, of x near zero and of r elsewhere: each lane needs only one
  // (ELU's 64 MiB elementwise pass took a tenth less time than with both, the same bits).
  const Halide::Expr m = detail::expm1_near_zero(Halide::select(near_zero, x, red.r));
  const Halide::Expr upper =
      detail::scale(m + (f32(1.0) - detail::pow2(Halide::max(-red.k, f32(-60.0)))), red.k);
  const Halide::Expr lower =
      detail::pow2(Halide::max(red.k, f32(-60.0))) * (f32(1.0) + m) - f32(1.0);
  // x == 0 keeps expm1(-0) = -0 (the polynomial's r + r·(r·q) gives +0).
  const Halide::Expr value = Halide::select(x == f32(0.0), x, near_zero, m, x < f32(-17.5),
                                            f32(-1.0), red.k >= f32(-1.0), upper, lower);
  return detail::nan_if_nan(x, value);
}

namespace detail {
// ln u + c for u > 0 finite, c a correction << u·ulp: u = m·2^e with m in [sqrt(1/2),
// sqrt(2)), f = m - 1 (exact), s = f/(2 + f), ln m = f - (f²/2 - s·(f²/2 + R(s²))) with
// R(z) = 2z/3 + 2z²/5 + ... + 2z^5/11 (truncation < 5e-11 relative): the large terms f and
// f²/2 are (nearly) exact, so ~0.6 ULP.
inline Halide::Expr log_with_correction(const Halide::Expr& u, const Halide::Expr& c) {
  const Halide::Expr subnormal = u < f32(std::numeric_limits<float>::min());
  const Halide::Expr us = Halide::select(subnormal, u * f32(0x1p25), u);
  const Halide::Expr bits = Halide::reinterpret(Halide::Int(32), us);
  // Mantissa in [1, 2), then halved above sqrt(2).
  Halide::Expr m = Halide::reinterpret(Halide::Float(32), (bits & 0x007fffff) | 0x3f800000);
  Halide::Expr e = Halide::cast<float>(((bits >> 23) & 0xff) - 127) -
                   Halide::select(subnormal, f32(25.0), f32(0.0));
  const Halide::Expr big = m > f32(std::numbers::sqrt2);
  m = Halide::select(big, m * f32(0.5), m);
  e = e + Halide::select(big, f32(1.0), f32(0.0));
  const Halide::Expr f = m - f32(1.0);
  const Halide::Expr s = f / (f32(2.0) + f);
  const Halide::Expr z = s * s;
  std::array<float, 5> coefficients{};
  for (std::size_t i = 0; i < coefficients.size(); ++i) {
    coefficients[i] = static_cast<float>(2.0 / static_cast<double>(2 * i + 3));
  }
  const Halide::Expr r = z * horner(coefficients, z);
  const Halide::Expr half_f_squared = f32(0.5) * f * f;
  return e * f32(ln2_hi) +
         (f - (half_f_squared - (s * (half_f_squared + r) + (e * f32(ln2_lo) + c))));
}
}  // namespace detail

// ln x, ~0.6 ULP.
inline Halide::Expr log(const Halide::Expr& x) {
  using detail::f32;
  const float inf = std::numeric_limits<float>::infinity();
  const Halide::Expr finite = detail::log_with_correction(x, f32(0.0));
  const Halide::Expr value =
      Halide::select(x == f32(0.0), f32(-inf), x < f32(0.0),
                     f32(std::numeric_limits<float>::quiet_NaN()), x == f32(inf), f32(inf), finite);
  return detail::nan_if_nan(x, value);
}

// ln(1 + x): u = 1 + x rounded, and the rounding error's first-order term c = (x - (u - 1))/u
// (Fast2Sum: u - 1 is exact for u <= 2, u - x for u > 2), so ln u + c. ~0.7 ULP.
inline Halide::Expr log1p(const Halide::Expr& x) {
  using detail::f32;
  const float inf = std::numeric_limits<float>::infinity();
  const Halide::Expr u = f32(1.0) + x;
  const Halide::Expr c = Halide::select(u > f32(2.0), f32(1.0) - (u - x), x - (u - f32(1.0))) / u;
  const Halide::Expr finite = detail::log_with_correction(u, c);
  const Halide::Expr value =
      Halide::select(x == f32(0.0), x, x == f32(-1.0), f32(-inf), x < f32(-1.0),
                     f32(std::numeric_limits<float>::quiet_NaN()), x == f32(inf), f32(inf), finite);
  return detail::nan_if_nan(x, value);
}

// tanh x. Below 0.55: x + x·(x²·Q(x²)), Q the Taylor series of tanh(x)/x - 1 to x^18
// (truncation 0.01 ULP at 0.55; x is exact, so ~0.6 ULP). Above: sign(x)·e/(e + 2),
// e = expm1(2|x|) >= 2, where the quotient halves expm1's error; 1 above 9.1, where 1 - tanh x
// is below half an ULP of 1. ~1.5 ULP. Both forms are computed on every lane, so e comes from
// expm1_nonnegative, not expm1: the same bits (hashed over all 2^32 inputs) in 37 % less time
// (64 MiB elementwise, Zen 4, one thread: 29.6-31.3 ms before, 18.7-19.4 ms after).
inline Halide::Expr tanh(const Halide::Expr& x) {
  using detail::f32;
  static constexpr std::array<float, 9> series = {
      -3.333333333e-01F, 1.333333333e-01F,  -5.396825397e-02F, 2.186948854e-02F, -8.863235530e-03F,
      3.592128037e-03F,  -1.455834387e-03F, 5.900274409e-04F,  -2.391291142e-04F};
  const Halide::Expr a = Halide::min(Halide::abs(x), f32(10.0));
  const Halide::Expr small = Halide::min(a, f32(0.55));
  const Halide::Expr near_zero =
      small + small * ((small * small) * detail::horner(series, small * small));
  const Halide::Expr e = detail::expm1_nonnegative(f32(2.0) * a);
  const Halide::Expr magnitude =
      Halide::select(a<f32(0.55), near_zero, a> f32(9.1), f32(1.0), e / (e + f32(2.0)));
  return detail::nan_if_nan(x, detail::with_sign_of(x, magnitude));
}

namespace detail {
// Where erf's series hands over to erfc's form: erf(a) = 1/2 there. Below, erfc = 1 - erf(a)
// stays above 1/2, so nothing cancels; above, erf = 1 - erfc with erfc below 1/2.
constexpr double erf_switch = 0.4769362762044699;

// erf(a) for |a| <= erf_switch: a + a·S(a²), S the Taylor series of erf(a)/a - 1 to a^14
// (truncation < 1e-10): the leading term a is exact, so 2/sqrt(pi) rounded costs nothing.
inline Halide::Expr erf_near_zero(const Halide::Expr& a) {
  std::array<float, 8> c{};
  double factorial = 1;
  for (std::size_t n = 0; n < c.size(); ++n) {
    if (n > 0) factorial *= static_cast<double>(n);
    const double term = (n % 2 == 0 ? 1.0 : -1.0) * 2.0 * std::numbers::inv_sqrtpi /
                        (factorial * static_cast<double>(2 * n + 1));
    c[n] = static_cast<float>(n == 0 ? term - 1.0 : term);
  }
  return a + a * horner(c, a * a);
}

// erfc(hi + lo) for erf_switch <= hi <= 10.1 (erf's tail; erfc_scaled below uses the same P,
// to 10.3) and |lo| <= ulp(hi): e^-(a²)·P(t)/a with
// t = (a-1)/(a+1), where P fits a·e^(a²)·erfc(a) (from 0.30 to 0.56 over the interval; degree
// 11, 0.04 ULP; evaluated in float32 from a rounded t, 2.1 ULP, the rounding of t being most of
// it). a² is carried as hi² + (Dekker's low part + 2·hi·lo), so the exponential sees the
// argument's bits that a float32 a² would lose (erfc(9) changes by 17 % per ULP of a²).
// Above 10.06 the result is below half the smallest subnormal.
inline constexpr std::array<float, 12> erfc_fit = {
    4.275835752e-01F,  3.087431192e-01F,  -1.666186452e-01F, -4.082336649e-02F,
    1.965280622e-02F,  1.746100560e-02F,  4.151716363e-03F,  -2.352419775e-03F,
    -2.995853312e-03F, -1.817121287e-03F, 2.302030771e-04F,  9.815300582e-04F};

inline Halide::Expr erfc_tail(const Halide::Expr& hi, const Halide::Expr& lo) {
  const Pair square = two_product(hi, hi);
  const Halide::Expr tail = -(square.lo + f32(2.0) * hi * lo);
  const Halide::Expr t = (hi - f32(1.0)) / (hi + f32(1.0));
  return exp(-square.hi, tail) * horner(erfc_fit, t) / hi;
}
}  // namespace detail

namespace detail {
// The end of erfc_fit's interval: above, erfc(a) < 2^-153, so erfc(a)·c rounds to 0 for
// |c| < 8 (GELU's 0.5·|x| is 7.3 there), and nnfuse returns 0.
constexpr float erfc_zero = 10.3F;
}  // namespace detail

// erfc(hi + lo), where lo is the rounding error of an argument computed as hi (0 when the
// argument is exact), as Scaled: the tail e^-(a²)·P(t)/a before its final scaling, so that a
// caller's product (GELU's 0.5·x·erfc(-x/sqrt 2) below x = -13.2, where erfc alone is
// subnormal) rounds once. lower.hpp passes the argument's low part.
inline Scaled erfc_scaled(const Halide::Expr& hi, const Halide::Expr& lo) {
  using detail::f32;
  const Halide::Expr a = Halide::abs(hi);
  const Halide::Expr near_zero = detail::erf_near_zero(Halide::min(a, f32(detail::erf_switch)));
  const Halide::Expr far =
      Halide::min(Halide::max(a, f32(detail::erf_switch)), f32(detail::erfc_zero));
  // The low part follows |hi|'s sign; where hi was clamped it no longer belongs to it.
  const Halide::Expr far_lo =
      Halide::select(a > f32(detail::erfc_zero), f32(0.0), Halide::select(hi < f32(0.0), -lo, lo));
  const detail::Pair square = detail::two_product(far, far);
  const Scaled e = exp_scaled(-square.hi, -(square.lo + f32(2.0) * far * far_lo));
  // t = (a - 1)/(a + 1): a - 1 is exact, a + 1 carried as a pair, and t's remainder kept as
  // t_lo, of which P's last step takes the first-order part t_lo·Q(t).
  const Halide::Expr above = far + f32(1.0);
  const Halide::Expr above_lo = (f32(1.0) - (above - far));
  const Halide::Expr t = (far - f32(1.0)) / above;
  const detail::Pair t_above = detail::two_product(t, above);
  const Halide::Expr t_lo = (((far - f32(1.0)) - t_above.hi) - t_above.lo - t * above_lo) / above;
  // e^-(a²)·(P/a) as a pair: the quotient's remainder and the product's error are kept, so
  // what remains is P's own (~1 ULP, t's rounding most of it) and the caller's final rounding.
  // P's last Horner step, c0 + t·Q(t), in two pieces too: its rounding would be up to 1 ULP.
  std::array<float, detail::erfc_fit.size() - 1> higher{};
  std::copy(detail::erfc_fit.begin() + 1, detail::erfc_fit.end(), higher.begin());
  const Halide::Expr higher_value = detail::horner(higher, t);
  const detail::Pair tq = detail::two_product(t, higher_value);
  const Halide::Expr fit = f32(detail::erfc_fit[0]) + tq.hi;
  const Halide::Expr fit_lo =
      ((f32(detail::erfc_fit[0]) - fit) + tq.hi) + (tq.lo + t_lo * higher_value);
  const Halide::Expr q = fit / far;
  const detail::Pair q_far = detail::two_product(q, far);
  const Halide::Expr q_lo = (((fit - q_far.hi) - q_far.lo) + fit_lo) / far;
  const detail::Pair product = detail::two_product(e.hi, q);
  const Halide::Expr tail = product.hi;
  const Halide::Expr tail_lo = product.lo + (e.hi * q_lo + e.lo * q);
  const Halide::Expr small = a < f32(detail::erf_switch);
  const Halide::Expr positive_tail = !small && hi > f32(0.0);
  // Below the switch and for negative arguments the value is in [1/2, 2], unscaled.
  const Halide::Expr unscaled_value = Halide::select(
      small, Halide::select(hi < f32(0.0), f32(1.0) + near_zero, f32(1.0) - near_zero),
      f32(2.0) - detail::scale(tail + tail_lo, e.k));
  const Halide::Expr value =
      Halide::select(a > f32(detail::erfc_zero), Halide::select(hi < f32(0.0), f32(2.0), f32(0.0)),
                     Halide::select(positive_tail, tail, unscaled_value));
  const Halide::Expr scaled = positive_tail && a <= f32(detail::erfc_zero);
  return {detail::nan_if_nan(hi, value), Halide::select(scaled, tail_lo, f32(0.0)),
          Halide::select(scaled, e.k, f32(0.0))};
}

// erf x: the series below 0.47, 1 - erfc above (erfc < 1/2 there, so no cancellation).
inline Halide::Expr erf(const Halide::Expr& x) {
  using detail::f32;
  const Halide::Expr a = Halide::abs(x);
  const Halide::Expr near_zero = detail::erf_near_zero(Halide::min(a, f32(detail::erf_switch)));
  const Halide::Expr far =
      detail::erfc_tail(Halide::min(Halide::max(a, f32(detail::erf_switch)), f32(10.1)), f32(0.0));
  const Halide::Expr magnitude =
      Halide::select(a < f32(detail::erf_switch), near_zero, f32(1.0) - far);
  return detail::nan_if_nan(x, detail::with_sign_of(x, magnitude));
}

}  // namespace nnfuse::generators::math32
