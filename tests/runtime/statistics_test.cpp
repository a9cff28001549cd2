// The statistics kernels (nnfuse_add_network(... STATISTICS)) through nnfuse::Statistics, every
// schedule built: their outputs are bit for bit the plain forward's and the trainer's steps are
// unchanged; the per-unit counts (z > 0, saturated, y == 0) agree with the same counts over a
// float64 forward computed here by naive loops, except where |z| is within a margin of a
// threshold; counts add up over calls, reset, and the histogram holds every element.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/generated/test_train_mlp.hpp>
#include <nnfuse/generated/test_train_prelu.hpp>
#include <nnfuse/generated/test_train_residual_softmax.hpp>
#include <nnfuse/runtime/statistics.hpp>
#include <nnfuse/runtime/trainer.hpp>

#include "../support/reference_check.hpp"
#include "each_schedule.hpp"

namespace {

template <class Net>
std::size_t offset_of(std::string_view name) {
  for (const nnfuse::ParameterInfo& p : nnfuse::graph<Net>::parameters) {
    if (p.name == name) return p.offset_bytes / sizeof(float);
  }
  throw std::logic_error("no tensor " + std::string(name));
}
template <class Net>
const float* tensor(const std::vector<float>& block, std::string_view name) {
  return block.data() + offset_of<Net>(name);
}

// z[b][n] = W x_b + bias in double.
std::vector<double> dense(const std::vector<double>& x, const float* w, const float* bias,
                          std::size_t batch, std::size_t k, std::size_t n) {
  std::vector<double> z(batch * n);
  for (std::size_t b = 0; b < batch; ++b) {
    for (std::size_t j = 0; j < n; ++j) {
      double sum = bias[j];
      for (std::size_t i = 0; i < k; ++i) sum += x[b * k + i] * static_cast<double>(w[j * k + i]);
      z[b * n + j] = sum;
    }
  }
  return z;
}

// Per unit: rows where `holds(z)`, and rows whose z is within `margin` of deciding it (where
// float32's sums may decide the other way).
struct ReferenceCount {
  std::vector<std::uint64_t> count;
  std::vector<std::uint64_t> marginal;
};
template <class Holds, class Margin>
ReferenceCount reference_count(const std::vector<double>& z, std::size_t width, Holds holds,
                               Margin near) {
  ReferenceCount r{std::vector<std::uint64_t>(width), std::vector<std::uint64_t>(width)};
  for (std::size_t e = 0; e < z.size(); ++e) {
    r.count[e % width] += holds(z[e]) ? 1 : 0;
    r.marginal[e % width] += near(z[e]) ? 1 : 0;
  }
  return r;
}

void expect_counts(const std::vector<std::uint64_t>& kernel, const ReferenceCount& reference,
                   const std::string& what) {
  ASSERT_EQ(kernel.size(), reference.count.size()) << what;
  for (std::size_t n = 0; n < kernel.size(); ++n) {
    const auto diff = static_cast<std::uint64_t>(
        std::llabs(static_cast<long long>(kernel[n]) - static_cast<long long>(reference.count[n])));
    EXPECT_LE(diff, reference.marginal[n])
        << what << " unit " << n << ": kernel " << kernel[n] << ", float64 " << reference.count[n];
  }
}

constexpr double kMargin = 1e-4;

template <class Compiled>
std::vector<float> outputs_of(const nnfuse::Model<Compiled>& model, nnfuse::Session& session,
                              const std::vector<float>& input,
                              nnfuse::Statistics<Compiled>* statistics) {
  constexpr std::size_t in = nnfuse::Model<Compiled>::in_width;
  constexpr std::size_t out = nnfuse::Model<Compiled>::out_width;
  std::vector<float> output(input.size() / in * out, -1.0F);
  if (statistics != nullptr) {
    model.forward(session, input, output, *statistics);
  } else {
    model.forward(session, input, output);
  }
  return output;
}

template <class Schedules>
void outputs_are_the_plain_forwards() {
  nnfuse_test::for_each_schedule<Schedules>([](auto compiled) {
    using C = decltype(compiled);
    using Net = typename C::network;
    const auto model = nnfuse::Model<C>::from_parameters(nnfuse_test::random_parameters<Net>(3));
    nnfuse::Session session;
    nnfuse::Statistics<C> statistics;
    for (const std::size_t batch : {1U, 5U, 33U}) {
      const auto input = nnfuse_test::random_floats(batch * nnfuse::graph<Net>::in_width, 7, 1.0F);
      const std::vector<float> plain = outputs_of<C>(model, session, input, nullptr);
      const std::vector<float> counted = outputs_of(model, session, input, &statistics);
      // `naive`'s whole-network forward evaluates an epilogue on z as an expression, its node
      // kernels on z read back from a buffer: measured up to 2 ULP apart on 20 of
      // test_train_prelu's 608 sigmoid outputs. An autoscheduler chooses its own inlining for
      // each pipeline: Adams2019's whole-network forward was 1 ULP apart on 9 of
      // test_train_residual_softmax's 231 Softmax outputs on an AVX2 machine (bit for bit on
      // AVX-512). The hand schedules are bit for bit.
      const bool within_two_ulp = std::string_view(C::schedule) == "naive" ||
                                  C::plan_family == nnfuse::PlanFamily::autoscheduled;
      std::size_t differ = 0;
      float worst = 0;
      for (std::size_t i = 0; i < plain.size(); ++i) {
        std::int32_t a = 0;
        std::int32_t b = 0;
        std::memcpy(&a, &plain[i], sizeof a);
        std::memcpy(&b, &counted[i], sizeof b);
        const bool same =
            within_two_ulp ? std::abs(a - b) <= 2 : a == b;  // (the outputs are positive)
        if (!same) {
          ++differ;
          worst = std::max(worst, std::fabs(plain[i] - counted[i]));
        }
      }
      EXPECT_EQ(differ, 0U) << C::name << "/" << C::schedule << " batch " << batch << ": " << differ
                            << " of " << plain.size() << " differ, by up to " << worst;
    }
    std::uint64_t rows = 0;
    for (const auto& layer : statistics.layers()) rows = std::max(rows, layer.rows);
    EXPECT_EQ(rows, 39U) << C::name << "/" << C::schedule;
  });
}

TEST(Statistics, OutputsAreThePlainForwardsBitForBit) {
  outputs_are_the_plain_forwards<nnfuse::generated::test_train_mlp::schedules>();
  outputs_are_the_plain_forwards<nnfuse::generated::test_train_prelu::schedules>();
  outputs_are_the_plain_forwards<nnfuse::generated::test_train_residual_softmax::schedules>();
}

TEST(Statistics, LayersAreTheActivationNodes) {
  using C = nnfuse::generated::test_train_mlp::manual;
  const nnfuse::Statistics<C> relu;
  ASSERT_EQ(relu.layers().size(), 1U);  // fc2 has no activation
  EXPECT_EQ(relu.layers()[0].name, "fc1_relu");
  EXPECT_EQ(relu.layers()[0].units, 128U);
  EXPECT_TRUE(relu.layers()[0].counts_saturation);
  using P = nnfuse::generated::test_train_prelu::manual;
  const nnfuse::Statistics<P> prelu;
  ASSERT_EQ(prelu.layers().size(), 2U);
  EXPECT_EQ(prelu.layers()[0].name, "fc1_PReLU");
  EXPECT_FALSE(prelu.layers()[0].counts_saturation);  // alpha is a run-time parameter
  EXPECT_EQ(prelu.layers()[1].name, "fc2_sigmoid");
  EXPECT_TRUE(prelu.layers()[1].counts_saturation);
  EXPECT_DOUBLE_EQ(P::saturation_slopes[1], 0.25);  // sigmoid'(0)
}

// The seed-like network: fc1's counts against float64, every schedule, an odd batch.
TEST(Statistics, ReluCountsAgreeWithFloat64) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_train_mlp::schedules>([](auto compiled) {
    using C = decltype(compiled);
    using Net = typename C::network;
    const std::vector<float> params = nnfuse_test::random_parameters<Net>(11);
    const auto model = nnfuse::Model<C>::from_parameters(params);
    constexpr std::size_t batch = 37;
    const auto input = nnfuse_test::random_floats(batch * 784, 5, 1.0F);
    nnfuse::Session session;
    nnfuse::Statistics<C> statistics;
    (void)outputs_of(model, session, input, &statistics);
    const std::vector<double> x(input.begin(), input.end());
    const std::vector<double> z = dense(x, tensor<Net>(params, "fc1.weight"),
                                        tensor<Net>(params, "fc1.bias"), batch, 784, 128);
    auto near_zero = [](double v) { return std::fabs(v) < kMargin; };
    const auto& layer = statistics.layers()[0];
    EXPECT_EQ(layer.rows, batch);
    const std::string what = std::string(C::schedule) + " fc1_relu";
    expect_counts(layer.active,
                  reference_count(
                      z, 128, [](double v) { return v > 0; }, near_zero),
                  what + " active");
    // ReLU's output is 0 exactly where z <= 0, and relu' = 0 < 0.01 there.
    const ReferenceCount off = reference_count(
        z, 128, [](double v) { return v <= 0; }, near_zero);
    expect_counts(layer.zero, off, what + " zero");
    expect_counts(layer.saturated, off, what + " saturated");
    std::size_t never = 0;
    for (const std::uint64_t a : layer.active) never += a == 0 ? 1 : 0;
    EXPECT_EQ(layer.never_active(), never);
  });
}

