// Everything a code generator needs about a network, computed at compile time from its type
// (layers.hpp) with Boost.Hana: every layer's widths, PyTorch state_dict names (so a torch
// checkpoint maps without renaming), the parameter table (names, shapes, 64-byte-aligned
// offsets in one float32 block), the fusion of Dense + activations (+ residual add, + a
// row-wise Softmax) into `FusedNode`s — the unit generators/ consumes — and FLOPs.
// Instantiating `graph<Net>` checks every rule. This is all the runtime needs of the DSL, so
// the scalar evaluator and the printer stay out of it: `reference_forward` is in
// reference.hpp, `summary` in summary.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/hana/at.hpp>
#include <boost/hana/back.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <boost/hana/unpack.hpp>

#include "nnfuse/dsl/detail/check.hpp"
#include "nnfuse/dsl/detail/flatten.hpp"
#include "nnfuse/dsl/detail/ops.hpp"
#include "nnfuse/dsl/expr.hpp"
#include "nnfuse/dsl/float.hpp"
#include "nnfuse/dsl/layers.hpp"

namespace nnfuse {

namespace detail::graph {

namespace hana = boost::hana;

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

}  // namespace nnfuse
