// The activation catalog, written in the DSL: every entry is an ordinary expression, exactly
// what a user writes for their own activation, and composes like one (`silu` is
// `x * sigmoid(x)`). Defaults follow torch.nn. Each form is chosen to stay accurate when its
// operations run in float32, because generators/ lowers these same expressions to float32
// kernels: expm1 in ELU/SELU (exp(x) - 1 cancels near 0), the two-sided sigmoid (1/(1+e^-x)
// overflows to 0 below -88.7, where the true value is a denormal), GELU through erfc (1+erf
// cancels below -3 and reaches 0 below -5.5), HardSwish without x*(x+3) overflowing for
// large x, and an explicit 0 below `underflow_cutoff` where x * f(x) would be -inf * 0 = NaN.
// Comparisons are chosen so that derivatives at kinks equal PyTorch's backward formulas.
#pragma once

#include <limits>
#include <numbers>

#include "nnfuse/dsl/expr.hpp"

namespace nnfuse {

// Below this input x·sigmoid(x), GELU, Mish, ... are 0 even in double; the select keeps
// x = -inf at 0 (the limit) instead of -inf * 0 = NaN.
inline constexpr double underflow_cutoff = -1000.0;
// Above this input sigmoid(x), tanh(softplus(x)), Phi(x) are 1 even in double, so those
// activations equal x; the select makes the derivative at +inf 1 instead of inf * 0 = NaN.
inline constexpr double saturation_cutoff = 40.0;

inline constexpr double infinity = std::numeric_limits<double>::infinity();

// f(x) = x·g(x) with g -> 0 at -inf and g -> 1 at +inf, exact at both ends.
template <class G>
constexpr auto x_times_saturating(G g) {
  return select(x < lit<underflow_cutoff>, lit<0>, select(x > lit<saturation_cutoff>, x, x * g));
}

inline constexpr auto identity = x;

inline constexpr auto relu = max(x, lit<0>);

template <Float Slope = 0.01F>
inline constexpr auto leaky_relu = select(x > lit<0>, x, x* lit<Slope>);

// Per-channel learned slope, one alpha per output channel (torch.nn.PReLU's `weight`). With
// alpha = 0 (ReLU) the limit at -inf is 0, where alpha·x would be 0·(-inf) = NaN; finite
// inputs keep PyTorch's 0·x = -0.
inline constexpr auto prelu =
    select(x > lit<0>, x,
           select(x == lit<-infinity> && param<"alpha"> == lit<0>, lit<0>, param<"alpha">* x));

template <Float Alpha = 1.0>
inline constexpr auto elu = select(x > lit<0>, x, lit<Alpha>* expm1(x));

inline constexpr double selu_alpha = 1.6732632423543772848170429916717;
inline constexpr double selu_scale = 1.0507009873554804934193349852946;
inline constexpr auto selu =
    select(x > lit<0>, lit<selu_scale>* x, lit<selu_scale * selu_alpha>* expm1(x));

// exp(-|x|) never overflows, and the denominator is in [1, 2]: 1/(1 + e^-x) for x >= 0,
// e^x/(1 + e^x) below, as one quotient (whose numerator is selected), so a vector computes one
// division and its correction, not both sides'.
inline constexpr auto sigmoid = [] {
  constexpr auto t = exp(-abs(x));
  return select(x >= lit<0>, lit<1>, t) / (lit<1> + t);
}();

// The Tanh activation is the primitive `tanh(x)`.

inline constexpr auto gelu =
    x_times_saturating(lit<0.5> * erfc(x * lit<-std::numbers::sqrt2 / 2.0>));

// GELU(approximate='tanh'): 0.5·x·(1 + tanh(u)) = x·sigmoid(2u), without 1 + tanh cancelling.
inline constexpr auto gelu_tanh = [] {
  constexpr double two_sqrt_2_over_pi = 2.0 * std::numbers::sqrt2 * std::numbers::inv_sqrtpi;
  constexpr auto two_u = lit<two_sqrt_2_over_pi> * (x + lit<0.044715> * x * x * x);
  return x_times_saturating(sigmoid(two_u));
}();

inline constexpr auto silu = x_times_saturating(sigmoid);

// tanh(softplus(x)) = n/(n + 2) = 1 - 2/(n + 2) with n = e^x·(e^x + 2): one exponential, no
// tanh and no log1p. n/(n + 2) below 0 and 1 - 2/(n + 2) above, so that neither the value nor
// its derivative cancels (n/(n + 2)'s derivative (n'(n + 2) - n·n')/(n + 2)² would, for large
// n). The float32 lowering keeps x times an exponential's quotient in pieces until it rounds
// into the subnormals (below -87), where tanh(log1p(e^x)) would multiply x by a subnormal. Above
// mish_saturation, 2/(n + 2) < 2e-13, so Mish is x there, and n·n' (e^4x) stays finite in the
// derivative's float32 evaluation.
inline constexpr double mish_saturation = 15.0;
inline constexpr auto mish = [] {
  constexpr auto e = exp(x);
  constexpr auto n = e * (e + lit<2>);
  constexpr auto tanh_softplus =
      select(x < lit<0>, n / (n + lit<2>), lit<1> - lit<2> / (n + lit<2>));
  return select(x < lit<underflow_cutoff>, lit<0>,
                select(x > lit<mish_saturation>, x, x * tanh_softplus));
}();

// torch.nn.Softplus: x where beta·x > threshold, else log(1 + exp(beta·x)) / beta.
template <Float Beta = 1.0, Float Threshold = 20.0>
inline constexpr auto softplus = select(x* lit<Beta> > lit<Threshold>, x,
                                        log1p(exp(x* lit<Beta>)) / lit<Beta>);

// (x + 3) is exact near -3, so the one rounding is the division.
inline constexpr auto hardsigmoid =
    select(x <= lit<-3>, lit<0>, select(x >= lit<3>, lit<1>, (x + lit<3>) / lit<6>));

// x < -3 and x <= 3 (not <= -3, < 3) give PyTorch's hardswish'(-3) = -0.5 and '(3) = 1.5.
inline constexpr auto hardswish =
    select(x < lit<-3>, lit<0>, select(x <= lit<3>, x*(x + lit<3>) / lit<6>, x));

inline constexpr auto relu6 = min(max(x, lit<0>), lit<6>);

namespace detail {
// A row whose maximum is +inf, reached once: softmax has a limit there (one-hot), which
// x - row_max(x) = inf - inf = NaN would lose. Two or more +inf, or any NaN (row_max is then
// NaN), have none: those rows are all NaN, through the ordinary form.
inline constexpr auto one_infinite_maximum =
    row_max(x) == lit<infinity> && row_sum(select(x == lit<infinity>, lit<1>, lit<0>)) == lit<1>;
inline constexpr auto is_infinite = x == lit<infinity>;
}  // namespace detail

// Row-wise: max-subtracted, so exp never overflows.
inline constexpr auto softmax = [] {
  constexpr auto shifted = x - row_max(x);
  return select(detail::one_infinite_maximum, select(detail::is_infinite, lit<1>, lit<0>),
                exp(shifted) / row_sum(exp(shifted)));
}();

// log(sum exp(shifted)) = log1p(sum - 1): the maximum's term exp(0) = 1 is taken out of the
// sum as expm1(0) = 0 (same derivative, exp), ties with the maximum add back their count
// minus one; log of a sum just above 1 would lose the small terms (the top class's
// log-probability is then -1e-17, not 0).
inline constexpr auto log_softmax = [] {
  constexpr auto shifted = x - row_max(x);
  constexpr auto is_max = shifted == lit<0>;
  constexpr auto others = row_sum(select(is_max, expm1(shifted), exp(shifted)));
  constexpr auto ties = row_sum(select(is_max, lit<1>, lit<0>)) - lit<1>;
  return select(detail::one_infinite_maximum, select(detail::is_infinite, lit<0>, lit<-infinity>),
                shifted - log1p(others + ties));
}();

}  // namespace nnfuse
