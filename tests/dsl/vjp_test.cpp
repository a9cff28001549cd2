// The row-wise vector-Jacobian product (vjp.hpp) against central differences of eval_row, in
// double: Softmax and LogSoftmax (whose closed forms it must reproduce), and elementwise
// activations, where it is g ⊙ f'. Rows with a large spread, ties at the maximum, and width 1.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/dsl.hpp>
#include <nnfuse/dsl/vjp.hpp>

namespace {

template <class E>
double worst_error(E e, const std::vector<double>& x, const std::vector<double>& g) {
  std::vector<double> vjp(x.size());
  nnfuse::eval_vjp_row(e, x, g, vjp);
  double worst = 0.0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double h = 1e-6 * std::max(1.0, std::abs(x[k]));
    std::vector<double> plus = x;
    std::vector<double> minus = x;
    plus[k] += h;
    minus[k] -= h;
    std::vector<double> yp(x.size());
    std::vector<double> ym(x.size());
    nnfuse::eval_row(e, plus, yp);
    nnfuse::eval_row(e, minus, ym);
    double central = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i)
      central += g[i] * (yp[i] - ym[i]) / (plus[k] - minus[k]);
    worst = std::max(worst, std::abs(central - vjp[k]));
  }
  return worst;
}

const std::vector<std::vector<double>> kRows{
    {0.3, -1.2, 2.5, 0.7, 1.7, -0.4, 2.4},
    {30.0, -40.0, 12.5, 29.0, -3.0},  // a large spread
    {1.5, 1.5, -0.5, 0.25},           // a tie at the maximum
    {0.8},                            // width 1
};

std::vector<double> gradient_for(const std::vector<double>& x) {
  std::vector<double> g(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) g[i] = 0.5 - 0.3 * static_cast<double>(i);
  return g;
}

TEST(Vjp, SoftmaxAndLogSoftmaxMatchCentralDifferences) {
  for (const auto& x : kRows) {
    const std::vector<double> g = gradient_for(x);
    EXPECT_LT(worst_error(nnfuse::softmax, x, g), 1e-8);
    EXPECT_LT(worst_error(nnfuse::log_softmax, x, g), 1e-8);
  }
}

TEST(Vjp, SoftmaxIsYTimesGMinusItsMean) {
  const std::vector<double>& x = kRows[0];
  const std::vector<double> g = gradient_for(x);
  std::vector<double> y(x.size());
  nnfuse::eval_row(nnfuse::softmax, x, y);
  double dot = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) dot += g[i] * y[i];
  std::vector<double> vjp(x.size());
  nnfuse::eval_vjp_row(nnfuse::softmax, x, g, vjp);
  for (std::size_t k = 0; k < x.size(); ++k) EXPECT_NEAR(vjp[k], y[k] * (g[k] - dot), 1e-15);
  // LogSoftmax: g - softmax · Σ g.
  double sum = 0.0;
  for (const double v : g) sum += v;
  nnfuse::eval_vjp_row(nnfuse::log_softmax, x, g, vjp);
  for (std::size_t k = 0; k < x.size(); ++k) EXPECT_NEAR(vjp[k], g[k] - y[k] * sum, 1e-15);
}

TEST(Vjp, ElementwiseIsGTimesTheDerivative) {
  const std::vector<double> x{-2.5, -0.75, 0.4, 3.5};
  const std::vector<double> g = gradient_for(x);
  EXPECT_LT(worst_error(nnfuse::gelu, x, g), 1e-8);
  EXPECT_LT(worst_error(nnfuse::tanh(nnfuse::x), x, g), 1e-8);
  EXPECT_EQ(decltype(boost::hana::length(nnfuse::vjp_terms(nnfuse::gelu)))::value, 0U);
}

TEST(Vjp, RefusesMismatchedSizes) {
  const std::vector<double> x{1.0, 2.0};
  const std::vector<double> g{1.0};
  std::vector<double> out(2);
  EXPECT_THROW(nnfuse::eval_vjp_row(nnfuse::softmax, x, g, out), std::invalid_argument);
}

}  // namespace
