// The generated C++ a network's library is made of: the header (<nnfuse/generated/<net>.hpp>:
// the C entry points' declarations, one struct per schedule for nnfuse::Model, the variant
// names and targets) and the source (<net>_kernels.cpp: the entry points, which pass the
// micro-kernel's row-plan flags and pick an autoscheduled kernel's fallback, the pack functions,
// the dispatchers and the variant selection), and the archive of every kernel object.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <Halide.h>

#include <nnfuse/generators/options.hpp>
#include <nnfuse/generators/packing.hpp>
#include <nnfuse/generators/schedule.hpp>
#include <nnfuse/generators/targets.hpp>
#include <nnfuse/generators/training_abi.hpp>

namespace nnfuse::generators {

// "a, b, c" of `items`, each through `value`.
template <class Items, class Value>
std::string join(const Items& items, Value value) {
  std::ostringstream text;
  for (std::size_t i = 0; i < items.size(); ++i) text << (i ? ", " : "") << value(items[i]);
  return text.str();
}
template <class Items>
std::string join(const Items& items) {
  return join(items, [](const auto& item) { return item; });
}

// A compiled per-node kernel: <net>__<kernel>__<schedule>, whether it reads a residual, its
// inputs and outputs and whether it has a matmul (which the micro-kernel's tiles cut).
struct Kernel {
  std::string function;
  bool reads_residual;
  int in_width;
  int out_width;
  bool matmul;
};

// The text of the generated files, gathered schedule by schedule.
struct GeneratedText {
  std::ostringstream decls;    // extern "C" declarations of every variant function
  std::ostringstream structs;  // one struct per schedule
  std::ostringstream source;   // entry points, pack functions and dispatchers
};

// Per node the dispatcher `<member><k>(user_context, variant, input, residual, packed,
// pre_activation, output[, counts])` of a training-forward-like kernel (`function` of each node:
// the training forward, or the statistics kernel with its counts), with the entry points' row-plan
// flags and an autoscheduled kernel's fallback below the typical batch. A node without such a
// kernel (it keeps no z) runs its forward kernel and writes only the output.
inline void emit_forward_dispatchers(const GeneratorOptions& options, Schedule schedule,
                                     const std::string& ns, const std::vector<TrainingNode>& nodes,
                                     std::string TrainingNode::*function, const std::string& member,
                                     bool counts, std::ostringstream& source) {
  const bool small_fallback = info(schedule).small_batch_fallback;
  auto buffers = [](std::size_t count) {
    std::string list;
    for (std::size_t i = 0; i < count; ++i) list += ", halide_buffer_t*";
    return list;
  };
  const std::string counts_param = counts ? ", halide_buffer_t* counts" : "";
  const std::string counts_arg = counts ? ", counts" : "";
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const TrainingNode& node = nodes[k];
    const std::string& kernel = node.*function;
    std::ostringstream head;
    head << "int " << ns << "::" << member << k
         << "(void* user_context, std::size_t variant, halide_buffer_t* input, halide_buffer_t* "
            "residual, halide_buffer_t* packed, halide_buffer_t* pre_activation, "
            "halide_buffer_t* output"
         << counts_param << ") noexcept {\n";
    if (kernel.empty()) {
      // The node's forward kernel (its C entry point, which passes the row-plan flags).
      source << head.str() << "  (void)pre_activation;\n  (void)residual;\n"
             << (counts ? "  (void)counts;\n" : "") << "  switch (variant) {\n";
      for (std::size_t v = 0; v < options.variant_names.size(); ++v) {
        source << "    case " << v << ": return " << node.forward << "__"
               << options.variant_names[v] << "(user_context, input, "
               << (node.reads_residual ? "residual, " : "") << "packed, output);\n";
      }
      source << "    default: return -1;\n  }\n}\n";
      continue;
    }
    std::ostringstream cases;
    for (std::size_t v = 0; v < options.variant_names.size(); ++v) {
      const std::string fn = kernel + "__" + options.variant_names[v] + "__halide";
      const std::vector<RowPlan> plans = row_plans(Halide::Target(options.targets[v]));
      std::string flag_types;
      std::string flags;
      for (std::size_t p = 0; p + 1 < plans.size(); ++p) {
        flag_types += ", bool";
        flags += "rows >= " + std::to_string(plans[p].rows) + ", ";
      }
      const std::size_t count = (node.reads_residual ? 5 : 4) + (counts ? 1 : 0);
      std::string pass = "(user_context, " + flags + "input, ";
      pass += node.reads_residual ? "residual, " : "";
      pass += "packed, pre_activation, output";
      pass += counts_arg;
      pass += ");\n";
      cases << "    case " << v << ":\n";
      if (small_fallback) {
        const std::string small = kernel + "__" + options.variant_names[v] + "__small__halide";
        cases << "      if (rows < " << options.typical_batch << ") return " << small << pass;
        source << "extern \"C\" int " << small << "(void*" << flag_types << buffers(count)
               << ");\n";
      }
      cases << "      return " << fn << pass;
      source << "extern \"C\" int " << fn << "(void*" << flag_types << buffers(count) << ");\n";
    }
    source << head.str()
           << "  (void)residual;\n  const int rows = input != nullptr && input->dimensions == 2 ? "
              "input->dim[1].extent : 0;\n  switch (variant) {\n"
           << cases.str() << "    default: return -1;\n  }\n}\n";
  }
}

