// The expression vocabulary of nnfuse. An activation is an expression over the placeholder
// `x`, named run-time parameters (`param<"alpha">`), compile-time literals (`lit<0.5>`) and
// the primitive operations below. Every expression is an empty, structural type
// (`Node<op::Mul, X, Lit<...>>`), so an expression is usable as a template argument
// (`Act<swish>`) and every algorithm over it — evaluation, printing, differentiation, and in
// generators/ the lowering to Halide — is one generic visitor over the same four node kinds:
// `X`, `Lit`, `Param` and `Node<Op, Args...>`. Calling an expression on another expression
// substitutes it for `x`, so catalog entries compose (`x * sigmoid(x)`). Comparisons yield
// predicates, which only `select` and the logical operators accept. `row_max` and `row_sum`
// reduce over the row of a row-wise operation (Softmax): an expression containing them is
// row-wise and is evaluated a row at a time.
#pragma once

#include <concepts>
#include <cstddef>
#include <type_traits>

#include <boost/hana/append.hpp>
#include <boost/hana/at.hpp>
#include <boost/hana/contains.hpp>
#include <boost/hana/flatten.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/index_if.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "nnfuse/dsl/float.hpp"

namespace nnfuse {

// Which value an operation produces: a real number, a truth value, or a real computed once
// per row from all elements of the row.
enum class Kind { real, predicate, row_reduction };

// How `to_string` prints an operation.
enum class Notation { infix, prefix, call };

// The primitive operations. Each tag states its printed form and result kind; `eval` and
// `derivative` give each its meaning, the Halide lowering its machine code.
namespace op {
template <Kind K, Notation N, int Precedence, char... Symbol>
struct Traits {
  static constexpr Kind kind = K;
  static constexpr Notation notation = N;
  static constexpr int precedence = Precedence;              // higher binds tighter
  static constexpr char symbol_chars[] = {Symbol..., '\0'};  // NOLINT(*-avoid-c-arrays)
  static constexpr std::string_view symbol{symbol_chars, sizeof...(Symbol)};
};

// clang-format off
struct Add   : Traits<Kind::real, Notation::infix, 5, '+'> {};
struct Sub   : Traits<Kind::real, Notation::infix, 5, '-'> {};
struct Mul   : Traits<Kind::real, Notation::infix, 6, '*'> {};
struct Div   : Traits<Kind::real, Notation::infix, 6, '/'> {};
struct Neg   : Traits<Kind::real, Notation::prefix, 7, '-'> {};
struct Lt    : Traits<Kind::predicate, Notation::infix, 4, '<'> {};
struct Le    : Traits<Kind::predicate, Notation::infix, 4, '<', '='> {};
struct Gt    : Traits<Kind::predicate, Notation::infix, 4, '>'> {};
struct Ge    : Traits<Kind::predicate, Notation::infix, 4, '>', '='> {};
struct Eq    : Traits<Kind::predicate, Notation::infix, 4, '=', '='> {};
struct Ne    : Traits<Kind::predicate, Notation::infix, 4, '!', '='> {};
struct And   : Traits<Kind::predicate, Notation::infix, 3, '&', '&'> {};
struct Or    : Traits<Kind::predicate, Notation::infix, 2, '|', '|'> {};
struct Not   : Traits<Kind::predicate, Notation::prefix, 7, '!'> {};
struct Select: Traits<Kind::real, Notation::call, 9, 's', 'e', 'l', 'e', 'c', 't'> {};
struct Min   : Traits<Kind::real, Notation::call, 9, 'm', 'i', 'n'> {};
struct Max   : Traits<Kind::real, Notation::call, 9, 'm', 'a', 'x'> {};
struct Abs   : Traits<Kind::real, Notation::call, 9, 'a', 'b', 's'> {};
struct Exp   : Traits<Kind::real, Notation::call, 9, 'e', 'x', 'p'> {};
struct Expm1 : Traits<Kind::real, Notation::call, 9, 'e', 'x', 'p', 'm', '1'> {};
struct Log   : Traits<Kind::real, Notation::call, 9, 'l', 'o', 'g'> {};
struct Log1p : Traits<Kind::real, Notation::call, 9, 'l', 'o', 'g', '1', 'p'> {};
struct Tanh  : Traits<Kind::real, Notation::call, 9, 't', 'a', 'n', 'h'> {};
struct Erf   : Traits<Kind::real, Notation::call, 9, 'e', 'r', 'f'> {};
struct Erfc  : Traits<Kind::real, Notation::call, 9, 'e', 'r', 'f', 'c'> {};
struct Sqrt  : Traits<Kind::real, Notation::call, 9, 's', 'q', 'r', 't'> {};
struct RowMax: Traits<Kind::row_reduction, Notation::call, 9, 'r', 'o', 'w', '_', 'm', 'a', 'x'> {};
struct RowSum: Traits<Kind::row_reduction, Notation::call, 9, 'r', 'o', 'w', '_', 's', 'u', 'm'> {};
// clang-format on
}  // namespace op

// Calling an expression with another expression substitutes the argument for `x`.
template <class Derived>
struct Expression {
  template <class Arg>
  constexpr auto operator()(Arg arg) const;
};

struct X : Expression<X> {};

template <Float V>
struct Lit : Expression<Lit<V>> {
  static constexpr double value = V.value();
};

template <FixedString Name>
struct Param : Expression<Param<Name>> {
  static constexpr auto name = Name;
};

template <class Op, class... Args>
struct Node : Expression<Node<Op, Args...>> {};

inline constexpr X x{};
template <Float V>
inline constexpr Lit<V> lit{};
template <FixedString Name>
inline constexpr Param<Name> param{};

// ---- traits -------------------------------------------------------------------------------

template <class T>
struct is_expr : std::false_type {};
template <>
struct is_expr<X> : std::true_type {};
template <Float V>
struct is_expr<Lit<V>> : std::true_type {};
template <FixedString N>
struct is_expr<Param<N>> : std::true_type {};
template <class Op, class... A>
struct is_expr<Node<Op, A...>> : std::true_type {};

template <class T>
concept Expr = is_expr<std::remove_cvref_t<T>>::value;

template <class E>
inline constexpr Kind kind_of = Kind::real;
template <class Op, class... A>
inline constexpr Kind kind_of<Node<Op, A...>> = Op::kind;

template <class E>
inline constexpr bool is_predicate = kind_of<std::remove_cvref_t<E>> == Kind::predicate;

template <class E>
inline constexpr bool is_literal = false;
template <Float V>
inline constexpr bool is_literal<Lit<V>> = true;

// True for a literal exactly equal to `v` (either zero for v = 0).
template <class E>
constexpr bool is_literal_equal_to(double v) {
  if constexpr (is_literal<E>) {
    return E::value == v;
  } else {
    return false;
  }
}

namespace detail {
template <class E>
inline constexpr bool contains_row_reduction = false;
template <class Op, class... A>
inline constexpr bool contains_row_reduction<Node<Op, A...>> = Op::kind == Kind::row_reduction ||
                                                               (contains_row_reduction<A> || ...);
}  // namespace detail

// True when the expression contains a row reduction anywhere.
template <class E>
inline constexpr bool is_row_wise = detail::contains_row_reduction<std::remove_cvref_t<E>>;

// ---- diagnostics --------------------------------------------------------------------------
// g++ 12 prints only a string literal in a static_assert: the offending types travel in the
// template arguments of these helpers, which the compiler shows in the instantiation chain.

template <class... Context>
inline constexpr bool always_false = false;

template <class Lhs, class Rhs>
struct arithmetic_on_a_comparison {
  static_assert(always_false<Lhs, Rhs>,
                "nnfuse: arithmetic needs real-valued operands, but an operand is a comparison; "
                "turn a comparison into a value with select(condition, a, b)");
};

template <class Cond>
struct select_condition_is_not_a_comparison {
  static_assert(always_false<Cond>,
                "nnfuse: select(condition, a, b) needs a comparison (x > lit<0>, ...) as its "
                "condition");
};

template <class Operand>
struct logic_on_a_real_value {
  static_assert(always_false<Operand>,
                "nnfuse: &&, || and ! combine comparisons; an operand is a real value");
};

// ---- construction -------------------------------------------------------------------------

namespace detail {
template <class Op, class... A>
constexpr Node<Op, std::remove_cvref_t<A>...> make(A...) {
  return {};
}

template <class... A>
constexpr void require_real() {
  if constexpr ((is_predicate<A> || ...)) {
    [[maybe_unused]] arithmetic_on_a_comparison<A...> error;
  }
}

template <class... A>
constexpr void require_predicate() {
  if constexpr (!(is_predicate<A> && ...)) {
    [[maybe_unused]] logic_on_a_real_value<A...> error;
  }
}
}  // namespace detail

// Arithmetic folds literal operands, and drops a multiplication or division by one, which is
// exact for every input (NaN and infinities included).
template <Expr A, Expr B>
constexpr auto operator+(A a, B b) {
  detail::require_real<A, B>();
  if constexpr (is_literal<A> && is_literal<B>) {
    return lit<A::value + B::value>;
  } else {
    return detail::make<op::Add>(a, b);
  }
}

template <Expr A, Expr B>
constexpr auto operator-(A a, B b) {
  detail::require_real<A, B>();
  if constexpr (is_literal<A> && is_literal<B>) {
    return lit<A::value - B::value>;
  } else {
    return detail::make<op::Sub>(a, b);
  }
}

template <Expr A, Expr B>
constexpr auto operator*(A a, B b) {
  detail::require_real<A, B>();
  if constexpr (is_literal<A> && is_literal<B>) {
    return lit<A::value * B::value>;
  } else if constexpr (is_literal_equal_to<A>(1.0)) {
    return b;
  } else if constexpr (is_literal_equal_to<B>(1.0)) {
    return a;
  } else {
    return detail::make<op::Mul>(a, b);
  }
}

template <Expr A, Expr B>
constexpr auto operator/(A a, B b) {
  detail::require_real<A, B>();
  if constexpr (is_literal<A> && is_literal<B>) {
    return lit<A::value / B::value>;
  } else if constexpr (is_literal_equal_to<B>(1.0)) {
    return a;
  } else {
    return detail::make<op::Div>(a, b);
  }
}

template <Expr A>
constexpr auto operator-(A a) {
  detail::require_real<A>();
  if constexpr (is_literal<A>) {
    return lit<-A::value>;
  } else {
    return detail::make<op::Neg>(a);
  }
}

// clang-format off
template <Expr A, Expr B> constexpr auto operator<(A a, B b)  { detail::require_real<A, B>(); return detail::make<op::Lt>(a, b); }
template <Expr A, Expr B> constexpr auto operator<=(A a, B b) { detail::require_real<A, B>(); return detail::make<op::Le>(a, b); }
template <Expr A, Expr B> constexpr auto operator>(A a, B b)  { detail::require_real<A, B>(); return detail::make<op::Gt>(a, b); }
template <Expr A, Expr B> constexpr auto operator>=(A a, B b) { detail::require_real<A, B>(); return detail::make<op::Ge>(a, b); }
template <Expr A, Expr B> constexpr auto operator==(A a, B b) { detail::require_real<A, B>(); return detail::make<op::Eq>(a, b); }
template <Expr A, Expr B> constexpr auto operator!=(A a, B b) { detail::require_real<A, B>(); return detail::make<op::Ne>(a, b); }
template <Expr A, Expr B> constexpr auto operator&&(A a, B b) { detail::require_predicate<A, B>(); return detail::make<op::And>(a, b); }
template <Expr A, Expr B> constexpr auto operator||(A a, B b) { detail::require_predicate<A, B>(); return detail::make<op::Or>(a, b); }
template <Expr A> constexpr auto operator!(A a) { detail::require_predicate<A>(); return detail::make<op::Not>(a); }

template <Expr A, Expr B> constexpr auto min(A a, B b) { detail::require_real<A, B>(); return detail::make<op::Min>(a, b); }
template <Expr A, Expr B> constexpr auto max(A a, B b) { detail::require_real<A, B>(); return detail::make<op::Max>(a, b); }
template <Expr A> constexpr auto abs(A a)   { detail::require_real<A>(); return detail::make<op::Abs>(a); }
template <Expr A> constexpr auto exp(A a)   { detail::require_real<A>(); return detail::make<op::Exp>(a); }
template <Expr A> constexpr auto expm1(A a) { detail::require_real<A>(); return detail::make<op::Expm1>(a); }
template <Expr A> constexpr auto log(A a)   { detail::require_real<A>(); return detail::make<op::Log>(a); }
template <Expr A> constexpr auto log1p(A a) { detail::require_real<A>(); return detail::make<op::Log1p>(a); }
template <Expr A> constexpr auto tanh(A a)  { detail::require_real<A>(); return detail::make<op::Tanh>(a); }
template <Expr A> constexpr auto erf(A a)   { detail::require_real<A>(); return detail::make<op::Erf>(a); }
template <Expr A> constexpr auto erfc(A a)  { detail::require_real<A>(); return detail::make<op::Erfc>(a); }
template <Expr A> constexpr auto sqrt(A a)  { detail::require_real<A>(); return detail::make<op::Sqrt>(a); }
template <Expr A> constexpr auto row_max(A a) { detail::require_real<A>(); return detail::make<op::RowMax>(a); }
template <Expr A> constexpr auto row_sum(A a) { detail::require_real<A>(); return detail::make<op::RowSum>(a); }
// clang-format on

// select(c, a, b): a where the comparison c holds, else b; both sides are always evaluated.
template <Expr C, Expr A, Expr B>
constexpr auto select(C c, A a, B b) {
  if constexpr (!is_predicate<C>) {
    [[maybe_unused]] select_condition_is_not_a_comparison<C> error;
  }
  detail::require_real<A, B>();
  return detail::make<op::Select>(c, a, b);
}

// ---- substitution -------------------------------------------------------------------------

constexpr auto substitute(X /*x*/, Expr auto replacement) {
  return replacement;
}
template <Float V>
constexpr auto substitute(Lit<V> e, Expr auto /*replacement*/) {
  return e;
}
template <FixedString N>
constexpr auto substitute(Param<N> e, Expr auto /*replacement*/) {
  return e;
}
template <class Op, class... A>
constexpr auto substitute(Node<Op, A...> /*e*/, Expr auto replacement) {
  return Node<Op, decltype(substitute(A{}, replacement))...>{};
}

template <class Derived>
template <class Arg>
constexpr auto Expression<Derived>::operator()(Arg arg) const {
  static_assert(Expr<Arg>,
                "nnfuse: calling an expression substitutes its argument for x; the argument "
                "must be an expression (use nnfuse::eval to compute a value)");
  return substitute(Derived{}, arg);
}

// ---- collections (Boost.Hana tuples of hana::type, in first-use order, without repeats) ---

namespace detail {
template <class Tuple, class T>
constexpr auto append_unique(Tuple xs, T t) {
  if constexpr (decltype(boost::hana::contains(xs, t))::value) {
    return xs;
  } else {
    return boost::hana::append(xs, t);
  }
}

template <class Tuples>
constexpr auto concat_unique(Tuples tuples) {
  return boost::hana::fold_left(boost::hana::flatten(tuples), boost::hana::make_tuple(),
                                [](auto xs, auto t) { return append_unique(xs, t); });
}
}  // namespace detail

// The run-time parameters an expression reads: `hana::tuple<hana::type<Param<"alpha">>, ...>`.
constexpr auto parameters_of(X /*e*/) {
  return boost::hana::make_tuple();
}
template <Float V>
constexpr auto parameters_of(Lit<V> /*e*/) {
  return boost::hana::make_tuple();
}
template <FixedString N>
constexpr auto parameters_of(Param<N> /*e*/) {
  return boost::hana::make_tuple(boost::hana::type_c<Param<N>>);
}
template <class Op, class... A>
constexpr auto parameters_of(Node<Op, A...> /*e*/) {
  return detail::concat_unique(boost::hana::make_tuple(parameters_of(A{})...));
}

// The row reductions of an expression, inner ones first, so computing them in this order
// finds every nested reduction already computed.
template <class E>
constexpr auto row_reductions_of(E /*e*/) {
  return boost::hana::make_tuple();
}
template <class Op, class... A>
constexpr auto row_reductions_of(Node<Op, A...> /*e*/) {
  auto inner = detail::concat_unique(boost::hana::make_tuple(row_reductions_of(A{})...));
  if constexpr (Op::kind == Kind::row_reduction) {
    return detail::append_unique(inner, boost::hana::type_c<Node<Op, A...>>);
  } else {
    return inner;
  }
}

template <class E, FixedString Name>
inline constexpr bool uses_parameter =
    decltype(boost::hana::contains(parameters_of(E{}), boost::hana::type_c<Param<Name>>))::value;

}  // namespace nnfuse
