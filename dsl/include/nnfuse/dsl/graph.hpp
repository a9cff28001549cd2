// Networks as types. A network is `Sequential<Input<K>, layers...>` built from `Dense<N,
// options...>` (options `Name<"fc1">`, `NoBias`), any `Act<e, "kind">` (elementwise, or row-wise
// like Softmax), `PReLU<Name<"act1">>` (the `prelu` expression with a per-channel tensor),
// nested `Sequential<[Name<"block">,] ...>` and `Residual<Block>` (y = x + Block(x)). Everything
// a code generator needs is computed at compile time from the type with Boost.Hana: every
// layer's widths, PyTorch state_dict names (so a torch checkpoint maps without renaming), the
// parameter table (names, shapes, 64-byte-aligned offsets in one float32 block), the fusion of
// Dense + activations (+ residual add, + a row-wise Softmax) into `FusedNode`s — the unit
// generators/ consumes — and FLOPs. `reference_forward` evaluates any network in double
// straight from the types (the oracle of every kernel test), `summary` prints a torchinfo-like
// table. A spec that breaks a rule fails to compile with a fixed message naming the rule and a
// helper type carrying the layer names and widths (see the diagnostics section).
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/at.hpp>
#include <boost/hana/back.hpp>
#include <boost/hana/concat.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/range.hpp>
#include <boost/hana/transform.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <boost/hana/unpack.hpp>

#include "nnfuse/dsl/act.hpp"
#include "nnfuse/dsl/activations.hpp"
#include "nnfuse/dsl/eval.hpp"
#include "nnfuse/dsl/expr.hpp"
#include "nnfuse/dsl/float.hpp"
#include "nnfuse/dsl/to_string.hpp"

