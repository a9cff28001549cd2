// Runs the consumer's generated network (both schedules) on a batch of 3 with deterministic
// parameters and compares with the DSL's scalar reference: |a - b| <= 1e-5 * max(1, |b|).
// Exits non-zero on any mismatch.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <span>
#include <vector>

#include <nnfuse/dsl/reference.hpp>
#include <nnfuse/generated/consumer_net.hpp>

#include "reference_check.hpp"  // tests/support

namespace {

template <class Compiled>
int check(const char* schedule) {
  using Net = typename Compiled::network;
  constexpr std::size_t batch = 3;
  constexpr std::size_t in_width = nnfuse::graph<Net>::in_width;
  constexpr std::size_t out_width = nnfuse::graph<Net>::out_width;
  static_assert(in_width == 5 && out_width == 3);

  // Deterministic, sign-varying parameters and inputs (no RNG: identical on every platform).
  std::vector<float> params(nnfuse::graph<Net>::parameter_bytes / sizeof(float));
  for (std::size_t i = 0; i < params.size(); ++i) {
    params[i] = 0.05F * static_cast<float>(static_cast<int>((i * 7U + 3U) % 17U) - 8);
  }
  std::vector<float> input(batch * in_width);
  for (std::size_t i = 0; i < input.size(); ++i) {
    input[i] = 0.25F * static_cast<float>(static_cast<int>((i * 5U + 1U) % 13U) - 6);
  }

  const auto model = nnfuse::Model<Compiled>::from_parameters(params);
  nnfuse::Session session;
  std::vector<float> output(batch * out_width);
  model.forward(session, input, output);
  const auto expected =
      nnfuse::reference_forward<Net>(params, std::span<const float>(input), batch);
  if (const auto m = nnfuse_test::first_mismatch(output, expected)) {
    std::fprintf(stderr, "consumer_forward: %s\n",
                 nnfuse_test::describe(*m, schedule, Compiled::selected_variant(), batch, out_width)
                     .c_str());
    return 1;
  }
  for (std::size_t i = 0; i < output.size(); ++i) {
    std::printf("%s [%zu,%zu] kernel %.9g reference %.9g\n", schedule, i / out_width, i % out_width,
                static_cast<double>(output[i]), expected[i]);
  }
  return 0;
}

}  // namespace

int main() {
  try {
    int failures = 0;
    failures += check<nnfuse::generated::consumer_net::naive>("naive");
    failures += check<nnfuse::generated::consumer_net::manual>("manual");
    if (failures != 0) {
      std::fprintf(stderr, "consumer_forward: %d mismatches\n", failures);
      return 1;
    }
    std::printf("consumer_forward: OK\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer_forward: %s\n", e.what());
    return 1;
  }
}
