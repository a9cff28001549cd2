// Many threads share one Model, each with its own Session, calling forward with different
// batch sizes for many iterations: every result must be bit-identical to the serial result.
// (Also run under ThreadSanitizer by scripts/test.sh's tsan stage.)
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/generated/test_odd.hpp>
#include <nnfuse/generated/test_residual.hpp>

namespace {

template <class Compiled>
void check_concurrent(int threads, int iterations) {
  using Net = typename Compiled::network;
  constexpr std::size_t in = nnfuse::graph<Net>::in_width;
  constexpr std::size_t out = nnfuse::graph<Net>::out_width;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.0F, 1.0F);
  std::vector<float> params(nnfuse::graph<Net>::parameter_bytes / sizeof(float));
  for (float& v : params) v = dist(rng) * 0.3F;
  const auto model = nnfuse::Model<Compiled>::from_parameters(params);

  constexpr std::size_t max_batch = 9;
  std::vector<float> input(max_batch * in);
  for (float& v : input) v = dist(rng);
  // The serial result for every batch size, computed once.
  std::vector<std::vector<float>> serial(max_batch + 1);
  {
    nnfuse::Session session;
    for (std::size_t b = 1; b <= max_batch; ++b) {
      serial[b].resize(b * out);
      model.forward(session, std::span<const float>(input.data(), b * in), serial[b]);
    }
  }
  std::atomic<int> mismatches = 0;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      nnfuse::Session session;
      std::vector<float> output(max_batch * out);
      for (int i = 0; i < iterations; ++i) {
        const std::size_t b = 1 + static_cast<std::size_t>(t + i * 7) % max_batch;
        const std::span<float> y(output.data(), b * out);
        model.forward(session, std::span<const float>(input.data(), b * in), y);
        if (!std::equal(y.begin(), y.end(), serial[b].begin())) ++mismatches;
      }
    });
  }
  for (auto& thread : pool) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Concurrency, ResidualNetworkManySessionsOneModel) {
  check_concurrent<nnfuse::generated::test_residual::manual>(6, 200);
  check_concurrent<nnfuse::generated::test_residual::naive>(4, 100);
}

TEST(Concurrency, OddNetworkWithSoftmax) {
  check_concurrent<nnfuse::generated::test_odd::manual>(4, 60);
  check_concurrent<nnfuse::generated::test_odd::fused>(4, 60);
}

}  // namespace