namespace nnfuse {

// ---- layers -------------------------------------------------------------------------------

// A layer's instance name: the key of its tensors in the state_dict (`fc1.weight`).
template <FixedString S>
struct Name {
  static constexpr auto value = S;
};

// Dense option: no bias tensor (torch.nn.Linear(bias=False)).
struct NoBias {};

// The network's input row of K features; only as the first layer of the outermost Sequential.
template <std::size_t K>
struct Input {
  static constexpr std::size_t width = K;
};

// y = x·Wᵀ + b, W of shape [N, K] (K inferred from the layer before), b of shape [N].
template <std::size_t N, class... Options>
struct Dense {};

// torch.nn.PReLU(num_parameters=N): one learned slope per channel, state_dict key `<name>.weight`.
template <class... Options>
struct PReLU {};

// Layers applied in order; nestable. A leading Name<...> prefixes the children's names.
template <class... Children>
struct Sequential {};

// y = x + Block(x). Transparent for naming: the block's tensors are named as if the block stood
// in the Residual's place (torch has no module for the skip connection, so a checkpoint of
// `nn.Sequential(..., Block, ...)` with the add in forward() maps with no renaming).
template <class Block>
struct Residual {};

// The parameter a residual add reads in a fused node's epilogue: the row of the residual input.
// Tensor names always contain a '.', so this name never collides with one.
inline constexpr FixedString residual_parameter = "residual";

// ---- diagnostics --------------------------------------------------------------------------
// g++ 12 prints only literal static_assert messages, so the names and widths travel in the
// template arguments of these helpers. Names appear twice: as FixedString (g++ prints "fc2")
// and as chars_of (clang 14 prints a FixedString as character codes, a Chars as 'f', 'c', '2').

template <class Net, FixedString FirstLayer, class FirstLayerChars = chars_of<FirstLayer>>
struct network_must_start_with_input {
  static_assert(always_false<Net, FirstLayerChars>,
                "nnfuse graph: a network is Sequential<Input<K>, layers...> (optionally "
                "Sequential<Name<...>, Input<K>, ...>): its first layer must be Input<K>");
};

template <FixedString Layer, class LayerChars = chars_of<Layer>>
struct input_must_be_the_first_layer_of_the_network {
  static_assert(always_false<LayerChars>,
                "nnfuse graph: Input<K> may appear only as the first layer of the network");
};

template <FixedString Layer, class LayerChars = chars_of<Layer>>
struct dense_needs_at_least_one_output {
  static_assert(always_false<LayerChars>,
                "nnfuse graph: Dense<N>: N, the number of outputs, must be at least 1");
};

template <FixedString Layer, std::size_t InWidth, std::size_t OutWidth,
          class LayerChars = chars_of<Layer>>
struct residual_block_changes_width {
  static_assert(always_false<LayerChars>,
                "nnfuse graph: Residual<Block> computes x + Block(x), so Block's output width "
                "must equal its input width");
};

template <FixedString Tensor, class TensorChars = chars_of<Tensor>>
struct duplicate_parameter_name {
  static_assert(always_false<TensorChars>,
                "nnfuse graph: two parameters have the same state_dict name; give the layers "
                "distinct Name<...>s");
};

template <FixedString Layer, class LayerChars = chars_of<Layer>>
struct row_wise_activation_not_last {
  static_assert(always_false<LayerChars>,
                "nnfuse graph: a row-wise activation (Softmax, LogSoftmax) must be the last layer "
                "of its chain: only a Dense, or the end of the network, may follow it");
};

template <FixedString Layer, FixedString Parameter, class LayerChars = chars_of<Layer>,
          class ParameterChars = chars_of<Parameter>>
struct activation_reads_a_parameter {
  static_assert(always_false<LayerChars, ParameterChars>,
                "nnfuse graph: an activation layer Act<e, kind> may not read a parameter "
                "(param<...>): a learned per-channel parameter is a layer of its own, like "
                "PReLU<Name<...>>");
};

template <class Layer>
struct not_a_layer {
  static_assert(always_false<Layer>,
                "nnfuse graph: not a layer; layers are Dense, Act<...> (ReLU, Softmax, ...), "
                "PReLU, Sequential and Residual");
};

namespace detail::graph {

namespace hana = boost::hana;

// Instantiates Diagnostic, whose static_assert reports the rule, and is false.
template <class Diagnostic>
constexpr bool report() {
  (void)sizeof(Diagnostic);
  return false;
}

// True when Ok; otherwise reports Diagnostic. Naming Diagnostic as a template argument does not
// instantiate it, so an unbroken rule costs nothing.
template <bool Ok, class Diagnostic>
inline constexpr bool check = true;
template <class Diagnostic>
inline constexpr bool check<false, Diagnostic> = report<Diagnostic>();

// ---- compile-time strings -----------------------------------------------------------------

template <FixedString... S>
constexpr auto concat() {
  constexpr std::size_t n = (S.size() + ... + 0) + 1;
  char buf[n]{};  // NOLINT(*-avoid-c-arrays): FixedString is built from a char array
  std::size_t pos = 0;
  ((std::copy_n(S.chars, S.size(), buf + pos), pos += S.size()), ...);
  return FixedString<n>(buf);
}

template <std::size_t I>
constexpr auto index_string() {
  constexpr std::size_t digits = [] {
    std::size_t d = 1;
    for (std::size_t v = I; v >= 10; v /= 10) ++d;
    return d;
  }();
  char buf[digits + 1]{};  // NOLINT(*-avoid-c-arrays)
  std::size_t v = I;
  for (std::size_t k = digits; k-- > 0; v /= 10) buf[k] = static_cast<char>('0' + v % 10);
  return FixedString<digits + 1>(buf);
}

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

// ---- constexpr descriptions ---------------------------------------------------------------

// The tensors of a hana tuple of operation types, as a hana tuple of Tensor types.
template <class Ops>
constexpr auto tensors_of(Ops ops) {
  return hana::unpack(
      ops, [](auto... t) { return join_t<typename decltype(t)::type::tensors...>::tuple; });
}

}  // namespace detail::graph

// One flattened layer: a Dense, an activation, a PReLU, or the begin / add of a residual.
struct LayerInfo {
  detail::graph::OpKind kind;
  std::string_view name;  // full state_dict-style path ("fc1", "block1.0", "2")
  std::string_view type;  // "Dense", the activation's kind ("relu"), "PReLU", "+ residual"
  std::size_t in_width;
  std::size_t out_width;
  std::size_t parameter_count;
  std::size_t ops_per_element;  // epilogue operations per output element (see flops)
};

// One tensor of the parameter block. Offsets are in bytes into one contiguous float32 block,
// each rounded up to a multiple of 64 (a cache line, the widest vector load) so every tensor
// can be loaded aligned; `parameter_bytes` includes the padding.
struct ParameterInfo {
  std::string_view name;             // state_dict key: "fc1.weight"
  std::array<std::size_t, 2> shape;  // [N, K] for a weight; [N, 0] for a bias or PReLU weight
  std::size_t rank;                  // 2 or 1
  std::size_t count;                 // number of floats
  std::size_t offset_bytes;
};

inline constexpr std::size_t parameter_alignment_bytes = 64;

namespace detail::graph {

// How fused nodes cover the flat operations. `input_tensor` and `residual_source` index the
// network's tensors: 0 is the network input, t > 0 the output of node t - 1.
struct NodePlan {
  std::size_t first = 0;  // flat operations [first, last)
  std::size_t last = 0;
  bool has_matmul = false;
  std::size_t in_width = 0;
  std::size_t out_width = 0;
  bool has_row_epilogue = false;
  bool adds_residual = false;
  std::size_t residual_source = 0;
  std::size_t input_tensor = 0;
};

// Fusion. A Dense opens a node; elementwise activations, PReLUs and residual adds extend the
// open node; a row-wise activation ends it as its row epilogue; the start of a Residual ends
// it (its output is the tensor the residual add reads). An operation with no open node opens
// a node without a matmul. A node adds at most one residual (a second opens a new node).
template <std::size_t N>
constexpr auto plan_nodes(const std::array<LayerInfo, N>& ops) {
  std::array<NodePlan, N> nodes{};
  std::array<std::size_t, N> residual_stack{};
  std::size_t count = 0;
  std::size_t depth = 0;
  bool open = false;
  for (std::size_t i = 0; i < N; ++i) {
    const LayerInfo& op = ops[i];
    const bool extends =
        open && (op.kind != OpKind::residual_end || !nodes[count - 1].adds_residual);
    if (op.kind == OpKind::residual_begin) {
      open = false;
      residual_stack[depth++] = count;
      continue;
    }
    if (op.kind == OpKind::dense || !extends) {
      nodes[count] = NodePlan{
          i, i, op.kind == OpKind::dense, op.in_width, op.in_width, false, false, 0, count};
      ++count;
      open = true;
    }
    NodePlan& node = nodes[count - 1];
    node.last = i + 1;
    node.out_width = op.out_width;
    if (op.kind == OpKind::row_wise) {
      node.has_row_epilogue = true;
      open = false;
    } else if (op.kind == OpKind::residual_end) {
      node.adds_residual = true;
      node.residual_source = residual_stack[--depth];
    }
  }
  return std::pair{nodes, count};
}

// The first row-wise operation followed by anything but a Dense (or the end), or N.
template <std::size_t N>
constexpr std::size_t misplaced_row_wise(const std::array<LayerInfo, N>& ops) {
  for (std::size_t i = 0; i < N; ++i) {
    if (ops[i].kind != OpKind::row_wise) continue;
    std::size_t next = i + 1;
    while (next < N && ops[next].kind == OpKind::residual_begin) ++next;
    if (next < N && ops[next].kind != OpKind::dense) return i;
  }
  return N;
}

// The second of two parameters with one name, or N.
template <std::size_t N>
constexpr std::size_t duplicate_parameter(const std::array<ParameterInfo, N>& params) {
  for (std::size_t j = 0; j < N; ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      if (params[i].name == params[j].name) return j;
    }
  }
  return N;
}

template <class Tuple, std::size_t I>
constexpr auto name_at() {
  if constexpr (I < decltype(hana::length(Tuple{}))::value) {
    return decltype(+hana::at_c<I>(Tuple{}))::type::name;
  } else {
    return FixedString("");
  }
}

template <class Tuple, std::size_t I>
constexpr auto path_at() {
  if constexpr (I < decltype(hana::length(Tuple{}))::value) {
    return decltype(+hana::at_c<I>(Tuple{}))::type::path;
  } else {
    return FixedString("");
  }
}

template <class... Tensors>
constexpr std::size_t element_count(op_list<Tensors...> /*tensors*/) {
  return ((Tensors::rows * (Tensors::cols == 0 ? 1 : Tensors::cols)) + ... + 0);
}

template <class T>
constexpr LayerInfo layer_info() {
  constexpr std::size_t params = element_count(typename T::tensors{});
  return {T::kind, T::path.view(), T::type, T::in, T::out, params, T::ops_per_element};
}

template <class Tensors>
constexpr auto parameter_infos(Tensors tensors) {
  return hana::unpack(tensors, [](auto... t) {
    std::array<ParameterInfo, sizeof...(t)> table{ParameterInfo{
        decltype(t)::type::name.view(),
        {decltype(t)::type::rows, decltype(t)::type::cols},
        decltype(t)::type::cols == 0 ? 1U : 2U,
        decltype(t)::type::rows * (decltype(t)::type::cols == 0 ? 1 : decltype(t)::type::cols),
        0}...};
    std::size_t offset = 0;
    for (ParameterInfo& p : table) {
      p.offset_bytes = offset;
      const std::size_t bytes = p.count * sizeof(float);
      offset += (bytes + parameter_alignment_bytes - 1) / parameter_alignment_bytes *
                parameter_alignment_bytes;
    }
    return table;
  });
}

}  // namespace detail::graph

