// Ahead-of-time compilation: each pipeline is built and scheduled once per target (schedules
// depend on the target's registers), autoscheduled where its schedule's row says so, and
// compiled to an object with no Halide runtime of its own (one shared runtime serves every
// library, Halide #4894).
#pragma once

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <Halide.h>

#include <nnfuse/generators/options.hpp>
#include <nnfuse/generators/pipeline.hpp>
#include <nnfuse/generators/schedule.hpp>

namespace nnfuse::generators {

// Halide's load_plugin registers the autoscheduler again on every call; a generator program
// that makes several networks loads each plugin once.
inline void load_plugin_once(const std::string& path) {
  static std::vector<std::string> loaded;
  if (std::find(loaded.begin(), loaded.end(), path) != loaded.end()) return;
  Halide::load_plugin(path);
  loaded.push_back(path);
}

namespace detail {

// Builds the (scheduled) pipeline of a kernel for a target and a schedule.
using PipelineBuilder = std::function<BuiltPipeline(const Halide::Target&, Schedule)>;

inline void compile_one(BuiltPipeline built, const Halide::Target& target,
                        const std::string& function, const GeneratorOptions& options,
                        std::vector<std::string>& objects) {
  const std::string file = options.output_dir + "/" + function + ".o";
  built.pipeline.compile_to_object(file, built.args, function, target);
  if (options.emit_stmt) {  // for reading what a schedule became
    built.pipeline.compile_to_lowered_stmt(options.output_dir + "/" + function + ".stmt",
                                           built.args, Halide::StmtOutputFormat::Text, target);
  }
  objects.push_back(file);
}

// Who checks a kernel's buffer arguments. `entry_point`: its generated C entry point
// (nnfuse::check_rows / check_packed, kernel.hpp), so the Halide function is compiled without
// Halide's own checks and bounds query (no_asserts, no_bounds_query), which cost a fifth to a
// third of a small network's call: through Model::forward at batch 1, a 64 -> 64 Tanh layer
// took 383 ns with them and 262 ns without, an 8 -> 16 -> 16 -> 1 Tanh network 280 and 223 ns
// (host target, Zen 4, one thread, 2026-12-04; no_bounds_query alone changed nothing). The
// forward and node kernels, whose entry points emit.hpp writes with those checks, take it; the
// training kernels keep Halide's.
enum class ArgumentChecks { halide, entry_point };

// Builds the pipeline once per target (schedules depend on the target's registers) and
// compiles each to the Halide function <fn>__<variant>__halide, which the C entry point
// <fn>__<variant> wraps (generate()). An autoscheduled pipeline is planned for the typical
// batch and may split rows by more than a smaller batch has, so it comes with a
// <fn>__<variant>__small__halide built with `manual`, which the entry point runs below the
// typical batch.
inline void compile_variants(const PipelineBuilder& build, const std::string& fn, Schedule schedule,
                             const GeneratorOptions& options, std::vector<std::string>& objects,
                             ArgumentChecks checks = ArgumentChecks::halide) {
  for (std::size_t t = 0; t < options.targets.size(); ++t) {
    // No runtime in the kernels: one shared runtime serves every library (Halide #4894).
    Halide::Target target = Halide::Target(options.targets[t])
                                .with_feature(Halide::Target::NoRuntime)
                                .with_feature(Halide::Target::UserContext);
    if (checks == ArgumentChecks::entry_point) {
      target = target.with_feature(Halide::Target::NoAsserts)
                   .with_feature(Halide::Target::NoBoundsQuery);
    }
    const std::string variant_fn = fn + "__" + options.variant_names[t];
    BuiltPipeline built = build(target, schedule);
    const ScheduleInfo& row = info(schedule);
    if (!row.autoscheduler.empty()) {
      // The schedule the autoscheduler chose, as C++, next to the object (for reading, and
      // for checking in where a network ships), with what it was made for.
      const Halide::AutoSchedulerResults results = built.pipeline.auto_schedule(
          std::string(row.autoscheduler), target, Halide::MachineParams(options.machine_params));
      std::ofstream(options.output_dir + "/" + variant_fn + ".schedule.h")
          << "// " << variant_fn << ": Halide 14's " << row.autoscheduler << " for "
          << options.targets[t] << ", typical batch " << options.typical_batch
          << ", machine parameters " << options.machine_params << "\n"
          << results.schedule_source;
    }
    if (row.small_batch_fallback) {
      compile_one(build(target, Schedule::manual), target, variant_fn + "__small__halide", options,
                  objects);
    }
    compile_one(std::move(built), target, variant_fn + "__halide", options, objects);
  }
}

}  // namespace detail
}  // namespace nnfuse::generators
