// Lowering of nnfuse DSL expressions to Halide: one generic visitor over the DSL's four node
// kinds, with one rule per primitive operation and none per activation. The expression is
// evaluated in float64 and the caller rounds the result to float32 once, so a generated
// kernel computes what the DSL's reference `eval<float>` computes: the catalog's accuracy
// (within 1 ULP of the correctly rounded value) carries over to the kernels. The
// transcendental functions are nnfuse's own vectorizable float64 ones (math.hpp), because
// Halide 14's are not accurate enough and libm's would be called once per lane. Semantics follow
// the DSL: min/max and row_max propagate NaN, comparisons with NaN are false. Row reductions
// (Softmax) are supplied by the caller, which computes them over the row first (see pipeline code).
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <Halide.h>
#include <boost/hana/equal.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/index_if.hpp>
#include <boost/hana/length.hpp>

#include <nnfuse/dsl/expr.hpp>
#include <nnfuse/generators/math.hpp>

namespace nnfuse::generators {

// What the visitor substitutes for the leaves that are not literals.
struct LowerContext {
  Halide::Expr x;  // float64
  // A run-time parameter's value at the current channel, as float64.
  std::function<Halide::Expr(std::string_view name)> param;
  // The values of the expression's row reductions, in row_reductions_of order, float64.
  std::vector<Halide::Expr> row_values;
};

namespace detail {

inline Halide::Expr nan_propagating(const Halide::Expr& a, const Halide::Expr& b,
                                    const Halide::Expr& chosen) {
  return Halide::select(math::is_nan(a) || math::is_nan(b),
                        Halide::Expr(std::numeric_limits<double>::quiet_NaN()), chosen);
}

// clang-format off
inline Halide::Expr apply(op::Add, const Halide::Expr& a, const Halide::Expr& b) { return a + b; }
inline Halide::Expr apply(op::Sub, const Halide::Expr& a, const Halide::Expr& b) { return a - b; }
inline Halide::Expr apply(op::Mul, const Halide::Expr& a, const Halide::Expr& b) { return a * b; }
inline Halide::Expr apply(op::Div, const Halide::Expr& a, const Halide::Expr& b) { return a / b; }
inline Halide::Expr apply(op::Neg, const Halide::Expr& a) { return -a; }
inline Halide::Expr apply(op::Lt, const Halide::Expr& a, const Halide::Expr& b) { return a < b; }
inline Halide::Expr apply(op::Le, const Halide::Expr& a, const Halide::Expr& b) { return a <= b; }
inline Halide::Expr apply(op::Gt, const Halide::Expr& a, const Halide::Expr& b) { return a > b; }
inline Halide::Expr apply(op::Ge, const Halide::Expr& a, const Halide::Expr& b) { return a >= b; }
inline Halide::Expr apply(op::Eq, const Halide::Expr& a, const Halide::Expr& b) { return a == b; }
inline Halide::Expr apply(op::Ne, const Halide::Expr& a, const Halide::Expr& b) { return a != b; }
inline Halide::Expr apply(op::And, const Halide::Expr& a, const Halide::Expr& b) { return a && b; }
inline Halide::Expr apply(op::Or, const Halide::Expr& a, const Halide::Expr& b) { return a || b; }
inline Halide::Expr apply(op::Not, const Halide::Expr& a) { return !a; }
inline Halide::Expr apply(op::Select, const Halide::Expr& c, const Halide::Expr& a, const Halide::Expr& b) { return Halide::select(c, a, b); }
inline Halide::Expr apply(op::Min, const Halide::Expr& a, const Halide::Expr& b) { return nan_propagating(a, b, Halide::min(a, b)); }
inline Halide::Expr apply(op::Max, const Halide::Expr& a, const Halide::Expr& b) { return nan_propagating(a, b, Halide::max(a, b)); }
inline Halide::Expr apply(op::Abs, const Halide::Expr& a) { return Halide::abs(a); }
inline Halide::Expr apply(op::Sqrt, const Halide::Expr& a) { return Halide::sqrt(a); }
inline Halide::Expr apply(op::Exp, const Halide::Expr& a) { return math::exp(a); }
inline Halide::Expr apply(op::Expm1, const Halide::Expr& a) { return math::expm1(a); }
inline Halide::Expr apply(op::Log, const Halide::Expr& a) { return math::log(a); }
inline Halide::Expr apply(op::Log1p, const Halide::Expr& a) { return math::log1p(a); }
inline Halide::Expr apply(op::Tanh, const Halide::Expr& a) { return math::tanh(a); }
inline Halide::Expr apply(op::Erf, const Halide::Expr& a) { return math::erf(a); }
inline Halide::Expr apply(op::Erfc, const Halide::Expr& a) { return math::erfc(a); }
// clang-format on

template <class Reductions, class Node>
constexpr std::size_t reduction_index() {
  constexpr auto found =
      boost::hana::index_if(Reductions{}, boost::hana::equal.to(boost::hana::type_c<Node>));
  return std::remove_cvref_t<decltype(found.value())>::value;
}

// `Root` is the expression being lowered, whose row reductions the context holds.
template <class Root>
struct Lowering {
  const LowerContext& ctx;