// Everything known about a network at compile time. Instantiating it checks every rule.
template <class Net>
struct graph {
 private:
  using flat_net = detail::graph::network<Net>;

 public:
  // The flattened layers as a hana tuple of hana::type (detail::graph::*Op), in order.
  static constexpr auto ops = flat_net::ops::tuple;
  static constexpr std::size_t in_width = flat_net::in;
  static constexpr std::size_t out_width = flat_net::out;

  static constexpr auto layers = boost::hana::unpack(ops, [](auto... t) {
    return std::array<LayerInfo, sizeof...(t)>{
        detail::graph::layer_info<typename decltype(t)::type>()...};
  });

  // hana tuple of detail::graph::Tensor types, in state_dict order.
  static constexpr auto tensors = detail::graph::tensors_of(ops);
  static constexpr auto parameters = detail::graph::parameter_infos(tensors);

 private:
  static constexpr std::size_t duplicate = detail::graph::duplicate_parameter(parameters);
  static_assert(detail::graph::check<
                duplicate == parameters.size(),
                duplicate_parameter_name<detail::graph::name_at<decltype(tensors), duplicate>()>>);
  static constexpr std::size_t row_wise_index = detail::graph::misplaced_row_wise(layers);
  static_assert(detail::graph::check<row_wise_index == layers.size(),
                                     row_wise_activation_not_last<detail::graph::path_at<
                                         std::remove_cv_t<decltype(ops)>, row_wise_index>()>>);
  static constexpr auto planned = detail::graph::plan_nodes(layers);

