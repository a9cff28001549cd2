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
  // The pipeline's input buffer, when the node reads X from it (the pipelines that build the
  // node set it): what a pass over rows streams from memory and prefetches.
  std::optional<Halide::ImageParam> input_buffer;
  Halide::Func out;          // the node's output
  Halide::Func elementwise;  // act(X·Wᵀ + b): `out`, or the input of a row-wise epilogue
  // X·Wᵀ, when the node has a matmul (with row plans, the tallest plan's).
  std::optional<Halide::Func> accumulator;
  // The tuned schedules' accumulators, one per row plan (tallest first), and the flags that
  // choose between them: the node reads select(fills[0], acc 0, select(fills[1], acc 1, ...)).
  std::vector<Halide::Func> plan_accumulators;
  std::vector<Halide::Expr> plan_fills;  // one per plan but the last
  std::vector<RowPlan> row_plans;
  // With row plans, each plan's accumulator sums K-blocks: plan_partials[p](n, b, block) is
  // the sum over one block of `k_block` (an RDom over the block's k), plan_accumulators[p] the
  // sum of the blocks over `k_blocks`.
  std::vector<Halide::Func> plan_partials;
  std::optional<Halide::RDom> k_block;
  std::optional<Halide::RDom> k_blocks;
  Halide::Expr batch;                   // rows of this call
  std::vector<Halide::Func> row_funcs;  // reductions of a row-wise epilogue (softmax)
  int in_width = 0;
  int out_width = 0;
};

// What a node's definition depends on besides the spec: the batch (the rows of the pipeline's
// input), the epilogue's precision and, for the tuned schedules, the micro-kernel's row plans
// (targets.hpp; empty for the others).
struct NodePlan {
  Halide::Expr batch;
  Precision precision = Precision::fast;
  std::vector<RowPlan> row_plans;
  // fills[i] is batch >= rows of the target's plan i, passed in by the generated wrapper:
  // Halide simplifies a specialization with its condition only when that is a boolean
  // parameter, and each plan's accumulator must be simplified away from the others' plans.
  // One per plan of the target but the last, for every schedule: a target's kernels share one
  // signature.
  std::vector<Halide::Param<bool>> fills;
};

// The K-block of the row plans' accumulators: the largest divisor of K up to 64, so each
// block is summed in registers and the blocks' sums are added in L1; K up to 64, or with no
// divisor from 16 to 64 (a prime such as 257), is one block. On the seed network (K = 784,
// B = 32), scored as max |y - ref| / max(1e-5 |ref|, 1e-6) against the float64 forward
// (tests/runtime/model_test.cpp): one 784-term sum per output 0.186, 112-term blocks 0.129,
// 56-term blocks 0.085, PyTorch float32 0.129; the blocks cost nothing measurable (seed
// network B = 32, AVX-512, medians within 2 %).
inline int accumulation_block(int k) {
  constexpr int largest = 64;
  constexpr int smallest = 16;
  if (k <= largest) return k;
  for (int block = largest; block >= smallest; --block) {
    if (k % block == 0) return block;
  }
  return k;
}

// A run-time parameter of an epilogue at channel n, row b, in the evaluation type: the
// residual row, or a per-channel tensor (PReLU's alpha) read from the packed buffer.
inline std::function<Halide::Expr(std::string_view)> epilogue_parameters(
    const Halide::Var& n, const Halide::Var& b, const Halide::Func& residual,
    const Halide::ImageParam& packed, const PackedLayout& layout, Halide::Type evaluation) {
  return [=](std::string_view name) -> Halide::Expr {
    if (name == residual_parameter.view()) return Halide::cast(evaluation, residual(n, b));
    return Halide::cast(evaluation, packed(static_cast<int>(layout.at(name).offset) + n));
  };
}

// The type an epilogue is evaluated in: float32, or for `exact` float64 rounded once at the end.
inline Halide::Type evaluation_type(Precision precision) {
  return precision == Precision::exact ? Halide::Float(64) : Halide::Float(32);
}

// Node I's epilogue applied to its pre-activation `z` (an expression of n and b): sets
// `elementwise`, `out` and, for a row-wise epilogue, `row_funcs`.
template <class Net, std::size_t I>
void add_epilogue(NodeFuncs& funcs, const Halide::Expr& z, const Halide::Var& n,
                  const Halide::Var& b, const Halide::Func& residual,
                  const Halide::ImageParam& packed, const PackedLayout& layout,
                  Precision precision) {
  using Node = FusedNode<Net, I>;
  const Halide::Type evaluation = evaluation_type(precision);
  const auto param = epilogue_parameters(n, b, residual, packed, layout, evaluation);
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
}

