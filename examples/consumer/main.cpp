// examples/consumer: a project of its own that uses an installed nnfuse (README, "Installing").
// It runs the generated kernel on a batch of 4 with made-up weights and checks the result with
// the DSL's scalar reference. A real program loads PyTorch's weights instead:
//   const nnfuse::Model<nnfuse::generated::mlp::manual> model("mlp.safetensors");
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <span>
#include <vector>

#include <nnfuse/dsl/reference.hpp>
#include <nnfuse/generated/mlp.hpp>

int main() {
  using Compiled = nnfuse::generated::mlp::manual;
  using Net = Compiled::network;
  constexpr std::size_t batch = 4;
  std::vector<float> weights(nnfuse::graph<Net>::parameter_bytes / sizeof(float));
  for (std::size_t i = 0; i < weights.size(); ++i) {
    weights[i] = 0.01F * static_cast<float>(static_cast<int>(i % 19U) - 9);
  }
  std::vector<float> input(batch * nnfuse::graph<Net>::in_width);
  for (std::size_t i = 0; i < input.size(); ++i) {
    input[i] = static_cast<float>(i % 7U) / 7.0F;
  }

  const auto model = nnfuse::Model<Compiled>::from_parameters(weights);
  nnfuse::Session session;  // one per thread; the model is shared
  std::vector<float> output(batch * nnfuse::graph<Net>::out_width);
  model.forward(session, input, output);

  const auto expected =
      nnfuse::reference_forward<Net>(weights, std::span<const float>(input), batch);
  double worst = 0;
  for (std::size_t i = 0; i < output.size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(output[i]) - expected[i]));
  }
  std::printf("my_app: output [%zu, %zu], largest difference to the reference %.3g\n", batch,
              nnfuse::graph<Net>::out_width, worst);
  return worst <= 1e-4 ? 0 : 1;
}