// Sigmoid's saturation (|sigmoid'(z)| < 0.01 * 0.25, |z| > 4.59) behind a PReLU, whose alpha
// makes its output 0 only at z = 0.
TEST(Statistics, SigmoidSaturationAndPreluCountsAgreeWithFloat64) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_train_prelu::schedules>([](auto compiled) {
    using C = decltype(compiled);
    using Net = typename C::network;
    std::vector<float> params = nnfuse_test::random_parameters<Net>(13, 0.5F);
    std::fill_n(params.begin() + static_cast<std::ptrdiff_t>(offset_of<Net>("act1.weight")), 48,
                0.25F);
    const auto model = nnfuse::Model<C>::from_parameters(params);
    constexpr std::size_t batch = 29;
    const auto input = nnfuse_test::random_floats(batch * 64, 9, 2.0F);
    nnfuse::Session session;
    nnfuse::Statistics<C> statistics;
    (void)outputs_of(model, session, input, &statistics);
    const std::vector<double> x(input.begin(), input.end());
    const std::vector<double> z0 =
        dense(x, tensor<Net>(params, "fc1.weight"), tensor<Net>(params, "fc1.bias"), batch, 64, 48);
    std::vector<double> y0(z0);
    for (double& v : y0) v = v > 0 ? v : 0.25 * v;
    const std::vector<double> z1 = dense(y0, tensor<Net>(params, "fc2.weight"),
                                         tensor<Net>(params, "fc2.bias"), batch, 48, 16);
    auto near_zero = [](double v) { return std::fabs(v) < kMargin; };
    const std::string what = std::string(C::schedule);
    const auto& prelu = statistics.layers()[0];
    expect_counts(prelu.active,
                  reference_count(
                      z0, 48, [](double v) { return v > 0; }, near_zero),
                  what + " prelu active");
    EXPECT_EQ(prelu.never_active(), 0U) << what;
    for (const std::uint64_t s : prelu.saturated) EXPECT_EQ(s, 0U) << what;
    const auto& sigmoid = statistics.layers()[1];
    auto saturated = [](double v) {
      const double s = 1.0 / (1.0 + std::exp(-v));
      return s * (1.0 - s) < 0.01 * 0.25;
    };
    // sigmoid'(z) = 0.0025 at |z| = 5.9866
    auto near_edge = [](double v) { return std::fabs(std::fabs(v) - 5.98662) < 1e-3; };
    const ReferenceCount expected = reference_count(z1, 16, saturated, near_edge);
    std::uint64_t total = 0;
    for (const std::uint64_t c : expected.count) total += c;
    EXPECT_GT(total, 0U) << "the fixture saturates no sigmoid unit";
    expect_counts(sigmoid.saturated, expected, what + " sigmoid saturated");
    for (const std::uint64_t c : sigmoid.zero) EXPECT_EQ(c, 0U) << what;  // sigmoid > 0 here
  });
}