 public:
  static constexpr std::size_t node_count = planned.second;
  static constexpr auto nodes = [] {
    std::array<detail::graph::NodePlan, node_count> out{};
    std::copy_n(planned.first.begin(), node_count, out.begin());
    return out;
  }();

  // Number of floats in all tensors (torchinfo's "Total params").
  static constexpr std::size_t parameter_count = [] {
    std::size_t n = 0;
    for (const ParameterInfo& p : parameters) n += p.count;
    return n;
  }();
  // Size of the parameter block, alignment padding included.
  static constexpr std::size_t parameter_bytes = [] {
    if (parameters.empty()) return std::size_t{0};
    const ParameterInfo& p = parameters.back();
    return p.offset_bytes + p.count * sizeof(float);
  }();

  // Index into `parameters` of the tensor with this name, or parameters.size().
  static constexpr std::size_t parameter_index(std::string_view name) {
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      if (parameters[i].name == name) return i;
    }
    return parameters.size();
  }

  // FLOPs of flat layer `i` at batch size B. Convention: a Dense is 2·B·K·N (one multiply and
  // one add per weight per row) plus B·N for the bias; an activation, PReLU or residual add is
  // B·N times the number of distinct operations in its expression (each +, *, select, compare,
  // exp, ..., and each row reduction's accumulation counts 1; a repeated sub-expression once).
  static constexpr std::size_t layer_flops(std::size_t i, std::size_t batch) {
    const LayerInfo& l = layers[i];
    if (l.kind == detail::graph::OpKind::dense) {
      return 2 * batch * l.in_width * l.out_width +
             (l.parameter_count > l.in_width * l.out_width ? batch * l.out_width : 0);
    }
    return batch * l.out_width * l.ops_per_element;
  }

  // FLOPs of fused node `n`: the sum over its layers (the same convention).
  static constexpr std::size_t node_flops(std::size_t n, std::size_t batch) {
    std::size_t total = 0;
    for (std::size_t i = nodes[n].first; i < nodes[n].last; ++i) total += layer_flops(i, batch);
    return total;
  }

  static constexpr std::size_t flops(std::size_t batch) {
    std::size_t total = 0;
    for (std::size_t n = 0; n < node_count; ++n) total += node_flops(n, batch);
    return total;
  }

  // Index of the fused node containing flat layer `i`, or node_count (a residual's begin).
  static constexpr std::size_t node_of_layer(std::size_t i) {
    for (std::size_t n = 0; n < node_count; ++n) {
      if (nodes[n].first <= i && i < nodes[n].last) return n;
    }
    return node_count;
  }
};

