// The flat operations a network is flattened into (flatten.hpp): one type per Dense,
// activation, PReLU and residual begin / add, carrying its full name, widths, tensors,
// operations per element and how it composes into a fused node's epilogue. graph.hpp reads
// everything about a network from these types, never from the layer types themselves.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include <boost/hana/tuple.hpp>

#include "nnfuse/dsl/activations.hpp"
#include "nnfuse/dsl/detail/expressions.hpp"
#include "nnfuse/dsl/detail/strings.hpp"
#include "nnfuse/dsl/expr.hpp"
#include "nnfuse/dsl/float.hpp"
#include "nnfuse/dsl/layers.hpp"

namespace nnfuse::detail::graph {

namespace hana = boost::hana;

// ---- flat operations ----------------------------------------------------------------------
// The network flattened into a sequence of these, with full names and widths resolved.

// A type list: cheap to concatenate, turned into a hana tuple (`tuple`) where algorithms need one.
template <class... Ops>
struct op_list {
  static constexpr auto tuple = hana::tuple_t<Ops...>;
};

template <class... Lists>
struct join;
template <>
struct join<> {
  using type = op_list<>;
};
template <class... A>
struct join<op_list<A...>> {
  using type = op_list<A...>;
};
template <class... A, class... B, class... Rest>
struct join<op_list<A...>, op_list<B...>, Rest...> : join<op_list<A..., B...>, Rest...> {};

template <class... Lists>
using join_t = typename join<Lists...>::type;

enum class OpKind { dense, elementwise, prelu, row_wise, residual_begin, residual_end };

template <FixedString TensorName, std::size_t Rows, std::size_t Cols>
struct Tensor {
  static constexpr auto name = TensorName;
  static constexpr std::size_t rows = Rows;
  static constexpr std::size_t cols = Cols;  // 0 for a vector of shape [Rows]
};

template <FixedString Path, std::size_t In, std::size_t Out>
struct OpBase {
  static constexpr auto path = Path;
  static constexpr std::size_t in = In;
  static constexpr std::size_t out = Out;
  static constexpr bool has_bias = false;
  using tensors = op_list<>;
  static constexpr std::size_t ops_per_element = 0;
  template <class E>
  static constexpr auto compose(E e) {
    return e;
  }
};

template <FixedString Path, std::size_t K, std::size_t N, bool Bias>
struct DenseOp : OpBase<Path, K, N> {
  static constexpr OpKind kind = OpKind::dense;
  static constexpr std::string_view type = "Dense";
  static constexpr bool has_bias = Bias;
  static constexpr auto weight_name = concat<Path, ".weight">();
  static constexpr auto bias_name = concat<Path, ".bias">();
  using tensors =
      std::conditional_t<Bias, op_list<Tensor<weight_name, N, K>, Tensor<bias_name, N, 0>>,
                         op_list<Tensor<weight_name, N, K>>>;
};

template <class A, FixedString Path, std::size_t W>
struct ActOp : OpBase<Path, W, W> {
  static constexpr OpKind kind = A::row_wise ? OpKind::row_wise : OpKind::elementwise;
  static constexpr std::string_view type = A::kind;
  using expression_type = typename A::expression_type;
  static constexpr std::size_t ops_per_element = operation_count<typename A::expression_type>;
  // A row-wise activation is the node's separate row epilogue, not part of the elementwise one.
  template <class E>
  static constexpr auto compose(E e) {
    if constexpr (A::row_wise) {
      return e;
    } else {
      return A::expression(e);
    }
  }
};

template <FixedString Path, std::size_t W>
struct PReLUOp : OpBase<Path, W, W> {
  static constexpr OpKind kind = OpKind::prelu;
  static constexpr std::string_view type = "PReLU";
  static constexpr auto weight_name = concat<Path, ".weight">();
  using tensors = op_list<Tensor<weight_name, W, 0>>;
  // The catalog's `prelu` with its "alpha" renamed to the tensor's name, so two PReLUs fused
  // into one epilogue read distinct parameters.
  static constexpr auto expression = rename_param<"alpha", weight_name>(prelu);
  static constexpr std::size_t ops_per_element = operation_count<decltype(expression)>;
  template <class E>
  static constexpr auto compose(E e) {
    return expression(e);
  }
};

template <FixedString Path, std::size_t W>
struct ResidualBeginOp : OpBase<Path, W, W> {
  static constexpr OpKind kind = OpKind::residual_begin;
  static constexpr std::string_view type = "Residual";
};

template <FixedString Path, std::size_t W>
struct ResidualEndOp : OpBase<Path, W, W> {
  static constexpr OpKind kind = OpKind::residual_end;
  static constexpr std::string_view type = "+ residual";
  static constexpr std::size_t ops_per_element = 1;
  template <class E>
  static constexpr auto compose(E e) {
    return e + param<residual_parameter>;
  }
};

}  // namespace nnfuse::detail::graph
