// The Halide lowering of every catalog activation and its derivative, JIT-compiled, against the
// MPFR reference (within 1 ULP, as eval<float>) over the foundation tests' inputs, with the
// count of results that differ from eval<float> printed; nnfuse's vectorizable float64 math
// against glibc; row-wise Softmax and LogSoftmax through the row reductions; PReLU's
// parameter read per channel.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <Halide.h>
#include <gtest/gtest.h>

#include <nnfuse/dsl.hpp>
#include <nnfuse/dsl/eval.hpp>
#include <nnfuse/generators/lower.hpp>
#include <nnfuse/generators/math.hpp>

#include "catalog_functions.hpp"
#include "mpfr_reference.hpp"
#include "sample_inputs.hpp"
#include "ulp.hpp"

namespace {

using nnfuse::generators::LowerContext;

bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) ||
         std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b) ||
         (a == 0.0F && b == 0.0F);
}

// Applies `e` elementwise to `xs` through a JIT-compiled Halide pipeline.
template <class E>
std::vector<float> run_elementwise(E e, const std::vector<float>& xs) {
  Halide::Buffer<float> in(const_cast<float*>(xs.data()), static_cast<int>(xs.size()));
  Halide::Var i("i");
  Halide::Func f("activation");
  const LowerContext ctx{Halide::cast<double>(in(i)), nullptr, {}};
  f(i) = Halide::cast<float>(nnfuse::generators::lower(e, ctx));
  f.vectorize(i, 8, Halide::TailStrategy::GuardWithIf);
  Halide::Buffer<float> out = f.realize({static_cast<int>(xs.size())});
  return {out.begin(), out.end()};
}

class Lowering : public testing::TestWithParam<nnfuse::test::CatalogEntry> {};

TEST_P(Lowering, KernelAndItsDerivativeAreWithinOneUlp) {
  const auto& act = GetParam();
  const auto xs = nnfuse::test::sample_inputs(2001, 4);
  std::vector<float> ys;
  std::vector<float> slopes;
  boost::hana::for_each(nnfuse::elementwise_catalog, [&](auto layer) {
    using Layer = typename decltype(layer)::type;
    if (Layer::kind == act.name) {
      ys = run_elementwise(Layer::expression, xs);
      slopes = run_elementwise(nnfuse::derivative(Layer::expression), xs);
    }
  });
  ASSERT_EQ(ys.size(), xs.size());
  ASSERT_EQ(slopes.size(), xs.size());
  double worst = 0;
  double worst_slope = 0;
  std::size_t differ = 0;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    differ += same_float(ys[k], act.value(xs[k])) ? 0 : 1;
    worst = std::max(
        worst, nnfuse::reference::ulp_error(ys[k], nnfuse::reference::activation(act.name, xs[k])));
    if (!std::isnan(xs[k])) {
      worst_slope = std::max(
          worst_slope,
          nnfuse::reference::ulp_error(slopes[k], nnfuse::reference::derivative(act.name, xs[k])));
    }
  }
  std::printf(
      "| %-11s | kernel max ULP %.3g | derivative kernel max ULP %.3g | %zu of %zu differ "
      "from eval<float> |\n",
      act.name.c_str(), worst, worst_slope, differ, xs.size());
  EXPECT_LE(worst, 1.0);
  EXPECT_LE(worst_slope, 1.0);
}

INSTANTIATE_TEST_SUITE_P(Catalog, Lowering, testing::ValuesIn(nnfuse::test::catalog_functions()),
                         [](const auto& info) { return info.param.name; });

// Applies `e` elementwise to `xs` in float32, the default (`fast`) lowering.
template <class E>
std::vector<float> run_elementwise_float32(E e, const std::vector<float>& xs) {
  Halide::Buffer<float> in(const_cast<float*>(xs.data()), static_cast<int>(xs.size()));
  Halide::Var i("i");
  Halide::Func f("activation32");
  const LowerContext ctx{in(i), nullptr, {}};
  f(i) = nnfuse::generators::lower(e, ctx);
  f.vectorize(i, 8, Halide::TailStrategy::GuardWithIf);
  Halide::Buffer<float> out = f.realize({static_cast<int>(xs.size())});
  return {out.begin(), out.end()};
}

// The largest error of `e`'s float32 kernel over `xs`, in ULPs of the float64 evaluation of
// the same expression, which the float32 errors measured here are far above.
template <class E>
double max_float32_ulp(E e, const std::vector<float>& xs) {
  const std::vector<float> ys = run_elementwise_float32(e, xs);
  double worst = 0;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const double want = nnfuse::eval(e, static_cast<double>(xs[k]));
    worst = std::max(worst, nnfuse::reference::ulp_error(ys[k], want));
  }
  return worst;
}

