// Special values through the generated (AOT) kernels of one-activation networks: NaN, ±inf, ±0,
// subnormals, the largest finite floats and the inputs where a form switches (saturation
// thresholds, kinks), for every schedule built, in both precisions. Each output must be what
// the DSL's reference gives: NaN exactly where it gives NaN, ±inf and ±0 exactly, anything else
// within 1 ULP of eval<float> (`exact`) or within the activation's stated bound of the float64
// value (`fast`, ulp_bounds.hpp). A NaN guard the back end folded away (sigmoid(NaN) = 0 on
// AVX-512) fails here.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/dsl/eval.hpp>
#include <nnfuse/dsl/layers.hpp>
#include <nnfuse/generated/test_elementwise.hpp>
#include <nnfuse/generated/test_elementwise_exact.hpp>

#include "each_schedule.hpp"
#include "special_networks.hpp"
#include "ulp.hpp"
#include "ulp_bounds.hpp"

namespace {

std::vector<float> special_inputs() {
  constexpr float inf = std::numeric_limits<float>::infinity();
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  constexpr float max = std::numeric_limits<float>::max();
  constexpr float tiny = std::numeric_limits<float>::denorm_min();
  constexpr float min_normal = std::numeric_limits<float>::min();
  std::vector<float> xs = {nan,     -nan,   inf,   -inf,       0.0F,        -0.0F,  max,
                           -max,    tiny,   -tiny, min_normal, -min_normal, 1.0F,   -1.0F,
                           3.0F,    -3.0F,  6.0F,  20.0F,      20.000002F,  -88.7F, -103.0F,
                           -104.0F, 88.8F,  1e-8F, -1e-8F,     1e30F,       -1e30F, -9.0F,
                           9.0F,    -17.0F, 17.0F, 0.5F,       -0.5F};
  // A NaN with a payload and a signalling-pattern one: every NaN must stay NaN.
  xs.push_back(std::bit_cast<float>(std::uint32_t{0x7fc12345}));
  xs.push_back(std::bit_cast<float>(std::uint32_t{0xff800001}));
  return xs;
}

template <class Compiled>
void check_special_values() {
  using Net = typename Compiled::network;
  using Activation = typename nnfuse_test::activation_of<Net>::type;
  constexpr std::size_t width = nnfuse::graph<Net>::in_width;
  const std::vector<float> values = special_inputs();
  const std::size_t batch = (values.size() + width - 1) / width;
  std::vector<float> input(batch * width, 0.25F);
  std::copy(values.begin(), values.end(), input.begin());

  const auto model = nnfuse::Model<Compiled>::from_parameters(std::vector<float>{});
  nnfuse::Session session;
  std::vector<float> output(input.size());
  model.forward(session, input, output);

  const bool exact = Compiled::precision == "exact";
  const double bound = exact ? 1.0 : nnfuse_test::fast_ulp_bound(Activation::kind);
  for (std::size_t i = 0; i < input.size(); ++i) {
    const float x = input[i];
    const double reference = exact ? static_cast<double>(nnfuse::eval(Activation::expression, x))
                                   : nnfuse::eval(Activation::expression, static_cast<double>(x));
    const float expected = nnfuse::reference::round_to_float(reference);
    const float got = output[i];
    const std::string where = std::string(Compiled::schedule) + " " +
                              std::string(Compiled::precision) + " " +
                              std::string(Activation::kind) + "(" + std::to_string(x) + ")";
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(got)) << where << " gave " << got << ", not NaN";
    } else if (std::isinf(expected) || expected == 0.0F) {
      EXPECT_EQ(std::bit_cast<std::uint32_t>(got), std::bit_cast<std::uint32_t>(expected))
          << where << " gave " << got << ", not " << expected;
    } else {
      EXPECT_LE(nnfuse::reference::ulp_error(got, reference), bound)
          << where << " gave " << got << ", not " << expected;
    }
  }
}

TEST(SpecialValues, EveryActivationEverySchedule) {
  nnfuse_test::for_each_network_schedule<nnfuse_test::special_networks>(
      [](auto s) { check_special_values<decltype(s)>(); });
}

TEST(SpecialValues, GeluEverySchedule) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_elementwise::schedules>(
      [](auto s) { check_special_values<decltype(s)>(); });
}

TEST(SpecialValues, GeluExactPrecision) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_elementwise_exact::schedules>(
      [](auto s) { check_special_values<decltype(s)>(); });
}

}  // namespace
