// How a schedule arranges the Funcs of a network (schedules.hpp dispatches on the table). The
// primary template is the autoschedulers' plan: they place every Func themselves (compile.hpp
// runs them), so a row of schedules.def with an autoscheduler needs no code of its own. A
// hand-written schedule specializes it in its own file under schedules/.
#pragma once

#include <cstddef>
#include <vector>

#include <Halide.h>

#include <nnfuse/generators/pipeline.hpp>
#include <nnfuse/generators/schedule.hpp>

namespace nnfuse::generators::schedules {

template <Schedule S>
struct plan {
  // The whole network's nodes, in order (the last one's output is the pipeline's unless the
  // plan wraps it): returns the Func the pipeline outputs.
  static Halide::Func network(std::vector<detail::NodeFuncs>& nodes,
                              const Halide::Target& /*target*/, const detail::NodePlan& /*plan*/,
                              int /*out_width*/) {
    return nodes.back().out;
  }
  // One fused node as a pipeline of its own (its output is the pipeline's).
  static void node(detail::NodeFuncs& /*node*/, const Halide::Target& /*target*/) {}
};

}  // namespace nnfuse::generators::schedules
