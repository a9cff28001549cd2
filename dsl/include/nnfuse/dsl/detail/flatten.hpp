// Flattening: a network's layer types (layers.hpp) turned into one list of flat operations
// (ops.hpp) with full names and widths resolved. Names follow nn.Module's state_dict (a layer's
// own Name, or its index in its Sequential), so a torch checkpoint loads with no renaming. The
// rules that concern a single layer, the network's first layer or a Residual's width are
// checked here, on the way.
#pragma once

#include <cstddef>
#include <type_traits>

#include <boost/hana/length.hpp>

#include "nnfuse/dsl/act.hpp"
#include "nnfuse/dsl/detail/check.hpp"
#include "nnfuse/dsl/detail/expressions.hpp"
#include "nnfuse/dsl/detail/ops.hpp"
#include "nnfuse/dsl/detail/strings.hpp"
#include "nnfuse/dsl/expr.hpp"
#include "nnfuse/dsl/float.hpp"
#include "nnfuse/dsl/layers.hpp"

namespace nnfuse::detail::graph {

namespace hana = boost::hana;

// ---- names --------------------------------------------------------------------------------

template <class... Options>
struct options_name {
  static constexpr bool named = false;
};
template <FixedString S, class... Rest>
struct options_name<Name<S>, Rest...> {
  static constexpr bool named = true;
  static constexpr auto value = S;
};
template <class First, class... Rest>
struct options_name<First, Rest...> : options_name<Rest...> {};

template <class Layer>
struct layer_name : options_name<> {};
template <std::size_t N, class... O>
struct layer_name<Dense<N, O...>> : options_name<O...> {};
template <class... O>
struct layer_name<PReLU<O...>> : options_name<O...> {};
template <FixedString S, class... C>
struct layer_name<Sequential<Name<S>, C...>> : options_name<Name<S>> {};
template <class Block>
struct layer_name<Residual<Block>> : layer_name<Block> {};

// The full name of child I of a Sequential whose children's names start with Prefix: its own
// Name, or, unnamed, its index (nn.Sequential's numbering).
template <FixedString Prefix, class Child, std::size_t I>
constexpr auto child_path() {
  if constexpr (layer_name<Child>::named) {
    return concat<Prefix, layer_name<Child>::value>();
  } else {
    return concat<Prefix, index_string<I>()>();
  }
}

// ---- flattening: flat<Layer, full name, input width>::ops / ::out -------------------------
// `ops` is a plain type list while flattening: concatenating hana tuples at every level of the
// recursion made a 50-layer spec take 10 s in g++; graph<Net> turns the list into a hana tuple
// once.

template <class Layer, FixedString Path, std::size_t W>
struct flat {
  static_assert(check<false, not_a_layer<Layer>>);
  using ops = op_list<>;
  static constexpr std::size_t out = W;
};

template <FixedString Prefix, std::size_t W, std::size_t I, class... Children>
struct flat_children {
  using ops = op_list<>;
  static constexpr std::size_t out = W;
};
template <FixedString Prefix, std::size_t W, std::size_t I, class First, class... Rest>
struct flat_children<Prefix, W, I, First, Rest...> {
  using head = flat<First, child_path<Prefix, First, I>(), W>;
  using tail = flat_children<Prefix, head::out, I + 1, Rest...>;
  using ops = join_t<typename head::ops, typename tail::ops>;
  static constexpr std::size_t out = tail::out;
};

template <std::size_t N, class... O, FixedString Path, std::size_t W>
struct flat<Dense<N, O...>, Path, W> {
  static_assert(check<(N > 0), dense_needs_at_least_one_output<Path>>);
  static constexpr bool bias = !(std::is_same_v<O, NoBias> || ...);
  using ops = op_list<DenseOp<Path, W, N, bias>>;
  static constexpr std::size_t out = N;
};

template <auto E, FixedString Kind, FixedString Path, std::size_t W>
struct flat<Act<E, Kind>, Path, W> {
  using expression_type = typename Act<E, Kind>::expression_type;
  static_assert(check<decltype(hana::length(parameters_of(expression_type{})))::value == 0,
                      activation_reads_a_parameter<Path, first_parameter_name<expression_type>()>>);
  using ops = op_list<ActOp<Act<E, Kind>, Path, W>>;
  static constexpr std::size_t out = W;
};

template <class... O, FixedString Path, std::size_t W>
struct flat<PReLU<O...>, Path, W> {
  using ops = op_list<PReLUOp<Path, W>>;
  static constexpr std::size_t out = W;
};

template <std::size_t K, FixedString Path, std::size_t W>
struct flat<Input<K>, Path, W> {
  static_assert(check<false, input_must_be_the_first_layer_of_the_network<Path>>);
  using ops = op_list<>;
  static constexpr std::size_t out = W;
};

template <class... C, FixedString Path, std::size_t W>
struct flat<Sequential<C...>, Path, W> : flat_children<concat<Path, ".">(), W, 0, C...> {};
template <FixedString S, class... C, FixedString Path, std::size_t W>
struct flat<Sequential<Name<S>, C...>, Path, W> : flat_children<concat<Path, ".">(), W, 0, C...> {};

template <class Block, FixedString Path, std::size_t W>
struct flat<Residual<Block>, Path, W> {
  using block = flat<Block, Path, W>;
  static_assert(check<block::out == W, residual_block_changes_width<Path, W, block::out>>);
  using ops = join_t<op_list<ResidualBeginOp<Path, W>>, typename block::ops,
                     op_list<ResidualEndOp<Path, W>>>;
  static constexpr std::size_t out = W;
};

// The outermost Sequential: its own name is not a prefix (a root module's state_dict has none).
// The name of a would-be network's first layer, for the diagnostic.
constexpr auto first_layer_name(const void* /*not_a_sequential*/) {
  return FixedString("");
}
template <class First, class... Rest>
constexpr auto first_layer_name(Sequential<First, Rest...>* /*net*/) {
  return child_path<"", First, 0>();
}
template <FixedString S, class First, class... Rest>
constexpr auto first_layer_name(Sequential<Name<S>, First, Rest...>* /*net*/) {
  return child_path<"", First, 0>();
}
template <class Net>
constexpr auto first_layer_name() {
  return first_layer_name(static_cast<Net*>(nullptr));
}

template <class Net>
struct network {
  static_assert(check<false, network_must_start_with_input<Net, first_layer_name<Net>()>>);
  using ops = op_list<>;
  static constexpr std::size_t in = 0;
  static constexpr std::size_t out = 0;
};
template <std::size_t K, class... C>
struct network<Sequential<Input<K>, C...>> : flat_children<"", K, 0, C...> {
  static constexpr std::size_t in = K;
};
template <FixedString S, std::size_t K, class... C>
struct network<Sequential<Name<S>, Input<K>, C...>> : flat_children<"", K, 0, C...> {
  static constexpr std::size_t in = K;
};

}  // namespace nnfuse::detail::graph
