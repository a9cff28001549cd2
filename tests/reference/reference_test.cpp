// Tests of the MPFR reference and of the ULP measurement themselves: exact values, limits, NaN,
// kink conventions, derivatives against central differences, tiny results that a float64 libm
// formula would get wrong, the float32 ULP rules, and agreement with PyTorch's golden values
// (tests/golden/) wherever PyTorch is accurate.
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <numbers>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "mpfr_reference.hpp"
#include "ulp.hpp"

namespace nnfuse::reference {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr float kFloatInf = std::numeric_limits<float>::infinity();
constexpr float kFloatNaN = std::numeric_limits<float>::quiet_NaN();
// lambda * alpha of SELU: 1.75809934084737685994..., the limit of selu at -inf.
constexpr double kSeluScaleTimesAlpha = 1.7580993408473768;
constexpr double kSeluScale = 1.0507009873554805;

// Relative difference, with 0 for two equal values (including two zeros).
double relative_difference(double actual, double expected) {
  if (actual == expected) return 0.0;
  return std::fabs(actual - expected) / std::fabs(expected);
}

TEST(ReferenceActivation, KnownExactValues) {
  EXPECT_EQ(activation("sigmoid", 0.0), 0.5);
  EXPECT_EQ(derivative("sigmoid", 0.0), 0.25);
  EXPECT_EQ(activation("tanh", 0.0), 0.0);
  EXPECT_EQ(derivative("tanh", 0.0), 1.0);
  EXPECT_EQ(activation("gelu", 0.0), 0.0);
  EXPECT_EQ(derivative("gelu", 0.0), 0.5);
  EXPECT_EQ(activation("gelu_tanh", 0.0), 0.0);
  EXPECT_EQ(derivative("gelu_tanh", 0.0), 0.5);
  EXPECT_EQ(derivative("silu", 0.0), 0.5);
  EXPECT_EQ(derivative("mish", 0.0), 0.6);  // tanh(ln 2) = 3/5
  EXPECT_NEAR(activation("softplus", 0.0), std::numbers::ln2, 1e-16);
  EXPECT_EQ(activation("softplus", 0.0), std::numbers::ln2);  // both correctly rounded
  EXPECT_EQ(derivative("softplus", 0.0), 0.5);
  EXPECT_EQ(activation("relu6", 7.0), 6.0);
  EXPECT_EQ(activation("relu6", 2.5), 2.5);
  EXPECT_EQ(activation("hardswish", 1.0), 2.0 / 3.0);
  EXPECT_EQ(derivative("hardswish", 1.0), 5.0 / 6.0);
  EXPECT_EQ(activation("hardsigmoid", 1.5), 0.75);
  EXPECT_EQ(activation("leaky_relu", -1.0), -kLeakyReluSlope);
  EXPECT_EQ(kLeakyReluSlope, 0x1.47ae14p-7);
  EXPECT_EQ(activation("selu", 1.0), kSeluScale);
  EXPECT_NEAR(activation("elu", -std::numbers::ln2), -0.5, 1e-16);
  EXPECT_NEAR(activation("elu", -1.0), -0.632120558828557678404, 1e-16);
  EXPECT_EQ(activation("identity", -2.75), -2.75);
  // Phi(1) = 0.841344746068542948585232545632...
  EXPECT_NEAR(activation("gelu", 1.0), 0.841344746068542948585, 1e-16);
  EXPECT_NEAR(activation("tanh", 1.0), 0.761594155955764888119, 1e-16);
  // mish(1) = tanh(log(1 + e)) = (e^2 + 2e) / (e^2 + 2e + 2).
  constexpr long double kE = std::numbers::e_v<long double>;
  EXPECT_NEAR(activation("mish", 1.0),
              static_cast<double>((kE * kE + 2 * kE) / (kE * kE + 2 * kE + 2)), 2e-16);
}

TEST(ReferenceActivation, NamesAreCompleteAndUsable) {
  const std::vector<std::string_view> expected = {
      "relu", "leaky_relu", "elu",      "selu",        "sigmoid",   "tanh",  "gelu",    "gelu_tanh",
      "silu", "mish",       "softplus", "hardsigmoid", "hardswish", "relu6", "identity"};
  EXPECT_EQ(activation_names(), expected);
}

TEST(ReferenceActivation, UnknownNameThrowsNamingIt) {
  EXPECT_THROW(activation("swish2", 1.0), std::invalid_argument);
  EXPECT_THROW(derivative("prelu", 1.0), std::invalid_argument);
  try {
    activation("not_an_activation", 0.0);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("not_an_activation"), std::string::npos);
  }
}

