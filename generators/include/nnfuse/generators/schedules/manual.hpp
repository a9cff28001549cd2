// `manual`: the hand-written per-layer plan. A node with a matmul runs a register-tiled
// outer-product micro-kernel sized from the target's registers (targets.hpp), with shorter
// plans for batches shorter than its tile; elementwise and row-wise epilogues are vectorized
// along the row. Every node is computed at the root; `fused` reuses these plans per chunk.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <vector>

#include <Halide.h>

#include <nnfuse/generators/packing.hpp>
#include <nnfuse/generators/schedules/plan.hpp>
#include <nnfuse/generators/targets.hpp>

namespace nnfuse::generators::schedules {

namespace detail_manual {
using detail::NodeFuncs;
using detail::Placement;

// The `manual` plan of a node with a matmul. A batch of at least `rows` rows is cut into
// tiles of one weight panel (the target's micro-kernel, targets.hpp: 32 columns on AVX-512, 16
// elsewhere) by `rows` rows; each tile accumulates X·Wᵀ over all of K in registers (k
// outermost, the rows unrolled, the panel's columns whole vectors): an outer product of a
// panel's contiguous packed weights with one broadcast X element per row, every accumulator in
// a register, K summed in blocks (pipeline.hpp's accumulation_block) whose sums are added in
// L1. Bias and activation are applied to the tile while it is in registers/L1. Tiles
// run n outer, row tile inner, so a panel ([K][32], 100 KiB at K = 784) stays in L2 while every
// row tile passes over it.
// A shorter batch takes the tallest of the shorter plans it fills (row_plans: half the rows
// each, as many panels as the registers hold, down to one row of four panels for B = 1, a
// matrix-vector product), so each weight load still serves several rows.
// Columns past N are guarded in an output (computed into padding in an intermediate); rows
// past the batch are shifted inwards. Every tile starts on a panel boundary, so weight loads
// are aligned vectors.
// Measured on the 2-core AVX2 machine (2026-11-27): a 64-column tall tile let LLVM spill an
// accumulator inside the k loop (forward 40 % slower than the node alone); one panel per tall
// tile keeps all twelve in registers. With ReLU, 1 thread (scripts/bench.sh, medians of 10,
// FMA peak 101 GFLOP/s): (32,784,128) 81 GFLOP/s = 79 % of peak (B = 32 computes 36 rows in
// 6-row tiles), (64,512,512) 87 = 84 %, (256,1024,1024) 85 = 82 %, (128,4096,4096) 74 = 72 %;
// the short plan at (1,784,128) 41 GFLOP/s, bound by L2 bandwidth (400 KiB of weights per row).
// On the 2-core Sapphire Rapids (AVX-512, 2026-12-01, medians of 5): (32,784,128) took 88.6 us
// with 16 x 12 tiles and 42.7 us with 32 x 8 (oneDNN 48.2 us in the same session).
inline void schedule_dense(NodeFuncs& f, const Halide::Target& target, bool pipeline_output,
                           bool threads) {
  // The panel width (the target's, or narrower for a narrow layer), as the packed layout has it
  // (packing.hpp); weights in another layout (an autoscheduled kernel's small-batch fallback)
  // are tiled the same way. Each plan's tile spans panels that divide the padded weights, so it
  // never leaves them.
  const int panel = panel_columns(target, f.out_width);
  const std::vector<LayerTile> tiles = layer_tiles(target, f.out_width);
  Halide::Func y = f.elementwise;
  const Halide::Var n = y.args()[0];
  const Halide::Var b = y.args()[1];
  const Halide::Var no("no");
  const Halide::Var ni("ni");
  const Halide::Var bo("bo");
  const Halide::Var bi("bi");
  const Halide::Var tile("tile");
  const Halide::Var nv("nv");
  const Halide::Var nl("nl");
  const Halide::Expr worth_threads =
      f.batch * (f.out_width * f.in_width) >= parallel_threshold_macs;
  // An intermediate is computed over whole tiles (its rows padded); an output buffer has the
  // exact width, so its last tile is guarded.
  const Halide::TailStrategy column_tail =
      pipeline_output ? Halide::TailStrategy::GuardWithIf : Halide::TailStrategy::RoundUp;

  auto tile_plan = [&](Halide::Stage s, int columns, int rows, bool parallel) {
    s.split(n, no, ni, columns, column_tail)
        .split(b, bo, bi, rows,
               rows == 1 ? Halide::TailStrategy::RoundUp : Halide::TailStrategy::ShiftInwards)
        .reorder(ni, bi, bo, no)
        .fuse(bo, no, tile)
        .vectorize(ni, epilogue_lanes(target), column_tail);
    if (parallel) s.parallel(tile);
  };
  // One specialization per plan, tallest first (plan p runs when fills[p] and no taller one
  // does); the last plan is what remains.
  std::vector<Halide::Stage> stages;
  for (const Halide::Expr& fills : f.plan_fills) stages.push_back(y.specialize(fills));
  stages.emplace_back(y);
  for (std::size_t p = 0; p < f.row_plans.size(); ++p) {
    const int columns = tiles[p].columns;
    // Not inside a fused chunk, which is itself one task.
    if (threads) tile_plan(stages[p].specialize(worth_threads), columns, tiles[p].rows, true);
    tile_plan(stages[p], columns, tiles[p].rows, false);

    // The plan's accumulator: its tile, summed block by block, and the block's sum, every
    // element a register (the tile's running sum waits in L1 while a block is summed).
    auto in_registers = [&](Halide::Func g, const Halide::RVar& k) {
      const Halide::Var gn = g.args()[0];
      const Halide::Var gb = g.args()[1];
      g.bound_extent(gn, columns).split(gn, nv, nl, panel).vectorize(nl).unroll(nv).unroll(gb);
      g.update()
          .split(gn, nv, nl, panel)
          .reorder(nl, nv, gb, k)
          .vectorize(nl)
          .unroll(nv)
          .unroll(gb);
    };
    Halide::Func acc = f.plan_accumulators[p];
    acc.compute_at(y, tile);
    in_registers(acc, f.k_blocks->x);
    f.plan_partials[p].compute_at(acc, f.k_blocks->x);
    in_registers(f.plan_partials[p], f.k_block->x);
  }
}

// Elementwise outputs (a node without matmul, a row-wise epilogue): vectorized along n,
// parallel over rows when large. An intermediate's last vector shifts inwards (overlaps the one
// before): Halide 14 left the stores of a GuardWithIf-split intermediate unpredicated, writing
// past the row (caught by valgrind). A pipeline output guards its last vector instead, so every
// element is read before it is written and an elementwise network can run in place
// (Model::forward_in_place). A node without matmul that reads the pipeline's input buffer
// (`streamed`: the first node of a network, or any node's own kernel) prefetches it
// streaming_prefetch_bytes ahead (targets.hpp).
inline void schedule_rows(Halide::Func& f, const Halide::Target& target, int width,
                          const Halide::Expr& batch, bool threads, bool pipeline_output,
                          const std::optional<Halide::ImageParam>& streamed = std::nullopt) {
  const Halide::Var n = f.args()[0];
  const Halide::Var b = f.args()[1];
  int lanes = epilogue_lanes(target);
  while (lanes > 1 && lanes > width) lanes /= 2;
  if (lanes > 1) {
    f.vectorize(
        n, lanes,
        pipeline_output ? Halide::TailStrategy::GuardWithIf : Halide::TailStrategy::ShiftInwards);
  }
  if (streamed) {
    // x86 and AArch64 prefetches do not fault, so the last row's prefetches past the buffer
    // need no guard (a guard would also stop each row's from reaching into the next).
    const int vectors_ahead = streaming_prefetch_bytes / (lanes * static_cast<int>(sizeof(float)));
    f.prefetch(*streamed, n, n, vectors_ahead, Halide::PrefetchBoundStrategy::NonFaulting);
  }
  if (threads) f.specialize(batch * width >= parallel_threshold_elements).parallel(b);
}

// Schedules node `f`; its output's own placement (root, or inside a fused chunk) is the
// caller's.
inline void schedule_node(NodeFuncs& f, const Halide::Target& target, const Placement& where) {
  const Halide::Expr& batch = f.batch;
  const bool row_epilogue = f.out.name() != f.elementwise.name();
  if (f.accumulator) {
    schedule_dense(f, target, where.pipeline_output && !row_epilogue, where.threads);
  } else if (row_epilogue) {
    schedule_rows(f.elementwise, target, f.out_width, batch, where.threads, false, f.input_buffer);
  }
  if (row_epilogue) {
    f.elementwise.compute_at(where.level);
    for (auto& r : f.row_funcs) r.compute_at(where.level);
    schedule_rows(f.out, target, f.out_width, batch, where.threads, where.pipeline_output);
  } else if (!f.accumulator) {
    schedule_rows(f.out, target, f.out_width, batch, where.threads, where.pipeline_output,
                  f.input_buffer);
  }
}

}  // namespace detail_manual

template <>
struct plan<Schedule::manual> {
  static Halide::Func network(std::vector<detail::NodeFuncs>& nodes, const Halide::Target& target,
                              const detail::NodePlan& /*plan*/, int /*out_width*/) {
    for (std::size_t t = 0; t < nodes.size(); ++t) {
      const bool last = t + 1 == nodes.size();
      if (!last) nodes[t].out.compute_root();
      detail_manual::schedule_node(nodes[t], target, {Halide::LoopLevel::root(), last, true});
    }
    return nodes.back().out;
  }
  static void node(detail::NodeFuncs& node, const Halide::Target& target) {
    detail_manual::schedule_node(node, target, {Halide::LoopLevel::root(), true, true});
  }
};

}  // namespace nnfuse::generators::schedules
