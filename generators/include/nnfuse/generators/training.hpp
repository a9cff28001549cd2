// The training kernels of a network, as Halide pipelines built from the same spec as the forward
// ones: per fused node a training forward that also writes what backward reads (z), a backward
// kernel with the activation's derivative fused in (the DSL's `derivative` of the node's
// epilogue, lowered like the epilogue), the loss fused into the last node's backward, and the
// optimizers (SGD, Adam) as one elementwise kernel each over the packed buffer. Gradients are
// written in the packed layout the forward kernels read, so the optimizer is elementwise over one
// buffer and padding stays zero.
//
// Per node I (tensors as in graph.hpp: x the node's input, y its output):
//   dY = dOut + Σ dRes_j             the gradient of y, plus that of every later node j that
//                                    reads y as its residual (or the loss's, for the last node)
//   dZ = dY ⊙ ∂epilogue/∂x (z)       at the kept pre-activation z; the identity keeps none
//   dRes = dY ⊙ ∂epilogue/∂residual  when the node adds a residual (to its source's gradient)
//   dα(n) = Σ_b dY ⊙ ∂epilogue/∂α    PReLU's per-channel weight
//   dW = dZᵀ·X, db = Σ_b dZ, dX = dZ·W   (dX skipped for the first node unless asked)
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <Halide.h>
#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>

#include <nnfuse/dsl/derivative.hpp>
#include <nnfuse/dsl/eval.hpp>
#include <nnfuse/dsl/graph.hpp>
#include <nnfuse/dsl/loss.hpp>
#include <nnfuse/dsl/vjp.hpp>
#include <nnfuse/generators/lower.hpp>
#include <nnfuse/generators/packing.hpp>
#include <nnfuse/generators/pipeline.hpp>
#include <nnfuse/generators/schedule.hpp>
#include <nnfuse/generators/schedules.hpp>
#include <nnfuse/generators/targets.hpp>
#include <nnfuse/generators/training_abi.hpp>

