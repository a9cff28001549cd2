// Expressions at run time: printing and the derivative of a row-wise expression. What holds at
// compile time (empty structural types, folding, substitution, the parameter and row-reduction
// collections, the derivative's simplified forms) is checked by expr_static_checks.cpp.
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/dsl.hpp>

namespace {

using namespace nnfuse;  // NOLINT(google-build-using-namespace): the DSL is written bare

TEST(Expression, PrintsReadably) {
  EXPECT_EQ(to_string(relu), "max(x, 0)");
  EXPECT_EQ(to_string(leaky_relu<>), "select(x > 0, x, x * 0.01)");
  EXPECT_EQ(to_string(leaky_relu<0.2F>), "select(x > 0, x, x * 0.2)");
  EXPECT_EQ(to_string(elu<>), "select(x > 0, x, expm1(x))");
  EXPECT_EQ(to_string(relu6), "min(max(x, 0), 6)");
  EXPECT_EQ(to_string(prelu), "select(x > 0, x, select(x == -inf && alpha == 0, 0, alpha * x))");
  EXPECT_EQ(to_string(softmax),
            "select(row_max(x) == inf && row_sum(select(x == inf, 1, 0)) == 1, select(x == inf, 1, "
            "0), exp(x - row_max(x)) / row_sum(exp(x - row_max(x))))");
  EXPECT_EQ(to_string(x - (x - x)), "x - (x - x)");
  EXPECT_EQ(to_string((x - x) - x), "x - x - x");
  EXPECT_EQ(to_string((x + x) * x), "(x + x) * x");
  EXPECT_EQ(to_string(x * lit<-2>), "x * (-2)");
  EXPECT_EQ(to_string(-(x + x)), "-(x + x)");
  EXPECT_EQ(to_string(select(x > lit<0> && !(x == lit<3>), x, lit<0>)),
            "select(x > 0 && !(x == 3), x, 0)");
  EXPECT_EQ(to_string(lit<selu_scale>), "1.0507009873554805");
}

TEST(Derivative, OfARowWiseExpressionIsTheJacobianDiagonal) {
  const std::vector<double> row = {0.5, -1.0, 2.0, 2.0};
  std::vector<double> y(4), dy(4), dlog(4);
  eval_row(softmax, row, y);
  eval_row(derivative(softmax), row, dy);
  eval_row(derivative(log_softmax), row, dlog);
  for (std::size_t i = 0; i < row.size(); ++i) {
    EXPECT_DOUBLE_EQ(dy[i], y[i] * (1 - y[i]));
    EXPECT_DOUBLE_EQ(dlog[i], 1 - y[i]);
  }
}

}  // namespace