std::vector<float> evenly_spaced(float from, float to, int count) {
  std::vector<float> xs;
  for (int k = 0; k < count; ++k) {
    xs.push_back(from + (to - from) * static_cast<float>(k) / static_cast<float>(count - 1));
  }
  return xs;
}

// An exponential's value stays in pieces, (hi + lo)·2^k, through the products and quotients
// that use it (lower.hpp): a user's x·e^x rounds into the subnormals once, and e^x/(1 + e^x)
// once, where one-piece float32 arithmetic is off by tens of ULPs (x times a subnormal) and by
// over 2 (the exponential's, the sum's and the quotient's roundings).
TEST(Float32Lowering, ExponentialsStayInPiecesUntilTheyRound) {
  using nnfuse::exp;
  using nnfuse::lit;
  using nnfuse::x;
  const double x_exp_x = max_float32_ulp(x * exp(x), evenly_spaced(-104.0F, -60.0F, 200001));
  const double logistic =
      max_float32_ulp(exp(x) / (lit<1> + exp(x)), evenly_spaced(-30.0F, 10.0F, 200001));
  std::printf("x*exp(x) on [-104, -60]: %.3f ULP; exp(x)/(1 + exp(x)) on [-30, 10]: %.3f ULP\n",
              x_exp_x, logistic);
  EXPECT_LE(x_exp_x, 1.0);
  EXPECT_LE(logistic, 1.5);
}

// The pieces carry no NaN and no infinity of their own: IEEE's values at the specials.
TEST(Float32Lowering, PiecesKeepIeeeSpecialValues) {
  using nnfuse::exp;
  using nnfuse::x;
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> xs = {-inf,   inf,      std::numeric_limits<float>::quiet_NaN(),
                                 -0.0F,  0.0F,     -200.0F,
                                 200.0F, -3.4e38F, 3.4e38F};
  const std::vector<float> ys = run_elementwise_float32(x * exp(x), xs);
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const auto want = static_cast<float>(nnfuse::eval(x * exp(x), static_cast<double>(xs[k])));
    EXPECT_TRUE(same_float(ys[k], want) &&
                (std::isnan(want) || std::signbit(ys[k]) == std::signbit(want)))
        << "x*exp(x) at " << xs[k] << ": " << ys[k] << ", want " << want;
  }
}

// nnfuse's vectorizable float64 functions against glibc's, over magnitudes from subnormal to
// overflow, with the special values.
TEST(VectorizedMath, MatchesLibmToAFewUlpOfDouble) {
  std::vector<double> xs = {
      0.0,  -0.0, INFINITY, -INFINITY,          NAN,    1e-310, -1e-310, 5e-324, 1.0,
      -1.0, 2.0,  -2.0,     0.3465735902799727, 709.78, -745.1, 745.0,   -1e-300};
  for (int e = -1074; e <= 1023; e += 7) {
    for (double m : {1.0, 1.37, 1.999}) {
      xs.push_back(std::ldexp(m, e));
      xs.push_back(-std::ldexp(m, e));
    }
  }
  for (int i = -4000; i <= 4000; ++i) xs.push_back(i * 0.01);
  Halide::Buffer<double> in(xs.data(), static_cast<int>(xs.size()));
  Halide::Var i("i");
  struct Case {
    const char* name;
    Halide::Expr (*ours)(const Halide::Expr&);
    double (*libm)(double);
    double tolerance;  // relative
  };
  const Case cases[] = {
      {"exp", nnfuse::generators::math::exp, [](double v) { return std::exp(v); }, 1e-14},
      {"expm1", nnfuse::generators::math::expm1, [](double v) { return std::expm1(v); }, 1e-14},
      {"log", nnfuse::generators::math::log, [](double v) { return std::log(v); }, 1e-14},
      {"log1p", nnfuse::generators::math::log1p, [](double v) { return std::log1p(v); }, 1e-14},
      {"tanh", nnfuse::generators::math::tanh, [](double v) { return std::tanh(v); }, 1e-14},
      {"erf", nnfuse::generators::math::erf, [](double v) { return std::erf(v); }, 1e-13},
      {"erfc", nnfuse::generators::math::erfc, [](double v) { return std::erfc(v); }, 1e-12},
  };
  for (const auto& c : cases) {
    Halide::Func f(std::string("math_") + c.name);
    f(i) = Halide::strict_float(c.ours(in(i)));  // as lower() evaluates it
    f.vectorize(i, 8, Halide::TailStrategy::GuardWithIf);
    Halide::Buffer<double> out = f.realize({static_cast<int>(xs.size())});
    double worst = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) {
      const double want = c.libm(xs[k]);
      const double got = out(static_cast<int>(k));
      if (std::isnan(want) || std::isinf(want) || want == 0.0) {
        EXPECT_TRUE((std::isnan(want) && std::isnan(got)) || got == want ||
                    (want == 0.0 && std::fabs(got) < 1e-300))
            << c.name << "(" << xs[k] << ") = " << got << ", libm " << want;
        continue;
      }
      // Below DBL_MIN the error is absolute in units of the smallest normal.
      const double error =
          std::fabs(got - want) / std::max(std::fabs(want), std::numeric_limits<double>::min());
      if (error > worst) worst = error;
      EXPECT_LE(error, c.tolerance) << c.name << "(" << xs[k] << ") = " << got << ", libm " << want;
    }
    std::printf("%-6s max relative difference to glibc %.3g\n", c.name, worst);
  }
}