TEST(Statistics, CountsAddUpOverCallsAndReset) {
  using C = nnfuse::generated::test_train_mlp::manual;
  using Net = C::network;
  const auto model = nnfuse::Model<C>::from_parameters(nnfuse_test::random_parameters<Net>(17));
  constexpr std::ptrdiff_t first_rows = std::ptrdiff_t{5} * 784;
  const auto input = nnfuse_test::random_floats(std::size_t{12} * 784, 19, 1.0F);
  nnfuse::Session session;
  nnfuse::Statistics<C> whole(nnfuse::HistogramRange{});
  nnfuse::Statistics<C> parts(nnfuse::HistogramRange{});
  (void)outputs_of(model, session, input, &whole);
  (void)outputs_of(model, session, std::vector<float>(input.begin(), input.begin() + first_rows),
                   &parts);
  (void)outputs_of(model, session, std::vector<float>(input.begin() + first_rows, input.end()),
                   &parts);
  const auto& a = whole.layers()[0];
  const auto& b = parts.layers()[0];
  EXPECT_EQ(a.rows, 12U);
  EXPECT_EQ(b.rows, 12U);
  EXPECT_EQ(a.active, b.active);
  EXPECT_EQ(a.zero, b.zero);
  EXPECT_EQ(a.saturated, b.saturated);
  EXPECT_EQ(a.histogram, b.histogram);
  std::uint64_t elements = 0;
  for (const std::uint64_t h : a.histogram) elements += h;
  EXPECT_EQ(elements, 12U * 128U);
  EXPECT_EQ(a.histogram.size(), 64U + 3U);
  parts.reset();
  EXPECT_EQ(parts.layers()[0].rows, 0U);
  EXPECT_EQ(parts.layers()[0].never_active(), 128U);
  EXPECT_NE(whole.to_string().find("fc1_relu"), std::string::npos);
}

