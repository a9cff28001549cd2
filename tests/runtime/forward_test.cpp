// Generated kernels (every schedule built) against the scalar reference forward of the DSL,
// whole network, for every batch size from 1 to 16 and larger ones up to 64: |kernel - reference|
// <= 1e-5 * max(1, |ref|).
#include <cmath>
#include <random>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/dsl/reference.hpp>
#include <nnfuse/generated/test_elementwise.hpp>
#include <nnfuse/generated/test_mlp.hpp>
#include <nnfuse/generated/test_odd.hpp>
#include <nnfuse/generated/test_residual.hpp>

#include "each_schedule.hpp"
#include "gtest_reference.hpp"

namespace {

template <class Compiled>
void check_forward() {
  using Net = typename Compiled::network;
  const auto params = nnfuse_test::random_parameters<Net>(1);
  const auto model = nnfuse::Model<Compiled>::from_parameters(params);
  nnfuse::Session session;
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> dist(-3.0F, 3.0F);
  // Every batch up to twice the tallest tile (8 rows on AVX-512, 6 on AVX2), so every row plan
  // runs with and without a shifted last tile; then the fused chunks and the autoschedulers'
  // typical batch (32).
  std::vector<std::size_t> batches;
  for (std::size_t batch = 1; batch <= 16; ++batch) batches.push_back(batch);
  batches.insert(batches.end(), {25U, 31U, 32U, 33U, 64U});
  for (const std::size_t batch : batches) {
    std::vector<float> input(batch * nnfuse::graph<Net>::in_width);
    for (float& v : input) v = dist(rng);
    std::vector<float> output(batch * nnfuse::graph<Net>::out_width);
    model.forward(session, input, output);
    const auto expected =
        nnfuse::reference_forward<Net>(params, std::span<const float>(input), batch);
    ASSERT_TRUE(nnfuse_test::matches_reference(output, expected, Compiled::schedule,
                                               Compiled::selected_variant(), batch,
                                               nnfuse::graph<Net>::out_width));
  }
}

TEST(Forward, MlpEverySchedule) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_mlp::schedules>(
      [](auto s) { check_forward<decltype(s)>(); });
}
TEST(Forward, ResidualEverySchedule) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_residual::schedules>(
      [](auto s) { check_forward<decltype(s)>(); });
}
TEST(Forward, OddEverySchedule) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_odd::schedules>(
      [](auto s) { check_forward<decltype(s)>(); });
}

TEST(Forward, ElementwiseEverySchedule) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_elementwise::schedules>(
      [](auto s) { check_forward<decltype(s)>(); });
}

// In place, naive and manual give what they give out of place, bit for bit (37 wide:
// the last vector is partial).
template <class Compiled>
void check_in_place() {
  using Net = typename Compiled::network;
  const auto model = nnfuse::Model<Compiled>::from_parameters({});
  nnfuse::Session session;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-6.0F, 6.0F);
  for (std::size_t batch : {1U, 5U, 64U}) {
    std::vector<float> data(batch * nnfuse::graph<Net>::in_width);
    for (float& v : data) v = dist(rng);
    std::vector<float> expected(data.size());
    model.forward(session, data, expected);
    model.forward_in_place(session, data);
    for (std::size_t i = 0; i < data.size(); ++i) {
      ASSERT_EQ(data[i], expected[i])
          << Compiled::schedule << " batch " << batch << " element " << i;
    }
  }
}

// forward_in_place exists only where it is correct: an elementwise network, naive or manual.
template <class M>
concept RunsInPlace = requires(const M& model, nnfuse::Session& session, std::span<float> data) {
  model.forward_in_place(session, data);
};
static_assert(RunsInPlace<nnfuse::Model<nnfuse::generated::test_elementwise::manual>>);
static_assert(RunsInPlace<nnfuse::Model<nnfuse::generated::test_elementwise::naive>>);
static_assert(!RunsInPlace<nnfuse::Model<nnfuse::generated::test_elementwise::fused>>);
static_assert(!RunsInPlace<nnfuse::Model<nnfuse::generated::test_elementwise::adams2019>>);
static_assert(!RunsInPlace<nnfuse::Model<nnfuse::generated::test_mlp::manual>>);

TEST(Forward, ElementwiseInPlace) {
  check_in_place<nnfuse::generated::test_elementwise::naive>();
  check_in_place<nnfuse::generated::test_elementwise::manual>();
}

}  // namespace
