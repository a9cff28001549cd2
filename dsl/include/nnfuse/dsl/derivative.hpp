// Symbolic differentiation of nnfuse expressions, at compile time.
//
// `derivative(e)` is de/dx; `derivative(e, param<"alpha">)` is de/dalpha. The
// result is another expression type, simplified as it is built: constant
// folding, 0*e = 0, 1*e = e, e+0 = e, e-0 = e, 0-e = -e, e/1 = e, and select(c,
// a, a) = a. (These algebraic rules are only used here: they drop a NaN or
// infinity that the discarded factor would have carried, which a derivative's
// value at a finite input never needs.)
//
// At kinks the rules follow PyTorch's backward formulas (docs/ARCHITECTURE.md
// has the table): select(c, a, b) differentiates branch-wise, so the comparison
// chosen in an activation's definition decides its value at the kink; max(a,
// b)' = a' where a > b, else b', so relu'(0) = 0; min(a, b)' = a' where a < b,
// else b', so relu6'(6) = 0; |a|' = a' where a >= 0. For a row-wise expression
// the result is the diagonal of its Jacobian, d y_i / d x_i: row_sum(f(x))'
// contributes f'(x_i), and row_max is a shift that the activations use for
// stability only, so it contributes 0 (exact for shift-invariant expressions
// such as Softmax and LogSoftmax). The full vector-Jacobian product of a row-wise expression,
// which backward needs, is in vjp.hpp; it differentiates with the row reductions held constant
// (detail::HeldX) and with respect to one reduction (detail::Reduction<R>), two more variables
// of the same rules.
#pragma once

#include <numbers>

#include "nnfuse/dsl/expr.hpp"

namespace nnfuse {

template <class Expression>
struct comparison_has_no_derivative {
  static_assert(always_false<Expression>,
                "nnfuse::derivative: a comparison has no derivative; only "
                "select's branches are "
                "differentiated");
};

template <class Variable>
struct derivative_variable_must_be_x_or_a_param {
  static_assert(always_false<Variable>,
                "nnfuse::derivative(e, v): v must be nnfuse::x or a "
                "nnfuse::param<\"name\">");
};

namespace detail::simplify {

template <class E>
inline constexpr bool is_zero = is_literal_equal_to<E>(0.0);
template <class E>
inline constexpr bool is_one = is_literal_equal_to<E>(1.0);

template <class A, class B>
constexpr auto add(A a, B b) {
  if constexpr (is_zero<A>) {
    return b;
  } else if constexpr (is_zero<B>) {
    return a;
  } else {
    return a + b;
  }
}

template <class A>
constexpr auto neg(A a) {
  return -a;  // folds a literal
}
template <class Inner>
constexpr auto neg(Node<op::Neg, Inner> /*a*/) {
  return Inner{};
}

template <class A, class B>
constexpr auto sub(A a, B b) {
  if constexpr (is_zero<B>) {
    return a;
  } else if constexpr (is_zero<A>) {
    return neg(b);
  } else {
    return a - b;
  }
}

template <class A, class B>
constexpr auto mul(A a, B b) {
  if constexpr (is_zero<A> || is_zero<B>) {
    return lit<0>;
  } else if constexpr (is_literal_equal_to<A>(-1.0)) {
    return neg(b);
  } else if constexpr (is_literal_equal_to<B>(-1.0)) {
    return neg(a);
  } else {
    return a * b;  // folds literals, drops a factor of one
  }
}

template <class A, class B>
constexpr auto div(A a, B b) {
  if constexpr (is_zero<A>) {
    return lit<0>;
  } else {
    return a / b;  // folds literals, drops a divisor of one
  }
}

template <class C, class A, class B>
constexpr auto select(C c, A a, B b) {
  if constexpr (std::is_same_v<A, B>) {
    return a;
  } else {
    return nnfuse::select(c, a, b);
  }
}

}  // namespace detail::simplify

namespace detail {
namespace s = simplify;

inline constexpr double two_over_sqrt_pi = std::numbers::inv_sqrtpi * 2.0;

// x with every row reduction held constant: the partial derivative of a row-wise expression's
// element i with respect to x_i alone (vjp.hpp).
struct HeldX {};
// A row reduction node R as the variable: the derivative of an element with respect to R's value.
template <class R>
struct Reduction {};

template <class V>
inline constexpr bool is_reduction_variable = false;
template <class R>
inline constexpr bool is_reduction_variable<Reduction<R>> = true;

// The rules live in one class so that each sees all the others (members are
// visible in every member body), whatever their order.
struct Rules {
  // Leaves.
  template <class V>
  static constexpr auto d(X /*e*/, V /*v*/) {
    if constexpr (std::is_same_v<V, X> || std::is_same_v<V, HeldX>) {
      return lit<1>;
    } else {
      return lit<0>;
    }
  }
  template <Float C, class V>
  static constexpr auto d(Lit<C> /*e*/, V /*v*/) {
    return lit<0>;
  }
  template <FixedString N, class V>
  static constexpr auto d(Param<N> /*e*/, V /*v*/) {
    if constexpr (std::is_same_v<V, Param<N>>) {
      return lit<1>;
    } else {
      return lit<0>;
    }
  }

