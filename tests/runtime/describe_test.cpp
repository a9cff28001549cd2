// nnfuse::describe against what the kernels really do: every parallel loop a kernel hands to
// Halide's thread pool goes through halide_do_par_for, whose size is the loop's task count, so a
// hook on it records, per call, the parallel loops that ran. The description of each schedule,
// batch and call path must predict exactly that sequence: the tiles of each parallel node (for
// the plan the batch selects, with its shifted last tile), the rows of a parallel pass over rows,
// `fused`'s chunks, nothing for `naive`, and below an autoscheduled kernel's planned batch the
// loops of `manual`'s plan. Batches 1 to 2 x the tallest tile + 1, and the typical batch's
// neighbours, on the seed network, a residual network with Softmax, a network of odd widths, an
// elementwise one and a Softmax alone.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <HalideRuntime.h>
#include <gtest/gtest.h>

#include <nnfuse/generated/test_elementwise.hpp>
#include <nnfuse/generated/test_mlp.hpp>
#include <nnfuse/generated/test_odd.hpp>
#include <nnfuse/generated/test_residual.hpp>
#include <nnfuse/generated/test_row_softmax.hpp>
#include <nnfuse/runtime/describe.hpp>

#include "../support/reference_check.hpp"
#include "each_schedule.hpp"

namespace {

// The task counts of the parallel loops run since the last take().
class ParallelLoops {
 public:
  ParallelLoops() { previous_ = halide_set_custom_do_par_for(&record); }
  ParallelLoops(const ParallelLoops&) = delete;
  ParallelLoops& operator=(const ParallelLoops&) = delete;
  ParallelLoops(ParallelLoops&&) = delete;
  ParallelLoops& operator=(ParallelLoops&&) = delete;
  ~ParallelLoops() { halide_set_custom_do_par_for(previous_); }

  std::vector<std::size_t> take() {
    const std::scoped_lock lock(mutex_);
    std::vector<std::size_t> taken;
    taken.swap(sizes_);
    return taken;
  }