namespace detail::graph {
// Elements [First, Last) of a hana tuple (hana::slice_c is ambiguous on a const tuple in the
// Boost 1.74 of Debian 12).
template <std::size_t First, std::size_t Last, class Tuple>
constexpr auto slice(const Tuple& xs) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return hana::make_tuple(hana::at_c<First + I>(xs)...);
  }
  (std::make_index_sequence<Last - First>{});
}

template <bool HasRow, class Ops>
constexpr auto row_epilogue_of(Ops ops) {
  if constexpr (HasRow) {
    return typename decltype(+hana::back(ops))::type::expression_type{};
  } else {
    return X{};
  }
}

struct compose_op {
  template <class E, class T>
  constexpr auto operator()(E e, T /*op*/) const {
    return T::type::compose(e);
  }
};
}  // namespace detail::graph

// A fused node: what one generated kernel computes, for every row b of the batch,
//   z      = x_b · Wᵀ + b            (when has_matmul; has_bias adds b; else z = x_b)
//   y      = epilogue(z)             elementwise; reads param<"<layer>.weight"> for a PReLU
//                                    (one value per channel) and, when adds_residual,
//                                    param<"residual"> (the row of tensor residual_source)
//   out_b  = row_epilogue(y)         row-wise (Softmax) when has_row_epilogue, else identity (X)
// `input_tensor` / `residual_source` index the network's tensors (0: the network input, t: the
// output of node t - 1); `parameter_names` are the state_dict names of the tensors it reads,
// in order: weight, bias, then PReLU weights.
template <class Net, std::size_t I>
struct FusedNode {
 private:
  using G = graph<Net>;
  static constexpr detail::graph::NodePlan plan = G::nodes[I];
  static constexpr auto node_ops = detail::graph::slice<plan.first, plan.last>(G::ops);

 public:
  static constexpr std::size_t index = I;
  static constexpr std::size_t in_width = plan.in_width;
  static constexpr std::size_t out_width = plan.out_width;
  static constexpr bool has_matmul = plan.has_matmul;
  static constexpr bool has_bias =
      plan.has_matmul && G::layers[plan.first].parameter_count > plan.in_width* plan.out_width;
  static constexpr bool adds_residual = plan.adds_residual;
  static constexpr std::size_t residual_source = plan.residual_source;
  static constexpr std::size_t input_tensor = plan.input_tensor;
  static constexpr bool has_row_epilogue = plan.has_row_epilogue;

