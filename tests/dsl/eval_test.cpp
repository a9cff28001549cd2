// Evaluation semantics against hand-computed values and float64 math: NaN propagation,
// infinities, bindings (scalar and per-channel), row-wise evaluation and its errors, and the
// difference between the double-internal reference and native float32 evaluation.
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/dsl.hpp>

namespace {

using namespace nnfuse;  // NOLINT(google-build-using-namespace): the DSL is written bare

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float nan = std::numeric_limits<float>::quiet_NaN();

TEST(Eval, ArithmeticAndFunctionsMatchFloat64Math) {
  constexpr auto e = (x * x - lit<3> * x) / (lit<1> + exp(-x)) + sqrt(abs(x)) * log1p(x * x);
  for (double v : {-2.5, -1.0, 0.0, 0.3, 1.0, 7.0}) {
    const double expected =
        (v * v - 3 * v) / (1 + std::exp(-v)) + std::sqrt(std::fabs(v)) * std::log1p(v * v);
    EXPECT_DOUBLE_EQ(eval(e, v), expected) << "x = " << v;
  }
  EXPECT_EQ(eval(erf(x) + erfc(x), 0.7), std::erf(0.7) + std::erfc(0.7));
  EXPECT_EQ(eval(tanh(x) - expm1(x) + log(x), 2.0),
            std::tanh(2.0) - std::expm1(2.0) + std::log(2.0));
}

TEST(Eval, FloatIsComputedInDoubleAndRoundedOnce) {
  // 1 + 2^-30 - 1 is 2^-30 in double, but 0 if each step were rounded to float.
  constexpr auto e = (x + lit<0x1p-30>)-x;
  EXPECT_EQ(eval(e, 1.0F), 0x1p-30F);
  EXPECT_EQ(eval_native(e, 1.0F), 0.0F);
}

TEST(Eval, NaNPropagatesThroughMinMaxAndArithmetic) {
  EXPECT_TRUE(std::isnan(eval(relu, nan)));
  EXPECT_TRUE(std::isnan(eval(relu6, nan)));
  EXPECT_TRUE(std::isnan(eval(max(lit<0>, x), nan)));
  EXPECT_TRUE(std::isnan(eval(min(x, lit<0>), nan)));
  for (float v : {nan, -nan}) {
    EXPECT_TRUE(std::isnan(eval(leaky_relu<>, v)));
    EXPECT_TRUE(std::isnan(eval(sigmoid, v)));
    EXPECT_TRUE(std::isnan(eval(gelu, v)));
    EXPECT_TRUE(std::isnan(eval(hardswish, v)));
    EXPECT_TRUE(std::isnan(eval(hardsigmoid, v)));
    EXPECT_TRUE(std::isnan(eval(softplus<>, v)));
  }
}

TEST(Eval, InfinitiesGiveTheLimits) {
  EXPECT_EQ(eval(relu, inf), inf);
  EXPECT_EQ(eval(relu, -inf), 0.0F);
  EXPECT_EQ(eval(leaky_relu<>, -inf), -inf);
  EXPECT_EQ(eval(elu<>, -inf), -1.0F);
  EXPECT_EQ(eval(sigmoid, -inf), 0.0F);
  EXPECT_EQ(eval(sigmoid, inf), 1.0F);
  EXPECT_EQ(eval(tanh(x), -inf), -1.0F);
  for (auto f :
       {+[](float v) { return eval(gelu, v); }, +[](float v) { return eval(silu, v); },
        +[](float v) { return eval(mish, v); }, +[](float v) { return eval(gelu_tanh, v); },
        +[](float v) { return eval(hardswish, v); }}) {
    EXPECT_EQ(f(-inf), 0.0F);
    EXPECT_EQ(f(inf), inf);
  }
  EXPECT_EQ(eval(softplus<>, -inf), 0.0F);
  EXPECT_EQ(eval(relu6, inf), 6.0F);
  EXPECT_EQ(eval(hardswish, 3e38F), 3e38F);  // no x * (x + 3) overflow
}

TEST(Eval, DefaultsFollowTorchNn) {
  EXPECT_EQ(eval(leaky_relu<>, -2.0F), -2.0F * 0.01F);
  EXPECT_EQ(eval(elu<>, -1.0), std::expm1(-1.0));
  EXPECT_EQ(eval(elu<0.5F>, -1.0), 0.5 * std::expm1(-1.0));
  EXPECT_EQ(eval(softplus<>, 20.5F), 20.5F);  // above the threshold: x
  EXPECT_EQ(eval(softplus<>, 1.0), std::log1p(std::exp(1.0)));
  EXPECT_EQ(eval(softplus<2.0F>, 1.0), std::log1p(std::exp(2.0)) / 2.0);
  EXPECT_DOUBLE_EQ(eval(selu, -1.0), 1.0507009873554805 * 1.6732632423543772 * std::expm1(-1.0));
  EXPECT_EQ(eval(hardsigmoid, 1.5), 0.75);
  EXPECT_EQ(eval(hardswish, 1.5), 1.5 * 4.5 / 6.0);
  EXPECT_EQ(eval(relu6, 7.0F), 6.0F);
  EXPECT_EQ(eval(identity, -3.25F), -3.25F);
}

TEST(Eval, BindsNamedParameters) {
  EXPECT_EQ(eval(prelu, -2.0F, bind<"alpha">(0.25)), -0.5F);
  EXPECT_EQ(eval(prelu, 2.0F, bind<"alpha">(0.25)), 2.0F);
  constexpr auto two = param<"a"> * x + param<"b">;
  EXPECT_EQ(eval(two, 3.0, bind<"b">(1.0), bind<"a">(2.0)), 7.0);
}

TEST(EvalRow, SoftmaxMatchesFloat64) {
  const std::vector<double> in = {1.0, -2.0, 0.5, 3.0, 3.0};
  std::vector<double> out(in.size());
  eval_row(softmax, in, out);
  double total = 0;
  for (double v : in) total += std::exp(v - 3.0);
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_DOUBLE_EQ(out[i], std::exp(in[i] - 3.0) / total);
  }
  eval_row(log_softmax, in, out);
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_DOUBLE_EQ(out[i], in[i] - 3.0 - std::log(total));
  }
}