TEST(Lowering, PerChannelParameter) {
  const std::vector<float> alpha = {0.1F, 0.2F, 0.3F};
  Halide::Buffer<float> alphas(const_cast<float*>(alpha.data()), 3);
  Halide::Var n("n");
  Halide::Var b("b");
  Halide::Func f("prelu");
  const LowerContext ctx{Halide::cast<double>(n) - Halide::Expr(1.5) * Halide::cast<double>(b),
                         [&](std::string_view name) {
                           EXPECT_EQ(name, "alpha");
                           return Halide::cast<double>(alphas(n));
                         },
                         {}};
  f(n, b) = Halide::cast<float>(nnfuse::generators::lower(nnfuse::prelu, ctx));
  Halide::Buffer<float> out = f.realize({3, 2});
  for (int b_ = 0; b_ < 2; ++b_) {
    for (int n_ = 0; n_ < 3; ++n_) {
      const float v = static_cast<float>(n_ - 1.5 * b_);
      EXPECT_EQ(out(n_, b_), nnfuse::eval(nnfuse::prelu, v, nnfuse::bind<"alpha">(alpha[n_])));
    }
  }
}

template <class E>
void check_row_wise(E e, const std::vector<std::vector<float>>& rows) {
  for (const auto& row : rows) {
    const int width = static_cast<int>(row.size());
    Halide::Buffer<float> in(const_cast<float*>(row.data()), width, 1);
    Halide::Var n("n");
    Halide::Var b("b");
    Halide::RDom r(0, width);
    auto context_at = [&](const Halide::Expr& at, std::vector<Halide::Expr> row_values) {
      return LowerContext{Halide::cast<double>(in(at, b)), nullptr, std::move(row_values)};
    };
    const auto reductions = nnfuse::generators::row_reduction_funcs(e, b, r, context_at);
    std::vector<Halide::Expr> values;
    for (const auto& f : reductions) values.push_back(f(b));
    Halide::Func out_f("row_wise");
    out_f(n, b) = Halide::cast<float>(nnfuse::generators::lower(e, context_at(n, values)));
    Halide::Buffer<float> out = out_f.realize({width, 1});
    const std::vector<double> row64(row.begin(), row.end());
    std::vector<double> expected(row.size());
    nnfuse::eval_row(e, row64, expected);
    for (int k = 0; k < width; ++k) {
      EXPECT_LE(nnfuse::reference::ulp_error(out(k, 0), expected[k]), 1.0)
          << "element " << k << ": kernel " << out(k, 0) << ", eval_row " << expected[k];
    }
  }
}

TEST(Lowering, RowWiseSoftmaxAndLogSoftmax) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::vector<float>> rows = {{1.0F},
                                                {1.0F, 2.0F, 3.0F},
                                                {1e4F, -1e4F, 9999.0F, 3.0F},
                                                {0.5F, nan, 2.0F},
                                                {-INFINITY, 0.0F, 2.0F, 2.0F},
                                                {-3.0F, -2.5F, 7.25F, 0.0F, 1e-30F, -20.0F, 19.0F}};
  check_row_wise(nnfuse::softmax, rows);
  check_row_wise(nnfuse::log_softmax, rows);
  check_row_wise(nnfuse::derivative(nnfuse::softmax), rows);
}

}  // namespace