// Builds fused node I reading `input` (x(k, b)) and, when it adds a residual, `residual`.
// With row plans, X·Wᵀ has one definition per plan, and the node reads a select chain over the
// plans' flags: the schedule specializes on the flags and Halide drops the accumulators a
// specialization does not read, so each plan gets its own accumulator shape. With
// `pre_activation` (training's forward), the node ends at z = X·Wᵀ + b, named z<I>.
template <class Net, std::size_t I>
NodeFuncs build_node(const Halide::Func& input, const Halide::Func& residual,
                     const Halide::ImageParam& packed, const PackedLayout& layout,
                     const NodePlan& plan, bool pre_activation = false) {
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
    // W[n][k] in the layout's place.
    auto weight = [&](const Halide::Expr& k) -> Halide::Expr {
      const auto offset = static_cast<int>(w.offset);
      if (w.transposed) return packed(offset + k * static_cast<int>(w.padded_rows) + n);
      if (w.panels) {
        const auto panel = static_cast<int>(w.panel);
        return packed(offset + (n / panel) * static_cast<int>(w.cols) * panel + k * panel +
                      n % panel);
      }
      return packed(offset + n * static_cast<int>(w.cols) + k);
    };
    auto accumulator = [&](const std::string& name) {
      Halide::Func acc(name + std::to_string(I));
      acc(n, b) = 0.0F;
      acc(n, b) += input(r.x, b) * weight(r.x);
      return acc;
    };
    // The row plans' accumulators sum X·Wᵀ in K-blocks (accumulation_block): a float32 sum
    // of K products in one register drifts with K.
    const int block = accumulation_block(static_cast<int>(Node::in_width));
    const Halide::RDom in_block(0, block, "kb" + std::to_string(I));
    const Halide::RDom blocks(0, static_cast<int>(Node::in_width) / block,
                              "ko" + std::to_string(I));
    const Halide::Var kblock("kblock");
    auto blocked_accumulator = [&](const std::string& name) {
      Halide::Func partial(name + "_block" + std::to_string(I));
      const Halide::Expr k = kblock * block + in_block.x;
      partial(n, b, kblock) = 0.0F;
      partial(n, b, kblock) += input(k, b) * weight(k);
      Halide::Func acc(name + std::to_string(I));
      acc(n, b) = 0.0F;
      acc(n, b) += partial(n, b, blocks.x);
      funcs.plan_partials.push_back(partial);
      return acc;
    };
    const Halide::Func acc =
        plan.row_plans.empty() ? accumulator("acc") : blocked_accumulator("acc");
    Halide::Expr value = acc(n, b);
    if (!plan.row_plans.empty()) {
      funcs.row_plans = plan.row_plans;
      funcs.k_block = in_block;
      funcs.k_blocks = blocks;
      funcs.plan_accumulators.push_back(acc);
      for (std::size_t p = 1; p < plan.row_plans.size(); ++p) {
        funcs.plan_accumulators.push_back(
            blocked_accumulator("acc_rows" + std::to_string(plan.row_plans[p].rows) + "_"));
        funcs.plan_fills.push_back(plan.fills[p - 1]);
      }
      value = funcs.plan_accumulators.back()(n, b);
      for (std::size_t p = funcs.plan_fills.size(); p-- > 0;) {
        value = Halide::select(funcs.plan_fills[p], funcs.plan_accumulators[p](n, b), value);
      }
    }
    if constexpr (Node::has_bias) {
      value += packed(static_cast<int>(layout.at(Node::parameter_names[1]).offset) + n);
    }
    z = value;
    funcs.accumulator = acc;
  } else {
    z = input(n, b);
  }

  if (pre_activation) {
    Halide::Func pre("z" + std::to_string(I));
    pre(n, b) = z;
    funcs.elementwise = pre;
    funcs.out = pre;
    return funcs;
  }
  add_epilogue<Net, I>(funcs, z, n, b, residual, packed, layout, plan.precision);
  return funcs;
}

inline NodePlan node_plan(Schedule schedule, Precision precision, const Halide::Target& target,
                          const Halide::ImageParam& input) {
  NodePlan plan{input.dim(1).extent(), precision, {}, {}};
  const std::vector<RowPlan> plans = row_plans(target);
  for (std::size_t p = 0; p + 1 < plans.size(); ++p) {
    plan.fills.emplace_back("fills_" + std::to_string(plans[p].rows));
    plan.fills.back().set_estimate(true);
  }
  if (info(schedule).micro_kernel) plan.row_plans = plans;
  return plan;
}

// The kernel arguments before the buffers: the plans' flags.
inline std::vector<Halide::Argument> plan_arguments(const NodePlan& plan) {
  return {plan.fills.begin(), plan.fills.end()};
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
