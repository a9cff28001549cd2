// nnfuse::describe<Compiled>(batch): which code a call of `batch` rows runs, read from the tables
// the generator wrote into the schedule's struct (plan_family, node_tiles, typical_batch, the
// thread thresholds, chunk_rows), so it says what the kernels were built to do, not what a
// runtime guesses. Per fused node by the spec's names: the micro-kernel's plan the batch selects
// (`tall`, the target's full tile; `short`, a shorter one; `one-row`), its tile, how many tiles
// and rows it computes (the last row tile shifts inwards over the one before), whether its tiles
// run on Halide's thread pool, and whether an autoscheduled kernel's batch is below the one it
// was planned for, so that `manual`'s plan runs instead of the autoscheduler's. For `fused` the
// whole-network forward runs every node per chunk of rows, in parallel over chunks. The same
// table describes the node-by-node kernels (CallPath::node_by_node: Statistics, Trainer,
// profile), which are `manual`'s for `fused`. tests/runtime/describe_test.cpp holds it against the
// loops the kernels hand to Halide's thread pool.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nnfuse/dsl/graph.hpp>
#include <nnfuse/runtime/kernel.hpp>
#include <nnfuse/runtime/model.hpp>

namespace nnfuse {

// Which kernels a call goes through: the whole-network forward (Model::forward), or one kernel
// per node (Model::forward with Statistics, Trainer::step, nnfuse::profile).
enum class CallPath { forward, node_by_node };

struct NodeCall {
  std::string_view name;       // the spec's name of the fused node (`fc1_relu`)
  std::string plan;            // tall, short, one-row; elementwise; naive; the autoscheduler's name
  TileShape tile;              // the micro-kernel's tile (0 x 0 when the plan has none)
  std::size_t tiles = 0;       // row tiles x column tiles (per chunk inside `fused`)
  std::size_t rows = 0;        // rows the tiles compute: more than the batch when the last overlaps
  bool parallel = false;       // its tiles (a node without matmul: its rows) on Halide's pool
  bool parallel_rows = false;  // its row-wise epilogue's pass over rows on the pool
  bool fallback = false;       // an autoscheduled kernel below its planned batch: `manual`'s plan
};

struct CallPlan {
  std::size_t batch = 0;
  std::string_view schedule;
  std::string_view variant;
  CallPath path = CallPath::forward;
  std::size_t chunk_rows = 0;  // `fused`'s whole-network forward: rows per chunk, else 0
  std::size_t chunks = 0;
  bool parallel_chunks = false;
  // An autoscheduled plan's batch (0 otherwise): from it up the autoscheduler's own tiles and
  // threads run, which its .schedule.h shows (nodes[i].plan names the autoscheduler).
  std::size_t planned_batch = 0;
  std::vector<NodeCall> nodes;

