// A multi-target x86-64 build: the dispatcher picks the first variant this CPU supports, says
// which, and every variant the CPU can run computes the reference forward on its own, from the
// weights packed for its own micro-kernel.
#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/dsl/reference.hpp>
#include <nnfuse/generated/test_multi.hpp>

#include "each_schedule.hpp"
#include "gtest_reference.hpp"

namespace {

template <class Compiled>
void check_every_variant() {
  using Net = typename Compiled::network;
  const auto params = nnfuse_test::random_parameters<Net>(3, 1.0F);
  const auto model = nnfuse::Model<Compiled>::from_parameters(params);
  constexpr std::size_t batch = 5;
  const auto input = nnfuse_test::random_floats(batch * nnfuse::graph<Net>::in_width, 4, 1.0F);
  const auto expected =
      nnfuse::reference_forward<Net>(params, std::span<const float>(input), batch);
  nnfuse::Session session;
  std::vector<float> output(batch * nnfuse::graph<Net>::out_width);
  const std::size_t selected = Compiled::selected_variant_index();

  // Every variant's row plans: each batch up to twice the tallest tile (8 rows, AVX-512).
  for (std::size_t v = selected; v < Compiled::variants.size(); ++v) {
    for (std::size_t rows = 1; rows <= 16; ++rows) {
      const auto x = nnfuse_test::random_floats(rows * nnfuse::graph<Net>::in_width, 5, 1.0F);
      const auto want = nnfuse::reference_forward<Net>(params, std::span<const float>(x), rows);
      std::vector<float> y(rows * nnfuse::graph<Net>::out_width, NAN);
      model.forward_variant(v, session, x, y);
      ASSERT_TRUE(nnfuse_test::matches_reference(y, want, Compiled::schedule, Compiled::variants[v],
                                                 rows, nnfuse::graph<Net>::out_width));
    }
  }

  ASSERT_EQ(Compiled::variants.size(), 3U);
  EXPECT_EQ(Compiled::variants[0], "avx512");
  EXPECT_EQ(Compiled::variants[2], "baseline");
  const bool has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd");
  const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  EXPECT_EQ(selected, has_avx512 ? 0U : has_avx2 ? 1U : 2U);
  std::printf("this CPU runs variant %s\n", std::string(Compiled::selected_variant()).c_str());

  // The micro-kernel's panels follow each target: 32 columns on AVX-512, 16 on AVX2 and the
  // baseline, which share one layout; naive reads PyTorch's on every target.
  ASSERT_EQ(Compiled::variant_layouts.size(), 3U);
  EXPECT_EQ(Compiled::variant_layouts[1], Compiled::variant_layouts[2]);
  if (Compiled::schedule == "naive") {
    EXPECT_EQ(Compiled::layout_floats.size(), 1U);
  } else {
    EXPECT_NE(Compiled::variant_layouts[0], Compiled::variant_layouts[1]);
  }
  // Every layout gives PyTorch's tensors back, and so does the Model (the block's alignment
  // padding between tensors is no tensor's).
  auto same_tensors = [&](const std::vector<float>& back) {
    for (const nnfuse::ParameterInfo& p : nnfuse::graph<Net>::parameters) {
      const std::size_t first = p.offset_bytes / sizeof(float);
      for (std::size_t i = first; i < first + p.count; ++i) {
        if (back[i] != params[i]) return ::testing::AssertionFailure() << p.name << " at " << i;
      }
    }
    return ::testing::AssertionSuccess();
  };
  for (std::size_t l = 0; l < Compiled::layout_floats.size(); ++l) {
    std::vector<float> packed(Compiled::layout_floats[l], NAN);
    std::vector<float> back(params.size(), NAN);
    Compiled::pack(l, params.data(), packed.data());
    Compiled::unpack(l, packed.data(), back.data());
    EXPECT_TRUE(same_tensors(back)) << "layout " << l;
  }
  EXPECT_TRUE(same_tensors(model.parameters()));

  // Two threads ask for each variant at once, so a layout another variant needs is packed under
  // the lock while the other thread waits for it.
  for (std::size_t v = selected; v < Compiled::variants.size(); ++v) {
    std::vector<float> other(output.size(), NAN);
    std::thread second([&] {
      nnfuse::Session own;
      model.forward_variant(v, own, input, other);
    });
    std::fill(output.begin(), output.end(), NAN);
    model.forward_variant(v, session, input, output);
    second.join();
    ASSERT_TRUE(nnfuse_test::matches_reference(output, expected, Compiled::schedule,
                                               Compiled::variants[v], batch,
                                               nnfuse::graph<Net>::out_width));
    EXPECT_EQ(other, output) << Compiled::variants[v];
  }
  if (selected > 0) {
    EXPECT_THROW(model.forward_variant(0, session, input, output), std::invalid_argument);
  }
  EXPECT_THROW(model.forward_variant(3, session, input, output), std::invalid_argument);
}

TEST(MultiTarget, EverySchedule) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_multi::schedules>(
      [](auto s) { check_every_variant<decltype(s)>(); });
}

}  // namespace
