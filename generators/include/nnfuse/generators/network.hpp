// Builds the Halide pipelines of a network spec and compiles them ahead of time: for every
// requested schedule, one function for the whole network (all fused nodes in one pipeline)
// and one per fused node, each for every requested target, plus the packing functions that
// turn PyTorch's parameter block into the layout that schedule reads on each target (and back). The
// generated program (generators/nnfuse_generator.cpp.in, instantiated by nnfuse_add_network) calls
// `generate<Network>` with the command line; everything about the network comes from the
// type through nnfuse::graph / nnfuse::FusedNode, nothing is special-cased per activation.
// One step per header, as Halide's lowering is one pass per file: the algorithm
// (pipeline.hpp), its schedule (schedule.hpp's table, schedules/), compilation (compile.hpp)
// and the generated C++ (emit.hpp).
//
// Naming grammar (docs/ARCHITECTURE.md): <net>__<kernel>__<schedule>[__<variant>], where
// <kernel> is `forward` or the fused node's name (`fc1_relu`), and <variant> names a target of
// a multi-target build (`avx512`, `avx2`, `baseline`, ...).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <Halide.h>
#include <boost/hana/for_each.hpp>
#include <boost/hana/range.hpp>

#include <nnfuse/dsl.hpp>
#include <nnfuse/generators/compile.hpp>
#include <nnfuse/generators/emit.hpp>
#include <nnfuse/generators/options.hpp>
#include <nnfuse/generators/packing.hpp>
#include <nnfuse/generators/pipeline.hpp>
#include <nnfuse/generators/schedule.hpp>
#include <nnfuse/generators/schedules.hpp>
#include <nnfuse/generators/training.hpp>