TEST(ReferenceActivation, NaNPropagates) {
  for (std::string_view name : activation_names()) {
    EXPECT_TRUE(std::isnan(activation(name, kNaN))) << name;
    EXPECT_TRUE(std::isnan(derivative(name, kNaN))) << name;
  }
  EXPECT_TRUE(std::isnan(prelu(kNaN, 0.25)));
  EXPECT_TRUE(std::isnan(prelu_dx(kNaN, 0.25)));
  EXPECT_TRUE(std::isnan(prelu_dalpha(kNaN, 0.25)));
}

struct Limits {
  std::string_view name;
  double value_at_plus_inf;
  double value_at_minus_inf;
  double derivative_at_plus_inf;
  double derivative_at_minus_inf;
};

const Limits kLimits[] = {
    {"relu", kInf, 0.0, 1.0, 0.0},       {"leaky_relu", kInf, -kInf, 1.0, kLeakyReluSlope},
    {"elu", kInf, -1.0, 1.0, 0.0},       {"selu", kInf, -kSeluScaleTimesAlpha, kSeluScale, 0.0},
    {"sigmoid", 1.0, 0.0, 0.0, 0.0},     {"tanh", 1.0, -1.0, 0.0, 0.0},
    {"gelu", kInf, 0.0, 1.0, 0.0},       {"gelu_tanh", kInf, 0.0, 1.0, 0.0},
    {"silu", kInf, 0.0, 1.0, 0.0},       {"mish", kInf, 0.0, 1.0, 0.0},
    {"softplus", kInf, 0.0, 1.0, 0.0},   {"hardsigmoid", 1.0, 0.0, 0.0, 0.0},
    {"hardswish", kInf, 0.0, 1.0, 0.0},  {"relu6", 6.0, 0.0, 0.0, 0.0},
    {"identity", kInf, -kInf, 1.0, 1.0},
};

TEST(ReferenceActivation, LimitsAtInfinity) {
  EXPECT_EQ(std::size(kLimits), activation_names().size());
  for (const Limits& limits : kLimits) {
    EXPECT_EQ(activation(limits.name, kInf), limits.value_at_plus_inf) << limits.name;
    EXPECT_EQ(activation(limits.name, -kInf), limits.value_at_minus_inf) << limits.name;
    EXPECT_EQ(derivative(limits.name, kInf), limits.derivative_at_plus_inf) << limits.name;
    EXPECT_EQ(derivative(limits.name, -kInf), limits.derivative_at_minus_inf) << limits.name;
  }
}

// Huge finite inputs exercise MPFR overflow/underflow inside the formulas (inf * 0 and the like):
// the result must already equal a finite limit, or be huge with the sign of an infinite one.
TEST(ReferenceActivation, HugeFiniteInputsApproachTheLimits) {
  auto expect_near_limit = [](double value, double limit, double magnitude, std::string_view what) {
    ASSERT_FALSE(std::isnan(value)) << what;
    if (std::isinf(limit)) {
      EXPECT_GE(std::fabs(value), 1e-3 * magnitude) << what;
      EXPECT_EQ(std::signbit(value), std::signbit(limit)) << what;
    } else {
      EXPECT_EQ(value, limit) << what;
    }
  };
  for (const Limits& limits : kLimits) {
    for (double magnitude : {1e19, 1e300, DBL_MAX}) {
      const std::string what = std::string(limits.name) + " at +-" + std::to_string(magnitude);
      expect_near_limit(activation(limits.name, magnitude), limits.value_at_plus_inf, magnitude,
                        what);
      expect_near_limit(activation(limits.name, -magnitude), limits.value_at_minus_inf, magnitude,
                        what);
      expect_near_limit(derivative(limits.name, magnitude), limits.derivative_at_plus_inf,
                        magnitude, what);
      expect_near_limit(derivative(limits.name, -magnitude), limits.derivative_at_minus_inf,
                        magnitude, what);
    }
    for (double tiny : {DBL_TRUE_MIN, -DBL_TRUE_MIN, 1e-300, -1e-300}) {
      EXPECT_FALSE(std::isnan(activation(limits.name, tiny))) << limits.name;
      EXPECT_FALSE(std::isnan(derivative(limits.name, tiny))) << limits.name;
    }
  }
}

