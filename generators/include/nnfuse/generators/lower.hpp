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
// float32 exp and erfc: Lowering::pair_of_node, in pieces.
inline Halide::Expr apply(op::Exp, const Halide::Expr& a) { return math::exp(a); }
inline Halide::Expr apply(op::Expm1, const Halide::Expr& a) { return is_float32(a) ? math32::expm1(a) : math::expm1(a); }
inline Halide::Expr apply(op::Log, const Halide::Expr& a) { return is_float32(a) ? math32::log(a) : math::log(a); }
inline Halide::Expr apply(op::Log1p, const Halide::Expr& a) { return is_float32(a) ? math32::log1p(a) : math::log1p(a); }
inline Halide::Expr apply(op::Tanh, const Halide::Expr& a) { return is_float32(a) ? math32::tanh(a) : math::tanh(a); }
inline Halide::Expr apply(op::Erf, const Halide::Expr& a) { return is_float32(a) ? math32::erf(a) : math::erf(a); }
inline Halide::Expr apply(op::Erfc, const Halide::Expr& a) { return math::erfc(a); }
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

  // --- float32: values carried in two pieces -------------------------------------------------
  // An exponential's argument is evaluated error-free, as hi + lo (TwoSum for sums, Dekker's
  // product for products, literals as their float32 value and its rounding error), because exp
  // and erfc amplify their argument's error: by |a| (Softmax's exp(x - row_max) at a spread of
  // 100: 64 ULP; GELU-tanh's exp of a rounded cubic: 220 ULP) and by 2a² (GELU's erfc(-x/sqrt 2)
  // at x = -13: 170 ULP). An exponential's (or erfc's) value is then kept as (hi + lo)·2^k
  // through the products, quotients and selects that use it, and as hi + lo through sums:
  // sigmoid's e/(1 + e) rounds once instead of taking the exponential's and the denominator's
  // errors with it, and x·sigmoid(x) rounds into the subnormals once, at the end, instead of
  // multiplying a subnormal (SiLU at x = -100: 52 ULP). Any other operation, and the root, sees
  // the value rounded. An undefined lo is an exact zero and an undefined k is 0, which keeps the
  // plain operations plain.
  struct Value {
    Halide::Expr hi;
    Halide::Expr lo;
    Halide::Expr k;
  };

  static Halide::Expr plus(const Halide::Expr& a, const Halide::Expr& b) {
    if (!a.defined()) return b;
    if (!b.defined()) return a;
    return a + b;
  }
  static Halide::Expr or_zero(const Halide::Expr& e) {
    return e.defined() ? e : Halide::Expr(0.0F);
  }
  // lo where hi (and, if asked, lo itself) is finite, else 0: a NaN or an infinity travels in
  // hi alone. A sum's lo is finite wherever its hi is (its operands are then finite, and their
  // lo parts are below their ULPs); Dekker's split and a quotient's correction can overflow on
  // their own.
  static Halide::Expr lo_where_finite(const Halide::Expr& hi, const Halide::Expr& lo,
                                      bool check_lo = false) {
    if (!lo.defined()) return lo;
    const Halide::Expr max(std::numeric_limits<float>::max());
    Halide::Expr finite = Halide::abs(hi) < max;
    if (check_lo) finite = finite && Halide::abs(lo) < max;
    return Halide::select(finite, lo, Halide::Expr(0.0F));
  }
  static Value unscaled(const Value& v) {
    if (!v.k.defined()) return v;
    const math32::detail::Pair p = math32::unscaled({v.hi, or_zero(v.lo), v.k});
    return {p.hi, p.lo, {}};
  }
  // hi + lo, scaled; where lo is 0, hi as it is (-0 + 0 would be +0: SiLU(-0) is -0).
  static Halide::Expr rounded(const Value& v) {
    Halide::Expr sum = v.hi;
    if (v.lo.defined()) sum = Halide::select(v.lo == Halide::Expr(0.0F), v.hi, v.hi + v.lo);
    return v.k.defined() ? math32::detail::scale(sum, v.k) : sum;
  }
  static Value negated(const Value& v) { return {-v.hi, v.lo.defined() ? -v.lo : v.lo, v.k}; }
  static Value sum(const Value& scaled_a, const Value& scaled_b, bool error_free) {
    const Value a = unscaled(scaled_a);
    const Value b = unscaled(scaled_b);
    if (!error_free && !a.lo.defined() && !b.lo.defined()) return {a.hi + b.hi, {}, {}};
    const Halide::Expr hi = a.hi + b.hi;
    const Halide::Expr b_part = hi - a.hi;
    const Halide::Expr error = (a.hi - (hi - b_part)) + (b.hi - b_part);
    return {hi, lo_where_finite(hi, plus(error, plus(a.lo, b.lo))), {}};
  }
  // a·b; Dekker's product (the rounding error kept in lo) for an exponential's argument and
  // wherever an operand is in two pieces already, where a one-piece product would cost them
  // (Mish's e·(e + 2), GELU's x·erfc: 2.45 and 2.3 ULP without).
  static Value product(const Value& a, const Value& scaled_b, bool error_free) {
    // One scale factor at most: 2^k stays within what detail::scale applies.
    const Value b = a.k.defined() ? unscaled(scaled_b) : scaled_b;
    const Halide::Expr k = a.k.defined() ? a.k : b.k;
    const bool carried = a.lo.defined() || b.lo.defined();
    if (!error_free && !carried) return {a.hi * b.hi, {}, k};
    Halide::Expr hi = a.hi * b.hi;
    Halide::Expr lo = plus(a.lo.defined() ? a.lo * b.hi : Halide::Expr(),
                           b.lo.defined() ? a.hi * b.lo : Halide::Expr());
    if (error_free || carried) {
      const math32::detail::Pair p = math32::detail::two_product(a.hi, b.hi);
      hi = p.hi;
      lo = plus(p.lo, lo);
    }
    return {hi, lo_where_finite(hi, lo, true), k};
  }
  // (a_hi + a_lo)/(b_hi + b_lo) as q + (a_lo - q·b_lo)/b_hi: the first-order correction; what
  // remains is q's own rounding. The correction is multiplied by 1/b_hi, which Halide's CSE
  // shares with any quotient 1/b of the same b.
  static Value quotient(const Value& a, const Value& scaled_b) {
    const Value b = unscaled(scaled_b);
    const Halide::Expr q = a.hi / b.hi;
    if (!a.lo.defined() && !b.lo.defined()) return {q, {}, a.k};
    const Halide::Expr numerator =
        b.lo.defined() ? (a.lo.defined() ? a.lo - q * b.lo : -(q * b.lo)) : a.lo;
    return {q, lo_where_finite(q, numerator * (Halide::Expr(1.0F) / b.hi), true), a.k};
  }

  // The value of E in pieces; `error_free` asks for an exponential's argument (hi + lo, no k).
  template <class E>
  [[nodiscard]] Value pair(E e, bool error_free) const {
    if constexpr (is_literal<E>) {
      const double v = literal_value<E>;
      const auto hi = static_cast<float>(v);
      const auto lo = static_cast<float>(v - static_cast<double>(hi));
      if (error_free && lo != 0.0F) return {Halide::Expr(hi), Halide::Expr(lo), {}};
      return {Halide::Expr(hi), {}, {}};
    } else {
      const Value v = pair_of_node(e, error_free);
      return error_free ? unscaled(v) : v;
    }
  }

  template <class E>
  [[nodiscard]] Value pair_of_node(E /*e*/, bool /*error_free*/) const {
    return {(*this)(E{}), {}, {}};
  }
  template <class A, class B>
  [[nodiscard]] Value pair_of_node(Node<op::Add, A, B> /*e*/, bool error_free) const {
    return sum(pair(A{}, error_free), pair(B{}, error_free), error_free);
  }
  template <class A, class B>
  [[nodiscard]] Value pair_of_node(Node<op::Sub, A, B> /*e*/, bool error_free) const {
    return sum(pair(A{}, error_free), negated(pair(B{}, error_free)), error_free);
  }
  // A literal power of two (softplus's beta = 1) scales exactly: no Dekker product for it.
  static constexpr bool is_power_of_two(double v) {
    double magnitude = v < 0 ? -v : v;
    if (!(magnitude > 0) || magnitude > 0x1p1000) return false;
    while (magnitude >= 2) magnitude /= 2;
    while (magnitude < 1) magnitude *= 2;
    return magnitude == 1;
  }
  template <class E>
  static constexpr bool exact_factor = [] {
    if constexpr (is_literal<E>) {
      return is_power_of_two(literal_value<E>);
    } else {
      return false;
    }
  }();

  template <class A, class B>
  [[nodiscard]] Value pair_of_node(Node<op::Mul, A, B> /*e*/, bool error_free) const {
    const bool exact = exact_factor<A> || exact_factor<B>;
    return product(pair(A{}, error_free), pair(B{}, error_free), error_free && !exact);
  }
  template <class A, class B>
  [[nodiscard]] Value pair_of_node(Node<op::Div, A, B> /*e*/, bool error_free) const {
    if (error_free) return {(*this)(Node<op::Div, A, B>{}), {}, {}};
    return quotient(pair(A{}, false), pair(B{}, false));
  }
  template <class A>
  [[nodiscard]] Value pair_of_node(Node<op::Neg, A> /*e*/, bool error_free) const {
    return negated(pair(A{}, error_free));
  }
  template <class A>
  [[nodiscard]] Value pair_of_node(Node<op::Abs, A> /*e*/, bool error_free) const {
    const Value v = pair(A{}, error_free);
    if (!v.lo.defined()) return {Halide::abs(v.hi), {}, v.k};
    const Halide::Expr negative = v.hi < Halide::Expr(0.0F);
    return {Halide::abs(v.hi), Halide::select(negative, -v.lo, v.lo), v.k};
  }
  template <class C, class A, class B>
  [[nodiscard]] Value pair_of_node(Node<op::Select, C, A, B> /*e*/, bool error_free) const {
    const Halide::Expr c = (*this)(C{});
    const Value a = pair(A{}, error_free);
    const Value b = pair(B{}, error_free);
    auto either = [&](const Halide::Expr& x, const Halide::Expr& y) {
      if (!x.defined() && !y.defined()) return Halide::Expr();
      return Halide::select(c, or_zero(x), or_zero(y));
    };
    return {Halide::select(c, a.hi, b.hi), either(a.lo, b.lo), either(a.k, b.k)};
  }
  template <class A>
  [[nodiscard]] Value pair_of_node(Node<op::Exp, A> /*e*/, bool /*error_free*/) const {
    const Value argument = pair(A{}, true);
    const math32::Scaled v = math32::exp_scaled(argument.hi, or_zero(argument.lo));
    return {v.hi, v.lo, v.k};
  }
  template <class A>
  [[nodiscard]] Value pair_of_node(Node<op::Erfc, A> /*e*/, bool /*error_free*/) const {
    const Value argument = pair(A{}, true);
    const math32::Scaled v = math32::erfc_scaled(argument.hi, or_zero(argument.lo));
    return {v.hi, v.lo, v.k};
  }

  // The operations that take part in the two-piece evaluation.
  template <class Op>
  static constexpr bool carries_pairs =
      std::is_same_v<Op, op::Add> || std::is_same_v<Op, op::Sub> || std::is_same_v<Op, op::Mul> ||
      std::is_same_v<Op, op::Div> || std::is_same_v<Op, op::Neg> || std::is_same_v<Op, op::Abs> ||
      std::is_same_v<Op, op::Select> || std::is_same_v<Op, op::Exp> || std::is_same_v<Op, op::Erfc>;

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
    } else if constexpr (carries_pairs<Op>) {
      if (!is_float32(ctx.x)) return apply(Op{}, (*this)(A{})...);
      return rounded(pair_of_node(Node<Op, A...>{}, false));
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