namespace nnfuse::generators {

namespace detail {

// The whole network as one pipeline, scheduled: tensor 0 is the input, tensor t the output of
// node t - 1.
template <class Net>
BuiltPipeline build_network(const Halide::Target& target, Schedule schedule, Precision precision,
                            const PackedLayout& layout, int typical_batch) {
  using G = graph<Net>;
  Halide::ImageParam input(Halide::Float(32), 2, "input");
  Halide::ImageParam packed(Halide::Float(32), 1, "packed");
  std::vector<Halide::Func> tensors{Halide::Func(input)};
  std::vector<NodeFuncs> nodes;
  NodePlan plan = node_plan(schedule, precision, target, input);
  boost::hana::for_each(
      boost::hana::make_range(boost::hana::size_c<0>, boost::hana::size_c<G::node_count>),
      [&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using Node = FusedNode<Net, I>;
        const Halide::Func residual =
            Node::adds_residual ? tensors[Node::residual_source] : tensors[0];
        nodes.push_back(
            build_node<Net, I>(tensors[Node::input_tensor], residual, packed, layout, plan));
        if (Node::input_tensor == 0) nodes.back().input_buffer = input;
        tensors.push_back(nodes.back().out);
      });
  const Halide::Func forward =
      schedule_network(schedule, nodes, target, plan, static_cast<int>(G::out_width));
  constrain(input, static_cast<int>(G::in_width));
  packed.dim(0).set_bounds(0, static_cast<int>(layout.floats));
  constrain(forward.output_buffer(), static_cast<int>(G::out_width));
  estimate(input, static_cast<int>(G::in_width), typical_batch);
  packed.set_estimates({{0, static_cast<int>(layout.floats)}});
  estimate(forward.output_buffer(), static_cast<int>(G::out_width), typical_batch);
  std::vector<Halide::Argument> args = plan_arguments(plan);
  args.insert(args.end(), {input, packed});
  return BuiltPipeline{Halide::Pipeline(forward), args};
}

// Fused node I as a pipeline of its own, reading its input (and residual) from buffers.
template <class Net, std::size_t I>
BuiltPipeline build_single_node(const Halide::Target& target, Schedule schedule,
                                Precision precision, const PackedLayout& layout,
                                int typical_batch) {
  using Node = FusedNode<Net, I>;
  Halide::ImageParam input(Halide::Float(32), 2, "input");
  Halide::ImageParam residual(Halide::Float(32), 2, "residual");
  Halide::ImageParam packed(Halide::Float(32), 1, "packed");
  NodePlan plan = node_plan(schedule, precision, target, input);
  NodeFuncs node =
      build_node<Net, I>(Halide::Func(input), Halide::Func(residual), packed, layout, plan);
  node.input_buffer = input;
  schedule_single_node(schedule, node, target);
  constrain(input, static_cast<int>(Node::in_width));
  packed.dim(0).set_bounds(0, static_cast<int>(layout.floats));
  constrain(node.out.output_buffer(), static_cast<int>(Node::out_width));
  estimate(input, static_cast<int>(Node::in_width), typical_batch);
  packed.set_estimates({{0, static_cast<int>(layout.floats)}});
  estimate(node.out.output_buffer(), static_cast<int>(Node::out_width), typical_batch);
  std::vector<Halide::Argument> args = plan_arguments(plan);
  args.push_back(input);
  if (Node::adds_residual) {
    constrain(residual, static_cast<int>(Node::out_width));
    estimate(residual, static_cast<int>(Node::out_width), typical_batch);
    args.push_back(residual);
  }
  args.push_back(packed);
  return BuiltPipeline{Halide::Pipeline(node.out), args};
}

}  // namespace detail

namespace detail {
// One TrainingNode per fused node of Net, named and flagged as the forward kernels are;
// `add(i, node, base)` compiles what a caller needs of node i (base: its kernels' name stem).
template <class Net, class AddKernels>
std::vector<TrainingNode> training_nodes(const GeneratorOptions& options, Schedule schedule,
                                         AddKernels&& add) {
  std::vector<TrainingNode> nodes;
  boost::hana::for_each(
      boost::hana::make_range(boost::hana::size_c<0>, boost::hana::size_c<graph<Net>::node_count>),
      [&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        TrainingNode node;
        const std::string base = options.name + "__" + node_name<Net, I>();
        node.forward = base + "__" + to_string(schedule);
        node.reads_residual = FusedNode<Net, I>::adds_residual;
        add(i, node, base);
        nodes.push_back(node);
      });
  return nodes;
}

// Node I's training forward (the outputs and z; with `statistics` also the per-unit counts),
// compiled as `fn` for every target.
template <class Net, std::size_t I>
void compile_train_forward(const GeneratorOptions& options, Schedule schedule,
                           const std::string& fn, bool statistics,
                           std::vector<std::string>& objects) {
  compile_variants(
      [&](const Halide::Target& target, Schedule s) {
        return build_train_forward<Net, I>(target, s, options.precision,
                                           packed_layout<Net>(schedule, target),
                                           options.typical_batch, statistics);
      },
      fn, schedule, options, objects);
}

// A schedule's training kernels (training.hpp), compiled for every target: per node its training
// forward (when it keeps z) and backward (the first node's also with dX), SGD and Adam.
template <class Net, class Loss>
TrainingKernels compile_training(const GeneratorOptions& options, Schedule schedule,
                                 const std::string& loss_type, std::vector<std::string>& objects) {
  static_assert(training<Net, Loss>::checked);
  TrainingKernels kernels;
  kernels.loss_type = loss_type;
  const std::string suffix = "__" + to_string(schedule);
  auto layout_for = [&](const Halide::Target& target) {
    return packed_layout<Net>(schedule, target);
  };
  kernels.nodes = training_nodes<Net>(
      options, schedule, [&](auto i, TrainingNode& node, const std::string& base) {
        constexpr std::size_t I = decltype(i)::value;
        if constexpr (keeps_pre_activation<Net, I>) {
          node.train_forward = base + "__train" + suffix;
          compile_train_forward<Net, I>(options, schedule, node.train_forward, false, objects);
        }
        auto backward = [&](const std::string& fn, bool input_grad) {
          compile_variants(
              [&](const Halide::Target& target, Schedule s) {
                return build_backward<Net, I, Loss>(target, s, options.precision,
                                                    layout_for(target), options.typical_batch,
                                                    input_grad);
              },
              fn, schedule, options, objects);
        };
        node.backward = base + "__backward" + suffix;
        node.signature = backward_signature<Net, I, Loss>(I > 0);
        backward(node.backward, I > 0);
        if (I == 0) {
          node.backward_input = base + "__backward_input" + suffix;
          node.signature_input = backward_signature<Net, I, Loss>(true);
          backward(node.backward_input, true);
        }
      });
  // The optimizers update weights and state in place, which holds only for a schedule that writes
  // each element once, after reading it: an autoscheduler's row gets `manual`'s (Adams2019's and
  // Li2018's ShiftInwards tails recompute elements already updated: the seed network's weights
  // were 1.6e-2 off after one SGD step).
  const Schedule optimizer_schedule = is_autoscheduled(schedule) ? Schedule::manual : schedule;
  kernels.sgd = options.name + "__sgd" + suffix;
  compile_variants(
      [&](const Halide::Target& target, Schedule s) {
        return build_sgd(target, layout_for(target).floats, detail::hand_tuned(s));
      },
      kernels.sgd, optimizer_schedule, options, objects);
  kernels.adam = options.name + "__adam" + suffix;
  compile_variants(
      [&](const Halide::Target& target, Schedule s) {
        return build_adam(target, layout_for(target).floats, detail::hand_tuned(s));
      },
      kernels.adam, optimizer_schedule, options, objects);
  return kernels;
}

// A schedule's statistics kernels (the training forward with `statistics`), compiled for every
// target: one per node that keeps z.
template <class Net>
std::vector<TrainingNode> compile_statistics(const GeneratorOptions& options, Schedule schedule,
                                             std::vector<std::string>& objects) {
  return training_nodes<Net>(
      options, schedule, [&](auto i, TrainingNode& node, const std::string& base) {
        constexpr std::size_t I = decltype(i)::value;
        if constexpr (keeps_pre_activation<Net, I>) {
          node.statistics = base + "__statistics__" + to_string(schedule);
          node.max_slope = max_slope<Net, I>();
          compile_train_forward<Net, I>(options, schedule, node.statistics, true, objects);
        }
      });
}
}  // namespace detail

// Writes <output_dir>/nnfuse/generated/<name>.hpp, <name>_kernels.cpp, one object per kernel
// and target, and <name>_kernels.a; returns the object files. With a Loss (CrossEntropy, MSE),
// every schedule but `fused` also gets training kernels (training.hpp).
template <class Net, class Loss = NoLoss>
std::vector<std::string> generate(const GeneratorOptions& options,
                                  const std::string& loss_type = {}) {
  using G = graph<Net>;
  for (const auto& plugin : options.plugins) load_plugin_once(plugin);
  std::vector<std::string> objects;
  GeneratedText text;
  for (const Schedule schedule : options.schedules) {
    // The layout each target's kernels read; targets with the same one share it.
    VariantLayouts layouts;
    for (const auto& target : options.targets) {
      const PackedLayout layout = packed_layout<Net>(schedule, Halide::Target(target));
      std::size_t index = 0;
      while (index < layouts.distinct.size() && !layouts.distinct[index].same_as(layout)) ++index;
      if (index == layouts.distinct.size()) layouts.distinct.push_back(layout);
      layouts.of_variant.push_back(index);
    }
    const std::string suffix = "__" + to_string(schedule);
    const int batch = options.typical_batch;
    // An autoscheduled kernel's `manual` fallback reads its schedule's layout too.
    auto layout_for = [&](const Halide::Target& target) {
      return packed_layout<Net>(schedule, target);
    };

    // build -> schedule -> compile, for the whole network and for each node ...
    detail::compile_variants(
        [&](const Halide::Target& target, Schedule s) {
          return detail::build_network<Net>(target, s, options.precision, layout_for(target),
                                            batch);
        },
        options.name + "__forward" + suffix, schedule, options, objects,
        detail::ArgumentChecks::entry_point);
    std::vector<Kernel> node_kernels;
    boost::hana::for_each(
        boost::hana::make_range(boost::hana::size_c<0>, boost::hana::size_c<G::node_count>),
        [&](auto i) {
          constexpr std::size_t I = decltype(i)::value;
          const std::string fn = options.name + "__" + node_name<Net, I>() + suffix;
          detail::compile_variants(
              [&](const Halide::Target& target, Schedule s) {
                return detail::build_single_node<Net, I>(target, s, options.precision,
                                                         layout_for(target), batch);
              },
              fn, schedule, options, objects, detail::ArgumentChecks::entry_point);
          node_kernels.push_back(
              {fn, FusedNode<Net, I>::adds_residual, static_cast<int>(FusedNode<Net, I>::in_width),
               static_cast<int>(FusedNode<Net, I>::out_width), FusedNode<Net, I>::has_matmul});
        });
    std::optional<TrainingKernels> training;
    if constexpr (TrainingLoss<Loss>) {
      // `fused`'s per-node kernels would be `manual`'s, so it has no training kernels of its own.
      if (schedule != Schedule::fused) {
        training = detail::compile_training<Net, Loss>(options, schedule, loss_type, objects);
      }
    }
    std::optional<std::vector<TrainingNode>> statistics;
    if (options.statistics && schedule != Schedule::fused) {
      statistics = detail::compile_statistics<Net>(options, schedule, objects);
    }
    // ... -> emit.
    emit_schedule(options, schedule, layouts, node_kernels, training ? &*training : nullptr,
                  statistics ? &*statistics : nullptr, text);
  }
  write_outputs(options, text, objects);
  return objects;
}

}  // namespace nnfuse::generators