 private:
  static int record(void* user_context, halide_task_t task, int min, int size,
                    std::uint8_t* closure) {
    {
      const std::scoped_lock lock(mutex_);
      sizes_.push_back(static_cast<std::size_t>(size));
    }
    return previous_(user_context, task, min, size, closure);
  }
  // Halide's hook is a plain function, so what it records is static.
  // NOLINTBEGIN(cppcoreguidelines-avoid-non-const-global-variables)
  static inline std::mutex mutex_;
  static inline std::vector<std::size_t> sizes_;
  static inline halide_do_par_for_t previous_ = nullptr;
  // NOLINTEND(cppcoreguidelines-avoid-non-const-global-variables)
};

// The parallel loops a plan predicts, in the order the kernels run them; false when it cannot
// say (an autoscheduler's own plan).
bool predicted_loops(const nnfuse::CallPlan& plan, std::vector<std::size_t>& loops) {
  loops.clear();
  if (plan.chunk_rows > 0) {
    if (plan.parallel_chunks) loops.push_back(plan.chunks);
    return true;
  }
  for (const nnfuse::NodeCall& node : plan.nodes) {
    if (plan.planned_batch > 0 && !node.fallback) return false;
    if (node.parallel) loops.push_back(node.tile.rows > 0 ? node.tiles : plan.batch);
    if (node.parallel_rows) loops.push_back(plan.batch);
  }
  return true;
}

template <class Compiled>
void check_batches(const std::vector<std::size_t>& batches) {
  using G = nnfuse::graph<typename Compiled::network>;
  const auto model = nnfuse::Model<Compiled>::from_parameters(
      nnfuse_test::random_parameters<typename Compiled::network>(3));
  nnfuse::Session session;
  ParallelLoops loops;
  std::vector<std::size_t> expected;
  for (const std::size_t batch : batches) {
    const auto input = nnfuse_test::random_floats(batch * G::in_width, 7, 1.0F);
    std::vector<float> output(batch * G::out_width);
    // The whole-network forward.
    const nnfuse::CallPlan forward = nnfuse::describe<Compiled>(batch);
    model.forward(session, input, output);
    const std::vector<std::size_t> ran = loops.take();
    if (predicted_loops(forward, expected)) {
      EXPECT_EQ(ran, expected) << forward.to_string();
    }
    // Node by node, through the per-node kernels.
    const nnfuse::CallPlan nodes =
        nnfuse::describe<Compiled>(batch, nnfuse::CallPath::node_by_node);
    ASSERT_EQ(nodes.nodes.size(), G::node_count);
    std::vector<std::vector<float>> tensors(G::node_count);
    const std::span<const float> packed = model.packed();
    nnfuse::detail::VectorBuffer weights(packed.data(), packed.size());
    for (std::size_t i = 0; i < G::node_count; ++i) {
      const auto& node = G::nodes[i];
      tensors[i].resize(batch * node.out_width);
      auto tensor = [&](std::size_t t) { return t == 0 ? input.data() : tensors[t - 1].data(); };
      nnfuse::detail::RowsBuffer in(tensor(node.input_tensor), node.in_width, batch);
      nnfuse::detail::RowsBuffer residual(tensor(node.residual_source), node.out_width, batch);
      nnfuse::detail::RowsBuffer out(tensors[i].data(), node.out_width, batch);
      const nnfuse::Session::Call call = session.begin_call();
      ASSERT_EQ(Compiled::nodes[i](call.user_context(), &in.buffer, &residual.buffer,
                                   &weights.buffer, &out.buffer),
                0);
      nnfuse::CallPlan one = nodes;
      one.nodes = {nodes.nodes[i]};
      if (predicted_loops(one, expected)) {
        EXPECT_EQ(loops.take(), expected) << Compiled::node_names[i] << "\n" << nodes.to_string();
      } else {
        (void)loops.take();
      }
    }
  }
}

// 1 to twice the tallest tile + 1, around the typical batch, and batches large enough for the
// passes over rows to go parallel.
template <class Compiled>
std::vector<std::size_t> batches_for() {
  std::size_t tallest = 1;
  for (const auto& variant : Compiled::node_tiles) {
    for (const nnfuse::NodeTiles& node : variant) {
      for (std::size_t p = 0; p < node.count; ++p) tallest = std::max(tallest, node.tiles[p].rows);
    }
  }
  std::vector<std::size_t> batches;
  for (std::size_t b = 1; b <= 2 * tallest + 1; ++b) batches.push_back(b);
  for (const std::size_t b : {Compiled::typical_batch - 1, Compiled::typical_batch,
                              Compiled::typical_batch + 1, std::size_t{100}, std::size_t{600}}) {
    if (b > 2 * tallest + 1) batches.push_back(b);
  }
  // Where a narrow network's passes over rows go parallel (Softmax over 7 or 10 columns).
  if (nnfuse::graph<typename Compiled::network>::in_width < 784) batches.push_back(2400);
  return batches;
}

TEST(Describe, PredictsTheParallelLoopsOfEveryScheduleAndBatch) {
  auto each = [](auto compiled) {
    using C = decltype(compiled);
    SCOPED_TRACE(std::string(C::name) + "::" + std::string(C::schedule));
    check_batches<C>(batches_for<C>());
  };
  nnfuse_test::for_each_schedule<nnfuse::generated::test_mlp::schedules>(each);
  nnfuse_test::for_each_schedule<nnfuse::generated::test_residual::schedules>(each);
  nnfuse_test::for_each_schedule<nnfuse::generated::test_odd::schedules>(each);
  nnfuse_test::for_each_schedule<nnfuse::generated::test_elementwise::schedules>(each);
  nnfuse_test::for_each_schedule<nnfuse::generated::test_row_softmax::schedules>(each);
}

TEST(Describe, SeedNetworkPlans) {
  using Manual = nnfuse::generated::test_mlp::manual;
  const nnfuse::NodeTiles& fc1 = Manual::node_tiles[Manual::selected_variant_index()][0];
  ASSERT_GE(fc1.count, 2U);
  // The tallest plan at a batch of whole tiles, one row at batch 1, tiles inside the layer.
  const nnfuse::CallPlan tall = nnfuse::describe<Manual>(4 * fc1.tiles[0].rows);
  ASSERT_EQ(tall.nodes.size(), 2U);
  EXPECT_EQ(tall.nodes[0].name, "fc1_relu");
  EXPECT_EQ(tall.nodes[0].plan, "tall");
  EXPECT_EQ(tall.nodes[0].rows, tall.batch);
  EXPECT_TRUE(tall.nodes[0].parallel);
  EXPECT_FALSE(tall.nodes[1].parallel);  // 128 x 10 is below the threads' threshold
  const nnfuse::CallPlan one = nnfuse::describe<Manual>(1);
  EXPECT_EQ(one.nodes[0].plan, "one-row");
  EXPECT_EQ(one.nodes[0].tile.rows, 1U);
  EXPECT_FALSE(one.nodes[0].parallel);
  for (std::size_t p = 0; p < fc1.count; ++p) {
    EXPECT_LE(fc1.tiles[p].columns, 128U);
    if (p > 0) {
      EXPECT_LT(fc1.tiles[p].rows, fc1.tiles[p - 1].rows);
    }
  }
  EXPECT_EQ(fc1.tiles[fc1.count - 1].rows, 1U);
  // A batch that is no multiple of the tile computes its last tile's overlap again.
  const nnfuse::CallPlan odd = nnfuse::describe<Manual>(fc1.tiles[0].rows + 1);
  EXPECT_EQ(odd.nodes[0].rows, 2 * fc1.tiles[0].rows);
  EXPECT_NE(odd.to_string().find("fc1_relu"), std::string::npos);

  // Below the planned batch an autoscheduled kernel runs manual's plan.
  using Adams = nnfuse::generated::test_mlp::adams2019;
  const nnfuse::CallPlan small = nnfuse::describe<Adams>(Adams::typical_batch - 1);
  EXPECT_TRUE(small.nodes[0].fallback);
  EXPECT_EQ(small.nodes[0].tile.rows,
            nnfuse::describe<Manual>(Adams::typical_batch - 1).nodes[0].tile.rows);
  const nnfuse::CallPlan planned = nnfuse::describe<Adams>(Adams::typical_batch);
  EXPECT_FALSE(planned.nodes[0].fallback);
  EXPECT_EQ(planned.nodes[0].plan, "Adams2019");
  EXPECT_NE(planned.to_string().find("planned for batch"), std::string::npos);

  // `fused`: chunks of one tile's rows, in parallel from one chunk's worth of rows.
  using Fused = nnfuse::generated::test_mlp::fused;
  const nnfuse::CallPlan chunks = nnfuse::describe<Fused>(33);
  EXPECT_EQ(chunks.chunk_rows, Fused::chunk_rows[Fused::selected_variant_index()]);
  EXPECT_EQ(chunks.chunks, (33 + chunks.chunk_rows - 1) / chunks.chunk_rows);
  EXPECT_TRUE(chunks.parallel_chunks);
  EXPECT_FALSE(chunks.nodes[0].parallel);
  EXPECT_EQ(nnfuse::describe<Fused>(33, nnfuse::CallPath::node_by_node).chunk_rows, 0U);
}

TEST(Describe, BadArgumentsAreRefused) {
  using Manual = nnfuse::generated::test_mlp::manual;
  EXPECT_THROW((void)nnfuse::describe<Manual>(0), std::invalid_argument);
  EXPECT_THROW(
      (void)nnfuse::describe<Manual>(1, nnfuse::CallPath::forward, Manual::variants.size()),
      std::invalid_argument);
}

}  // namespace
