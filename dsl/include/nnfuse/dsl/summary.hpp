// `summary<Net>(batch)`: a torchinfo-like table of a network — its flattened layers, the fused
// kernels with their epilogues, parameters and FLOPs. A header of its own because it prints
// expressions (to_string.hpp), which the runtime never does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include <boost/hana/for_each.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/range.hpp>

#include "nnfuse/dsl/graph.hpp"
#include "nnfuse/dsl/to_string.hpp"

namespace nnfuse {

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