  using epilogue_type = decltype(boost::hana::fold_left(node_ops, x, detail::graph::compose_op{}));
  static constexpr epilogue_type epilogue{};

  using row_epilogue_type =
      decltype(detail::graph::row_epilogue_of<plan.has_row_epilogue>(node_ops));
  static constexpr row_epilogue_type row_epilogue{};

  static constexpr auto parameter_names =
      boost::hana::unpack(detail::graph::tensors_of(node_ops), [](auto... t) {
        return std::array<std::string_view, sizeof...(t)>{decltype(t)::type::name.view()...};
      });

  static constexpr std::size_t flops(std::size_t batch) { return G::node_flops(I, batch); }
};

namespace detail::graph {

// The binding for one parameter an epilogue reads: the row of the residual input, or the
// tensor of that name in the parameter block (one value per channel).
template <class Net, class P>
auto bind_parameter(std::span<const float> params, std::span<const double> residual_row) {
  if constexpr (P::name == residual_parameter) {
    return bind<P::name>(residual_row);
  } else {
    constexpr std::size_t i = nnfuse::graph<Net>::parameter_index(P::name.view());
    static_assert(i < nnfuse::graph<Net>::parameters.size());
    constexpr ParameterInfo info = nnfuse::graph<Net>::parameters[i];
    return bind<P::name>(params.subspan(info.offset_bytes / sizeof(float), info.count));
  }
}

}  // namespace detail::graph

// The network's output [batch, out_width] (row-major) for `input` [batch, in_width], computed
// in double straight from the types: each fused node's matmul, epilogue and row epilogue with
// nnfuse::eval_row. `params` is the parameter block laid out as graph<Net>::parameters says
// (float32, offsets in bytes). The oracle every generated kernel is tested against.
template <class Net, std::floating_point T>
std::vector<double> reference_forward(std::span<const float> params, std::span<const T> input,
                                      std::size_t batch) {
  namespace hana = boost::hana;
  using G = graph<Net>;
  if (params.size() * sizeof(float) < G::parameter_bytes) {
    throw std::invalid_argument("nnfuse::reference_forward: the parameter block has " +
                                std::to_string(params.size()) + " floats, the network needs " +
                                std::to_string(G::parameter_bytes / sizeof(float)));
  }
  if (input.size() != batch * G::in_width) {
    throw std::invalid_argument("nnfuse::reference_forward: the input has " +
                                std::to_string(input.size()) + " values, expected batch " +
                                std::to_string(batch) + " x " + std::to_string(G::in_width));
  }
  // tensors[0] is the input, tensors[t] the output of node t - 1.
  std::vector<std::vector<double>> tensors(G::node_count + 1);
  tensors[0].assign(input.begin(), input.end());
  hana::for_each(hana::make_range(hana::size_c<0>, hana::size_c<G::node_count>), [&](auto n) {
    using Node = FusedNode<Net, decltype(n)::value>;
    constexpr std::size_t k = Node::in_width;
    constexpr std::size_t width = Node::out_width;
    const std::vector<double>& in = tensors[Node::input_tensor];
    std::vector<double> z(batch * width);
    if constexpr (Node::has_matmul) {
      constexpr ParameterInfo w = G::parameters[G::parameter_index(Node::parameter_names[0])];
      const float* weight = params.data() + w.offset_bytes / sizeof(float);
      const float* bias = nullptr;
      if constexpr (Node::has_bias) {
        constexpr ParameterInfo b = G::parameters[G::parameter_index(Node::parameter_names[1])];
        bias = params.data() + b.offset_bytes / sizeof(float);
      }
      for (std::size_t r = 0; r < batch; ++r) {
        for (std::size_t j = 0; j < width; ++j) {
          double acc = bias != nullptr ? static_cast<double>(bias[j]) : 0.0;
          for (std::size_t i = 0; i < k; ++i) {
            acc += static_cast<double>(weight[j * k + i]) * in[r * k + i];
          }
          z[r * width + j] = acc;
        }
      }
    } else {
      z = in;
    }
    std::vector<double>& out = tensors[decltype(n)::value + 1];
    out.resize(batch * width);
    std::vector<double> row(width);
    for (std::size_t r = 0; r < batch; ++r) {
      const std::span<const double> z_row(z.data() + r * width, width);
      std::span<const double> residual_row;
      if constexpr (Node::adds_residual) {
        residual_row =
            std::span<const double>(tensors[Node::residual_source]).subspan(r * width, width);
      }
      hana::unpack(parameters_of(Node::epilogue), [&](auto... p) {
        eval_row(Node::epilogue, z_row, row,
                 detail::graph::bind_parameter<Net, typename decltype(p)::type>(params,
                                                                                residual_row)...);
      });
      const std::span<double> out_row(out.data() + r * width, width);
      if constexpr (Node::has_row_epilogue) {
        eval_row(Node::row_epilogue, row, out_row);
      } else {
        std::copy(row.begin(), row.end(), out_row.begin());
      }
    }
  });
  return tensors.back();
}