  [[nodiscard]] std::string to_string() const {
    std::string text = std::string(schedule) + " on " + std::string(variant) + ", batch " +
                       std::to_string(batch) +
                       (path == CallPath::forward ? ", whole-network forward" : ", node by node");
    if (chunk_rows > 0) {
      text += ": " + std::to_string(chunks) + " chunk" + (chunks == 1 ? "" : "s") + " of " +
              std::to_string(chunk_rows) + (chunk_rows == 1 ? " row" : " rows") +
              (parallel_chunks ? " in parallel" : ", one thread");
    }
    text += "\n";
    char line[200];  // NOLINT(*-avoid-c-arrays)
    for (const NodeCall& n : nodes) {
      std::snprintf(line, sizeof line, "  %-20.*s %-16s", static_cast<int>(n.name.size()),
                    n.name.data(), n.plan.c_str());
      text += line;
      std::string details;
      if (n.tile.rows > 0) {
        std::snprintf(line, sizeof line, "tile %zu x %zu, %zu tile%s over %zu row%s, ", n.tile.rows,
                      n.tile.columns, n.tiles, n.tiles == 1 ? "" : "s", n.rows,
                      n.rows == 1 ? "" : "s");
        details += line;
      }
      if (n.fallback || planned_batch == 0) {
        details += n.parallel ? "threads" : "one thread";
      } else {
        details += "its own tiles and threads, planned for batch " + std::to_string(planned_batch);
      }
      if (n.parallel_rows) details += ", row-wise pass in parallel";
      if (n.fallback) details += " (below the planned batch: manual's plan)";
      text += " " + details + "\n";
    }
    return text;
  }
};

template <class Compiled>
CallPlan describe(std::size_t batch, CallPath path = CallPath::forward,
                  std::size_t variant = Compiled::selected_variant_index()) {
  using G = graph<typename Compiled::network>;
  const std::string who = "nnfuse::describe<" + std::string(Compiled::name) +
                          "::" + std::string(Compiled::schedule) + ">: ";
  if (batch == 0) throw std::invalid_argument(who + "the batch must be at least 1");
  if (variant >= Compiled::variants.size()) {
    throw std::invalid_argument(who + "variant " + std::to_string(variant) + " does not exist (" +
                                std::to_string(Compiled::variants.size()) + " variants)");
  }
  CallPlan plan;
  plan.batch = batch;
  plan.schedule = Compiled::schedule;
  plan.variant = Compiled::variants[variant];
  plan.path = path;
  PlanFamily family = Compiled::plan_family;
  // `fused`'s node kernels are `manual`'s.
  if (family == PlanFamily::chunked && path == CallPath::node_by_node) family = PlanFamily::tiled;
  const bool fallback = family == PlanFamily::autoscheduled && Compiled::small_batch_fallback &&
                        batch < Compiled::typical_batch;
  if (family == PlanFamily::autoscheduled) plan.planned_batch = Compiled::typical_batch;
  if (fallback) family = PlanFamily::tiled;
  // Inside a chunk a node sees the chunk's rows, one thread; the plan is chosen by the batch.
  std::size_t rows_per_call = batch;
  bool threads = family != PlanFamily::naive;
  if (family == PlanFamily::chunked) {
    const std::size_t chunk = Compiled::chunk_rows[variant];
    plan.parallel_chunks = batch >= chunk;
    plan.chunks = plan.parallel_chunks ? (batch + chunk - 1) / chunk : 1;
    plan.chunk_rows = std::min(batch, chunk);
    rows_per_call = plan.chunk_rows;
    threads = false;
  }
  for (std::size_t i = 0; i < G::node_count; ++i) {
    const auto& node = G::nodes[i];
    NodeCall call;
    call.name = detail::node_label<Compiled>(i);
    call.fallback = fallback;
    const std::size_t row_elements = batch * node.out_width;
    if (family == PlanFamily::naive) {
      call.plan = "naive";
    } else if (family == PlanFamily::autoscheduled) {
      call.plan = Compiled::autoscheduler;
    } else if (!node.has_matmul) {
      call.plan = "elementwise";
      call.parallel = threads && row_elements >= Compiled::parallel_elements;
      call.parallel_rows =
          threads && node.has_row_epilogue && row_elements >= Compiled::parallel_elements;
    } else {
      const NodeTiles& tiles = Compiled::node_tiles[variant][i];
      std::size_t p = 0;
      while (p + 1 < tiles.count && batch < tiles.tiles[p].rows) ++p;
      call.tile = tiles.tiles[p];
      call.plan = p == 0 ? "tall" : call.tile.rows == 1 ? "one-row" : "short";
      const std::size_t row_tiles = (rows_per_call + call.tile.rows - 1) / call.tile.rows;
      call.tiles = row_tiles * ((node.out_width + call.tile.columns - 1) / call.tile.columns);
      call.rows = row_tiles * call.tile.rows;
      call.parallel = threads && batch * node.in_width * node.out_width >= Compiled::parallel_macs;
      call.parallel_rows =
          threads && node.has_row_epilogue && row_elements >= Compiled::parallel_elements;
    }
    plan.nodes.push_back(std::move(call));
  }
  return plan;
}

}  // namespace nnfuse
