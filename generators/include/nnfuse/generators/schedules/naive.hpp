// `naive`: the algorithm as written, PyTorch's weight layout, nothing vectorized or parallel:
// each node's accumulator is computed per output row, every tensor at the root. The baseline
// every other schedule is measured and checked against.
#pragma once

#include <cstddef>
#include <vector>

#include <nnfuse/generators/schedules/plan.hpp>

namespace nnfuse::generators::schedules {

namespace detail_naive {
inline void schedule(detail::NodeFuncs& f) {
  const bool row_epilogue = f.out.name() != f.elementwise.name();
  if (f.accumulator) f.accumulator->compute_at(f.elementwise, f.elementwise.args()[1]);
  if (row_epilogue) f.elementwise.compute_root();
  for (auto& r : f.row_funcs) r.compute_root();
}
}  // namespace detail_naive

template <>
struct plan<Schedule::naive> {
  static Halide::Func network(std::vector<detail::NodeFuncs>& nodes,
                              const Halide::Target& /*target*/, const detail::NodePlan& /*plan*/,
                              int /*out_width*/) {
    for (std::size_t t = 0; t < nodes.size(); ++t) {
      if (t + 1 < nodes.size()) nodes[t].out.compute_root();
      detail_naive::schedule(nodes[t]);
    }
    return nodes.back().out;
  }
  static void node(detail::NodeFuncs& node, const Halide::Target& /*target*/) {
    detail_naive::schedule(node);
  }
};

}  // namespace nnfuse::generators::schedules