// The C++ around one schedule's training kernels (training.hpp): their declarations, the entry
// points of the training forward (which pass the row-plan flags), the dispatchers (to the variant
// the caller names: a Trainer trains on one variant), which cut each node's gradient buffers out
// of the one packed gradient buffer, and the struct's members.
inline void emit_training(const GeneratorOptions& options, Schedule schedule,
                          const VariantLayouts& layouts, const TrainingKernels& training,
                          GeneratedText& text) {
  const std::string sname = to_string(schedule);
  std::ostringstream& source = text.source;
  std::ostringstream& structs = text.structs;
  const std::string ns = "nnfuse::generated::" + options.name + "::" + sname;
  const std::size_t node_count = training.nodes.size();
  // An autoscheduled kernel is valid from the typical batch up; below it runs `manual`'s plan
  // (compile.hpp), as the forward's entry points do.
  const bool small_fallback = info(schedule).small_batch_fallback;
  auto buffers = [](std::size_t count) {
    std::string list;
    for (std::size_t i = 0; i < count; ++i) list += ", halide_buffer_t*";
    return list;
  };
  emit_forward_dispatchers(options, schedule, ns, training.nodes, &TrainingNode::train_forward,
                           "train_forward", false, source);
  // Backward: the arguments a signature takes, in the order training.hpp builds them.
  auto backward_dispatcher = [&](const std::string& member, const std::string& function,
                                 const BackwardSignature& sig) {
    std::ostringstream body;
    body << "int " << ns << "::" << member
         << "(void* user_context, std::size_t variant, const nnfuse::BackwardBuffers& io) "
            "noexcept {\n"
         << "  switch (variant) {\n";
    for (std::size_t v = 0; v < options.variant_names.size(); ++v) {
      const PackedLayout& layout = layouts.distinct[layouts.of_variant[v]];
      const std::string fn = function + "__" + options.variant_names[v] + "__halide";
      std::vector<std::string> pass;
      if (sig.loss) {
        pass.emplace_back("io.target");
        pass.emplace_back("io.output");
      } else {
        pass.emplace_back("io.doutput");
        for (std::size_t j = 0; j < sig.residual_grads; ++j) {
          pass.push_back("io.dresidual[" + std::to_string(j) + "]");
        }
      }
      if (sig.reads_pre_activation) pass.emplace_back("io.pre_activation");
      if (sig.reads_residual) pass.emplace_back("io.residual");
      if (sig.reads_input) pass.emplace_back("io.input");
      pass.emplace_back("io.packed");
      if (sig.loss) pass.emplace_back("io.loss_rows");
      if (sig.writes_input_grad) pass.emplace_back("io.dinput");
      if (sig.writes_residual_grad) pass.emplace_back("io.dresidual_source");
      body << "    case " << v << ": {\n";
      for (std::size_t t = 0; t < sig.tensors.size(); ++t) {
        const PackedTensor& tensor = layout.at(sig.tensors[t]);
        const GradientShape shape = gradient_shape(tensor);
        const std::string g = "g" + std::to_string(t);
        body << "      // " << tensor.name << "\n      halide_dimension_t " << g << "_dims["
             << shape.extents.size() << "] = {";
        for (std::size_t d = 0; d < shape.extents.size(); ++d) {
          body << (d ? ", " : "") << "{0, " << shape.extents[d] << ", " << shape.strides[d]
               << ", 0}";
        }
        body << "};\n      halide_buffer_t " << g << " = *io.gradient;\n      " << g
             << ".host = io.gradient->host + " << tensor.offset * sizeof(float) << ";\n      " << g
             << ".dimensions = " << shape.extents.size() << ";\n      " << g << ".dim = " << g
             << "_dims;\n";
        pass.push_back("&" + g);
      }
      if (small_fallback) {
        const std::string small = function + "__" + options.variant_names[v] + "__small__halide";
        const std::string rows = sig.loss ? "io.output" : "io.doutput";
        body << "      if (" << rows << " != nullptr && " << rows << "->dimensions == 2 && " << rows
             << "->dim[1].extent < " << options.typical_batch << ") return " << small
             << "(user_context, " << join(pass) << ");\n";
        source << "extern \"C\" int " << small << "(void*" << buffers(pass.size()) << ");\n";
      }
      body << "      return " << fn << "(user_context, " << join(pass) << ");\n    }\n";
      source << "extern \"C\" int " << fn << "(void*" << buffers(pass.size()) << ");\n";
    }
    body << "    default: return -1;\n  }\n}\n";
    source << body.str();
  };
  for (std::size_t k = 0; k < node_count; ++k) {
    const TrainingNode& node = training.nodes[k];
    backward_dispatcher("backward" + std::to_string(k), node.backward, node.signature);
    if (!node.backward_input.empty()) {
      backward_dispatcher("backward_input" + std::to_string(k), node.backward_input,
                          node.signature_input);
    }
  }
  // SGD: weights and velocity in place.
  std::ostringstream sgd_decls;
  std::ostringstream sgd;
  sgd << "int " << ns
      << "::sgd(void* user_context, std::size_t variant, float lr, float momentum, float "
         "weight_decay, halide_buffer_t* weights, halide_buffer_t* gradient, "
         "halide_buffer_t* velocity) noexcept {\n  switch (variant) {\n";
  for (std::size_t v = 0; v < options.variant_names.size(); ++v) {
    const std::string fn = training.sgd + "__" + options.variant_names[v] + "__halide";
    sgd_decls << "extern \"C\" int " << fn << "(void*, float, float, float" << buffers(5) << ");\n";
    sgd << "    case " << v << ": return " << fn
        << "(user_context, lr, momentum, weight_decay, weights, gradient, velocity, velocity, "
           "weights);\n";
  }
  sgd << "    default: return -1;\n  }\n}\n";
  source << sgd_decls.str() << sgd.str();
  // Adam: weights and both moments in place.
  std::ostringstream adam_decls;
  std::ostringstream adam;
  adam << "int " << ns
       << "::adam(void* user_context, std::size_t variant, const nnfuse::AdamStep& step, "
          "halide_buffer_t* weights, halide_buffer_t* gradient, halide_buffer_t* exp_avg, "
          "halide_buffer_t* exp_avg_sq) noexcept {\n  switch (variant) {\n";
  for (std::size_t v = 0; v < options.variant_names.size(); ++v) {
    const std::string fn = training.adam + "__" + options.variant_names[v] + "__halide";
    adam_decls << "extern \"C\" int " << fn << "(void*, float, float, float, float, float, float"
               << buffers(7) << ");\n";
    adam << "    case " << v << ": return " << fn
         << "(user_context, step.beta1, step.beta2, step.eps, step.weight_decay, step.step_size, "
            "step.bias_correction2_sqrt, weights, gradient, exp_avg, exp_avg_sq, exp_avg, "
            "exp_avg_sq, weights);\n";
  }
  adam << "    default: return -1;\n  }\n}\n";
  source << adam_decls.str() << adam.str();

  auto list = [&](const std::string& prefix) {
    std::string names;
    for (std::size_t k = 0; k < node_count; ++k) {
      names += (k ? ", &" : "&") + prefix + std::to_string(k);
    }
    return names;
  };
  structs << "  // Training with `loss` (nnfuse_add_network(... LOSS ...)); nnfuse::Trainer runs "
             "these.\n  static constexpr bool trains = true;\n  using loss = "
          << training.loss_type
          << ";\n  // Per node: whether its training forward keeps z for backward (4 bytes per "
             "unit and row).\n  static constexpr std::array<bool, "
          << node_count << "> keeps_pre_activation{"
          << join(training.nodes,
                  [](const TrainingNode& n) { return n.train_forward.empty() ? "false" : "true"; })
          << "};\n";
  for (std::size_t k = 0; k < node_count; ++k) {
    structs << "  static int train_forward" << k
            << "(void* user_context, std::size_t variant, halide_buffer_t* input, "
               "halide_buffer_t* residual, halide_buffer_t* packed, halide_buffer_t* "
               "pre_activation, halide_buffer_t* output) noexcept;\n  static int backward"
            << k
            << "(void* user_context, std::size_t variant, const nnfuse::BackwardBuffers& io) "
               "noexcept;\n";
  }
  structs << "  // The first node's backward that also writes dLoss/dinput.\n  static int "
             "backward_input0(void* user_context, std::size_t variant, const "
             "nnfuse::BackwardBuffers& io) noexcept;\n"
          << "  static int sgd(void* user_context, std::size_t variant, float lr, float momentum, "
             "float weight_decay, halide_buffer_t* weights, halide_buffer_t* gradient, "
             "halide_buffer_t* velocity) noexcept;\n"
          << "  static int adam(void* user_context, std::size_t variant, const nnfuse::AdamStep& "
             "step, halide_buffer_t* weights, halide_buffer_t* gradient, halide_buffer_t* "
             "exp_avg, halide_buffer_t* exp_avg_sq) noexcept;\n"
          << "  static constexpr std::array<nnfuse::TrainForwardFn, " << node_count
          << "> train_forward_nodes{" << list("train_forward") << "};\n"
          << "  static constexpr std::array<nnfuse::BackwardFn, " << node_count
          << "> backward_nodes{" << list("backward") << "};\n";
}