  Halide::Expr operator()(X /*e*/) const { return ctx.x; }

  template <Float V>
  Halide::Expr operator()(Lit<V> /*e*/) const {
    return Halide::Expr(V.value());
  }

  template <FixedString N>
  Halide::Expr operator()(Param<N> /*e*/) const {
    return ctx.param(N.view());
  }

  // An operand the comparison must check for NaN: any but a (non-NaN) literal.
  template <class A>
  static Halide::Expr not_nan(const Halide::Expr& value) {
    if constexpr (is_literal<A>) {
      return Halide::Internal::const_true();
    } else {
      return !math::is_nan(value);
    }
  }

  template <class Op, class... A>
  Halide::Expr operator()(Node<Op, A...> /*e*/) const {
    constexpr bool ordered_comparison = std::is_same_v<Op, op::Lt> || std::is_same_v<Op, op::Le> ||
                                        std::is_same_v<Op, op::Gt> || std::is_same_v<Op, op::Ge> ||
                                        std::is_same_v<Op, op::Eq>;
    if constexpr (ordered_comparison) {
      // A comparison with NaN is false in IEEE and in the DSL, but Halide's simplifier turns
      // select chains into min/max clamps that drop NaN (measured: hardsigmoid(NaN) gave 0).
      // Saying so explicitly keeps the select; math::is_nan reads the bits, so no fast-math
      // assumption of the back end can fold it away.
      return [&]<class L, class R>(L, R) {
        const Halide::Expr a = (*this)(L{});
        const Halide::Expr b = (*this)(R{});
        return apply(Op{}, a, b) && not_nan<L>(a) && not_nan<R>(b);
      }(A{}...);
    } else if constexpr (std::is_same_v<Op, op::Ne>) {
      return [&]<class L, class R>(L, R) {
        const Halide::Expr a = (*this)(L{});
        const Halide::Expr b = (*this)(R{});
        return apply(Op{}, a, b) || !not_nan<L>(a) || !not_nan<R>(b);
      }(A{}...);
    } else if constexpr (Op::kind == Kind::row_reduction) {
      using Reductions = decltype(row_reductions_of(Root{}));
      return ctx.row_values.at(reduction_index<Reductions, Node<Op, A...>>());
    } else {
      return apply(Op{}, (*this)(A{})...);
    }
  }
};

}  // namespace detail

// The float64 Halide expression of `e` in `ctx`. Row-wise expressions need ctx.row_values
// filled for every entry of row_reductions_of(e).
// Wrapped in strict_float: Halide otherwise lets LLVM assume no NaNs, and `x < -1000` then
// stops being false for NaN (measured: gelu(NaN) became 0).
template <Expr E>
Halide::Expr lower(E /*e*/, const LowerContext& ctx) {
  return Halide::strict_float(detail::Lowering<E>{ctx}(E{}));
}

// The row reductions of `e` as Funcs of the row `b`, inner ones first. `element_context(n,
// row_values)` gives the context of element n of row b, where row_values holds the reductions
// computed so far (evaluated at b); `r` runs over the row's elements. row_max propagates NaN
// as torch.max does; row_sum adds in float64.
template <Expr E>
std::vector<Halide::Func> row_reduction_funcs(
    E /*e*/, const Halide::Var& b, const Halide::RDom& r,
    const std::function<LowerContext(const Halide::Expr& n, std::vector<Halide::Expr> row_values)>&
        element_context) {
  std::vector<Halide::Func> funcs;
  boost::hana::for_each(row_reductions_of(E{}), [&](auto reduction) {
    using R = typename decltype(reduction)::type;
    std::vector<Halide::Expr> so_far;
    so_far.reserve(funcs.size());
    for (auto& f : funcs) so_far.push_back(f(b));
    const LowerContext ctx = element_context(r.x, so_far);
    auto lower_inner = []<class Op, class Inner>(Node<Op, Inner>*, const LowerContext& c) {
      return std::pair{Op{}, detail::Lowering<E>{c}(Inner{})};
    };
    auto [reduce, loose_value] = lower_inner(static_cast<R*>(nullptr), ctx);
    const Halide::Expr value = Halide::strict_float(loose_value);
    Halide::Func f("row_" + std::to_string(funcs.size()));
    if constexpr (std::is_same_v<decltype(reduce), op::RowMax>) {
      f(b) = Halide::Expr(-std::numeric_limits<double>::infinity());
      f(b) = Halide::strict_float(detail::nan_propagating(f(b), value, Halide::max(f(b), value)));
    } else {
      f(b) = Halide::Expr(0.0);
      f(b) = Halide::strict_float(f(b) + value);
    }
    funcs.push_back(f);
  });
  return funcs;
}

}  // namespace nnfuse::generators
