#include "mpfr_reference.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>

#include <mpfr.h>

namespace nnfuse::reference {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The 0.044715 of the tanh approximation of GELU, as an exact decimal.
constexpr std::string_view kGeluTanhCubicDecimal = "0.044715";

// One MPFR number at kWorkingPrecisionBits, owning its storage, with just enough operators to
// write the formulas below as they read on paper. Every operation rounds to nearest.
class Real {
 public:
  Real() { mpfr_init2(value_, kWorkingPrecisionBits); }
  // Implicit on purpose: every double is exact in a Real, so mixing them in formulas loses nothing.
  Real(double value) : Real() { mpfr_set_d(value_, value, MPFR_RNDN); }  // NOLINT
  Real(const Real& other) : Real() { mpfr_set(value_, other.value_, MPFR_RNDN); }
  Real(Real&& other) noexcept : Real() { mpfr_swap(value_, other.value_); }
  Real& operator=(const Real& other) {
    mpfr_set(value_, other.value_, MPFR_RNDN);
    return *this;
  }
  Real& operator=(Real&& other) noexcept {
    mpfr_swap(value_, other.value_);
    return *this;
  }
  ~Real() { mpfr_clear(value_); }

  // A decimal constant rounded once to the working precision (not via double).
  static Real from_decimal(std::string_view digits) {
    Real result;
    const std::string null_terminated(digits);
    mpfr_set_str(result.value_, null_terminated.c_str(), 10, MPFR_RNDN);
    return result;
  }

  static Real pi() {
    Real result;
    mpfr_const_pi(result.value_, MPFR_RNDN);
    return result;
  }

  // The single final rounding; handles double subnormals and overflow to +-inf correctly.
  double to_double() const { return mpfr_get_d(value_, MPFR_RNDN); }

  mpfr_ptr raw() { return value_; }
  mpfr_srcptr raw() const { return value_; }

 private:
  mpfr_t value_;
};

using UnaryOperation = int (*)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t);
using BinaryOperation = int (*)(mpfr_ptr, mpfr_srcptr, mpfr_srcptr, mpfr_rnd_t);

Real apply(UnaryOperation operation, const Real& operand) {
  Real result;
  operation(result.raw(), operand.raw(), MPFR_RNDN);
  return result;
}

Real apply(BinaryOperation operation, const Real& left, const Real& right) {
  Real result;
  operation(result.raw(), left.raw(), right.raw(), MPFR_RNDN);
  return result;
}

Real operator+(const Real& left, const Real& right) {
  return apply(mpfr_add, left, right);
}
Real operator-(const Real& left, const Real& right) {
  return apply(mpfr_sub, left, right);
}
Real operator*(const Real& left, const Real& right) {
  return apply(mpfr_mul, left, right);
}
Real operator/(const Real& left, const Real& right) {
  return apply(mpfr_div, left, right);
}
Real operator-(const Real& operand) {
  return apply(mpfr_neg, operand);
}

Real square(const Real& operand) {
  return apply(mpfr_sqr, operand);
}
Real sqrt(const Real& operand) {
  return apply(mpfr_sqrt, operand);
}
Real exp(const Real& operand) {
  return apply(mpfr_exp, operand);
}
Real expm1(const Real& operand) {
  return apply(mpfr_expm1, operand);
}
Real log1p(const Real& operand) {
  return apply(mpfr_log1p, operand);
}
Real tanh(const Real& operand) {
  return apply(mpfr_tanh, operand);
}
Real sech(const Real& operand) {
  return apply(mpfr_sech, operand);
}
Real erfc(const Real& operand) {
  return apply(mpfr_erfc, operand);
}

// 1 / (1 + exp(-x)); 1 - logistic(x) is written as logistic(-x) wherever it is needed.
Real logistic(const Real& x) {
  return 1 / (1 + exp(-x));
}

// Widens MPFR's exponent range for the lifetime of the guard, so that intermediate values such
// as exp(-1e6) neither underflow nor overflow before the final rounding to double.
class WideExponentRange {
 public:
  WideExponentRange() : saved_min_(mpfr_get_emin()), saved_max_(mpfr_get_emax()) {
    mpfr_set_emin(mpfr_get_emin_min());
    mpfr_set_emax(mpfr_get_emax_max());
  }
  ~WideExponentRange() {
    mpfr_set_emin(saved_min_);
    mpfr_set_emax(saved_max_);
  }
  WideExponentRange(const WideExponentRange&) = delete;
  WideExponentRange& operator=(const WideExponentRange&) = delete;