// The statistics kernels' dispatchers (training.hpp's unit_counts) and the struct's members.
inline void emit_statistics(const GeneratorOptions& options, Schedule schedule,
                            const std::vector<TrainingNode>& nodes, GeneratedText& text) {
  const std::string sname = to_string(schedule);
  const std::string ns = "nnfuse::generated::" + options.name + "::" + sname;
  emit_forward_dispatchers(options, schedule, ns, nodes, &TrainingNode::statistics, "statistics",
                           true, text.source);
  const std::size_t count = nodes.size();
  std::ostringstream& structs = text.structs;
  structs
      << "  // Statistics (nnfuse_add_network(... STATISTICS)): per node that keeps z, a kernel "
         "writing the\n  // training forward's z and y and, per unit, the rows of the call "
         "with z > 0, with\n  // |f'(z)| < saturation_threshold * saturation_slopes[node] and "
         "with y == 0 (int32 [3][N]).\n  static constexpr bool has_statistics = true;\n"
      << "  static constexpr double saturation_threshold = " << std::to_string(saturation_threshold)
      << ";\n"
      << "  static constexpr std::array<bool, " << count << "> counts_units{"
      << join(nodes, [](const TrainingNode& n) { return n.statistics.empty() ? "false" : "true"; })
      << "};\n  // max |f'| of each node's epilogue (0: no saturation count).\n"
      << "  static constexpr std::array<double, " << count << "> saturation_slopes{"
      << join(nodes,
              [](const TrainingNode& n) {
                std::ostringstream v;
                v.precision(17);
                v << n.max_slope;
                return v.str();
              })
      << "};\n";
  std::string list;
  for (std::size_t k = 0; k < count; ++k) {
    structs << "  static int statistics" << k
            << "(void* user_context, std::size_t variant, halide_buffer_t* input, "
               "halide_buffer_t* residual, halide_buffer_t* packed, halide_buffer_t* "
               "pre_activation, halide_buffer_t* output, halide_buffer_t* counts) noexcept;\n";
    list += (k ? ", &statistics" : "&statistics") + std::to_string(k);
  }
  structs << "  static constexpr std::array<nnfuse::StatisticsFn, " << count
          << "> statistics_nodes{" << list << "};\n";
}

