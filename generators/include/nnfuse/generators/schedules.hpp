// Every schedule's plan (schedules/), and the dispatch from a Schedule value to its plan, made
// from the table (schedules.def). A hand-written schedule adds its file's #include here.
#pragma once

#include <stdexcept>
#include <vector>

#include <Halide.h>

#include <nnfuse/generators/pipeline.hpp>
#include <nnfuse/generators/schedule.hpp>
#include <nnfuse/generators/schedules/fused.hpp>
#include <nnfuse/generators/schedules/manual.hpp>
#include <nnfuse/generators/schedules/naive.hpp>
#include <nnfuse/generators/schedules/plan.hpp>

namespace nnfuse::generators {

// Arranges a whole network's nodes for `schedule`; returns the pipeline's output Func.
inline Halide::Func schedule_network(Schedule schedule, std::vector<detail::NodeFuncs>& nodes,
                                     const Halide::Target& target, const detail::NodePlan& plan,
                                     int out_width) {
  switch (schedule) {
// An X-macro over schedules.def, the one list of schedules (see there).
// NOLINTBEGIN(cppcoreguidelines-macro-usage, bugprone-macro-parentheses)
#define NNFUSE_SCHEDULE(name, autoscheduler, weights, micro_kernel, fallback, in_place) \
  case Schedule::name:                                                                  \
    return schedules::plan<Schedule::name>::network(nodes, target, plan, out_width);
#include <nnfuse/generators/schedules.def>
#undef NNFUSE_SCHEDULE
    // NOLINTEND(cppcoreguidelines-macro-usage, bugprone-macro-parentheses)
  }
  throw std::logic_error("nnfuse generator: a schedule missing from schedules.def");
}

// Arranges one fused node, compiled as a pipeline of its own, for `schedule`.
inline void schedule_single_node(Schedule schedule, detail::NodeFuncs& node,
                                 const Halide::Target& target) {
  switch (schedule) {
// An X-macro over schedules.def, the one list of schedules (see there).
// NOLINTBEGIN(cppcoreguidelines-macro-usage, bugprone-macro-parentheses)
#define NNFUSE_SCHEDULE(name, autoscheduler, weights, micro_kernel, fallback, in_place) \
  case Schedule::name:                                                                  \
    schedules::plan<Schedule::name>::node(node, target);                                \
    return;
#include <nnfuse/generators/schedules.def>
#undef NNFUSE_SCHEDULE
    // NOLINTEND(cppcoreguidelines-macro-usage, bugprone-macro-parentheses)
  }
  throw std::logic_error("nnfuse generator: a schedule missing from schedules.def");
}

}  // namespace nnfuse::generators
