// What the graph asks of a layer's expression: one parameter renamed (PReLU's `alpha` becomes
// its tensor's name, so two PReLUs fused into one epilogue stay apart), the first parameter it
// reads (for a diagnostic) and its number of distinct operations (for FLOPs). Visitors over the
// four node kinds like those of expr.hpp, kept here because only the graph needs them.
#pragma once

#include <cstddef>

#include <boost/hana/at.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "nnfuse/dsl/expr.hpp"
#include "nnfuse/dsl/float.hpp"

namespace nnfuse::detail::graph {

namespace hana = boost::hana;

// ---- parameters in expressions ------------------------------------------------------------

template <FixedString From, FixedString To>
constexpr auto rename_param(X e) {
  return e;
}
template <FixedString From, FixedString To, Float V>
constexpr auto rename_param(Lit<V> e) {
  return e;
}
template <FixedString From, FixedString To, FixedString N>
constexpr auto rename_param(Param<N> e) {
  if constexpr (N == From) {
    return Param<To>{};
  } else {
    return e;
  }
}
template <FixedString From, FixedString To, class Op, class... A>
constexpr auto rename_param(Node<Op, A...> /*e*/) {
  return Node<Op, decltype(rename_param<From, To>(A{}))...>{};
}

template <class E>
constexpr auto first_parameter_name() {
  constexpr auto params = parameters_of(E{});
  if constexpr (decltype(hana::length(params))::value == 0) {
    return FixedString("");
  } else {
    return decltype(+hana::at_c<0>(params))::type::name;
  }
}

// Every distinct sub-expression that is an operation; identical sub-trees are one type, so
// shared work (Softmax's x - row_max(x)) is counted once.
constexpr auto operations_of(X /*e*/) {
  return hana::make_tuple();
}
template <Float V>
constexpr auto operations_of(Lit<V> /*e*/) {
  return hana::make_tuple();
}
template <FixedString N>
constexpr auto operations_of(Param<N> /*e*/) {
  return hana::make_tuple();
}
template <class Op, class... A>
constexpr auto operations_of(Node<Op, A...> /*e*/) {
  return nnfuse::detail::append_unique(
      nnfuse::detail::concat_unique(hana::make_tuple(operations_of(A{})...)),
      hana::type_c<Node<Op, A...>>);
}

template <class E>
inline constexpr std::size_t operation_count = decltype(hana::length(operations_of(E{})))::value;

}  // namespace nnfuse::detail::graph
