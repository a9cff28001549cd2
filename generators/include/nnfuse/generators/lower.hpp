// Lowering of nnfuse DSL expressions to Halide: one generic visitor over the DSL's four node
// kinds, with one rule per primitive operation and none per activation. The expression is
// evaluated in the type of the context's x, chosen per network by its precision (precision.hpp):
// float32 with nnfuse's float32 functions (math32.hpp; the default, `fast`), or float64 with
// its float64 ones (math.hpp; `exact`), which the caller rounds to float32 once, so a kernel
// computes what the DSL's reference `eval<float>` computes (within 1 ULP of the correctly
// rounded value). Literals are rounded to the evaluation type. Two rules look past their
// operand: in float32, erfc(a·c) for a literal c gets the product's rounding error too (Dekker's
// product), because erfc's argument is amplified up to 2a² times (GELU's erfc(-x/sqrt 2) at
// x = -13: 170 ULP), and exp(a - b) gets the difference's (Softmax's exp(x - row_max)). Halide 14's
// own functions are neither accurate nor vectorized enough, and libm's would be called once per
// lane. Semantics follow the DSL: min/max and row_max propagate NaN, comparisons with NaN are
// false. Row reductions (Softmax) are supplied by the caller, which computes them over the row
// first (see pipeline code).
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <map>
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
#include <nnfuse/generators/math32.hpp>

