// A multi-target x86-64 build: the dispatcher picks the first variant this CPU supports, says
// which, and every variant the CPU can run computes the reference forward on its own.
#include <cmath>
#include <random>
#include <string>
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

  ASSERT_EQ(Compiled::variants.size(), 3U);
  EXPECT_EQ(Compiled::variants[0], "avx512");
  EXPECT_EQ(Compiled::variants[2], "baseline");
  const std::size_t selected = Compiled::selected_variant_index();
  const bool has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd");
  const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  EXPECT_EQ(selected, has_avx512 ? 0U : has_avx2 ? 1U : 2U);
  std::printf("this CPU runs variant %s\n", std::string(Compiled::selected_variant()).c_str());

  for (std::size_t v = selected; v < Compiled::variants.size(); ++v) {
    std::fill(output.begin(), output.end(), NAN);
    model.forward_variant(v, session, input, output);
    ASSERT_TRUE(nnfuse_test::matches_reference(output, expected, Compiled::schedule,
                                               Compiled::variants[v], batch,
                                               nnfuse::graph<Net>::out_width));
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