namespace nnfuse::generators {

// Whether node I keeps its pre-activation z for backward (4 bytes per unit and row): every
// node but one whose epilogue is the identity (derivative 1, no parameters) and has no row-wise
// epilogue (whose vector-Jacobian product reads its input).
template <class Net, std::size_t I>
inline constexpr bool keeps_pre_activation =
    !std::is_same_v<typename FusedNode<Net, I>::epilogue_type, X> ||
    FusedNode<Net, I>::has_row_epilogue;

// The nodes that read tensor `t` (0: the network input, t: node t - 1's output) as residual.
template <class Net>
std::vector<std::size_t> residual_readers(std::size_t t) {
  std::vector<std::size_t> readers;
  for (std::size_t j = 0; j < graph<Net>::node_count; ++j) {
    if (graph<Net>::nodes[j].adds_residual && graph<Net>::nodes[j].residual_source == t) {
      readers.push_back(j);
    }
  }
  return readers;
}

template <class Net, std::size_t I, class Loss>
BackwardSignature backward_signature(bool input_grad) {
  using Node = FusedNode<Net, I>;
  BackwardSignature s;
  s.loss = I + 1 == graph<Net>::node_count;
  s.integer_labels = s.loss && Loss::integer_labels;
  s.residual_grads = residual_readers<Net>(I + 1).size();
  s.reads_pre_activation = keeps_pre_activation<Net, I>;
  s.reads_residual = Node::adds_residual;
  s.reads_input = Node::has_matmul;
  s.writes_input_grad = input_grad;
  s.writes_residual_grad = Node::adds_residual;
  for (std::string_view name : Node::parameter_names) s.tensors.emplace_back(name);
  return s;
}

namespace detail {

// Rows as a Halide buffer [width][batch], constrained like the forward's.
inline Halide::ImageParam rows_param(const std::string& name, int width, int typical_batch,
                                     Halide::Type type = Halide::Float(32)) {
  Halide::ImageParam p(type, 2, name);
  constrain(p, width);
  estimate(p, width, typical_batch);
  return p;
}

// A row-wise (or elementwise) expression at element `at` of row b of `source`, its row reductions
// computed as Funcs over the row (appended to `intermediates`), in the evaluation type.
template <class E>
Halide::Expr lower_in_row(E expression, const Halide::Func& source, const Halide::Var& b, int width,
                          Halide::Type evaluation, const Halide::Expr& at,
                          std::vector<Halide::Func>& intermediates) {
  const Halide::RDom r(0, width, "row_j");
  const auto context_at = [&](const Halide::Expr& j, std::vector<Halide::Expr> values) {
    return LowerContext{Halide::cast(evaluation, source(j, b)),
                        [](std::string_view) { return Halide::Expr(); }, std::move(values)};
  };
  std::vector<Halide::Func> funcs = row_reduction_funcs(expression, b, r, context_at);
  std::vector<Halide::Expr> values;
  values.reserve(funcs.size());
  for (auto& f : funcs) values.push_back(f(b));
  intermediates.insert(intermediates.end(), funcs.begin(), funcs.end());
  return lower(expression, context_at(at, values));
}

// Whether a schedule's training kernels are scheduled by hand here (`manual`); `naive` runs
// Halide's defaults, and an autoscheduler plans the unscheduled pipeline (compile.hpp).
inline bool hand_tuned(Schedule schedule) {
  return schedule != Schedule::naive && !is_autoscheduled(schedule);
}

// Whether a backward loop of `macs` multiply-adds per call is worth a second thread: the forward's
// threshold (targets.hpp). Unconditional threads made the seed network's step at B = 1
// take 122 us on 2 threads against 46 us on one (every loop woke the pool for ~1 us of work).
inline Halide::Expr worth_threads(const Halide::Expr& macs) {
  return macs >= parallel_threshold_macs;
}

// Rows [width][rows], vectorized along the row, parallel over rows when a call is large (as the
// forward's schedule_rows).
inline void schedule_elementwise(Halide::Func f, const Halide::Target& target, bool output,
                                 const Halide::Expr& rows, int width) {
  const std::vector<Halide::Var> args = f.args();
  const int lanes = epilogue_lanes(target);
  f.vectorize(args[0], lanes,
              output ? Halide::TailStrategy::GuardWithIf : Halide::TailStrategy::RoundUp);
  if (args.size() > 1) f.specialize(worth_threads(rows * width * 16)).parallel(args.back());
}

// An optimizer's state value, or 0 below the smallest normal float: a unit whose gradient stays 0
// (a dead ReLU unit) has its momentum or moments decay geometrically (v = 0.9^t v0 reaches the
// subnormals after ~800 steps), and every operation on a subnormal takes a microcode assist on
// x86 (measured: the seed network's SGD step at B = 1 went from ~40 us to 690 us, 94 % of it in
// SGD). PyTorch keeps the subnormal; the weight it would move is lr * 1e-38, below any weight's
// ULP.
inline Halide::Expr flush_subnormal(const Halide::Expr& e) {
  return Halide::select(Halide::abs(e) < std::numeric_limits<float>::min(), 0.0F, e);
}

// An optimizer's elementwise kernel over the packed buffer: vectors of the target's width, on one
// thread. Split across threads in chunks of 64 vectors, the seed network's 101 k floats made its
// step at B = 1 take 96 us on 2 threads against 44 on one; on one thread, 40 us on both
// (scripts/bench.sh --filter 'BM_TrainStep/seed/manual', medians of 6). (A network large enough
// to gain from a second thread here is not among the tested ones.)
inline void schedule_optimizer(Halide::Func step, const Halide::Var& i,
                               const Halide::Target& target) {
  step.vectorize(i, epilogue_lanes(target), Halide::TailStrategy::GuardWithIf);
}

// max |f'| of node I's epilogue over z in [-32, 32] (step 1/128, the maxima of the catalog's
// derivatives lie well inside), or 0 when the node counts no saturation: its epilogue reads a
// run-time parameter (PReLU's alpha, a residual) or it ends in a row-wise activation.
template <class Net, std::size_t I>
double max_slope() {
  using Node = FusedNode<Net, I>;
  using E = typename Node::epilogue_type;
  constexpr bool has_parameters = decltype(boost::hana::length(parameters_of(E{})))::value != 0;
  if constexpr (Node::has_row_epilogue || has_parameters) {
    return 0.0;
  } else {
    double slope = 0.0;
    for (int i = -32 * 128; i <= 32 * 128; ++i) {
      const double d = std::fabs(eval(derivative(E{}), static_cast<double>(i) / 128.0));
      if (d > slope) slope = d;  // (NaN never is)
    }
    return slope;
  }
}

// What a statistics kernel counts per unit n over the rows of one call (int32 [N][3]):
//   counts(n, 0)  rows with z > 0 (active: for the ReLU family, the unit passes its input on)
//   counts(n, 1)  rows with |f'(z)| < saturation_threshold · max |f'| (saturated; 0 when
//                 max_slope is 0)
//   counts(n, 2)  rows whose output is exactly 0 (sparsity)
// NaN counts as none of them (comparisons with NaN are false).
struct UnitCounts {
  Halide::Func sums;    // the reductions, an intermediate
  Halide::Func counts;  // the output, a copy of `sums`
};
template <class Net, std::size_t I>
UnitCounts unit_counts(const Halide::Func& z, const Halide::Func& y, const Halide::Expr& rows,
                       Precision precision) {
  using Node = FusedNode<Net, I>;
  using E = typename Node::epilogue_type;
  const Halide::Var n = z.args()[0];
  const Halide::Var b = z.args()[1];
  const Halide::Type evaluation = evaluation_type(precision);
  const double slope = max_slope<Net, I>();
  Halide::Func saturated("saturated" + std::to_string(I));
  saturated(n, b) = Halide::cast<bool>(false);
  if constexpr (!Node::has_row_epilogue &&
                decltype(boost::hana::length(parameters_of(E{})))::value == 0) {
    if (slope > 0.0) {
      const LowerContext at_z{
          Halide::cast(evaluation, z(n, b)), [](std::string_view) { return Halide::Expr(); }, {}};
      saturated(n, b) = Halide::abs(lower(derivative(E{}), at_z)) <
                        Halide::cast(evaluation, Halide::Expr(saturation_threshold * slope));
    }
  }
  const Halide::RDom r(0, rows, "stat_row" + std::to_string(I));
  const Halide::Var c("c");
  Halide::Func sums("unit_count_sums" + std::to_string(I));
  sums(n, c) = 0;
  // Units past the width (a vector's rounding) read the last one's rows and are never copied out.
  const Halide::Expr unit = Halide::min(n, static_cast<int>(Node::out_width) - 1);
  sums(n, 0) += Halide::select(z(unit, r) > 0.0F, 1, 0);
  sums(n, 1) += Halide::select(saturated(unit, r), 1, 0);
  sums(n, 2) += Halide::select(y(unit, r) == 0.0F, 1, 0);
  // The output is a pure copy: a vectorized update of an output buffer got aligned loads of it
  // (the caller's buffer is 16-byte aligned), as the training forward's outputs did.
  Halide::Func counts("unit_counts" + std::to_string(I));
  counts(n, c) = sums(n, c);
  return {sums, counts};
}

}  // namespace detail

// Node I's training forward: z = X·Wᵀ + b with the node's forward plan (the schedule's micro-
// kernel), and y = epilogue(z) from z; both are outputs. With `statistics`, the statistics
// kernel: the same two outputs, bit for bit, and the per-unit counts of the call's rows
// (`unit_counts`) as a third.
template <class Net, std::size_t I>
detail::BuiltPipeline build_train_forward(const Halide::Target& target, Schedule schedule,
                                          Precision precision, const PackedLayout& layout,
                                          int typical_batch, bool statistics = false) {
  using Node = FusedNode<Net, I>;
  Halide::ImageParam input(Halide::Float(32), 2, "input");
  Halide::ImageParam residual(Halide::Float(32), 2, "residual");
  Halide::ImageParam packed(Halide::Float(32), 1, "packed");
  detail::NodePlan plan = detail::node_plan(schedule, precision, target, input);
  detail::NodeFuncs pre = detail::build_node<Net, I>(Halide::Func(input), Halide::Func(residual),
                                                     packed, layout, plan, true);
  schedule_single_node(schedule, pre, target);
  const Halide::Func z = pre.out;
  // An autoscheduler may compute the epilogue's row reductions over rows rounded up past the
  // batch (Adams2019 vectorizes them along b by 16), so there the epilogue reads z as an
  // intermediate and the z output is a copy (reading the output buffer itself failed at batch 5:
  // "Output buffer z is accessed at 19").
  Halide::Func z_out = z;
  if (is_autoscheduled(schedule)) {
    z_out = Halide::Func("z_out");
    z_out(z.args()) = z(z.args());
  }
  detail::NodeFuncs epi;
  epi.batch = plan.batch;
  epi.in_width = static_cast<int>(Node::out_width);
  epi.out_width = static_cast<int>(Node::out_width);
  const Halide::Var n = z.args()[0];
  const Halide::Var b = z.args()[1];
  detail::add_epilogue<Net, I>(epi, z(n, b), n, b, Halide::Func(residual), packed, layout,
                               precision);
  schedule_single_node(schedule, epi, target);
  const int width = static_cast<int>(Node::out_width);
  detail::constrain(input, static_cast<int>(Node::in_width));
  packed.dim(0).set_bounds(0, static_cast<int>(layout.floats));
  for (const Halide::Func& f : {z_out, epi.out}) {
    detail::constrain(f.output_buffer(), width);
    detail::estimate(f.output_buffer(), width, typical_batch);
  }
  detail::estimate(input, static_cast<int>(Node::in_width), typical_batch);
  std::vector<Halide::Argument> args = detail::plan_arguments(plan);
  args.push_back(input);
  if (Node::adds_residual) {
    detail::constrain(residual, width);
    detail::estimate(residual, width, typical_batch);
    args.push_back(residual);
  }
  args.push_back(packed);
  std::vector<Halide::Func> outputs{z_out, epi.out};
  if (statistics) {
    auto [sums, counts] = detail::unit_counts<Net, I>(z, epi.out, plan.batch, precision);
    Halide::OutputImageParam buffer = counts.output_buffer();
    buffer.dim(0).set_bounds(0, width);
    buffer.dim(1).set_bounds(0, 3).set_stride(width);
    buffer.set_estimates({{0, width}, {0, 3}});
    if (!is_autoscheduled(schedule)) {
      // Along the units, one vector per row: each row's z and y are read once.
      sums.compute_root();
      const Halide::Var n = sums.args()[0];
      const int lanes = epilogue_lanes(target);
      for (int u = 0; u < 3; ++u) {
        const Halide::RVar row = sums.rvars(u)[0];
        sums.update(u).reorder(n, row);
        if (schedule != Schedule::naive) {
          sums.update(u).vectorize(n, lanes, Halide::TailStrategy::RoundUp);
        }
      }
      if (schedule != Schedule::naive) {
        counts.vectorize(counts.args()[0], lanes, Halide::TailStrategy::GuardWithIf);
      }
    }
    outputs.push_back(counts);
  }
  return detail::BuiltPipeline{Halide::Pipeline(outputs), args};
}

// Node I's backward (with the loss when it is the last node). `manual` schedules it by hand,
// `naive` only computes its shared intermediates at the root, and an autoscheduler's row gets the
// pipeline unscheduled (compile.hpp plans it).
template <class Net, std::size_t I, class Loss>
detail::BuiltPipeline build_backward(const Halide::Target& target, Schedule schedule,
                                     Precision precision, const PackedLayout& layout,
                                     int typical_batch, bool input_grad) {
  using Node = FusedNode<Net, I>;
  const BackwardSignature sig = backward_signature<Net, I, Loss>(input_grad);
  const bool tuned = detail::hand_tuned(schedule);
  const bool placed = !is_autoscheduled(schedule);
  const int width = static_cast<int>(Node::out_width);
  const int in_width = static_cast<int>(Node::in_width);
  const int batch = typical_batch;
  const Halide::Type evaluation = detail::evaluation_type(precision);
  Halide::Var n("n");
  Halide::Var b("b");
  Halide::Var k("k");
  std::vector<Halide::Argument> args;
  Halide::ImageParam packed(Halide::Float(32), 1, "packed");
  packed.dim(0).set_bounds(0, static_cast<int>(layout.floats));

  // dOut, from the loss or from the next node, plus the residual readers' gradients.
  Halide::Func dy("dout");
  Halide::Func loss_rows("loss_rows");
  Halide::ImageParam out_param;
  std::vector<Halide::Func> loss_intermediates;
  Halide::Expr rows;  // of this call
  if (sig.loss) {
    out_param = detail::rows_param("output", width, batch);
    rows = out_param.dim(1).extent();
    Halide::RDom r(0, width, "ln");
    const Halide::Func out(out_param);
    if constexpr (Loss::integer_labels) {
      Halide::ImageParam labels(Halide::Int(32), 1, "labels");
      labels.dim(0).set_min(0);
      labels.set_estimates({{0, batch}});
      args.push_back(labels);
      // loss_b = -log_softmax(out_b)[label_b]; dY = (softmax(out_b) - onehot(label_b)) / B,
      // with the catalog's accurate forms of both (activations.hpp).
      auto rows_of = [&](auto expression, const Halide::Expr& at) {
        return detail::lower_in_row(expression, out, b, width, evaluation, at, loss_intermediates);
      };
      const Halide::Expr label = Halide::clamp(labels(b), 0, width - 1);
      // Each row's share of the mean (the runtime adds the rows).
      loss_rows(b) = Halide::cast<float>(-rows_of(log_softmax, label)) / Halide::cast<float>(rows);
      Halide::Func probability("probability");
      probability(n, b) = Halide::cast<float>(rows_of(softmax, n));
      loss_intermediates.push_back(probability);
      dy(n, b) = (probability(n, b) - Halide::select(n == labels(b), 1.0F, 0.0F)) /
                 Halide::cast<float>(rows);
    } else {
      Halide::ImageParam target_rows = detail::rows_param("target", width, batch);
      args.push_back(target_rows);
      const Halide::Expr scale = 1.0F / Halide::cast<float>(rows * width);
      const Halide::Expr diff = out(r.x, b) - target_rows(r.x, b);
      Halide::Func loss_sum("loss_sum");
      loss_sum(b) = 0.0F;
      loss_sum(b) += diff * diff * scale;
      loss_rows(b) = loss_sum(b);
      loss_intermediates.push_back(loss_sum);
      dy(n, b) = 2.0F * (out(n, b) - target_rows(n, b)) * scale;
    }
    args.push_back(out_param);
  } else {
    Halide::ImageParam dout = detail::rows_param("doutput", width, batch);
    rows = dout.dim(1).extent();
    args.push_back(dout);
    Halide::Expr sum = dout(n, b);
    for (std::size_t j = 0; j < sig.residual_grads; ++j) {
      Halide::ImageParam dres = detail::rows_param("dresidual" + std::to_string(j), width, batch);
      args.push_back(dres);
      sum += dres(n, b);
    }
    dy(n, b) = sum;
  }

  Halide::ImageParam z_param;
  Halide::ImageParam residual_param;
  if (sig.reads_pre_activation) {
    z_param = detail::rows_param("pre_activation", width, batch);
    args.push_back(z_param);
  }
  if (sig.reads_residual) {
    residual_param = detail::rows_param("residual", width, batch);
    args.push_back(residual_param);
  }
  Halide::ImageParam x_param;
  if (sig.reads_input) {
    x_param = detail::rows_param("input", in_width, batch);
    args.push_back(x_param);
  }
  args.push_back(packed);

  // The epilogue's partial derivatives at z, lowered like the epilogue.
  const Halide::Func residual_func =
      sig.reads_residual ? Halide::Func(residual_param) : Halide::Func(dy);
  const auto parameter_at =
      detail::epilogue_parameters(n, b, residual_func, packed, layout, evaluation);
  const Halide::Expr z = sig.reads_pre_activation ? Halide::cast(evaluation, z_param(n, b))
                                                  : Halide::cast(evaluation, Halide::Expr(0.0F));
  auto partial = [&](auto derivative_expression) {
    return Halide::cast<float>(lower(derivative_expression, LowerContext{z, parameter_at, {}}));
  };
  // dZ over whole tiles of the packed weights: zero past N.
  const PackedTensor* weight = Node::has_matmul ? &layout.at(Node::parameter_names[0]) : nullptr;
  const int padded = weight != nullptr ? static_cast<int>(weight->padded_rows) : width;
  // Through a row-wise epilogue, dOut becomes the gradient of its input y = epilogue(z): the
  // row's vector-Jacobian product (vjp.hpp), its row sums as Funcs of the row. It is evaluated in
  // float64 and rounded once: its terms cancel (Softmax's g_k - <g, y>), and in float32 the
  // roundings of the terms would be amplified (measured: 2.8x PyTorch's error on the residual
  // Softmax network's PReLU weight, which factors y out of the difference).
  Halide::Func dy_row("dy");
  if constexpr (Node::has_row_epilogue) {
    const Halide::Type wide = Halide::Float(64);
    Halide::Func row_input("row_input");
    if constexpr (std::is_same_v<typename Node::epilogue_type, X>) {
      row_input(n, b) = z_param(n, b);
    } else {
      row_input(n, b) =
          Halide::cast<float>(lower(Node::epilogue, LowerContext{z, parameter_at, {}}));
    }
    loss_intermediates.push_back(row_input);
    auto in_row = [&](auto expression, const Halide::Expr& at) {
      return detail::lower_in_row(expression, row_input, b, width, wide, at, loss_intermediates);
    };
    Halide::Expr value =
        Halide::cast(wide, dy(n, b)) * in_row(held_derivative(Node::row_epilogue), n);
    const Halide::RDom rj(0, width, "vjp_j");
    boost::hana::for_each(vjp_terms(Node::row_epilogue), [&](auto term) {
      Halide::Func weight("vjp_weight" + std::to_string(loss_intermediates.size()));
      weight(b) = Halide::cast(wide, Halide::Expr(0.0F));
      weight(b) += Halide::cast(wide, dy(rj.x, b)) * in_row(boost::hana::first(term), rj.x);
      loss_intermediates.push_back(weight);
      value += weight(b) * in_row(boost::hana::second(term), n);
    });
    value = Halide::cast<float>(value);
    dy_row(n, b) = value;
  } else {
    dy_row(n, b) = dy(n, b);
  }
  Halide::Func dz("dz");
  {
    Halide::Expr value = dy_row(n, b);
    if constexpr (keeps_pre_activation<Net, I>) {
      value = value * partial(derivative(Node::epilogue));
    }
    dz(n, b) = value;
  }
  Halide::Func dz_padded("dz_padded");
  dz_padded(n, b) = Halide::select(n < width, dz(Halide::min(n, width - 1), b), 0.0F);

  std::vector<Halide::Func> outputs;
  if (sig.loss) {
    loss_rows.output_buffer().dim(0).set_estimate(0, batch);
    outputs.push_back(loss_rows);
  }
  Halide::Func dx("dx");
  if (sig.writes_input_grad) {
    if constexpr (Node::has_matmul) {
      // dX(k, b) = Σ_n dZ(n, b) W(n, k), read from the forward's layout: panels are summed
      // lane by lane over whole vectors of n, the lanes added at the end.
      const int lanes = weight->panels ? static_cast<int>(weight->panel) : 1;
      Halide::RDom rp(0, padded / lanes, "rp");
      Halide::Var j("j");
      Halide::Func lane_sums("lane_sums");
      const Halide::Expr nn = rp.x * lanes + j;
      const auto offset = static_cast<int>(weight->offset);
      Halide::Expr w;
      if (weight->panels) {
        w = packed(offset + rp.x * in_width * lanes + k * lanes + j);
      } else if (weight->transposed) {
        w = packed(offset + k * padded + nn);
      } else {
        w = packed(offset + nn * in_width + k);
      }
      lane_sums(j, k, b) = 0.0F;
      lane_sums(j, k, b) += dz_padded(nn, b) * w;
      Halide::RDom rj(0, lanes, "rj");
      Halide::Func dx_sum("dx_sum");
      dx_sum(k, b) = 0.0F;
      dx_sum(k, b) += lane_sums(rj.x, k, b);
      dx(k, b) = dx_sum(k, b);
      if (tuned) {
        lane_sums.compute_at(dx, b).vectorize(j, std::min(lanes, epilogue_lanes(target)));
        lane_sums.update().vectorize(j, std::min(lanes, epilogue_lanes(target)));
        dx_sum.compute_at(dx, b);
        dx.specialize(detail::worth_threads(rows * in_width * width)).parallel(b);
      }
      if (placed) lane_sums.bound(j, 0, lanes);  // (an autoscheduler refuses a partial bound)
    } else {
      dx(k, b) = dz(k, b);
      if (tuned) detail::schedule_elementwise(dx, target, true, rows, in_width);
    }
    detail::constrain(dx.output_buffer(), in_width);
    detail::estimate(dx.output_buffer(), in_width, batch);
    outputs.push_back(dx);
  }
  if (sig.writes_residual_grad) {
    Halide::Func dres("dres");
    dres(n, b) =
        dy_row(n, b) * partial(derivative(Node::epilogue, nnfuse::param<residual_parameter>));
    if (tuned) detail::schedule_elementwise(dres, target, true, rows, width);
    detail::constrain(dres.output_buffer(), width);
    detail::estimate(dres.output_buffer(), width, batch);
    outputs.push_back(dres);
  }
  // The gradients of the node's tensors, each in its place in the packed layout.
  const Halide::RDom rb(0, rows, "rb");
  std::vector<Halide::Func> tensor_grads;
  std::vector<std::string> tensor_names;  // state_dict names, in the signature's order
  if constexpr (Node::has_matmul) {
    const PackedTensor& w = *weight;
    const GradientShape shape = gradient_shape(w);
    Halide::Func dw("dweight");
    std::vector<Halide::Var> vars;
    for (std::size_t d = 0; d < shape.extents.size(); ++d) {
      vars.emplace_back("g" + std::to_string(d));
    }
    Halide::Expr wn;
    Halide::Expr wk;
    if (w.panels) {
      wn = vars[2] * static_cast<int>(w.panel) + vars[0];
      wk = vars[1];
    } else if (w.transposed) {
      wn = vars[0];
      wk = vars[1];
    } else {
      wn = vars[1];
      wk = vars[0];
    }
    std::vector<Halide::Expr> at(vars.begin(), vars.end());
    // The batch's sum in its own Func, so a schedule can keep a tile of it in registers.
    Halide::Func dw_sum("dw_sum");
    dw_sum(at) = 0.0F;
    dw_sum(at) += dz_padded(wn, rb.x) * x_param(wk, rb.x);
    dw(at) = dw_sum(at);
    tensor_grads.push_back(dw);
    tensor_names.emplace_back(Node::parameter_names[0]);
    if constexpr (Node::has_bias) {
      Halide::Func db("dbias");
      Halide::Var g0("g0");
      db(g0) = 0.0F;
      db(g0) += dz_padded(g0, rb.x);
      tensor_grads.push_back(db);
      tensor_names.emplace_back(Node::parameter_names[1]);
    }
    if (tuned && w.panels) {
      // A tile of one panel's columns by up to 8 k, summed over the batch in registers: per
      // row, a panel's dZ vectors and one broadcast x per k (the forward's outer product,
      // transposed).
      const int panel = static_cast<int>(w.panel);
      const int lanes = std::min(panel, epilogue_lanes(target));
      const int kt = in_width % 8 == 0 ? 8 : (in_width % 4 == 0 ? 4 : 1);
      const Halide::Var ko("ko");
      const Halide::Var ki("ki");
      const Halide::Var jo("jo");
      const Halide::Var ji("ji");
      dw.split(vars[1], ko, ki, kt).reorder(vars[0], ki, ko, vars[2]);
      dw.vectorize(vars[0], lanes);
      dw_sum.compute_at(dw, ko).split(vars[0], jo, ji, lanes).vectorize(ji).unroll(jo);
      dw_sum.update()
          .split(vars[0], jo, ji, lanes)
          .reorder(ji, jo, vars[1], rb.x)
          .vectorize(ji)
          .unroll(jo)
          .unroll(vars[1]);
      dw_sum.bound_extent(vars[1], kt);
      dw.specialize(detail::worth_threads(rows * in_width * width)).parallel(vars[2]);
    } else if (tuned) {
      dw_sum.compute_root();
      dw_sum.vectorize(vars[0], epilogue_lanes(target), Halide::TailStrategy::GuardWithIf);
      dw_sum.update()
          .reorder(vars[0], rb.x, vars[1])
          .vectorize(vars[0], epilogue_lanes(target), Halide::TailStrategy::GuardWithIf);
    }
  }
  // PReLU's alpha (and any other per-channel tensor the epilogue reads).
  boost::hana::for_each(parameters_of(Node::epilogue), [&](auto p) {
    using P = typename decltype(p)::type;
    if constexpr (P::name.view() != residual_parameter.view()) {
      Halide::Func da("dchannel" + std::to_string(tensor_grads.size()));
      Halide::Var g0("g0");
      Halide::Func terms("dchannel_terms" + std::to_string(tensor_grads.size()));
      terms(n, b) = dy_row(n, b) * partial(derivative(Node::epilogue, P{}));
      da(g0) = 0.0F;
      // Zero past N (the channel vector is padded to whole tiles): read N's last channel there.
      da(g0) += Halide::select(g0 < width, terms(Halide::min(g0, width - 1), rb.x), 0.0F);
      if (tuned) terms.compute_root();
      tensor_grads.push_back(da);
      tensor_names.emplace_back(P::name.view());
    }
  });
  if (tensor_names != sig.tensors) {
    throw std::logic_error("nnfuse generator: node " + std::to_string(I) +
                           "'s gradients are not in its tensors' order");
  }
  for (std::size_t i = 0; i < tensor_grads.size(); ++i) {
    Halide::Func sum = tensor_grads[i];
    const PackedTensor& t = layout.at(tensor_names[i]);
    // A sum's output is a copy of it: an update of an output buffer may be given aligned vector
    // loads of it (Mullapudi2016's dX, vectorized along k, faulted on a caller's 16-byte
    // aligned buffer), so every output of these pipelines is a pure Func.
    Halide::Func g = sum;
    if (sum.has_update_definition()) {
      g = Halide::Func(sum.name() + "_out");
      g(sum.args()) = sum(sum.args());
    }
    const GradientShape shape = gradient_shape(t);
    Halide::OutputImageParam buffer = g.output_buffer();
    for (std::size_t d = 0; d < shape.extents.size(); ++d) {
      buffer.dim(static_cast<int>(d))
          .set_bounds(0, shape.extents[d])
          .set_estimate(0, shape.extents[d])
          .set_stride(shape.strides[d]);
    }
    if (tuned && t.cols == 0) {
      const Halide::Var g0 = g.args()[0];
      g.vectorize(g0, epilogue_lanes(target), Halide::TailStrategy::GuardWithIf);
      sum.compute_root().vectorize(g0, epilogue_lanes(target), Halide::TailStrategy::RoundUp);
      sum.update().reorder(g0, rb.x).vectorize(g0, epilogue_lanes(target),
                                               Halide::TailStrategy::GuardWithIf);
    } else if (placed && t.cols == 0) {
      sum.compute_root();
    }
    outputs.push_back(g);
  }

  // Every intermediate at the root: dZ is read by dX, dW and db.
  if (placed) {
    dz_padded.compute_root();
    dy.compute_root();
    dy_row.compute_root();
    for (Halide::Func& f : loss_intermediates) f.compute_root();
    if (sig.loss) loss_rows.compute_root();
  }
  if (tuned) {
    dz_padded.vectorize(n, epilogue_lanes(target), Halide::TailStrategy::RoundUp);
  }
  return detail::BuiltPipeline{Halide::Pipeline(outputs), args};
}

// SGD over the packed buffer, as torch.optim.SGD (dampening 0, not Nesterov):
//   d = g + weight_decay · w;  v = momentum · v + d;  w = w - lr · v
// v starts at zero, which gives torch's first step (v = d) exactly. Each element is read before
// it is written, so the weights and the momentum may be updated in place.
inline detail::BuiltPipeline build_sgd(const Halide::Target& target, std::size_t floats,
                                       bool tuned) {
  Halide::ImageParam weights(Halide::Float(32), 1, "weights");
  Halide::ImageParam grads(Halide::Float(32), 1, "gradients");
  Halide::ImageParam velocity(Halide::Float(32), 1, "velocity");
  Halide::Param<float> lr("lr");
  Halide::Param<float> momentum("momentum");
  Halide::Param<float> weight_decay("weight_decay");
  Halide::Var i("i");
  // One Func of two values, so each element's velocity and weight are updated in one loop.
  Halide::Func step("sgd_step");
  const Halide::Expr decayed = momentum * velocity(i) + (grads(i) + weight_decay * weights(i));
  const Halide::Expr v = detail::flush_subnormal(decayed);
  step(i) = {v, weights(i) - lr * v};
  const int size = static_cast<int>(floats);
  for (Halide::ImageParam* p : {&weights, &grads, &velocity}) p->dim(0).set_bounds(0, size);
  // (The other outputs are constrained to the first's bounds by Halide.)
  step.output_buffers()[0].dim(0).set_bounds(0, size);
  if (tuned) detail::schedule_optimizer(step, i, target);
  return detail::BuiltPipeline{Halide::Pipeline(step),
                               {lr, momentum, weight_decay, weights, grads, velocity}};
}

// Adam over the packed buffer, as torch.optim.Adam (not AMSGrad, not maximize), step t ≥ 1:
//   d = g + weight_decay · w;  m = β1 · m + (1 - β1) · d;  v = β2 · v + (1 - β2) · d²
//   w = w - step_size · m / (√v / bias_correction2_sqrt + ε)
// with step_size = lr / (1 - β1^t) and bias_correction2_sqrt = √(1 - β2^t) computed by the
// caller in double, as PyTorch computes them in Python floats. m and v start at zero and are
// flushed as SGD's velocity is. In place, as build_sgd.
inline detail::BuiltPipeline build_adam(const Halide::Target& target, std::size_t floats,
                                        bool tuned) {
  Halide::ImageParam weights(Halide::Float(32), 1, "weights");
  Halide::ImageParam grads(Halide::Float(32), 1, "gradients");
  Halide::ImageParam exp_avg(Halide::Float(32), 1, "exp_avg");
  Halide::ImageParam exp_avg_sq(Halide::Float(32), 1, "exp_avg_sq");
  Halide::Param<float> beta1("beta1");
  Halide::Param<float> beta2("beta2");
  Halide::Param<float> eps("eps");
  Halide::Param<float> weight_decay("weight_decay");
  Halide::Param<float> step_size("step_size");
  Halide::Param<float> bias_correction2_sqrt("bias_correction2_sqrt");
  Halide::Var i("i");
  // Strict: under Halide's fast-math flags LLVM rewrites β·a + (1 - β)·b as b + β·(a - b), which
  // for v (a = v, b = d², often a << b) loses v to cancellation (measured: the unvectorized
  // kernel's v was off by ~1000 half-ULPs at step 2, 3x-10x PyTorch's error after ten steps).
  const auto strict = [](const Halide::Expr& e) { return detail::strict_throughout(e); };
  const Halide::Expr d = grads(i) + weight_decay * weights(i);
  const Halide::Expr m = detail::flush_subnormal(strict(beta1 * exp_avg(i) + (1.0F - beta1) * d));
  const Halide::Expr v =
      detail::flush_subnormal(strict(beta2 * exp_avg_sq(i) + (1.0F - beta2) * (d * d)));
  const Halide::Expr denom = Halide::sqrt(v) / bias_correction2_sqrt + eps;
  Halide::Func step("adam_step");
  step(i) = {m, v, strict(weights(i) - step_size * (m / denom))};
  const int size = static_cast<int>(floats);
  for (Halide::ImageParam* p : {&weights, &grads, &exp_avg, &exp_avg_sq}) {
    p->dim(0).set_bounds(0, size);
  }
  // (The other outputs are constrained to the first's bounds by Halide.)
  step.output_buffers()[0].dim(0).set_bounds(0, size);
  if (tuned) detail::schedule_optimizer(step, i, target);
  return detail::BuiltPipeline{Halide::Pipeline(step),
                               {beta1, beta2, eps, weight_decay, step_size, bias_correction2_sqrt,
                                weights, grads, exp_avg, exp_avg_sq}};
}

}  // namespace nnfuse::generators
