// Compile-time properties of expressions (no run-time test: a violated one fails the build). The
// run-time side of the same subjects is in expr_test.cpp.
#include <type_traits>

#include <boost/hana/equal.hpp>
#include <boost/hana/length.hpp>

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

// Float: StoresTheBitsOfTheValue
[[maybe_unused]] void float_stores_the_bits_of_the_value() {
  static_assert(Float{0.25}.value() == 0.25);
  static_assert(Float{0.01F}.value() == static_cast<double>(0.01F));
  static_assert(Float{3}.value() == 3.0);
  static_assert(Float{-0.0} != Float{0.0}, "-0 and +0 are different constants");
  static_assert(Float{1e-45F}.value() > 0.0, "denormals survive");
}

// FixedString: ComparesByContent
[[maybe_unused]] void fixed_string_compares_by_content() {
  static_assert(FixedString{"alpha"} == FixedString{"alpha"});
  static_assert(!(FixedString{"alpha"} == FixedString{"alph"}));
  static_assert(FixedString{"fc1"}.view() == "fc1");
}

// Expression: EveryExpressionIsAnEmptyStructuralType
[[maybe_unused]] void expression_every_expression_is_an_empty_structural_type() {
  static_assert(std::is_empty_v<decltype(relu)>);
  static_assert(std::is_empty_v<decltype(gelu)>);
  static_assert(std::is_empty_v<decltype(softmax)>);
  static_assert(std::is_empty_v<decltype(derivative(mish))>);
  static_assert(same(TakesExpression<silu>::expression, silu), "usable as a template argument");
}

// Expression: FoldsLiteralsAndDropsExactOnes
[[maybe_unused]] void expression_folds_literals_and_drops_exact_ones() {
  static_assert(same(lit<2> * lit<3>, lit<6>));
  static_assert(same(lit<1> - lit<3>, lit<-2>));
  static_assert(same(-lit<2>, lit<-2>));
  static_assert(same(x * lit<1>, x));
  static_assert(same(lit<1> * x, x));
  static_assert(same(x / lit<1>, x));
  static_assert(!same(x + lit<0>, x), "x + 0 is not x at x = -0: kept");
  static_assert(same(softplus<>, select(x > lit<20>, x, log1p(exp(x)))), "beta = 1 vanishes");
}

// Expression: CallingSubstitutesForX
[[maybe_unused]] void expression_calling_substitutes_for_x() {
  static_assert(same(relu(x + lit<1>), max(x + lit<1>, lit<0>)));
  static_assert(same(sigmoid(x), sigmoid));
  static_assert(same(relu(relu), max(max(x, lit<0>), lit<0>)));
  static_assert(same(leaky_relu<0.2F>(x * x), select(x * x > lit<0>, x * x, (x * x) * lit<0.2F>)));
}

// Expression: CollectsParametersOnce
[[maybe_unused]] void expression_collects_parameters_once() {
  constexpr auto both = param<"a"> * x + param<"b"> * param<"a">;
  static_assert(parameters_of(both) ==
                boost::hana::tuple_t<Param<FixedString{"a"}>, Param<FixedString{"b"}>>);
  static_assert(boost::hana::length(parameters_of(relu)) == boost::hana::size_c<0>);
  static_assert(uses_parameter<decltype(prelu), "alpha">);
  static_assert(!uses_parameter<decltype(prelu), "beta">);
}

// Expression: RowReductionsComeInnerFirst
[[maybe_unused]] void expression_row_reductions_come_inner_first() {
  using Max = decltype(row_max(x));
  using Sum = decltype(row_sum(exp(x - row_max(x))));
  constexpr auto plain_softmax = exp(x - row_max(x)) / row_sum(exp(x - row_max(x)));
  static_assert(row_reductions_of(plain_softmax) == boost::hana::tuple_t<Max, Sum>);
  static_assert(is_row_wise<decltype(softmax)> && is_row_wise<decltype(log_softmax)>);
  static_assert(!is_row_wise<decltype(gelu)>);
  static_assert(Softmax::row_wise && !ReLU::row_wise);
}

// Derivative: SimplifiesTrivialTerms
[[maybe_unused]] void derivative_simplifies_trivial_terms() {
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
}

// Derivative: WithRespectToANamedParameter
[[maybe_unused]] void derivative_with_respect_to_a_named_parameter() {
  // prelu's inner select is its limit at -inf for alpha = 0 (activations.hpp).
  constexpr auto relu_limit = x == lit<-infinity> && param<"alpha"> == lit<0>;
  static_assert(same(derivative(prelu, param<"alpha">),
                     select(x > lit<0>, lit<0>, select(relu_limit, lit<0>, x))));
  static_assert(same(derivative(prelu),
                     select(x > lit<0>, lit<1>, select(relu_limit, lit<0>, param<"alpha">))));
  static_assert(same(derivative(relu, param<"alpha">), lit<0>));
}

// Act: WrapsBuiltInAndUserExpressionsAlike
[[maybe_unused]] void act_wraps_built_in_and_user_expressions_alike() {
  constexpr auto swish = x * sigmoid(x);
  using Swish = Act<swish, "swish">;
  static_assert(same(Swish::expression, swish));
  static_assert(Swish::kind == "swish");
  static_assert(std::is_same_v<ReLU, Act<relu, "relu">>);
  static_assert(std::is_same_v<LeakyReLU<>, LeakyReLU<0.01F>>);
  static_assert(!std::is_same_v<LeakyReLU<>, LeakyReLU<0.2F>>);
  static_assert(boost::hana::length(elementwise_catalog) == boost::hana::size_c<15>);
}

// Derivative: of a row-wise expression is row-wise (its values: expr_test.cpp)
static_assert(is_row_wise<decltype(derivative(softmax))>);

}  // namespace
