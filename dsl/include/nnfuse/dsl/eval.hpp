// The scalar reference: evaluation of any nnfuse expression on float or double.
//
// `eval(e, x, bind<"alpha">(a)...)` returns e(x) in the type of `x`. For float it computes
// every operation in double and rounds once at the end, so it is the accurate reference the
// tests and, later, the generated kernels are measured against. `eval_native` computes every
// operation in the type of `x` itself (float32 arithmetic and libm's float functions): it
// shows how accurate an expression's *form* is in float32, which is what a float32 kernel
// built from the same form inherits. Row-wise expressions (Softmax) are evaluated a row at a
// time with `eval_row` / `eval_row_native`, where a parameter may be bound per channel (one
// value per element of the row, as PReLU's alpha). Semantics follow torch.nn.functional:
// NaN propagates through min/max and row_max, comparisons with NaN are false.
#pragma once

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/hana/equal.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/index_if.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/optional.hpp>

#include "nnfuse/dsl/expr.hpp"

namespace nnfuse {

// A value for a named parameter: a number, or for eval_row a span with one value per channel.
template <FixedString Name, class Value>
struct Binding {
  static constexpr auto name = Name;
  Value value;
};

template <FixedString Name>
struct BindingMaker {
  template <class Value>
  constexpr Binding<Name, Value> operator()(Value value) const {
    return {value};
  }
};

// bind<"alpha">(0.25), or bind<"alpha">(std::span<const float>{alphas}) for eval_row.
template <FixedString Name>
inline constexpr BindingMaker<Name> bind{};

template <class Param, class Name = chars_of<Param::name>>
struct expression_reads_parameter_without_binding {
  static_assert(always_false<Param, Name>,
                "nnfuse::eval: the expression reads a parameter that no argument binds; pass "
                "nnfuse::bind<\"name\">(value) for it");
};

template <class Binding, class Name = chars_of<Binding::name>>
struct binding_names_no_parameter_of_the_expression {
  static_assert(always_false<Binding, Name>,
                "nnfuse::eval: an argument binds a parameter the expression does not read "
                "(misspelt name?)");
};

template <class Binding, class Name = chars_of<Binding::name>>
struct parameter_bound_twice {
  static_assert(always_false<Binding, Name>, "nnfuse::eval: a parameter is bound more than once");
};

template <class Expression>
struct row_wise_expression_needs_eval_row {
  static_assert(always_false<Expression>,
                "nnfuse::eval: the expression reduces over a row (row_max/row_sum, as Softmax "
                "does); evaluate it with nnfuse::eval_row");
};

template <class Binding>
struct per_channel_binding_needs_eval_row {
  static_assert(always_false<Binding>,
                "nnfuse::eval: a per-channel (span) binding has one value per element of a row; "
                "evaluate with nnfuse::eval_row");
};

namespace detail {

template <class V>
inline constexpr bool is_per_channel = !std::is_arithmetic_v<V>;

template <FixedString Name, class... Bindings>
constexpr std::size_t count_bindings() {
  return ((Bindings::name == Name ? 1U : 0U) + ... + 0U);
}

template <FixedString Name, class... Bindings>
constexpr std::size_t binding_index() {
  const std::array<bool, sizeof...(Bindings)> matches{(Bindings::name == Name)...};
  for (std::size_t i = 0; i < matches.size(); ++i) {
    if (matches[i]) return i;
  }
  return matches.size();
}

// True when every parameter the expression reads is bound exactly once and every binding is
// read; otherwise instantiates the diagnostic naming the offender, and returns false so the
// caller stops before the evaluation adds errors of its own.
template <class E, class... Bindings>
constexpr bool bindings_are_valid() {
  bool valid = true;
  boost::hana::for_each(parameters_of(E{}), [&](auto param) {
    using P = typename decltype(param)::type;
    if constexpr (count_bindings<P::name, Bindings...>() == 0) {
      (void)sizeof(expression_reads_parameter_without_binding<P>);
      valid = false;
    }
  });
  (
      [&] {
        if constexpr (count_bindings<Bindings::name, Bindings...>() > 1) {
          (void)sizeof(parameter_bound_twice<Bindings>);
          valid = false;
        } else if constexpr (!uses_parameter<E, Bindings::name>) {
          (void)sizeof(binding_names_no_parameter_of_the_expression<Bindings>);
          valid = false;
        }
      }(),
      ...);
  return valid;
}

// Everything an expression node may read: the element, its channel, the bound parameters and
// the values of the row reductions listed in `Reductions` (a hana tuple of node types).
template <class T, class Reductions, class BindingTuple>
struct Context {
  T x;
  std::size_t channel;
  const BindingTuple& bindings;
  const T* row_values;  // one per entry of Reductions
};

template <class T>
T nan_propagating_max(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  return a > b ? a : b;
}

template <class T>
T nan_propagating_min(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  return a < b ? a : b;
}

// clang-format off
template <class T> T apply(op::Add, T a, T b) { return a + b; }
template <class T> T apply(op::Sub, T a, T b) { return a - b; }
template <class T> T apply(op::Mul, T a, T b) { return a * b; }
template <class T> T apply(op::Div, T a, T b) { return a / b; }
template <class T> T apply(op::Neg, T a) { return -a; }
template <class T> bool apply(op::Lt, T a, T b) { return a < b; }
template <class T> bool apply(op::Le, T a, T b) { return a <= b; }
template <class T> bool apply(op::Gt, T a, T b) { return a > b; }
template <class T> bool apply(op::Ge, T a, T b) { return a >= b; }
template <class T> bool apply(op::Eq, T a, T b) { return a == b; }
template <class T> bool apply(op::Ne, T a, T b) { return a != b; }
template <class T> bool apply(op::And, bool a, bool b) { return a && b; }
template <class T> bool apply(op::Or, bool a, bool b) { return a || b; }
template <class T> bool apply(op::Not, bool a) { return !a; }
template <class T> T apply(op::Select, bool c, T a, T b) { return c ? a : b; }
template <class T> T apply(op::Min, T a, T b) { return nan_propagating_min(a, b); }
template <class T> T apply(op::Max, T a, T b) { return nan_propagating_max(a, b); }
template <class T> T apply(op::Abs, T a) { return std::fabs(a); }
template <class T> T apply(op::Exp, T a) { return std::exp(a); }
template <class T> T apply(op::Expm1, T a) { return std::expm1(a); }
template <class T> T apply(op::Log, T a) { return std::log(a); }
template <class T> T apply(op::Log1p, T a) { return std::log1p(a); }
template <class T> T apply(op::Tanh, T a) { return std::tanh(a); }
template <class T> T apply(op::Erf, T a) { return std::erf(a); }
template <class T> T apply(op::Erfc, T a) { return std::erfc(a); }
template <class T> T apply(op::Sqrt, T a) { return std::sqrt(a); }
// clang-format on

template <class T, class Ctx>
T eval_node(X /*e*/, const Ctx& ctx) {
  return ctx.x;
}

template <class T, Float V, class Ctx>
T eval_node(Lit<V> /*e*/, const Ctx& /*ctx*/) {
  return static_cast<T>(V.value());
}

template <class T, FixedString Name, class Ctx>
T eval_node(Param<Name> /*e*/, const Ctx& ctx) {
  using Bindings = std::remove_cvref_t<decltype(ctx.bindings)>;
  constexpr std::size_t index = []<class... B>(std::tuple<B...>*) {
    return binding_index<Name, B...>();
  }(static_cast<Bindings*>(nullptr));
  const auto& value = std::get<index>(ctx.bindings).value;
  if constexpr (is_per_channel<std::remove_cvref_t<decltype(value)>>) {
    return static_cast<T>(value[ctx.channel]);  // the size was checked against the row
  } else {
    return static_cast<T>(value);
  }
}

template <class Reductions, class Node>
constexpr std::size_t reduction_index() {
  constexpr auto found =
      boost::hana::index_if(Reductions{}, boost::hana::equal.to(boost::hana::type_c<Node>));
  return std::remove_cvref_t<decltype(found.value())>::value;
}

template <class T, class Op, class... A, class Reductions, class Bindings>
auto eval_node(Node<Op, A...> /*e*/, const Context<T, Reductions, Bindings>& ctx) {
  if constexpr (Op::kind == Kind::row_reduction) {
    return ctx.row_values[reduction_index<Reductions, Node<Op, A...>>()];
  } else {
    return apply<T>(Op{}, eval_node<T>(A{}, ctx)...);
  }
}

template <class T, class E, class... Bindings>
T eval_scalar(E e, T x, const std::tuple<Bindings...>& bindings) {
  constexpr bool per_channel = (is_per_channel<decltype(Bindings::value)> || ...);
  if constexpr (!bindings_are_valid<E, Bindings...>()) {
    return T{};
  } else if constexpr (is_row_wise<E>) {
    (void)sizeof(row_wise_expression_needs_eval_row<E>);
    return T{};
  } else if constexpr (per_channel) {
    (void)sizeof(per_channel_binding_needs_eval_row<E>);
    return T{};
  } else {
    const Context<T, boost::hana::tuple<>, std::tuple<Bindings...>> ctx{x, 0, bindings, nullptr};
    return eval_node<T>(e, ctx);
  }
}

template <class T, class Bindings>
void check_per_channel_sizes(const Bindings& bindings, std::size_t channels) {
  std::apply(
      [&](const auto&... binding) {
        (
            [&] {
              if constexpr (is_per_channel<std::remove_cvref_t<decltype(binding.value)>>) {
                if (std::size(binding.value) != channels) {
                  throw std::invalid_argument(
                      "nnfuse::eval_row: parameter '" +
                      std::string(std::remove_cvref_t<decltype(binding)>::name.view()) + "' has " +
                      std::to_string(std::size(binding.value)) + " values but the row has " +
                      std::to_string(channels) + " channels");
                }
              }
            }(),
            ...);
      },
      bindings);
}

// Evaluates a row in the working type W, storing into Out (float or double).
template <class W, class E, class In, class Out, class... Bindings>
void eval_row_as(E e, std::span<const In> in, std::span<Out> out,
                 const std::tuple<Bindings...>& bindings) {
  if constexpr (!bindings_are_valid<E, Bindings...>()) return;
  if (in.size() != out.size()) {
    throw std::invalid_argument("nnfuse::eval_row: the output has " + std::to_string(out.size()) +
                                " elements but the input has " + std::to_string(in.size()));
  }
  check_per_channel_sizes<W>(bindings, in.size());
  using Reductions = decltype(row_reductions_of(e));
  std::array<W, decltype(boost::hana::length(Reductions{}))::value> row_values{};
  using Ctx = Context<W, Reductions, std::tuple<Bindings...>>;
  auto context_at = [&](std::size_t j) {
    return Ctx{static_cast<W>(in[j]), j, bindings, row_values.data()};
  };
  // Inner reductions come first in Reductions, so each one finds those it reads computed.
  boost::hana::for_each(Reductions{}, [&](auto reduction) {
    using R = typename decltype(reduction)::type;
    auto [reduce, inner] = []<class Op, class Inner>(Node<Op, Inner>*) {
      return std::pair<Op, Inner>{};
    }(static_cast<R*>(nullptr));
    constexpr bool is_max = std::is_same_v<decltype(reduce), op::RowMax>;
    W acc = is_max ? -std::numeric_limits<W>::infinity() : W{0};
    for (std::size_t j = 0; j < in.size(); ++j) {
      const W v = eval_node<W>(inner, context_at(j));
      acc = is_max ? nan_propagating_max(acc, v) : acc + v;
    }
    row_values[reduction_index<Reductions, R>()] = acc;
  });
  for (std::size_t j = 0; j < in.size(); ++j) {
    out[j] = static_cast<Out>(eval_node<W>(e, context_at(j)));
  }
}

// Working type of the accurate reference: double for float and double inputs.
template <class T>
using ReferenceType = std::conditional_t<(sizeof(T) > sizeof(double)), T, double>;

}  // namespace detail

// e(x), computed in double and rounded once to the type of x.
template <Expr E, std::floating_point T, class... Bindings>
T eval(E e, T x, Bindings... bindings) {
  using W = detail::ReferenceType<T>;
  return static_cast<T>(detail::eval_scalar<W>(e, static_cast<W>(x), std::tuple{bindings...}));
}

// e(x), every operation in the type of x: the accuracy a float32 kernel of this form has.
template <Expr E, std::floating_point T, class... Bindings>
T eval_native(E e, T x, Bindings... bindings) {
  return detail::eval_scalar<T>(e, x, std::tuple{bindings...});
}

// out[j] = e(in)[j] for a row-wise (or elementwise) expression, computed in double. `in` and
// `out` are contiguous ranges of float or double (std::vector, std::span, std::array).
template <Expr E, std::ranges::contiguous_range In, std::ranges::contiguous_range Out,
          class... Bindings>
void eval_row(E e, const In& in, Out&& out, Bindings... bindings) {
  using T = std::ranges::range_value_t<In>;
  detail::eval_row_as<detail::ReferenceType<T>>(e, std::span<const T>(in), std::span<T>(out),
                                                std::tuple{bindings...});
}

// As eval_row, every operation in the element type of the row.
template <Expr E, std::ranges::contiguous_range In, std::ranges::contiguous_range Out,
          class... Bindings>
void eval_row_native(E e, const In& in, Out&& out, Bindings... bindings) {
  using T = std::ranges::range_value_t<In>;
  detail::eval_row_as<T>(e, std::span<const T>(in), std::span<T>(out), std::tuple{bindings...});
}

}  // namespace nnfuse