// The struct's tables nnfuse::describe reads (runtime/describe.hpp) to tell which plan a call
// of a given batch takes: the schedule's plan family, the batch an autoscheduled plan was made
// for (below it the entry points run `manual`'s plan), the thread thresholds, `fused`'s chunk
// rows and, per variant and node, the tile of each row plan (layer_tiles, what `manual` runs).
inline void emit_plans(const GeneratorOptions& options, Schedule schedule,
                       const std::vector<Kernel>& node_kernels, std::ostringstream& structs) {
  const ScheduleInfo& row = info(schedule);
  const char* family = "nnfuse::PlanFamily::naive";
  if (!row.autoscheduler.empty()) {
    family = "nnfuse::PlanFamily::autoscheduled";
  } else if (schedule == Schedule::fused && node_kernels.size() > 1) {
    family = "nnfuse::PlanFamily::chunked";  // schedules/fused.hpp: one node is `manual`'s plan
  } else if (row.micro_kernel) {
    family = "nnfuse::PlanFamily::tiled";
  }
  const std::size_t variants = options.targets.size();
  std::size_t most_plans = 0;
  std::string chunk_rows;
  std::string tables;
  for (std::size_t v = 0; v < variants; ++v) {
    const Halide::Target target(options.targets[v]);
    chunk_rows += (v ? ", " : "") + std::to_string(fused_chunk_rows(target));
    std::string nodes;
    for (std::size_t k = 0; k < node_kernels.size(); ++k) {
      std::string tiles;
      std::size_t count = 0;
      if (node_kernels[k].matmul) {
        for (const LayerTile& tile : layer_tiles(target, node_kernels[k].out_width)) {
          tiles += (count++ ? ", " : "") + std::string("nnfuse::TileShape{") +
                   std::to_string(tile.rows) + ", " + std::to_string(tile.columns) + "}";
        }
      }
      most_plans = std::max(most_plans, count);
      nodes += (k ? ", " : "") + std::string("nnfuse::NodeTiles{") + std::to_string(count) + ", {" +
               tiles + "}}";
    }
    tables += std::string(v ? ",\n      " : "      ") + "std::array<nnfuse::NodeTiles, " +
              std::to_string(node_kernels.size()) + ">{" + nodes + "}";
  }
  structs << "  // Which plan a call takes (nnfuse::describe, <nnfuse/runtime/describe.hpp>).\n"
          << "  static constexpr nnfuse::PlanFamily plan_family = " << family << ";\n"
          << "  static constexpr std::string_view autoscheduler = \"" << row.autoscheduler
          << "\";\n"
          << "  // An autoscheduled plan was made for this batch and runs from it up; a smaller "
             "batch runs\n  // `manual`'s tiles.\n"
          << "  static constexpr std::size_t typical_batch = " << options.typical_batch << ";\n"
          << "  static constexpr bool small_batch_fallback = "
          << (row.small_batch_fallback ? "true" : "false") << ";\n"
          << "  // From these many multiply-adds per call a node's tiles run on Halide's thread "
             "pool, and\n  // a pass over rows without matmul from these many elements.\n"
          << "  static constexpr std::size_t parallel_macs = " << parallel_threshold_macs << ";\n"
          << "  static constexpr std::size_t parallel_elements = " << parallel_threshold_elements
          << ";\n"
          << "  // Per variant: `fused`'s rows per chunk (one micro-kernel tile).\n"
          << "  static constexpr std::array<std::size_t, " << variants << "> chunk_rows{"
          << chunk_rows << "};\n"
          << "  // Per variant and node: the tile (rows x columns) of each of the micro-kernel's "
             "row plans,\n  // tallest first; a batch takes the first whose rows it fills "
             "(none: no matmul).\n"
          << "  static_assert(nnfuse::max_row_plans >= " << most_plans
          << ", \"more row plans than nnfuse::NodeTiles holds\");\n"
          << "  static constexpr std::array<std::array<nnfuse::NodeTiles, " << node_kernels.size()
          << ">, " << variants << "> node_tiles{\n"
          << tables << "};\n";
}