// The conventions at kinks, checked against torch 1.13 autograd in float32 (see
// tests/golden/README.md, which has the same table).
TEST(ReferenceActivation, KinkConventionsMatchPyTorch) {
  EXPECT_EQ(derivative("relu", 0.0), 0.0);
  EXPECT_EQ(derivative("relu", -0.0), 0.0);
  EXPECT_EQ(derivative("relu6", 0.0), 0.0);
  EXPECT_EQ(derivative("relu6", 6.0), 0.0);
  EXPECT_EQ(derivative("leaky_relu", 0.0), kLeakyReluSlope);
  EXPECT_EQ(derivative("elu", 0.0), 1.0);
  EXPECT_EQ(derivative("selu", 0.0), kSeluScaleTimesAlpha);
  EXPECT_EQ(derivative("hardswish", -3.0), -0.5);
  EXPECT_EQ(derivative("hardswish", 3.0), 1.5);
  EXPECT_EQ(activation("hardswish", -3.0), 0.0);
  EXPECT_EQ(activation("hardswish", 3.0), 3.0);
  EXPECT_EQ(derivative("hardsigmoid", -3.0), 0.0);
  EXPECT_EQ(derivative("hardsigmoid", 3.0), 0.0);
  EXPECT_EQ(derivative("hardsigmoid", 0.0), 1.0 / 6.0);
  EXPECT_EQ(prelu_dx(0.0, 0.25), 0.25);
  EXPECT_EQ(prelu_dalpha(0.0, 0.25), 0.0);
  // softplus switches to the identity strictly above the threshold.
  EXPECT_DOUBLE_EQ(activation("softplus", 20.0), 20.0 + std::log1p(std::exp(-20.0)));
  EXPECT_LT(derivative("softplus", 20.0), 1.0);
  EXPECT_EQ(activation("softplus", std::nextafter(20.0, 21.0)), std::nextafter(20.0, 21.0));
  EXPECT_EQ(derivative("softplus", std::nextafter(20.0, 21.0)), 1.0);
}

TEST(ReferencePrelu, ValuesDerivativesAndLimits) {
  EXPECT_EQ(prelu(2.0, 0.25), 2.0);
  EXPECT_EQ(prelu(-2.0, 0.25), -0.5);
  EXPECT_EQ(prelu(-2.0, -0.5), 1.0);
  EXPECT_EQ(prelu_dx(2.0, 0.25), 1.0);
  EXPECT_EQ(prelu_dx(-2.0, 0.25), 0.25);
  EXPECT_EQ(prelu_dalpha(2.0, 0.25), 0.0);
  EXPECT_EQ(prelu_dalpha(-2.0, 0.25), -2.0);
  EXPECT_EQ(prelu(-kInf, 0.25), -kInf);
  EXPECT_EQ(prelu(-kInf, -0.25), kInf);
  EXPECT_EQ(prelu(-kInf, 0.0), 0.0);
  EXPECT_EQ(prelu(kInf, 0.25), kInf);
  EXPECT_EQ(prelu_dalpha(-kInf, 0.25), -kInf);
  EXPECT_EQ(prelu(-DBL_MAX, 4.0), -kInf);  // overflows double
  // The product is rounded once: 0.1 * 3 in double arithmetic would be rounded the same way.
  EXPECT_EQ(prelu(-3.0, 0.1), -(0.1 * 3.0));
}

// d/dx by a central difference (in long double) of the double-valued reference itself.
long double central_difference(std::string_view name, double x) {
  const double step = 0x1p-20;
  const double above = x + step;
  const double below = x - step;
  const long double rise = static_cast<long double>(activation(name, above)) -
                           static_cast<long double>(activation(name, below));
  return rise / (static_cast<long double>(above) - static_cast<long double>(below));
}

