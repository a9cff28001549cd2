// The algorithm of a network, before any schedule: each fused node as Halide Funcs
// (act(X·Wᵀ + b) reading the packed weights, with the row reductions of a row-wise epilogue),
// its kernel name, the bounds and estimates of its buffers, and where a schedule may place it.
#pragma once

#include <cctype>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Halide.h>

#include <nnfuse/dsl/graph.hpp>
#include <nnfuse/generators/lower.hpp>
#include <nnfuse/generators/packing.hpp>
#include <nnfuse/generators/precision.hpp>
#include <nnfuse/generators/schedule.hpp>
#include <nnfuse/generators/targets.hpp>

namespace nnfuse::generators {

// The kernel name of fused node I: its layers' names and kinds, e.g. `fc1_relu`.
template <class Net, std::size_t I>
std::string node_name() {
  using G = graph<Net>;
  std::string name;
  for (std::size_t i = G::nodes[I].first; i < G::nodes[I].last; ++i) {
    const LayerInfo& l = G::layers[i];
    std::string part =
        l.kind == nnfuse::detail::graph::OpKind::dense ? std::string(l.name) : std::string(l.type);
    // Letters and digits only, one '_' between words: "+ residual" -> "residual".
    std::string word;
    for (char c : part) {
      if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
        word += c;
      } else if (!word.empty() && word.back() != '_') {
        word += '_';
      }
    }
    while (!word.empty() && word.back() == '_') word.pop_back();
    part = word;
    name += (name.empty() ? "" : "_") + part;
  }
  return name;
}