 private:
  mpfr_exp_t saved_min_;
  mpfr_exp_t saved_max_;
};

// Each activation below gets a non-NaN double x (possibly +-inf). Where MPFR's own handling of
// infinities would produce NaN (inf * 0), the limit is returned explicitly; a limit that
// approaches zero from below is returned as -0.0.

Real relu_value(double x) {
  return x > 0 ? x : 0.0;
}
Real relu_derivative(double x) {
  return x > 0 ? 1.0 : 0.0;
}

Real leaky_relu_value(double x) {
  return x > 0 ? Real(x) : Real(kLeakyReluSlope) * x;
}
Real leaky_relu_derivative(double x) {
  return x > 0 ? 1.0 : kLeakyReluSlope;
}

// expm1 keeps full relative accuracy for tiny negative x, where exp(x) - 1 would cancel.
Real elu_value(double x) {
  return x > 0 ? Real(x) : expm1(Real(x));
}
Real elu_derivative(double x) {
  return x > 0 ? Real(1.0) : exp(Real(x));
}

Real selu_value(double x) {
  const Real alpha = Real::from_decimal(kSeluAlphaDecimal);
  const Real scale = Real::from_decimal(kSeluScaleDecimal);
  return scale * (x > 0 ? Real(x) : alpha * expm1(Real(x)));
}
Real selu_derivative(double x) {
  const Real alpha = Real::from_decimal(kSeluAlphaDecimal);
  const Real scale = Real::from_decimal(kSeluScaleDecimal);
  return scale * (x > 0 ? Real(1.0) : alpha * exp(Real(x)));
}

Real sigmoid_value(double x) {
  return logistic(Real(x));
}
Real sigmoid_derivative(double x) {
  return logistic(Real(x)) * logistic(Real(-x));
}

Real tanh_value(double x) {
  return tanh(Real(x));
}
// sech^2 rather than 1 - tanh^2, which cancels to 0 long before the true value underflows.
Real tanh_derivative(double x) {
  return square(sech(Real(x)));
}

// 1 + erf(z) is evaluated as erfc(-z): for negative x it is tiny and 1 + erf would cancel.
Real gelu_value(double x) {
  if (x == -kInfinity) return -0.0;
  const Real v(x);
  return v / 2 * erfc(-v / sqrt(Real(2.0)));
}
Real gelu_derivative(double x) {
  if (std::isinf(x)) return x > 0 ? 1.0 : -0.0;
  const Real v(x);
  const Real normal_cdf = erfc(-v / sqrt(Real(2.0))) / 2;
  const Real normal_pdf = exp(-square(v) / 2) / sqrt(2 * Real::pi());
  return normal_cdf + v * normal_pdf;
}

// u(x) = sqrt(2/pi) (x + 0.044715 x^3) and its derivative, for the tanh form of GELU.
Real gelu_tanh_argument(const Real& v) {
  const Real cubic = Real::from_decimal(kGeluTanhCubicDecimal);
  return sqrt(2 / Real::pi()) * (v + cubic * v * square(v));
}
Real gelu_tanh_argument_derivative(const Real& v) {
  const Real cubic = Real::from_decimal(kGeluTanhCubicDecimal);
  return sqrt(2 / Real::pi()) * (1 + 3 * cubic * square(v));
}
// x/2 (1 + tanh u) with 1 + tanh(u) = 2 / (1 + exp(-2u)), which does not cancel for u < 0.
Real gelu_tanh_value(double x) {
  if (x == -kInfinity) return -0.0;
  const Real v(x);
  return v / (1 + exp(-2 * gelu_tanh_argument(v)));
}
Real gelu_tanh_derivative(double x) {
  if (std::isinf(x)) return x > 0 ? 1.0 : -0.0;
  const Real v(x);
  const Real u = gelu_tanh_argument(v);
  return 1 / (1 + exp(-2 * u)) + v / 2 * square(sech(u)) * gelu_tanh_argument_derivative(v);
}

Real silu_value(double x) {
  if (x == -kInfinity) return -0.0;
  const Real v(x);
  return v * logistic(v);
}
Real silu_derivative(double x) {
  if (std::isinf(x)) return x > 0 ? 1.0 : -0.0;
  const Real v(x);
  return logistic(v) * (1 + v * logistic(-v));
}