// A torchinfo-like table: one row per flattened layer (name, type, output width, parameters,
// the fused kernel it belongs to, FLOPs at `batch`), then the fused kernels with their
// epilogues and the totals.
template <class Net>
std::string summary(std::size_t batch) {
  namespace hana = boost::hana;
  using G = graph<Net>;
  auto pad = [](std::string s, std::size_t w, bool right) {
    if (s.size() < w) s.insert(right ? 0 : s.size(), w - s.size(), ' ');
    return s;
  };
  std::size_t name_w = 5;
  for (const LayerInfo& l : G::layers) name_w = std::max(name_w, l.name.size());
  const std::string flops_head = "FLOPs (batch " + std::to_string(batch) + ")";
  std::string header = pad("Layer", name_w, false) + "  " + pad("Type", 12, false) + "  " +
                       pad("Output", 7, true) + "  " + pad("Params", 9, true) + "  " +
                       pad("Kernel", 6, true) + "  " + pad(flops_head, 16, true);
  const std::string rule(header.size(), '-');
  std::string s = header + "\n" + rule + "\n";
  s += pad("input", name_w, false) + "  " + pad("Input", 12, false) + "  " +
       pad(std::to_string(G::in_width), 7, true) + "\n";
  for (std::size_t i = 0; i < G::layers.size(); ++i) {
    const LayerInfo& l = G::layers[i];
    const std::size_t node = G::node_of_layer(i);
    if (node == G::node_count) continue;  // a residual's begin computes nothing
    s += pad(std::string(l.name), name_w, false) + "  " + pad(std::string(l.type), 12, false) +
         "  " + pad(std::to_string(l.out_width), 7, true) + "  " +
         pad(std::to_string(l.parameter_count), 9, true) + "  " +
         pad(std::to_string(node), 6, true) + "  " +
         pad(std::to_string(G::layer_flops(i, batch)), 16, true) + "\n";
  }
  s += rule + "\n";
  hana::for_each(hana::make_range(hana::size_c<0>, hana::size_c<G::node_count>), [&](auto n) {
    using Node = FusedNode<Net, decltype(n)::value>;
    s += "kernel " + std::to_string(Node::index) + ": " + std::to_string(Node::in_width) + " -> " +
         std::to_string(Node::out_width) + (Node::has_matmul ? ", x*W^T" : "") +
         (Node::has_bias ? " + b" : "") + ", epilogue " + to_string(Node::epilogue);
    if constexpr (Node::has_row_epilogue) s += ", row epilogue " + to_string(Node::row_epilogue);
    if constexpr (Node::adds_residual) {
      s += ", residual = tensor " + std::to_string(Node::residual_source);
    }
    s += ", FLOPs " + std::to_string(Node::flops(batch)) + "\n";
  });
  s += "Total params: " + std::to_string(G::parameter_count) + " (" +
       std::to_string(G::parameter_bytes) + " bytes, 64-byte aligned tensors)\n";
  s += "Fused kernels: " + std::to_string(G::node_count) + "\n";
  s += "Total FLOPs (batch " + std::to_string(batch) + "): " + std::to_string(G::flops(batch)) +
       "\n";
  return s;
}

}  // namespace nnfuse
