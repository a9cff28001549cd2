// Every catalog activation's backward kernel (and a user-defined one's) against central
// differences of its forward: a one-activation network trained with MSE against a zero target,
// L(x) = Σ f(x)² / (B·W), whose input gradient the kernels compute as dY ⊙ f'(x) (or, for
// Softmax and LogSoftmax, the row's vector-Jacobian product). The reference differentiates L
// numerically in double through the DSL's eval_row (an independent path: no derivative rule is
// used). Inputs avoid the kinks by 1e-2, where one-sided values are the rule (ARCHITECTURE.md).
// Bound: |dx - ref| <= 2^-20 |ref| + 2^-22 · Σ|terms| + 2^-23 · max_row |ref|. Σ|terms| is the
// sum of the magnitudes of dx's terms in vjp.hpp's form (a row-wise product's terms cancel:
// Softmax's g_k - <g, y>, where the float32 inputs' rounding is amplified), and the last term
// covers a derivative's zero (GELU' at -0.75), where a float32 evaluation's relative error is
// unbounded.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <boost/hana/for_each.hpp>
#include <boost/hana/pair.hpp>
#include <gtest/gtest.h>

#include <nnfuse/dsl/eval.hpp>
#include <nnfuse/dsl/vjp.hpp>
#include <nnfuse/runtime/trainer.hpp>

#include "each_schedule.hpp"
#include "gradient_networks.hpp"

namespace {

constexpr double kRelative = 0x1p-20;
constexpr double kOfTerms = 0x1p-22;
constexpr double kOfRowMax = 0x1p-23;

// Σ|terms| of dL/dx_k = g_k ∂e/∂x (x_k) + Σ_R (Σ_i g_i ∂e/∂R (x_i)) ∂a/∂x (x_k), g = dL/dy.
template <class Expression>
std::vector<double> term_magnitudes(Expression e, const std::vector<double>& row,
                                    const std::vector<double>& g) {
  std::vector<double> values(row.size());
  nnfuse::eval_row(nnfuse::held_derivative(e), row, values);
  std::vector<double> sum(row.size());
  for (std::size_t k = 0; k < row.size(); ++k) sum[k] = std::abs(g[k] * values[k]);
  boost::hana::for_each(nnfuse::vjp_terms(e), [&](auto term) {
    nnfuse::eval_row(boost::hana::first(term), row, values);
    double weight = 0.0;
    for (std::size_t i = 0; i < row.size(); ++i) weight += std::abs(g[i] * values[i]);
    nnfuse::eval_row(boost::hana::second(term), row, values);
    for (std::size_t k = 0; k < row.size(); ++k) sum[k] += weight * std::abs(values[k]);
  });
  return sum;
}

// Rows of inputs in [-8, 8], at least 1e-2 from every kink of the catalog (0, ±3, 6).
std::vector<float> inputs(std::size_t rows, std::size_t width) {
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(-8.0F, 8.0F);
  std::vector<float> x;
  while (x.size() < rows * width) {
    const float v = uniform(random);
    bool near_kink = false;
    for (const float kink : {0.0F, -3.0F, 3.0F, 6.0F}) near_kink |= std::abs(v - kink) < 1e-2F;
    if (!near_kink) x.push_back(v);
  }
  return x;
}

// L(x) for one row, in double.
template <class Expression>
double row_loss(Expression e, const std::vector<double>& row, double scale) {
  std::vector<double> y(row.size());
  nnfuse::eval_row(e, row, y);
  double total = 0.0;
  for (const double v : y) total += v * v;
  return total * scale;
}

template <class Compiled>
void check_gradient() {
  using Net = typename Compiled::network;
  using Activation = typename nnfuse_test::activation_of<Net>::type;
  constexpr auto expression = Activation::expression;
  constexpr std::size_t width = nnfuse::graph<Net>::in_width;
  constexpr std::size_t rows = 5;
  const std::vector<float> x = inputs(rows, width);
  const std::vector<float> target(x.size(), 0.0F);
  auto trainer = nnfuse::Trainer<Compiled>::from_parameters({});
  nnfuse::Session session;
  std::vector<float> dx(x.size());
  trainer.gradients(session, x, target, dx);

  const double scale = 1.0 / static_cast<double>(rows * width);
  double worst = 0.0;  // in units of the bound
  for (std::size_t b = 0; b < rows; ++b) {
    std::vector<double> row(x.begin() + static_cast<std::ptrdiff_t>(b * width),
                            x.begin() + static_cast<std::ptrdiff_t>((b + 1) * width));
    std::vector<double> reference(width);
    double row_max = 0.0;
    for (std::size_t k = 0; k < width; ++k) {
      const double h = 1e-6 * std::max(1.0, std::abs(row[k]));
      std::vector<double> plus = row;
      std::vector<double> minus = row;
      plus[k] += h;
      minus[k] -= h;
      reference[k] = (row_loss(expression, plus, scale) - row_loss(expression, minus, scale)) /
                     (plus[k] - minus[k]);
      row_max = std::max(row_max, std::abs(reference[k]));
    }
    std::vector<double> y(width);
    nnfuse::eval_row(expression, row, y);
    std::vector<double> g(width);
    for (std::size_t k = 0; k < width; ++k) g[k] = 2.0 * y[k] * scale;
    const std::vector<double> terms = term_magnitudes(expression, row, g);
    for (std::size_t k = 0; k < width; ++k) {
      const double got = dx[b * width + k];
      const double bound =
          kRelative * std::abs(reference[k]) + kOfTerms * terms[k] + kOfRowMax * row_max;
      worst = std::max(worst, std::abs(got - reference[k]) / bound);
      EXPECT_LE(std::abs(got - reference[k]), bound)
          << Compiled::name << "/" << Compiled::schedule << " row " << b << " x = " << row[k]
          << ": kernel " << got << ", central difference " << reference[k];
    }
  }
  std::printf("  %-28s %-7s worst error %.3f of the bound\n", std::string(Compiled::name).c_str(),
              std::string(Compiled::schedule).c_str(), worst);
}

TEST(Gradient, EveryActivationsBackwardMatchesCentralDifferences) {
  nnfuse_test::for_each_network_schedule<nnfuse_test::gradient_networks>(
      [](auto schedule) { check_gradient<decltype(schedule)>(); });
}

}  // namespace