TEST(ReferenceActivation, DerivativesMatchCentralDifferences) {
  // Away from every kink (0, +-3, 6, 20) by much more than the step.
  const double points[] = {-19.5, -10.0, -7.3, -5.0, -3.1, -2.2, -1.7, -0.9, -0.3,
                           -1e-3, 1e-3,  0.25, 0.8,  1.9,  2.6,  2.95, 3.4,  4.4,
                           5.5,   7.3,   8.1,  12.0, 15.5, 19.0, 25.0};
  for (std::string_view name : activation_names()) {
    for (double x : points) {
      const double value = activation(name, x);
      const double slope = derivative(name, x);
      const long double estimate = central_difference(name, x);
      // Rounding of the two values costs about 2^-53 |f| / step; truncation is O(step^2).
      const double tolerance = 1e-9 * std::fabs(value) + 1e-7 * std::fabs(slope) + 1e-300;
      EXPECT_NEAR(static_cast<double>(estimate), slope, tolerance) << name << " at " << x;
    }
  }
}

// Values that a float64 evaluation of the textbook formula gets wrong (0, or few correct digits).
TEST(ReferenceActivation, TinyResultsAreNotLostToCancellation) {
  // gelu(-30) = -15 erfc(30/sqrt 2), about -4e-197; 1 + erf(x) would be 0 in double. Compare
  // with the asymptotic series erfc(z) ~ exp(-z^2) / (z sqrt(pi)) sum (-1)^n (2n-1)!! / (2z^2)^n.
  {
    const long double z_squared = 450.0L;
    long double series = 0.0L;
    long double term = 1.0L;
    for (int n = 0; n < 8; ++n) {
      series += term;
      term *= -(2.0L * n + 1.0L) / (2.0L * z_squared);
    }
    const long double erfc_z = std::exp(-z_squared) /
                               (std::sqrt(z_squared) * std::sqrt(std::numbers::pi_v<long double>)) *
                               series;
    const double expected = static_cast<double>(-15.0L * erfc_z);
    const double gelu = activation("gelu", -30.0);
    EXPECT_LT(gelu, 0.0);
    EXPECT_GT(gelu, -1e-190);
    EXPECT_LT(relative_difference(gelu, expected), 1e-13);
  }
  // elu(-1e-7) = expm1(-1e-7) = -1e-7 (1 - 5e-8 + ...); exp(x) - 1 in double keeps ~9 digits.
  {
    const long double x = -1e-7;
    const long double expm1_series = x + x * x / 2 + x * x * x / 6 + x * x * x * x / 24;
    EXPECT_LT(relative_difference(activation("elu", -1e-7), static_cast<double>(expm1_series)),
              2e-16);
    EXPECT_NEAR(activation("elu", -1e-7) / -1e-7, 1.0 - 5e-8 + 1e-14 / 6, 3e-16);
    EXPECT_LT(relative_difference(activation("selu", -1e-300), -1e-300 * kSeluScaleTimesAlpha),
              1e-15);
  }
  // sigmoid'(40) = e^-40 / (1 + e^-40)^2; 1 - sigmoid(40) is 0 in double.
  EXPECT_LT(relative_difference(
                derivative("sigmoid", 40.0),
                static_cast<double>(std::exp(-40.0L) / std::pow(1.0L + std::exp(-40.0L), 2))),
            1e-15);
  // tanh'(20) = sech(20)^2 = 4 / (e^20 + e^-20)^2; 1 - tanh(20)^2 is 0 in double.
  EXPECT_LT(relative_difference(
                derivative("tanh", 20.0),
                static_cast<double>(4.0L / std::pow(std::exp(20.0L) + std::exp(-20.0L), 2))),
            1e-15);
  // softplus(-700) = log1p(e^-700), about 1e-304.
  EXPECT_LT(relative_difference(activation("softplus", -700.0), std::exp(-700.0)), 1e-15);
  // silu(-700) = -700 e^-700 / (1 + e^-700).
  EXPECT_LT(relative_difference(activation("silu", -700.0),
                                static_cast<double>(-700.0L * std::exp(-700.0L))),
            1e-15);
  // mish(-50) = -50 tanh(log1p(e^-50)) = -50 e^-50 (1 + O(e^-50)).
  EXPECT_LT(relative_difference(activation("mish", -50.0),
                                static_cast<double>(-50.0L * std::exp(-50.0L))),
            1e-15);
  // gelu_tanh(-10) = -10 / (1 + exp(-2u)) with u = sqrt(2/pi) (-10 - 44.715), about -1.2e-37.
  {
    const long double u =
        std::sqrt(2.0L / std::numbers::pi_v<long double>) * (-10.0L - 0.044715L * 1000.0L);
    EXPECT_LT(relative_difference(activation("gelu_tanh", -10.0),
                                  static_cast<double>(-10.0L / (1.0L + std::exp(-2.0L * u)))),
              1e-14);
  }
  // hardsigmoid just above -3 is (x + 3) / 6 = 2^-51 / 6, not the cancelled x/6 + 1/2.
  EXPECT_EQ(activation("hardsigmoid", std::nextafter(-3.0, 0.0)), 0x1p-51 / 6);
  // Subnormal input: sigmoid'(x) stays 1/4, relu passes it through, and elu(x) = x exactly.
  EXPECT_EQ(activation("elu", -DBL_TRUE_MIN), -DBL_TRUE_MIN);
  EXPECT_EQ(activation("relu", DBL_TRUE_MIN), DBL_TRUE_MIN);
  EXPECT_EQ(derivative("sigmoid", DBL_TRUE_MIN), 0.25);
}

