// `fused`: whole-network fusion. The output is cut into chunks of one micro-kernel tile's rows,
// parallel over chunks, and every node is computed per chunk with `manual`'s plan, so hidden
// activations never leave L1 between layers. A one-node network has nothing to fuse and gets
// `manual`'s plan (chunks of rows only re-read the weights: measured 29 against 80 GFLOP/s on
// (128, 4096, 4096)).
#pragma once

#include <cstddef>
#include <vector>

#include <Halide.h>

#include <nnfuse/generators/packing.hpp>
#include <nnfuse/generators/schedules/manual.hpp>
#include <nnfuse/generators/targets.hpp>

namespace nnfuse::generators::schedules {

template <>
struct plan<Schedule::fused> {
  static Halide::Func network(std::vector<detail::NodeFuncs>& nodes, const Halide::Target& target,
                              const detail::NodePlan& plan, int out_width) {
    if (nodes.size() == 1)
      return schedules::plan<Schedule::manual>::network(nodes, target, plan, out_width);
    // A trivial output Func cut into chunks of rows, every node computed per chunk. A batch
    // smaller than a chunk is one chunk.
    const int chunk_rows = fused_chunk_rows(target);
    const Halide::Func forward = nodes.back().out;
    Halide::Func result("result");
    const Halide::Var n("n");
    const Halide::Var b("b");
    const Halide::Var chunk("chunk");
    const Halide::Var rows("rows");
    result(n, b) = forward(n, b);
    int lanes = epilogue_lanes(target);
    while (lanes > 1 && lanes > out_width) lanes /= 2;
    if (lanes > 1) result.vectorize(n, lanes, Halide::TailStrategy::ShiftInwards);
    result.specialize(plan.batch >= chunk_rows)
        .split(b, chunk, rows, chunk_rows, Halide::TailStrategy::ShiftInwards)
        .parallel(chunk);
    result.split(b, chunk, rows, plan.batch, Halide::TailStrategy::RoundUp);  // one chunk
    const detail::Placement inside{Halide::LoopLevel(result, chunk), false, false};
    for (auto& node : nodes) {
      node.out.compute_at(result, chunk);
      detail_manual::schedule_node(node, target, inside);
    }
    return result;
  }
  static void node(detail::NodeFuncs& node, const Halide::Target& target) {
    schedules::plan<Schedule::manual>::node(node, target);
  }
};

}  // namespace nnfuse::generators::schedules
