// Structure of expressions: empty structural types, printing, folding, substitution, the
// parameter and row-reduction collections, and the symbolic derivative's simplified forms.
#include <type_traits>
#include <vector>

#include <boost/hana/equal.hpp>
#include <boost/hana/length.hpp>
#include <gtest/gtest.h>

#include <nnfuse/dsl.hpp>

namespace {

using namespace nnfuse;  // NOLINT(google-build-using-namespace): the DSL is written bare

template <class A, class B>
constexpr bool same(A /*a*/, B /*b*/) {
  return std::is_same_v<A, B>;
}

template <auto E>
struct TakesExpression {
  static constexpr auto expression = E;
};

TEST(Float, StoresTheBitsOfTheValue) {
  static_assert(Float{0.25}.value() == 0.25);
  static_assert(Float{0.01F}.value() == static_cast<double>(0.01F));
  static_assert(Float{3}.value() == 3.0);
  static_assert(Float{-0.0} != Float{0.0}, "-0 and +0 are different constants");
  static_assert(Float{1e-45F}.value() > 0.0, "denormals survive");
}

TEST(FixedString, ComparesByContent) {
  static_assert(FixedString{"alpha"} == FixedString{"alpha"});
  static_assert(!(FixedString{"alpha"} == FixedString{"alph"}));
  static_assert(FixedString{"fc1"}.view() == "fc1");
}

TEST(Expression, EveryExpressionIsAnEmptyStructuralType) {
  static_assert(std::is_empty_v<decltype(relu)>);
  static_assert(std::is_empty_v<decltype(gelu)>);
  static_assert(std::is_empty_v<decltype(softmax)>);
  static_assert(std::is_empty_v<decltype(derivative(mish))>);
  static_assert(same(TakesExpression<silu>::expression, silu), "usable as a template argument");
  SUCCEED();
}

TEST(Expression, PrintsReadably) {
  EXPECT_EQ(to_string(relu), "max(x, 0)");
  EXPECT_EQ(to_string(leaky_relu<>), "select(x > 0, x, x * 0.01)");
  EXPECT_EQ(to_string(leaky_relu<0.2F>), "select(x > 0, x, x * 0.2)");
  EXPECT_EQ(to_string(elu<>), "select(x > 0, x, expm1(x))");
  EXPECT_EQ(to_string(relu6), "min(max(x, 0), 6)");
  EXPECT_EQ(to_string(prelu), "select(x > 0, x, alpha * x)");
  EXPECT_EQ(to_string(softmax), "exp(x - row_max(x)) / row_sum(exp(x - row_max(x)))");
  EXPECT_EQ(to_string(x - (x - x)), "x - (x - x)");
  EXPECT_EQ(to_string((x - x) - x), "x - x - x");
  EXPECT_EQ(to_string((x + x) * x), "(x + x) * x");
  EXPECT_EQ(to_string(x * lit<-2>), "x * (-2)");
  EXPECT_EQ(to_string(-(x + x)), "-(x + x)");
  EXPECT_EQ(to_string(select(x > lit<0> && !(x == lit<3>), x, lit<0>)),
            "select(x > 0 && !(x == 3), x, 0)");
  EXPECT_EQ(to_string(lit<selu_scale>), "1.0507009873554805");
}

TEST(Expression, FoldsLiteralsAndDropsExactOnes) {
  static_assert(same(lit<2> * lit<3>, lit<6>));
  static_assert(same(lit<1> - lit<3>, lit<-2>));
  static_assert(same(-lit<2>, lit<-2>));
  static_assert(same(x * lit<1>, x));
  static_assert(same(lit<1> * x, x));
  static_assert(same(x / lit<1>, x));
  static_assert(!same(x + lit<0>, x), "x + 0 is not x at x = -0: kept");
  static_assert(same(softplus<>, select(x > lit<20>, x, log1p(exp(x)))), "beta = 1 vanishes");
  SUCCEED();
}

TEST(Expression, CallingSubstitutesForX) {
  static_assert(same(relu(x + lit<1>), max(x + lit<1>, lit<0>)));
  static_assert(same(sigmoid(x), sigmoid));
  static_assert(same(relu(relu), max(max(x, lit<0>), lit<0>)));
  static_assert(same(prelu(x * x), select(x * x > lit<0>, x * x, param<"alpha"> * (x * x))));
  SUCCEED();
}

TEST(Expression, CollectsParametersOnce) {
  constexpr auto both = param<"a"> * x + param<"b"> * param<"a">;
  static_assert(parameters_of(both) ==
                boost::hana::tuple_t<Param<FixedString{"a"}>, Param<FixedString{"b"}>>);
  static_assert(boost::hana::length(parameters_of(relu)) == boost::hana::size_c<0>);
  static_assert(uses_parameter<decltype(prelu), "alpha">);
  static_assert(!uses_parameter<decltype(prelu), "beta">);
  SUCCEED();
}

TEST(Expression, RowReductionsComeInnerFirst) {
  using Max = decltype(row_max(x));
  using Sum = decltype(row_sum(exp(x - row_max(x))));
  static_assert(row_reductions_of(softmax) == boost::hana::tuple_t<Max, Sum>);
  static_assert(is_row_wise<decltype(softmax)> && is_row_wise<decltype(log_softmax)>);
  static_assert(!is_row_wise<decltype(gelu)>);
  static_assert(Softmax::row_wise && !ReLU::row_wise);
  SUCCEED();
}

TEST(Derivative, SimplifiesTrivialTerms) {
  static_assert(same(derivative(x), lit<1>));
  static_assert(same(derivative(lit<5>), lit<0>));
  static_assert(same(derivative(x * lit<3>), lit<3>));
  static_assert(same(derivative(x * x), x + x));
  static_assert(same(derivative(x + lit<2>), lit<1>));
  static_assert(same(derivative(lit<2> - x), lit<-1>));
  static_assert(same(derivative(-x), lit<-1>));
  static_assert(same(derivative(exp(x)), exp(x)));
  static_assert(same(derivative(relu), select(x > lit<0>, lit<1>, lit<0>)));
  static_assert(same(derivative(leaky_relu<0.2F>), select(x > lit<0>, lit<1>, lit<0.2F>)));
  static_assert(same(derivative(select(x > lit<0>, x, x)), lit<1>), "equal branches merge");
  SUCCEED();
}

TEST(Derivative, WithRespectToANamedParameter) {
  static_assert(same(derivative(prelu, param<"alpha">), select(x > lit<0>, lit<0>, x)));
  static_assert(same(derivative(prelu), select(x > lit<0>, lit<1>, param<"alpha">)));
  static_assert(same(derivative(relu, param<"alpha">), lit<0>));
  SUCCEED();
}

TEST(Derivative, OfARowWiseExpressionIsTheJacobianDiagonal) {
  static_assert(is_row_wise<decltype(derivative(softmax))>);
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

TEST(Act, WrapsBuiltInAndUserExpressionsAlike) {
  constexpr auto swish = x * sigmoid(x);
  using Swish = Act<swish, "swish">;
  static_assert(same(Swish::expression, swish));
  static_assert(Swish::kind == "swish");
  static_assert(std::is_same_v<ReLU, Act<relu, "relu">>);
  static_assert(std::is_same_v<LeakyReLU<>, LeakyReLU<0.01F>>);
  static_assert(!std::is_same_v<LeakyReLU<>, LeakyReLU<0.2F>>);
  static_assert(boost::hana::length(elementwise_catalog) == boost::hana::size_c<15>);
  SUCCEED();
}

}  // namespace