// mish(x) = x tanh(softplus(x)) with the unthresholded softplus log(1 + e^x).
Real mish_value(double x) {
  if (x == -kInfinity) return -0.0;
  const Real v(x);
  return v * tanh(log1p(exp(v)));
}
Real mish_derivative(double x) {
  if (std::isinf(x)) return x > 0 ? 1.0 : -0.0;
  const Real v(x);
  const Real softplus = log1p(exp(v));
  return tanh(softplus) + v * square(sech(softplus)) * logistic(v);
}

// PyTorch's threshold rule: the identity (and slope 1) strictly above the threshold.
Real softplus_value(double x) {
  return x > kSoftplusThreshold ? Real(x) : log1p(exp(Real(x)));
}
Real softplus_derivative(double x) {
  return x > kSoftplusThreshold ? Real(1.0) : logistic(Real(x));
}

// (x + 3) / 6 rather than x/6 + 1/2: x + 3 is exact near x = -3, where the sum would cancel.
Real hardsigmoid_value(double x) {
  if (x <= -3) return 0.0;
  if (x >= 3) return 1.0;
  return (Real(x) + 3) / 6;
}
Real hardsigmoid_derivative(double x) {
  return (x > -3 && x < 3) ? Real(1.0) / 6 : Real(0.0);
}

Real hardswish_value(double x) {
  if (x <= -3) return 0.0;
  if (x >= 3) return x;
  const Real v(x);
  return v * (v + 3) / 6;
}
// PyTorch 1.13 includes both ends in the middle piece: -0.5 at x = -3 and 1.5 at x = 3.
Real hardswish_derivative(double x) {
  if (x < -3) return 0.0;
  if (x > 3) return 1.0;
  return (2 * Real(x) + 3) / 6;
}

Real relu6_value(double x) {
  return std::clamp(x, 0.0, 6.0);
}
Real relu6_derivative(double x) {
  return (x > 0 && x < 6) ? 1.0 : 0.0;
}

Real identity_value(double x) {
  return x;
}
Real identity_derivative(double) {
  return 1.0;
}

struct ActivationDefinition {
  std::string_view name;
  Real (*value)(double x);
  Real (*derivative)(double x);
};

constexpr std::array kActivations = {
    ActivationDefinition{"relu", relu_value, relu_derivative},
    ActivationDefinition{"leaky_relu", leaky_relu_value, leaky_relu_derivative},
    ActivationDefinition{"elu", elu_value, elu_derivative},
    ActivationDefinition{"selu", selu_value, selu_derivative},
    ActivationDefinition{"sigmoid", sigmoid_value, sigmoid_derivative},
    ActivationDefinition{"tanh", tanh_value, tanh_derivative},
    ActivationDefinition{"gelu", gelu_value, gelu_derivative},
    ActivationDefinition{"gelu_tanh", gelu_tanh_value, gelu_tanh_derivative},
    ActivationDefinition{"silu", silu_value, silu_derivative},
    ActivationDefinition{"mish", mish_value, mish_derivative},
    ActivationDefinition{"softplus", softplus_value, softplus_derivative},
    ActivationDefinition{"hardsigmoid", hardsigmoid_value, hardsigmoid_derivative},
    ActivationDefinition{"hardswish", hardswish_value, hardswish_derivative},
    ActivationDefinition{"relu6", relu6_value, relu6_derivative},
    ActivationDefinition{"identity", identity_value, identity_derivative},
};

const ActivationDefinition& find_activation(std::string_view name) {
  const auto found = std::ranges::find(kActivations, name, &ActivationDefinition::name);
  if (found == kActivations.end()) {
    throw std::invalid_argument("nnfuse::reference: unknown activation '" + std::string(name) +
                                "'");
  }
  return *found;
}

double evaluate(Real (*function)(double), double x) {
  if (std::isnan(x)) return kNaN;
  const WideExponentRange wide_range;
  return function(x).to_double();
}

enum class RowFunction { kSoftmax, kLogSoftmax, kSoftmaxDiagonal, kLogSoftmaxDiagonal };

// Limit of `function` at one entry when exactly one entry of the row is +inf.
double single_infinity_limit(RowFunction function, bool entry_is_infinite) {
  switch (function) {
    case RowFunction::kSoftmax:
      return entry_is_infinite ? 1.0 : 0.0;
    case RowFunction::kLogSoftmax:
      return entry_is_infinite ? 0.0 : -kInfinity;
    case RowFunction::kSoftmaxDiagonal:
      return 0.0;
    case RowFunction::kLogSoftmaxDiagonal:
      return entry_is_infinite ? 0.0 : 1.0;
  }
  return kNaN;
}