namespace detail {

// The Funcs of one fused node, for the schedules to arrange.
struct NodeFuncs {
  Halide::Func out;          // the node's output
  Halide::Func elementwise;  // act(X·Wᵀ + b): `out`, or the input of a row-wise epilogue
  std::optional<Halide::Func> accumulator;  // X·Wᵀ, when the node has a matmul
  // The tuned schedules' second accumulator, for batches smaller than the micro-kernel's rows;
  // `tall` chooses between the two (see build_node).
  std::optional<Halide::Func> short_accumulator;
  Halide::Expr tall;
  Halide::Expr batch;                   // rows of this call
  std::optional<Halide::RDom> k;        // the accumulators' reduction over the input
  std::vector<Halide::Func> row_funcs;  // reductions of a row-wise epilogue (softmax)
  int in_width = 0;
  int out_width = 0;
  int panel = 0;  // columns per panel of the packed weights (0 when not in panels)
};

// What a node's definition depends on besides the spec: the batch (the rows of the pipeline's
// input), the epilogue's precision and, for the tuned schedules, the micro-kernel's row count
// (0 for naive).
struct NodePlan {
  Halide::Expr batch;
  Precision precision = Precision::fast;
  int tile_rows = 0;
  // batch >= tile_rows, passed in by the generated wrapper: Halide simplifies a specialization
  // with its condition only when that is a boolean parameter, and the two accumulators must be
  // simplified away from each other's plan.
  Halide::Param<bool> tall{"tall"};
};

// Builds fused node I reading `input` (x(k, b)) and, when it adds a residual, `residual`.
// With plan.tile_rows, X·Wᵀ has two definitions, one per micro-kernel plan, and the node reads
// select(plan.tall, tall one, short one): the schedule specializes on plan.tall and Halide
// drops the accumulator a specialization does not read, so each plan gets its own accumulator
// shape.
template <class Net, std::size_t I>
NodeFuncs build_node(const Halide::Func& input, const Halide::Func& residual,
                     const Halide::ImageParam& packed, const PackedLayout& layout,
                     const NodePlan& plan) {
  using Node = FusedNode<Net, I>;
  NodeFuncs funcs;
  funcs.batch = plan.batch;
  funcs.in_width = static_cast<int>(Node::in_width);
  funcs.out_width = static_cast<int>(Node::out_width);
  Halide::Var n("n");
  Halide::Var b("b");
  // z = X·Wᵀ + b as an expression, not a Func: the select between the accumulators must sit in
  // y's own definition for the specializations to simplify it.
  Halide::Expr z;
  if constexpr (Node::has_matmul) {
    const PackedTensor& w = layout.at(Node::parameter_names[0]);
    Halide::RDom r(0, static_cast<int>(Node::in_width), "k" + std::to_string(I));
    Halide::Expr weight;
    if (w.transposed) {
      weight = packed(static_cast<int>(w.offset) + r.x * static_cast<int>(w.padded_rows) + n);
    } else if (w.panels) {
      const auto panel = static_cast<int>(w.panel);
      funcs.panel = panel;
      weight = packed(static_cast<int>(w.offset) + (n / panel) * static_cast<int>(w.cols) * panel +
                      r.x * panel + n % panel);
    } else {
      weight = packed(static_cast<int>(w.offset) + n * static_cast<int>(w.cols) + r.x);
    }
    auto accumulator = [&](const std::string& name) {
      Halide::Func acc(name + std::to_string(I));
      acc(n, b) = 0.0F;
      acc(n, b) += input(r.x, b) * weight;
      return acc;
    };
    const Halide::Func acc = accumulator("acc");
    Halide::Expr value = acc(n, b);
    if (plan.tile_rows > 0) {
      const Halide::Func short_acc = accumulator("acc_short");
      funcs.tall = plan.tall;
      funcs.short_accumulator = short_acc;
      value = Halide::select(funcs.tall, value, short_acc(n, b));
    }
    if constexpr (Node::has_bias) {
      value += packed(static_cast<int>(layout.at(Node::parameter_names[1]).offset) + n);
    }
    z = value;
    funcs.accumulator = acc;
    funcs.k = r;
  } else {
    z = input(n, b);
  }

  // The epilogue runs in float32 or, for `exact`, in float64 rounded once at the end.
  const Halide::Type evaluation =
      plan.precision == Precision::exact ? Halide::Float(64) : Halide::Float(32);
  auto param = [&](std::string_view name) -> Halide::Expr {
    if (name == residual_parameter.view()) return Halide::cast(evaluation, residual(n, b));
    return Halide::cast(evaluation, packed(static_cast<int>(layout.at(name).offset) + n));
  };
  Halide::Func y("y" + std::to_string(I));
  y(n, b) = Halide::cast<float>(
      lower(Node::epilogue, LowerContext{Halide::cast(evaluation, z), param, {}}));
  funcs.elementwise = y;
  funcs.out = y;
  if constexpr (Node::has_row_epilogue) {
    Halide::RDom r(0, static_cast<int>(Node::out_width), "j" + std::to_string(I));
    auto context_at = [&](const Halide::Expr& at, std::vector<Halide::Expr> values) {
      return LowerContext{Halide::cast(evaluation, y(at, b)), param, std::move(values)};
    };
    funcs.row_funcs = row_reduction_funcs(Node::row_epilogue, b, r, context_at);
    std::vector<Halide::Expr> values;
    for (auto& f : funcs.row_funcs) values.push_back(f(b));
    Halide::Func out("row" + std::to_string(I));
    out(n, b) = Halide::cast<float>(lower(Node::row_epilogue, context_at(n, values)));
    funcs.out = out;
  }
  return funcs;
}

inline NodePlan node_plan(Schedule schedule, Precision precision, const Halide::Target& target,
                          const Halide::ImageParam& input) {
  return {input.dim(1).extent(), precision,
          info(schedule).micro_kernel ? micro_kernel(target).rows : 0};
}

// Where a node is computed and whether it may start threads of its own.
struct Placement {
  Halide::LoopLevel level = Halide::LoopLevel::root();  // for the node's intermediates
  bool pipeline_output = false;
  bool threads = true;
};

// A pipeline built and scheduled for one target, with its arguments in call order.
struct BuiltPipeline {
  Halide::Pipeline pipeline;
  std::vector<Halide::Argument> args;
};

// Estimates for the autoschedulers: the spec's widths and the typical batch.
inline void estimate(Halide::ImageParam& p, int width, int batch) {
  p.set_estimates({{0, width}, {0, batch}});
}
inline void estimate(Halide::OutputImageParam p, int width, int batch) {
  p.set_estimates({{0, width}, {0, batch}});
}

inline void constrain(Halide::ImageParam& p, int width) {
  p.dim(0).set_bounds(0, width);
  p.dim(1).set_min(0).set_stride(width);
}

inline void constrain(Halide::OutputImageParam p, int width) {
  p.dim(0).set_bounds(0, width);
  p.dim(1).set_min(0).set_stride(width);
}

}  // namespace detail
}  // namespace nnfuse::generators