TEST(ReferenceSoftmax, KnownRows) {
  const std::vector<double> thirds = {0.0, std::numbers::ln2};
  const std::vector<double> probabilities = softmax(thirds);
  ASSERT_EQ(probabilities.size(), 2u);
  EXPECT_NEAR(probabilities[0], 1.0 / 3.0, 1e-16);
  EXPECT_NEAR(probabilities[1], 2.0 / 3.0, 1e-16);
  EXPECT_NEAR(log_softmax(thirds)[0], -std::log(3.0), 1e-15);
  EXPECT_NEAR(softmax_diag_derivative(thirds)[0], 2.0 / 9.0, 1e-16);
  EXPECT_NEAR(log_softmax_diag_derivative(thirds)[1], 1.0 / 3.0, 1e-16);

  const std::vector<double> single = {-123.5};
  EXPECT_EQ(softmax(single), std::vector<double>{1.0});
  EXPECT_EQ(log_softmax(single), std::vector<double>{0.0});
  EXPECT_EQ(softmax_diag_derivative(single), std::vector<double>{0.0});
  EXPECT_EQ(log_softmax_diag_derivative(single), std::vector<double>{0.0});

  EXPECT_TRUE(softmax(std::vector<double>{}).empty());

  // Shift invariance with huge values: e^(1e4) would overflow without subtracting the max.
  const std::vector<double> large = {1e4, -1e4, 1e4 - 1.0, 0.0};
  const std::vector<double> large_probabilities = softmax(large);
  EXPECT_NEAR(large_probabilities[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-16);
  EXPECT_EQ(large_probabilities[1], 0.0);
  EXPECT_DOUBLE_EQ(log_softmax(large)[1], -2e4 - std::log1p(std::exp(-1.0)));
}

TEST(ReferenceSoftmax, SumsToOneAndDiagonalsAgree) {
  const std::vector<double> row = {0.3, -1.25, 2.0, 7.5, -20.0, 2.0, 0.0, 1e-9};
  const std::vector<double> probabilities = softmax(row);
  const std::vector<double> logs = log_softmax(row);
  const std::vector<double> diagonal = softmax_diag_derivative(row);
  const std::vector<double> log_diagonal = log_softmax_diag_derivative(row);
  long double sum = 0.0L;
  for (std::size_t i = 0; i < row.size(); ++i) {
    sum += probabilities[i];
    EXPECT_LT(relative_difference(std::exp(logs[i]), probabilities[i]), 1e-15);
    EXPECT_LT(relative_difference(diagonal[i], probabilities[i] * (1.0 - probabilities[i])), 1e-14);
    EXPECT_NEAR(log_diagonal[i], 1.0 - probabilities[i], 1e-16);
    // Central difference in x_i of softmax_i.
    const double step = 0x1p-20;
    std::vector<double> above = row;
    std::vector<double> below = row;
    above[i] += step;
    below[i] -= step;
    const long double estimate =
        (static_cast<long double>(softmax(above)[i]) - softmax(below)[i]) / (above[i] - below[i]);
    EXPECT_NEAR(static_cast<double>(estimate), diagonal[i], 1e-9) << i;
  }
  EXPECT_NEAR(static_cast<double>(sum), 1.0, 1e-15);
}

TEST(ReferenceSoftmax, TinyLogProbabilityOfTheMaximumIsKept) {
  // log_softmax_0 of {0, -200} is -log1p(e^-200), about -1.4e-87; log(1 + e^-200) would give 0.
  const std::vector<double> row = {0.0, -200.0};
  EXPECT_LT(relative_difference(log_softmax(row)[0], -std::exp(-200.0)), 1e-15);
  EXPECT_LT(relative_difference(log_softmax_diag_derivative(row)[0], std::exp(-200.0)), 1e-15);
  EXPECT_LT(relative_difference(softmax_diag_derivative(row)[0], std::exp(-200.0)), 1e-15);
}

TEST(ReferenceSoftmax, NaNAndInfinityRules) {
  const auto all_nan = [](const std::vector<double>& values) {
    for (double value : values) {
      if (!std::isnan(value)) return false;
    }
    return !values.empty();
  };
  const std::vector<double> with_nan = {1.0, kNaN, 2.0};
  EXPECT_TRUE(all_nan(softmax(with_nan)));
  EXPECT_TRUE(all_nan(log_softmax(with_nan)));
  EXPECT_TRUE(all_nan(softmax_diag_derivative(with_nan)));
  EXPECT_TRUE(all_nan(log_softmax_diag_derivative(with_nan)));

  // One +inf: the limit is one-hot.
  const std::vector<double> one_infinity = {1.0, kInf, -kInf};
  EXPECT_EQ(softmax(one_infinity), (std::vector<double>{0.0, 1.0, 0.0}));
  EXPECT_EQ(log_softmax(one_infinity), (std::vector<double>{-kInf, 0.0, -kInf}));
  EXPECT_EQ(softmax_diag_derivative(one_infinity), (std::vector<double>{0.0, 0.0, 0.0}));
  EXPECT_EQ(log_softmax_diag_derivative(one_infinity), (std::vector<double>{1.0, 0.0, 1.0}));

  // Two +inf, or only -inf: no limit.
  EXPECT_TRUE(all_nan(softmax(std::vector<double>{kInf, 0.0, kInf})));
  EXPECT_TRUE(all_nan(log_softmax(std::vector<double>{-kInf, -kInf})));

  // -inf entries simply get probability 0.
  const std::vector<double> with_minus_infinity = {-kInf, 0.0, 0.0};
  EXPECT_EQ(softmax(with_minus_infinity), (std::vector<double>{0.0, 0.5, 0.5}));
  EXPECT_EQ(log_softmax(with_minus_infinity)[0], -kInf);
  EXPECT_EQ(softmax_diag_derivative(with_minus_infinity), (std::vector<double>{0.0, 0.25, 0.25}));
  EXPECT_EQ(log_softmax_diag_derivative(with_minus_infinity), (std::vector<double>{1.0, 0.5, 0.5}));
}

TEST(UlpError, ExactAndOneStep) {
  EXPECT_EQ(ulp_error(1.0f, 1.0), 0.0);
  EXPECT_EQ(ulp_error(std::nextafter(1.0f, 2.0f), 1.0), 1.0);
  // Just below a power of two the float spacing halves, but the ULP is that of ref = 1.
  EXPECT_EQ(ulp_error(std::nextafter(1.0f, 0.0f), 1.0), 0.5);
  EXPECT_EQ(ulp_error(1.0f, 1.0 + 0x1p-24), 0.5);
  EXPECT_EQ(ulp_error(-3.0f, -3.0 - 1.5 * 0x1p-22), 1.5);
  EXPECT_EQ(ulp_error(0.1f, 0.1), std::fabs(static_cast<double>(0.1f) - 0.1) / 0x1p-27);
  EXPECT_EQ(ulp_error(-0.0f, 0.0), 0.0);
  EXPECT_EQ(ulp_error(0.0f, -0.0), 0.0);
}

TEST(UlpError, FloatUlpAndRounding) {
  EXPECT_EQ(float_ulp(1.0), 0x1p-23);
  EXPECT_EQ(float_ulp(std::nextafter(1.0, 0.0)), 0x1p-24);
  EXPECT_EQ(float_ulp(-6.0), 0x1p-21);
  EXPECT_EQ(float_ulp(FLT_MIN), 0x1p-149);
  EXPECT_EQ(float_ulp(0x1p-130), 0x1p-149);
  EXPECT_EQ(float_ulp(0.0), 0x1p-149);
  EXPECT_EQ(float_ulp(FLT_MAX), 0x1p104);
  EXPECT_EQ(float_ulp(1e300), 0x1p104);
  EXPECT_EQ(round_to_float(0.1), 0.1f);
  EXPECT_EQ(round_to_float(FLT_MAX + 0x1p102), FLT_MAX);
  EXPECT_EQ(round_to_float(FLT_MAX + 0x1p103), kFloatInf);  // the tie rounds to even: overflow
  EXPECT_EQ(round_to_float(-1e39), -kFloatInf);
  EXPECT_TRUE(std::isnan(round_to_float(kNaN)));
}

TEST(UlpError, Subnormals) {
  EXPECT_EQ(ulp_error(0x1p-148f, 3 * 0x1p-149), 1.0);
  EXPECT_EQ(ulp_error(0.0f, 0x1p-149), 1.0);
  EXPECT_EQ(ulp_error(0.0f, 0x1p-150), 0.5);
  EXPECT_LT(ulp_error(0.0f, 1e-300), 1e-200);
  EXPECT_EQ(ulp_error(FLT_MIN, FLT_MIN + 0x1p-149), 1.0);
}

TEST(UlpError, OverflowBeyondFloatRange) {
  EXPECT_EQ(ulp_error(FLT_MAX, FLT_MAX), 0.0);
  EXPECT_EQ(ulp_error(kFloatInf, 0x1p128), 0.0);
  EXPECT_EQ(ulp_error(FLT_MAX, 0x1p128), 1.0);
  EXPECT_EQ(ulp_error(FLT_MAX, FLT_MAX + 0x1p102), 0.0);  // rounds to FLT_MAX
  EXPECT_EQ(ulp_error(kFloatInf, FLT_MAX + 0x1p102), std::numeric_limits<double>::infinity());
  EXPECT_EQ(ulp_error(kFloatInf, FLT_MAX + 0x1p103), 0.0);  // rounds to inf
  EXPECT_EQ(ulp_error(FLT_MAX, FLT_MAX + 0x1p103), 0.5);
  EXPECT_EQ(ulp_error(-kFloatInf, -1e300), 0.0);
  EXPECT_EQ(ulp_error(kFloatInf, -1e300), std::numeric_limits<double>::infinity());
}

TEST(UlpError, NaNAndInfinityRules) {
  constexpr double kInfiniteError = std::numeric_limits<double>::infinity();
  EXPECT_EQ(ulp_error(kFloatNaN, kNaN), 0.0);
  EXPECT_EQ(ulp_error(kFloatNaN, 1.0), kInfiniteError);
  EXPECT_EQ(ulp_error(1.0f, kNaN), kInfiniteError);
  EXPECT_EQ(ulp_error(kFloatNaN, kInf), kInfiniteError);
  EXPECT_EQ(ulp_error(kFloatInf, kInf), 0.0);
  EXPECT_EQ(ulp_error(-kFloatInf, -kInf), 0.0);
  EXPECT_EQ(ulp_error(-kFloatInf, kInf), kInfiniteError);
  EXPECT_EQ(ulp_error(kFloatInf, 1e30), kInfiniteError);
  EXPECT_EQ(ulp_error(FLT_MAX, kInf), kInfiniteError);
}

TEST(UlpError, AbsoluteOrUlp) {
  EXPECT_EQ(abs_or_ulp_error(1e-8f, 0.0, 0x1p-22), 0.0);
  EXPECT_EQ(abs_or_ulp_error(1.0f, 1.0 + 0x1p-20, 0x1p-22), 8.0);
  EXPECT_EQ(abs_or_ulp_error(kFloatNaN, kNaN, 0x1p-22), 0.0);
  EXPECT_EQ(abs_or_ulp_error(kFloatNaN, 0.0, 0x1p-22), std::numeric_limits<double>::infinity());
  EXPECT_EQ(abs_or_ulp_error(kFloatInf, kInf, 0x1p-22), 0.0);
}

// The fields of every line of a CSV file after its header line.
std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file.is_open()) << path;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(file, line);
  while (std::getline(file, line)) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    while (std::getline(stream, field, ',')) fields.push_back(field);
    rows.push_back(std::move(fields));
  }
  return rows;
}