// Appends one schedule's declarations, C entry points (which tell the Halide function which of
// the micro-kernel's row plans the batch fills), pack functions, dispatchers and struct.
inline void emit_schedule(const GeneratorOptions& options, Schedule schedule,
                          const VariantLayouts& layouts, const std::vector<Kernel>& node_kernels,
                          const TrainingKernels* training,
                          const std::vector<TrainingNode>* statistics, GeneratedText& text) {
  const std::string sname = to_string(schedule);
  const std::string prefix = options.name + "__";
  std::ostringstream& decls = text.decls;
  std::ostringstream& source = text.source;
  std::ostringstream& structs = text.structs;

  // Declarations, the C entry points (which check every buffer argument in place of Halide's
  // checks, compile.hpp's ArgumentChecks, and tell the Halide function which of the
  // micro-kernel's row plans the batch fills), dispatchers and the schedule's struct.
  auto declare = [&](const std::string& fn, bool residual, int in_width, int out_width) {
    const std::string buffers = std::string("halide_buffer_t* input, ") +
                                (residual ? "halide_buffer_t* residual, " : "") +
                                "halide_buffer_t* packed, halide_buffer_t* output";
    const std::string pass =
        std::string("input, ") + (residual ? "residual, " : "") + "packed, output";
    for (std::size_t t = 0; t < options.variant_names.size(); ++t) {
      const std::string entry = fn + "__" + options.variant_names[t];
      const Halide::Target target(options.targets[t]);
      const bool small_fallback = info(schedule).small_batch_fallback;
      // The flags of the target's row plans (every kernel of a target takes them).
      const std::vector<RowPlan> plans = row_plans(target);
      std::string flag_params;
      std::string flags;
      std::string flag_values;
      for (std::size_t p = 0; p + 1 < plans.size(); ++p) {
        const std::string flag = "fills_" + std::to_string(plans[p].rows);
        flag_params += "bool " + flag + ", ";
        flags += flag + ", ";
        flag_values +=
            "  const bool " + flag + " = rows >= " + std::to_string(plans[p].rows) + ";\n";
      }
      decls << "int " << entry << "(void* user_context, " << buffers << ");\n";
      source << "\nextern \"C\" int " << entry << "__halide(void* user_context, " << flag_params
             << buffers << ");\n";
      if (small_fallback) {
        source << "extern \"C\" int " << entry << "__small__halide(void* user_context, "
               << flag_params << buffers << ");\n";
      }
      const std::size_t floats = layouts.distinct[layouts.of_variant[t]].floats;
      auto check = [](const std::string& call) {
        return "  if (const int code = nnfuse::" + call + ") return code;\n";
      };
      source << "extern \"C\" int " << entry << "(void* user_context, " << buffers << ") {\n"
             << "  static constexpr const char* kernel = \"" << entry << "\";\n"
             << check(R"(check_rows(user_context, kernel, "Output", "output", output, )" +
                      std::to_string(out_width) + ", 0)")
             << "  const int rows = output->dim[1].extent;\n"
             << check(R"(check_rows(user_context, kernel, "Input", "input", input, )" +
                      std::to_string(in_width) + ", rows)");
      if (residual) {
        source << check(R"(check_rows(user_context, kernel, "Input", "residual", residual, )" +
                        std::to_string(out_width) + ", rows)");
      }
      source << check("check_packed(user_context, kernel, packed, " + std::to_string(floats) + ")")
             << flag_values;
      if (small_fallback) {
        source << "  if (rows < " << options.typical_batch << ") return " << entry
               << "__small__halide(user_context, " << flags << pass << ");\n";
      }
      source << "  return " << entry << "__halide(user_context, " << flags << pass << ");\n}\n";
    }
  };
  declare(prefix + "forward__" + sname, false, node_kernels.front().in_width,
          node_kernels.back().out_width);
  for (const auto& k : node_kernels) {
    declare(k.function, k.reads_residual, k.in_width, k.out_width);
  }

  const std::string ns = "nnfuse::generated::" + options.name;
  source << "\n// ---- schedule " << sname << "\n";
  // One pack and one unpack function per distinct layout, and the members that choose.
  const std::size_t layout_count = layouts.distinct.size();
  source << "namespace {\n";
  for (std::size_t l = 0; l < layout_count; ++l) {
    const std::string id = sname + "_" + std::to_string(l);
    source << pack_function_source(layouts.distinct[l], "pack_" + id)
           << pack_function_source(layouts.distinct[l], "unpack_" + id, true);
  }
  source << "}  // namespace\n";
  for (const bool unpack : {false, true}) {
    const std::string fn = unpack ? "unpack" : "pack";
    source << "void " << ns << "::" << sname << "::" << fn << "(std::size_t layout, "
           << (unpack ? "const float* packed, float* torch" : "const float* torch, float* packed")
           << ") noexcept {\n  switch (layout) {\n";
    for (std::size_t l = 0; l < layout_count; ++l) {
      source << "    case " << l << ": " << fn << "_" << sname << "_" << l
             << (unpack ? "(packed, torch);" : "(torch, packed);") << " return;\n";
    }
    source << "    default: return;\n  }\n}\n";
  }
  auto dispatcher = [&](const std::string& fn, const std::string& member, bool residual) {
    source << "int " << ns << "::" << sname << "::" << member
           << "(void* user_context, halide_buffer_t* input, halide_buffer_t* residual, "
              "halide_buffer_t* packed, halide_buffer_t* output) noexcept {\n"
           << "  (void)residual;\n  switch (selected_variant_index()) {\n";
    for (std::size_t v = 0; v < options.variant_names.size(); ++v) {
      source << "    case " << v << ": return " << fn << "__" << options.variant_names[v]
             << "(user_context, input, " << (residual ? "residual, " : "") << "packed, output);\n";
    }
    source << "    default: return -1;\n  }\n}\n";
  };
  dispatcher(prefix + "forward__" + sname, "forward", false);
  for (std::size_t k = 0; k < node_kernels.size(); ++k) {
    dispatcher(node_kernels[k].function, "node" + std::to_string(k),
               node_kernels[k].reads_residual);
  }

  structs << "// Schedule `" << sname << "`: weights packed " << describe(info(schedule).weights)
          << ".\n";
  structs << "struct " << sname << " {\n"
          << "  using network = " << options.network_type << ";\n"
          << "  static constexpr std::string_view name = \"" << options.name << "\";\n"
          << "  static constexpr std::string_view schedule = \"" << sname << "\";\n"
          << "  // The packed layouts: variant v's kernels read layout variant_layouts[v], of\n"
          << "  // layout_floats[] floats (the panels follow each target's micro-kernel).\n"
          << "  static constexpr std::array<std::size_t, " << layouts.of_variant.size()
          << "> variant_layouts{" << join(layouts.of_variant) << "};\n"
          << "  static constexpr std::array<std::size_t, " << layout_count << "> layout_floats{"
          << join(layouts.distinct, [](const PackedLayout& l) { return l.floats; }) << "};\n"
          << "  // How the epilogues were evaluated: \"fast\" (float32) or \"exact\" (float64).\n"
          << "  static constexpr std::string_view precision = \"" << to_string(options.precision)
          << "\";\n"
          << "  // Every element is read before it is written: an elementwise network may run in "
             "place.\n"
          << "  static constexpr bool in_place_safe = "
          << (info(schedule).in_place ? "true" : "false") << ";\n"
          << "  // PyTorch's parameter block into a layout, and back (padding dropped).\n"
          << "  static void pack(std::size_t layout, const float* torch, float* packed) "
             "noexcept;\n"
          << "  static void unpack(std::size_t layout, const float* packed, float* torch) "
             "noexcept;\n"
          << "  // Kernel functions share one signature; `residual` is ignored by kernels "
             "that read none.\n"
          << "  static int forward(void* user_context, halide_buffer_t* input, halide_buffer_t* "
             "residual, halide_buffer_t* packed, halide_buffer_t* output) noexcept;\n";
  for (std::size_t k = 0; k < node_kernels.size(); ++k) {
    structs << "  static int node" << k << "(void* user_context, halide_buffer_t* input, "
            << "halide_buffer_t* residual, halide_buffer_t* packed, halide_buffer_t* output) "
               "noexcept;  // "
            << node_kernels[k].function << "\n";
  }
  structs << "  static constexpr std::array<nnfuse::KernelFn, " << node_kernels.size()
          << "> nodes{";
  for (std::size_t k = 0; k < node_kernels.size(); ++k) structs << (k ? ", " : "") << "&node" << k;
  structs << "};\n  static constexpr std::array<std::string_view, " << node_kernels.size()
          << "> node_names{";
  for (std::size_t k = 0; k < node_kernels.size(); ++k) {
    structs << (k ? ", " : "") << "\"" << node_kernels[k].function << "\"";
  }
  structs << "};\n  // The whole network per target variant (index into variant_names); a variant "
             "before\n  // selected_variant_index() needs CPU features this machine lacks.\n"
          << "  static constexpr std::array<nnfuse::ForwardFn, " << options.variant_names.size()
          << "> forward_variants{";
  for (std::size_t v = 0; v < options.variant_names.size(); ++v) {
    structs << (v ? ", " : "") << "&" << prefix << "forward__" << sname << "__"
            << options.variant_names[v];
  }
  structs << "};\n  static constexpr std::span<const std::string_view> variants = variant_names;\n"
          << "  static std::size_t selected_variant_index() noexcept { return "
          << "nnfuse::generated::" << options.name << "::selected_variant_index(); }\n"
          << "  static std::string_view selected_variant() noexcept { return "
             "variant_names[selected_variant_index()]; }\n"
          << "  static std::size_t selected_layout() noexcept { return "
             "variant_layouts[selected_variant_index()]; }\n";
  emit_plans(options, schedule, node_kernels, structs);
  if (statistics != nullptr) {
    emit_statistics(options, schedule, *statistics, text);
  } else {
    structs
        << "  // No statistics kernels (nnfuse_add_network(... STATISTICS) makes them for every "
           "schedule but fused).\n  static constexpr bool has_statistics = false;\n";
  }
  if (training != nullptr) {
    emit_training(options, schedule, layouts, *training, text);
  } else {
    structs << "  // No training kernels (nnfuse_add_network(... LOSS ...) makes them for every "
               "schedule but fused).\n  static constexpr bool trains = false;\n";
  }
  structs << "};\n\n";
}