  // One rule per operation; `da`, `db` are the derivatives of the operands.
  template <class A, class B, class V>
  static constexpr auto d(Node<op::Add, A, B>, V v) {
    return s::add(d(A{}, v), d(B{}, v));
  }
  template <class A, class B, class V>
  static constexpr auto d(Node<op::Sub, A, B>, V v) {
    return s::sub(d(A{}, v), d(B{}, v));
  }
  template <class A, class B, class V>
  static constexpr auto d(Node<op::Mul, A, B>, V v) {
    return s::add(s::mul(d(A{}, v), B{}), s::mul(A{}, d(B{}, v)));
  }
  template <class A, class B, class V>
  static constexpr auto d(Node<op::Div, A, B>, V v) {
    constexpr auto da = d(A{}, v);
    constexpr auto db = d(B{}, v);
    if constexpr (s::is_zero<decltype(db)>) {
      return s::div(da, B{});
    } else {
      return s::sub(s::div(da, B{}), s::div(s::mul(A{}, db), B{} * B{}));
    }
  }
  template <class A, class V>
  static constexpr auto d(Node<op::Neg, A>, V v) {
    return s::neg(d(A{}, v));
  }
  template <class C, class A, class B, class V>
  static constexpr auto d(Node<op::Select, C, A, B>, V v) {
    return s::select(C{}, d(A{}, v), d(B{}, v));
  }
  template <class A, class B, class V>
  static constexpr auto d(Node<op::Max, A, B>, V v) {
    return s::select(A{} > B{}, d(A{}, v), d(B{}, v));
  }
  template <class A, class B, class V>
  static constexpr auto d(Node<op::Min, A, B>, V v) {
    return s::select(A{} < B{}, d(A{}, v), d(B{}, v));
  }
  template <class A, class V>
  static constexpr auto d(Node<op::Abs, A>, V v) {
    return s::select(A{} >= lit<0>, d(A{}, v), s::neg(d(A{}, v)));
  }
  template <class A, class V>
  static constexpr auto d(Node<op::Exp, A>, V v) {
    return s::mul(d(A{}, v), exp(A{}));
  }
  template <class A, class V>
  static constexpr auto d(Node<op::Expm1, A>, V v) {
    return s::mul(d(A{}, v), exp(A{}));
  }
  template <class A, class V>
  static constexpr auto d(Node<op::Log, A>, V v) {
    return s::div(d(A{}, v), A{});
  }
  template <class A, class V>
  static constexpr auto d(Node<op::Log1p, A>, V v) {
    return s::div(d(A{}, v), lit<1> + A{});
  }
  // 1 - tanh(a)^2 cancels for large |a|; 4u / (1 + u)^2 with u = exp(-2|a|) does not.
  template <class A, class V>
  static constexpr auto d(Node<op::Tanh, A>, V v) {
    constexpr auto u = exp(lit<-2> * abs(A{}));
    return s::mul(d(A{}, v), lit<4> * u / ((lit<1> + u) * (lit<1> + u)));
  }
  template <class A, class V>
  static constexpr auto d(Node<op::Erf, A>, V v) {
    return s::mul(d(A{}, v), lit<two_over_sqrt_pi> * exp(-(A{} * A{})));
  }
  template <class A, class V>
  static constexpr auto d(Node<op::Erfc, A>, V v) {
    return s::mul(d(A{}, v), lit<-two_over_sqrt_pi> * exp(-(A{} * A{})));
  }
  template <class A, class V>
  static constexpr auto d(Node<op::Sqrt, A>, V v) {
    return s::div(d(A{}, v), lit<2> * sqrt(A{}));
  }
  template <class A, class V>
  static constexpr auto d(Node<op::RowSum, A>, V v) {
    if constexpr (std::is_same_v<V, Reduction<Node<op::RowSum, A>>>) {
      return lit<1>;
    } else if constexpr (std::is_same_v<V, HeldX> || is_reduction_variable<V>) {
      return lit<0>;  // held constant, or another reduction
    } else {
      return d(A{}, v);  // only the i-th term of the sum depends on x_i
    }
  }
  template <class A, class V>
  static constexpr auto d(Node<op::RowMax, A>, V /*v*/) {
    if constexpr (std::is_same_v<V, Reduction<Node<op::RowMax, A>>>) {
      return lit<1>;
    } else {
      return lit<0>;  // a stabilizing shift: see the header comment
    }
  }
  template <class Op, class... A, class V>
  requires(Op::kind == Kind::predicate) static constexpr auto d(Node<Op, A...> e, V /*v*/) {
    [[maybe_unused]] comparison_has_no_derivative<decltype(e)> error;
    return lit<0>;
  }
};

template <class V>
inline constexpr bool is_variable = std::is_same_v<V, X>;
template <FixedString N>
inline constexpr bool is_variable<Param<N>> = true;
template <>
inline constexpr bool is_variable<HeldX> = true;
template <class R>
inline constexpr bool is_variable<Reduction<R>> = true;

}  // namespace detail

template <Expr E, class V = X>
constexpr auto derivative(E e, V v = {}) {
  if constexpr (!detail::is_variable<V>) {
    [[maybe_unused]] derivative_variable_must_be_x_or_a_param<V> error;
    return lit<0>;
  } else {
    return detail::Rules::d(e, v);
  }
}

}  // namespace nnfuse