// The golden files hold float.hex() strings ("0x1.8p+1", "inf", "nan"), which strtof reads exactly.
float parse_float(const std::string& text) {
  return std::strtof(text.c_str(), nullptr);
}

// A cross-check against an independent implementation: PyTorch must agree with the reference
// wherever tests/golden/README.md says it is accurate.
TEST(GoldenFiles, TorchActivationsAgreeWhereTorchIsAccurate) {
  constexpr double kGoldenPreluWeight = 0.25;
  const auto rows = read_csv(std::string(NNFUSE_GOLDEN_DIR) + "/torch_activations.csv");
  ASSERT_EQ(rows.size(), 16u * 225u);
  // These four lose accuracy for negative x in PyTorch (see the README); skipped here.
  const std::set<std::string_view> inaccurate_in_torch = {"elu", "selu", "gelu", "gelu_tanh"};
  int compared = 0;
  for (const std::vector<std::string>& row : rows) {
    ASSERT_EQ(row.size(), 4u);
    const std::string& name = row[0];
    const float x = parse_float(row[1]);
    const float y = parse_float(row[2]);
    const float dy = parse_float(row[3]);
    const bool is_prelu = name == "prelu";
    const double expected_y = is_prelu ? prelu(x, kGoldenPreluWeight) : activation(name, x);
    const double expected_dy = is_prelu ? prelu_dx(x, kGoldenPreluWeight) : derivative(name, x);
    if (std::isnan(x)) {
      EXPECT_TRUE(std::isnan(y)) << name;
      continue;
    }
    if (std::fabs(x) > 20 || inaccurate_in_torch.contains(name)) continue;
    EXPECT_LE(ulp_error(y, expected_y), 4.0) << name << " at " << x;
    if (name == "hardswish" && x == 3) {
      // PyTorch's vectorized kernel takes the identity piece at 3, the reference the middle one.
      EXPECT_EQ(dy, 1.0f);
      EXPECT_EQ(expected_dy, 1.5);
      continue;
    }
    // PyTorch's silu' and mish' are up to 8.2 ULP off where they approach 1 (see the README).
    const double derivative_budget = (name == "silu" || name == "mish") ? 10.0 : 4.0;
    EXPECT_LE(abs_or_ulp_error(dy, expected_dy, 0x1p-22), derivative_budget) << name << " at " << x;
    ++compared;
  }
  EXPECT_GT(compared, 2000);
}