// Writes <output_dir>/nnfuse/generated/<name>.hpp, <name>_kernels.cpp and <name>_kernels.a.
inline void write_outputs(const GeneratorOptions& options, const GeneratedText& text,
                          const std::vector<std::string>& objects) {
  const std::ostringstream& decls = text.decls;
  const std::ostringstream& structs = text.structs;
  const std::ostringstream& source = text.source;
  // Variant selection, shared by the schedules: the first target this CPU can run, as Halide's
  // runtime sees it (cpuid on x86; on AArch64 nnfuse's runtime installs a getauxval check).
  std::ostringstream select;
  select << "std::size_t nnfuse::generated::" << options.name
         << "::selected_variant_index() noexcept {\n"
         << "  static const std::size_t chosen = [] {\n";
  for (std::size_t t = 0; t + 1 < options.targets.size(); ++t) {
    std::size_t count = 0;
    const std::string words = feature_words(Halide::Target(options.targets[t]), count);
    select << "    {\n      static constexpr std::uint64_t features[" << count << "] = " << words
           << ";\n      if (halide_can_use_target_features(" << count
           << ", features) != 0) return std::size_t{" << t << "};  // " << options.variant_names[t]
           << "\n    }\n";
  }
  // The last target is the baseline, run when no other one is usable.
  select << "    return std::size_t{" << options.targets.size() - 1
         << "};\n  }();\n  return chosen;\n}\n";

  const std::string provenance =
      "// Auto-generated file. Do not edit!\n// Generated by nnfuse " NNFUSE_VERSION_STRING
      " (generators/include/nnfuse/generators/network.hpp) from\n//   spec:     " +
      options.spec_header + "\n//   network:  " + options.network_type + "\n//   targets: ";
  std::string targets_line;
  for (std::size_t t = 0; t < options.targets.size(); ++t) {
    targets_line += " " + options.variant_names[t] + "=" + options.targets[t];
  }

  std::filesystem::create_directories(options.output_dir + "/nnfuse/generated");
  std::ofstream header(options.output_dir + "/nnfuse/generated/" + options.name + ".hpp");
  header << provenance << targets_line << "\n#pragma once\n\n#include <HalideRuntime.h>\n\n"
         << "#include <array>\n#include <cstddef>\n#include <span>\n#include "
            "<string_view>\n#include <tuple>\n\n"
         << "#include <nnfuse/runtime/kernel.hpp>\n#include <nnfuse/runtime/model.hpp>\n"
         // <>, not "": a spec named like its network (mnist_mlp.hpp) would find this header
         << "#include <" << options.spec_header << ">  // the spec, on the include path\n\n"
         << "extern \"C\" {\n"
         << decls.str() << "}\n\n"
         << "namespace nnfuse::generated::" << options.name << " {\n\n"
         << "inline constexpr std::array<std::string_view, " << options.variant_names.size()
         << "> variant_names{";
  for (std::size_t t = 0; t < options.variant_names.size(); ++t) {
    header << (t ? ", " : "") << "\"" << options.variant_names[t] << "\"";
  }
  header << "};\n// The Halide target each variant was compiled for (`host` resolved when "
            "generated).\n"
         << "inline constexpr std::array<std::string_view, " << options.targets.size()
         << "> variant_targets{";
  for (std::size_t t = 0; t < options.targets.size(); ++t) {
    header << (t ? ", " : "") << "\"" << options.targets[t] << "\"";
  }
  header << "};\n// The variant this CPU runs (index into variant_names), chosen once.\n"
         << "std::size_t selected_variant_index() noexcept;\n\n"
         << structs.str();
  // Every schedule built, in SCHEDULES order (benchmarks and tests iterate over it).
  header << "using schedules = std::tuple<";
  for (std::size_t s = 0; s < options.schedules.size(); ++s) {
    header << (s ? ", " : "") << to_string(options.schedules[s]);
  }
  header << ">;\n\n}  // namespace nnfuse::generated::" << options.name << "\n";

  std::ofstream cpp(options.output_dir + "/" + options.name + "_kernels.cpp");
  cpp << provenance << targets_line << "\n#include <nnfuse/generated/" << options.name
      << ".hpp>\n\n"
      << "#include <algorithm>\n#include <cstddef>\n#include <cstdint>\n\n"
      << select.str() << source.str();

  // All kernel objects in one archive, so the build needs no list of kernel names.
  Halide::create_static_library(objects, Halide::Target(options.targets.back()),
                                options.output_dir + "/" + options.name + "_kernels.a");
}

}  // namespace nnfuse::generators
