// nnfuse::profile: every fused node of the network reported by its spec name, with its FLOPs,
// positive times whose shares add up to 1 and its share of the measured FMA peak of the threads
// it runs on, every schedule; the peak itself; and the argument errors.
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/generated/test_mlp.hpp>
#include <nnfuse/runtime/describe.hpp>
#include <nnfuse/runtime/peak.hpp>
#include <nnfuse/runtime/profile.hpp>

#include "../support/reference_check.hpp"
#include "each_schedule.hpp"

namespace {

TEST(Profile, ReportsEveryNodeByName) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_mlp::schedules>([](auto compiled) {
    using C = decltype(compiled);
    using G = nnfuse::graph<typename C::network>;
    const auto model =
        nnfuse::Model<C>::from_parameters(nnfuse_test::random_parameters<typename C::network>(5));
    nnfuse::Session session;
    const auto input = nnfuse_test::random_floats(7 * G::in_width, 3, 1.0F);
    const nnfuse::Profile p = nnfuse::profile(model, session, input, 3);
    EXPECT_EQ(p.batch, 7U);
    ASSERT_EQ(p.nodes.size(), 2U) << C::schedule;
    EXPECT_EQ(p.nodes[0].name, "fc1_relu");
    EXPECT_EQ(p.nodes[1].name, "fc2");
    double shares = 0;
    for (std::size_t i = 0; i < p.nodes.size(); ++i) {
      EXPECT_GT(p.nodes[i].seconds, 0.0) << C::schedule;
      EXPECT_EQ(p.nodes[i].flops, static_cast<double>(G::node_flops(i, 7)));
      EXPECT_GT(p.nodes[i].gflops, 0.0);
      shares += p.nodes[i].share;
    }
    EXPECT_NEAR(shares, 1.0, 1e-12);
    // Each node's share of the peak of the threads describe() says it runs on.
    EXPECT_GT(p.peak_gflops_one_thread, 0.0);
    EXPECT_GE(p.peak_gflops_pool, p.peak_gflops_one_thread * 0.5);
    const nnfuse::CallPlan plan = nnfuse::describe<C>(7, nnfuse::CallPath::node_by_node);
    for (std::size_t i = 0; i < p.nodes.size(); ++i) {
      const nnfuse::NodeProfile& n = p.nodes[i];
      EXPECT_EQ(n.threads, plan.nodes[i].parallel ? nnfuse::pool_threads() : 1);
      EXPECT_DOUBLE_EQ(n.peak_fraction,
                       n.gflops / (n.threads > 1 ? p.peak_gflops_pool : p.peak_gflops_one_thread));
    }
    const std::string table = p.to_string();
    EXPECT_NE(table.find("fc1_relu"), std::string::npos);
    EXPECT_NE(table.find("of peak"), std::string::npos);
  });
}

// The peak: the chains of the widest vectors this CPU runs, positive and finite; no threads
// refused.
TEST(Profile, FmaPeakIsMeasured) {
  const nnfuse::FmaChains chains = nnfuse::fma_chains();
  EXPECT_GT(chains.flops_per_step, 0.0);
  EXPECT_FALSE(chains.isa.empty());
  const double peak = nnfuse::fma_peak_gflops(1);
  EXPECT_GT(peak, 0.0);
  EXPECT_TRUE(std::isfinite(peak));
  EXPECT_GE(nnfuse::pool_threads(), 1);
  EXPECT_THROW((void)nnfuse::fma_peak_gflops(0), std::invalid_argument);
}

TEST(Profile, BadArgumentsAreRefused) {
  using C = nnfuse::generated::test_mlp::manual;
  const auto model =
      nnfuse::Model<C>::from_parameters(nnfuse_test::random_parameters<C::network>(1));
  nnfuse::Session session;
  const std::vector<float> ragged(784 + 3);
  EXPECT_THROW((void)nnfuse::profile(model, session, ragged), std::invalid_argument);
  const std::vector<float> one_row(784);
  EXPECT_THROW((void)nnfuse::profile(model, session, one_row, 0), std::invalid_argument);
}

}  // namespace
