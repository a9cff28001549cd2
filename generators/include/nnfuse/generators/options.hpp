// What a generator program was asked to make (generator_main.hpp parses its command line): the
// network, where the outputs go, the schedules and targets, and the autoschedulers' inputs.
#pragma once

#include <string>
#include <vector>

#include <nnfuse/generators/precision.hpp>
#include <nnfuse/generators/schedule.hpp>

namespace nnfuse::generators {

struct GeneratorOptions {
  std::string name;         // the network's name (`mnist_mlp`)
  std::string spec_header;  // the spec's file name: the generated header includes it through the
                            // include path (no absolute path is written)
  std::string network_type;
  std::string output_dir;  // where objects, the header and the C++ source go
  std::vector<Schedule> schedules;
  Precision precision = Precision::fast;  // of every kernel's epilogue
  // Halide target strings; several make a multi-target build, the last one the baseline.
  std::vector<std::string> targets;
  std::vector<std::string> variant_names;  // one per target: `avx512`, `baseline`, ...
  // For the autoschedulers: the plugins to load, the batch size to plan for, and Halide's
  // machine parameters (parallelism, last-level cache bytes, load cost / arithmetic cost).
  std::vector<std::string> plugins;
  int typical_batch = 32;
  std::string machine_params = "2,33554432,40";
  // The loss's C++ type as the spec names it (`nnfuse::CrossEntropy`), for the generated struct;
  // empty when the network is built for inference only.
  std::string loss_type;
  // Also write each kernel's lowered statement (<kernel>__<variant>__halide.stmt).
  bool emit_stmt = false;
  // Also make the statistics kernels (per node that keeps z: the training forward's outputs and
  // per-unit counts, training.hpp's unit_counts) for every schedule but fused.
  bool statistics = false;
};

}  // namespace nnfuse::generators