TEST(GoldenFiles, TorchSoftmaxAgreesExceptWhereTheReferenceTakesTheLimit) {
  struct Entry {
    float x;
    float y;
    float diagonal;
  };
  std::map<std::pair<std::string, int>, std::vector<Entry>> torch_rows;
  for (const std::vector<std::string>& row :
       read_csv(std::string(NNFUSE_GOLDEN_DIR) + "/torch_softmax.csv")) {
    ASSERT_EQ(row.size(), 6u);
    torch_rows[{row[0], std::atoi(row[1].c_str())}].push_back(
        {parse_float(row[3]), parse_float(row[4]), parse_float(row[5])});
  }
  ASSERT_EQ(torch_rows.size(), 16u);
  for (const auto& [key, entries] : torch_rows) {
    const auto& [name, row_id] = key;
    std::vector<double> row;
    bool has_positive_infinity = false;
    for (const Entry& entry : entries) {
      row.push_back(entry.x);
      has_positive_infinity = has_positive_infinity || entry.x == kFloatInf;
    }
    const bool is_softmax = name == "softmax";
    const std::vector<double> expected = is_softmax ? softmax(row) : log_softmax(row);
    const std::vector<double> expected_diagonal =
        is_softmax ? softmax_diag_derivative(row) : log_softmax_diag_derivative(row);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (has_positive_infinity) {
        // PyTorch computes inf - inf and gives NaN; the reference gives the one-hot limit.
        EXPECT_TRUE(std::isnan(entries[i].y)) << name << " row " << row_id;
        EXPECT_FALSE(std::isnan(expected[i])) << name << " row " << row_id;
        continue;
      }
      EXPECT_LE(ulp_error(entries[i].y, expected[i]), 8.0) << name << " row " << row_id << " " << i;
      EXPECT_LE(abs_or_ulp_error(entries[i].diagonal, expected_diagonal[i], 0x1p-22), 4.0)
          << name << " row " << row_id << " " << i;
    }
  }
}

}  // namespace
}  // namespace nnfuse::reference