TEST(EvalRow, SoftmaxIsStableAndPropagatesNaN) {
  const std::vector<float> large = {1e4F, 1e4F - 1.0F, -1e4F};
  std::vector<float> out(3);
  eval_row(softmax, large, out);
  EXPECT_FLOAT_EQ(out[0], static_cast<float>(1.0 / (1.0 + std::exp(-1.0))));
  EXPECT_EQ(out[2], 0.0F);
  const std::vector<float> with_nan = {1.0F, nan, 2.0F};
  eval_row(softmax, with_nan, out);
  for (float v : out) EXPECT_TRUE(std::isnan(v));
  const std::vector<float> one = {-7.0F};
  std::vector<float> single(1);
  eval_row(softmax, one, single);
  EXPECT_EQ(single[0], 1.0F);
}

TEST(EvalRow, ElementwiseExpressionsAndPerChannelParameters) {
  const std::vector<float> in = {-1.0F, -2.0F, 3.0F};
  const std::array<float, 3> alpha = {0.1F, 0.2F, 0.3F};
  std::vector<float> out(3);
  eval_row(prelu, in, out, bind<"alpha">(std::span<const float>(alpha)));
  EXPECT_EQ(out, (std::vector<float>{-0.1F, -0.4F, 3.0F}));
  eval_row(prelu, in, out, bind<"alpha">(0.5));  // one alpha for all channels
  EXPECT_EQ(out, (std::vector<float>{-0.5F, -1.0F, 3.0F}));
  eval_row(relu, in, out);
  EXPECT_EQ(out, (std::vector<float>{0.0F, 0.0F, 3.0F}));
}

TEST(EvalRow, RejectsMismatchedSizesNamingThem) {
  const std::vector<float> in = {1.0F, 2.0F, 3.0F};
  std::vector<float> short_out(2);
  try {
    eval_row(softmax, in, short_out);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "nnfuse::eval_row: the output has 2 elements but the input has 3");
  }
  std::vector<float> out(3);
  const std::array<float, 2> alpha = {0.1F, 0.2F};
  try {
    eval_row(prelu, in, out, bind<"alpha">(std::span<const float>(alpha)));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "nnfuse::eval_row: parameter 'alpha' has 2 values but the row has 3 "
                 "channels");
  }
}

TEST(EvalNative, ShowsWhyTheFormsMatter) {
  // exp(x) - 1 loses everything near 0 in float; expm1 keeps it.
  constexpr auto naive_elu = select(x > lit<0>, x, exp(x) - lit<1>);
  EXPECT_NE(eval_native(naive_elu, -1e-7F), eval(naive_elu, -1e-7F));
  EXPECT_EQ(eval_native(elu<>, -1e-7F), eval(elu<>, -1e-7F));
  // 1 / (1 + exp(-x)) underflows to 0 at -100; the two-sided form keeps the denormal.
  constexpr auto naive_sigmoid = lit<1> / (lit<1> + exp(-x));
  EXPECT_EQ(eval_native(naive_sigmoid, -100.0F), 0.0F);
  EXPECT_GT(eval_native(sigmoid, -100.0F), 0.0F);
}

}  // namespace