TEST(Statistics, WrongSizesAreRefused) {
  using C = nnfuse::generated::test_train_mlp::manual;
  const auto model =
      nnfuse::Model<C>::from_parameters(nnfuse_test::random_parameters<C::network>(1));
  nnfuse::Session session;
  nnfuse::Statistics<C> statistics;
  std::vector<float> input(784 + 1);
  std::vector<float> output(10);
  EXPECT_THROW(model.forward(session, input, output, statistics), std::invalid_argument);
  EXPECT_EQ(statistics.layers()[0].rows, 0U);
}

// A training step through the statistics kernels is the plain step, bit for bit, and counts the
// batch at the weights before the update.
TEST(Statistics, TrainerStepIsUnchangedAndCounts) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_train_mlp::schedules>([](auto compiled) {
    using C = decltype(compiled);
    using Net = typename C::network;
    const std::vector<float> params = nnfuse_test::random_parameters<Net>(23);
    auto plain = nnfuse::Trainer<C>::from_parameters(params, nnfuse::Sgd{.lr = 0.1F});
    auto counted = nnfuse::Trainer<C>::from_parameters(params, nnfuse::Sgd{.lr = 0.1F});
    constexpr std::size_t batch = 33;
    const auto input = nnfuse_test::random_floats(batch * 784, 29, 1.0F);
    std::vector<std::int32_t> labels(batch);
    for (std::size_t b = 0; b < batch; ++b) labels[b] = static_cast<std::int32_t>(b % 10);
    nnfuse::Session session;
    nnfuse::Statistics<C> during;
    nnfuse::Statistics<C> before;
    (void)outputs_of(nnfuse::Model<C>::from_parameters(params), session, input, &before);
    for (int step = 0; step < 2; ++step) {
      const float a = plain.step(session, input, labels);
      const float b = counted.step(session, input, labels, during);
      EXPECT_EQ(a, b) << C::schedule << " step " << step;
      if (step == 0) {
        EXPECT_EQ(during.layers()[0].active, before.layers()[0].active) << C::schedule;
      }
    }
    EXPECT_EQ(plain.parameters(), counted.parameters()) << C::schedule;
    EXPECT_EQ(during.layers()[0].rows, 2 * batch);
  });
}

}  // namespace