namespace nnfuse::generators {

// What the visitor substitutes for the leaves that are not literals.
struct LowerContext {
  Halide::Expr x;  // float32 or float64: the type everything is evaluated in
  // A run-time parameter's value at the current channel, in x's type.
  std::function<Halide::Expr(std::string_view name)> param;
  // The values of the expression's row reductions, in row_reductions_of order, in x's type.
  std::vector<Halide::Expr> row_values;
};

namespace detail {

inline bool is_float32(const Halide::Expr& e) {
  return e.type() == Halide::Float(32);
}

// A constant in the type of `like`.
inline Halide::Expr constant(double v, const Halide::Expr& like) {
  return is_float32(like) ? Halide::Expr(static_cast<float>(v)) : Halide::Expr(v);
}

inline Halide::Expr nan_propagating(const Halide::Expr& a, const Halide::Expr& b,
                                    const Halide::Expr& chosen) {
  return Halide::select(math::is_nan(a) || math::is_nan(b),
                        constant(std::numeric_limits<double>::quiet_NaN(), chosen), chosen);
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
inline Halide::Expr apply(op::Exp, const Halide::Expr& a) { return is_float32(a) ? math32::exp(a) : math::exp(a); }
inline Halide::Expr apply(op::Expm1, const Halide::Expr& a) { return is_float32(a) ? math32::expm1(a) : math::expm1(a); }
inline Halide::Expr apply(op::Log, const Halide::Expr& a) { return is_float32(a) ? math32::log(a) : math::log(a); }
inline Halide::Expr apply(op::Log1p, const Halide::Expr& a) { return is_float32(a) ? math32::log1p(a) : math::log1p(a); }
inline Halide::Expr apply(op::Tanh, const Halide::Expr& a) { return is_float32(a) ? math32::tanh(a) : math::tanh(a); }
inline Halide::Expr apply(op::Erf, const Halide::Expr& a) { return is_float32(a) ? math32::erf(a) : math::erf(a); }
inline Halide::Expr apply(op::Erfc, const Halide::Expr& a) { return is_float32(a) ? math32::erfc(a) : math::erfc(a); }
// clang-format on

// Marks every floating-point operation of an expression strict, one by one. Wrapping only the
// root in strict_float is not enough: common subexpressions (a range-reduced argument read by
// every term of a polynomial) are hoisted into lets outside the wrapper, where LLVM may
// reassociate them (measured: Cody–Waite's (x - k·ln2_hi) - k·ln2_lo became x - k·ln2, and
// exp(72.08) was off by 66 ULP). A graph mutator: shared subexpressions are visited once (a tree
// walk of the float64 erfc continued fraction would take 2^40 steps).
class StrictThroughout : public Halide::Internal::IRGraphMutator {
 public:
  using Halide::Internal::IRGraphMutator::mutate;
  using Halide::Internal::IRGraphMutator::visit;

 private:
  template <class Node>
  Halide::Expr strict(const Node* op) {
    Halide::Expr e = Halide::Internal::IRGraphMutator::visit(op);
    return e.type().is_float() ? Halide::strict_float(e) : e;
  }
  template <class Node>
  Halide::Expr strict_comparison(const Node* op) {
    Halide::Expr e = Halide::Internal::IRGraphMutator::visit(op);
    return op->a.type().is_float() ? Halide::strict_float(e) : e;
  }
  Halide::Expr visit(const Halide::Internal::Add* op) override { return strict(op); }
  Halide::Expr visit(const Halide::Internal::Sub* op) override { return strict(op); }
  Halide::Expr visit(const Halide::Internal::Mul* op) override { return strict(op); }
  Halide::Expr visit(const Halide::Internal::Div* op) override { return strict(op); }
  Halide::Expr visit(const Halide::Internal::Min* op) override { return strict(op); }
  Halide::Expr visit(const Halide::Internal::Max* op) override { return strict(op); }
  Halide::Expr visit(const Halide::Internal::Select* op) override { return strict(op); }
  Halide::Expr visit(const Halide::Internal::Cast* op) override { return strict(op); }
  Halide::Expr visit(const Halide::Internal::Call* op) override { return strict(op); }
  Halide::Expr visit(const Halide::Internal::LT* op) override { return strict_comparison(op); }
  Halide::Expr visit(const Halide::Internal::LE* op) override { return strict_comparison(op); }
  Halide::Expr visit(const Halide::Internal::EQ* op) override { return strict_comparison(op); }
  Halide::Expr visit(const Halide::Internal::NE* op) override { return strict_comparison(op); }
};

inline Halide::Expr strict_throughout(const Halide::Expr& e) {
  return StrictThroughout{}.mutate(e);
}

// lowered(context) made strict throughout, but not the context's leaves: x, the parameters and
// the row values are what the pipeline computes (X·Wᵀ + b selects between the schedules'
// accumulators, and a strict_float around that select kept Halide from simplifying a
// specialization's unused accumulator away: "Bounds given for acc0 ... do not cover"). The
// leaves stand in as variables while the mutator runs and are substituted afterwards.
template <class Lowered>
Halide::Expr strict_epilogue(const LowerContext& ctx, const Lowered& lowered) {
  std::map<std::string, Halide::Expr> leaves;
  auto stand_in = [&](const Halide::Expr& value) {
    const std::string name = "nnfuse_leaf_" + std::to_string(leaves.size());
    leaves.emplace(name, value);
    return Halide::Internal::Variable::make(value.type(), name);
  };
  LowerContext stand_ins{stand_in(ctx.x), nullptr, {}};
  if (ctx.param) {
    stand_ins.param = [&](std::string_view name) { return stand_in(ctx.param(name)); };
  }
  for (const Halide::Expr& v : ctx.row_values) stand_ins.row_values.push_back(stand_in(v));
  // graph_substitute, as the mutator is a graph mutator: a tree walk of a shared expression
  // is exponential.
  Halide::Expr e = strict_throughout(lowered(stand_ins));
  for (const auto& [name, value] : leaves) e = Halide::Internal::graph_substitute(name, value, e);
  return e;
}

template <class E>
inline constexpr double literal_value = 0;
template <Float V>
inline constexpr double literal_value<Lit<V>> = V.value();

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
    return constant(V.value(), ctx.x);
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

  // erfc(a·c) in float32: the argument as hi + lo, lo the product's rounding error plus a·(c's
  // own rounding error), so erfc sees the product to ~2^-48.
  template <class Arg>
  [[nodiscard]] Halide::Expr lower_erfc(Arg /*arg*/) const {
    return apply(op::Erfc{}, (*this)(Arg{}));
  }

  template <class A, class B>
  [[nodiscard]] Halide::Expr lower_erfc(Node<op::Mul, A, B> product) const {
    if constexpr (is_literal<A> || is_literal<B>) {
      using L = std::conditional_t<is_literal<B>, B, A>;
      using Other = std::conditional_t<is_literal<B>, A, B>;
      const Halide::Expr a = (*this)(Other{});
      if (!is_float32(a)) return math::erfc(a * constant(literal_value<L>, a));
      const auto c_hi = static_cast<float>(literal_value<L>);
      const auto c_lo = static_cast<float>(literal_value<L> - static_cast<double>(c_hi));
      const math32::detail::Pair p = math32::detail::two_product(a, Halide::Expr(c_hi));
      return math32::erfc(p.hi, p.lo + a * Halide::Expr(c_lo));
    } else {
      return apply(op::Erfc{}, (*this)(product));
    }
  }

  // exp(a - b) in float32: the difference as hi + lo (Knuth's TwoSum), so exp sees the bits a
  // float32 subtraction loses (Softmax's exp(x - row_max(x)): 3.8e-6 relative at a spread of
  // 100, 64 ULP).
  template <class Arg>
  [[nodiscard]] Halide::Expr lower_exp(Arg /*arg*/) const {
    return apply(op::Exp{}, (*this)(Arg{}));
  }

  template <class A, class B>
  [[nodiscard]] Halide::Expr lower_exp(Node<op::Sub, A, B> difference) const {
    const Halide::Expr a = (*this)(A{});
    if (!is_float32(a)) return apply(op::Exp{}, (*this)(difference));
    const Halide::Expr b = -(*this)(B{});
    const Halide::Expr hi = a + b;
    const Halide::Expr b_part = hi - a;
    const Halide::Expr lo = (a - (hi - b_part)) + (b - b_part);
    // ±inf - finite and NaN keep their value through hi; lo is then NaN and must not reach exp.
    const Halide::Expr finite = Halide::abs(hi) < Halide::Expr(std::numeric_limits<float>::max());
    return math32::exp(hi, Halide::select(finite, lo, Halide::Expr(0.0F)));
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
    } else if constexpr (std::is_same_v<Op, op::Erfc>) {
      return lower_erfc(A{}...);
    } else if constexpr (std::is_same_v<Op, op::Exp>) {
      return lower_exp(A{}...);
    } else if constexpr (Op::kind == Kind::row_reduction) {
      using Reductions = decltype(row_reductions_of(Root{}));
      return ctx.row_values.at(reduction_index<Reductions, Node<Op, A...>>());
    } else {
      return apply(Op{}, (*this)(A{})...);
    }
  }
};

}  // namespace detail

