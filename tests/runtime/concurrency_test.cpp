// Many threads share one Model, each with its own Session, calling forward with different
// batch sizes for many iterations: every result must be bit-identical to the serial result.
// One Session shared by several threads (a misuse) is refused, never a corrupted heap.
// (Also run under ThreadSanitizer by scripts/test.sh's tsan stage.)
#include <atomic>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/generated/test_odd.hpp>
#include <nnfuse/generated/test_residual.hpp>

#include "reference_check.hpp"

namespace {

template <class Compiled>
void check_concurrent(int threads, int iterations) {
  using Net = typename Compiled::network;
  constexpr std::size_t in = nnfuse::graph<Net>::in_width;
  constexpr std::size_t out = nnfuse::graph<Net>::out_width;
  const auto params = nnfuse_test::random_parameters<Net>(11, 0.3F);
  const auto model = nnfuse::Model<Compiled>::from_parameters(params);

  constexpr std::size_t max_batch = 9;
  const auto input = nnfuse_test::random_floats(max_batch * in, 12, 1.0F);
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

// A call in progress on a Session makes another one on it throw std::logic_error, with a
// message that says what to do; the Session works again once the call ends.
TEST(Concurrency, ASessionInACallRefusesASecondCall) {
  using Compiled = nnfuse::generated::test_residual::manual;
  using Net = Compiled::network;
  const std::vector<float> params(nnfuse::graph<Net>::parameter_bytes / sizeof(float), 0.1F);
  const auto model = nnfuse::Model<Compiled>::from_parameters(params);
  std::vector<float> input(nnfuse::graph<Net>::in_width, 0.5F);
  std::vector<float> output(nnfuse::graph<Net>::out_width);
  nnfuse::Session session;
  {
    const nnfuse::Session::Call held = session.begin_call();
    std::string message;
    std::thread other([&] {
      try {
        model.forward(session, input, output);
      } catch (const std::logic_error& e) {
        message = e.what();
      }
    });
    other.join();
    EXPECT_NE(message.find("give each thread its own Session"), std::string::npos) << message;
    EXPECT_THROW((void)session.begin_call(), std::logic_error);
  }
  EXPECT_NO_THROW(model.forward(session, input, output));
}

// Four threads hammering one Session: every call either runs (and is right) or is refused.
TEST(Concurrency, ASessionSharedByThreadsIsRefusedNotCorrupted) {
  using Compiled = nnfuse::generated::test_residual::manual;
  using Net = Compiled::network;
  constexpr std::size_t batch = 9;
  const std::vector<float> params(nnfuse::graph<Net>::parameter_bytes / sizeof(float), 0.05F);
  const auto model = nnfuse::Model<Compiled>::from_parameters(params);
  const std::vector<float> input(batch * nnfuse::graph<Net>::in_width, 0.25F);
  std::vector<float> expected(batch * nnfuse::graph<Net>::out_width);
  {
    nnfuse::Session own;
    model.forward(own, input, expected);
  }
  nnfuse::Session shared;
  std::atomic<int> ran = 0;
  std::atomic<int> refused = 0;
  std::atomic<int> wrong = 0;
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) {
    pool.emplace_back([&] {
      std::vector<float> output(expected.size());
      for (int i = 0; i < 200; ++i) {
        try {
          model.forward(shared, input, output);
          ++ran;
          if (output != expected) ++wrong;
        } catch (const std::logic_error&) {
          ++refused;
        }
      }
    });
  }
  for (auto& thread : pool) thread.join();
  EXPECT_EQ(ran + refused, 800);
  EXPECT_GT(ran.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

TEST(Concurrency, OddNetworkWithSoftmax) {
  check_concurrent<nnfuse::generated::test_odd::manual>(4, 60);
  check_concurrent<nnfuse::generated::test_odd::fused>(4, 60);
}

}  // namespace