std::vector<double> evaluate_row(std::span<const double> row, RowFunction function) {
  std::vector<double> result(row.size(), kNaN);
  if (std::ranges::any_of(row, [](double x) { return std::isnan(x); })) return result;
  const auto positive_infinities = std::ranges::count(row, kInfinity);
  if (positive_infinities > 1) return result;
  if (positive_infinities == 1) {
    std::ranges::transform(row, result.begin(), [function](double x) {
      return single_infinity_limit(function, x == kInfinity);
    });
    return result;
  }
  const auto max_entry = std::ranges::max_element(row);
  if (max_entry == row.end() || *max_entry == -kInfinity) return result;
  const auto max_index = static_cast<std::size_t>(std::distance(row.begin(), max_entry));
  const double max_value = *max_entry;

  const WideExponentRange wide_range;
  // Everything is relative to the first maximal entry, whose exponential is exactly 1, so that
  // the normaliser is 1 + others_sum and its log can be taken with log1p even when others_sum is
  // far below double epsilon.
  std::vector<Real> shifted;
  std::vector<Real> exponentials;
  shifted.reserve(row.size());
  exponentials.reserve(row.size());
  Real others_sum = 0.0;
  for (std::size_t i = 0; i < row.size(); ++i) {
    shifted.push_back(Real(row[i]) - max_value);
    exponentials.push_back(exp(shifted.back()));
    if (i != max_index) others_sum = others_sum + exponentials.back();
  }
  const Real normaliser = 1 + others_sum;
  const Real log_normaliser = log1p(others_sum);

  for (std::size_t i = 0; i < row.size(); ++i) {
    const Real probability = exponentials[i] / normaliser;
    // 1 - y_i = (normaliser - e_i) / normaliser, grouped so that nothing cancels.
    const Real complement =
        (i == max_index ? others_sum : 1 + (others_sum - exponentials[i])) / normaliser;
    switch (function) {
      case RowFunction::kSoftmax:
        result[i] = probability.to_double();
        break;
      case RowFunction::kLogSoftmax:
        result[i] = (shifted[i] - log_normaliser).to_double();
        break;
      case RowFunction::kSoftmaxDiagonal:
        result[i] = (probability * complement).to_double();
        break;
      case RowFunction::kLogSoftmaxDiagonal:
        result[i] = complement.to_double();
        break;
    }
  }
  return result;
}

}  // namespace

std::vector<std::string_view> activation_names() {
  std::vector<std::string_view> names;
  names.reserve(kActivations.size());
  for (const ActivationDefinition& definition : kActivations) names.push_back(definition.name);
  return names;
}

double activation(std::string_view name, double x) {
  return evaluate(find_activation(name).value, x);
}

double derivative(std::string_view name, double x) {
  return evaluate(find_activation(name).derivative, x);
}

double prelu(double x, double alpha) {
  if (std::isnan(x)) return kNaN;
  if (x > 0) return x;
  // alpha = 0 is relu, whose limit at -inf is 0 (MPFR would give 0 * -inf = NaN).
  if (alpha == 0) return 0.0;
  return (Real(alpha) * x).to_double();
}

double prelu_dx(double x, double alpha) {
  if (std::isnan(x)) return kNaN;
  return x > 0 ? 1.0 : alpha;
}

// d/dalpha of alpha * x does not depend on alpha.
double prelu_dalpha(double x, double /*alpha*/) {
  if (std::isnan(x)) return kNaN;
  return x > 0 ? 0.0 : x;
}

std::vector<double> softmax(std::span<const double> row) {
  return evaluate_row(row, RowFunction::kSoftmax);
}

std::vector<double> log_softmax(std::span<const double> row) {
  return evaluate_row(row, RowFunction::kLogSoftmax);
}

std::vector<double> softmax_diag_derivative(std::span<const double> row) {
  return evaluate_row(row, RowFunction::kSoftmaxDiagonal);
}

std::vector<double> log_softmax_diag_derivative(std::span<const double> row) {
  return evaluate_row(row, RowFunction::kLogSoftmaxDiagonal);
}

}  // namespace nnfuse::reference