// The Halide expression of `e` in `ctx`, in ctx.x's type. Row-wise expressions need ctx.row_values
// filled for every entry of row_reductions_of(e).
// Strict throughout (detail::StrictThroughout): Halide otherwise lets LLVM assume no NaNs, and
// `x < -1000` then stops being false for NaN (measured: gelu(NaN) became 0), and reassociate
// the error-free transformations of math32.hpp away.
template <Expr E>
Halide::Expr lower(E /*e*/, const LowerContext& ctx) {
  return detail::strict_epilogue(ctx,
                                 [](const LowerContext& c) { return detail::Lowering<E>{c}(E{}); });
}

// The row reductions of `e` as Funcs of the row `b`, inner ones first. `element_context(n,
// row_values)` gives the context of element n of row b, where row_values holds the reductions
// computed so far (evaluated at b); `r` runs over the row's elements. row_max propagates NaN
// as torch.max does; row_sum adds in the evaluation type.
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
      return std::pair{Op{}, detail::strict_epilogue(c, [](const LowerContext& leaves) {
                         return detail::Lowering<E>{leaves}(Inner{});
                       })};
    };
    auto [reduce, value] = lower_inner(static_cast<R*>(nullptr), ctx);
    Halide::Func f("row_" + std::to_string(funcs.size()));
    if constexpr (std::is_same_v<decltype(reduce), op::RowMax>) {
      f(b) = detail::constant(-std::numeric_limits<double>::infinity(), value);
      f(b) = Halide::strict_float(detail::nan_propagating(f(b), value, Halide::max(f(b), value)));
    } else {
      f(b) = detail::constant(0.0, value);
      f(b) = Halide::strict_float(f(b) + value);
    }
    funcs.push_back(f);
  });
  return funcs;
}

}  // namespace nnfuse::generators
