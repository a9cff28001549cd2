// `reference_forward<Net>`: any network evaluated in double straight from its types — each
// fused node of graph.hpp through nnfuse::eval_row — the oracle every generated kernel is
// tested against. A header of its own because tests, benchmarks and examples need it and the
// runtime does not: a Model runs kernels and never evaluates an expression.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/hana/for_each.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/range.hpp>
#include <boost/hana/unpack.hpp>

#include "nnfuse/dsl/eval.hpp"
#include "nnfuse/dsl/expr.hpp"
#include "nnfuse/dsl/graph.hpp"
#include "nnfuse/dsl/layers.hpp"

namespace nnfuse {

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

}  // namespace nnfuse
