// The main job's seed-network demo: loads the PyTorch weights of 784 -> 128 ReLU -> 10
// (mnist_mlp.safetensors, made by make_weights.py), runs a batch of 32 through every schedule
// built, and prints the output shape, the largest difference to PyTorch's output and to the
// DSL's scalar reference, and the median time per forward; then each fused node's time by its
// spec name (nnfuse::profile) for the manual schedule, and which plan a call of 32 and of 1 row
// takes in each schedule (nnfuse::describe).
//   mnist_demo [data directory]   (default: this example's source folder)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include <nnfuse/dsl/reference.hpp>
#include <nnfuse/generated/mnist_mlp.hpp>  // made by nnfuse_add_network(mnist_mlp ...)
#include <nnfuse/runtime/describe.hpp>
#include <nnfuse/runtime/profile.hpp>

namespace {

using Net = mnist::Network;
constexpr std::size_t batch = 32;
constexpr int timed_runs = 200;

double max_abs_difference(std::span<const float> a, std::span<const double> b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

template <class Compiled>
void run(const std::filesystem::path& dir, std::span<const float> input,
         std::span<const float> torch_output) {
  const nnfuse::Model<Compiled> model(dir / "mnist_mlp.safetensors");
  nnfuse::Session session;
  std::vector<float> output(batch * nnfuse::graph<Net>::out_width);
  model.forward(session, input, output);  // warms the arena and the thread pool

  // The reference forward reads the PyTorch-layout parameter block, loaded separately.
  const auto file = nnfuse::SafetensorsFile::open(dir / "mnist_mlp.safetensors");
  std::vector<float> params(nnfuse::graph<Net>::parameter_bytes / sizeof(float));
  std::vector<std::size_t> offsets;
  offsets.reserve(nnfuse::graph<Net>::parameters.size());
  for (const auto& p : nnfuse::graph<Net>::parameters) offsets.push_back(p.offset_bytes / 4);
  nnfuse::load_float32(file, nnfuse::Model<Compiled>::expected_tensors(), params, offsets);
  const auto reference = nnfuse::reference_forward<Net>(params, input, batch);
  const std::vector<double> torch64(torch_output.begin(), torch_output.end());

  std::vector<double> times;
  for (int i = 0; i < timed_runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    model.forward(session, input, output);
    times.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::nth_element(times.begin(), times.begin() + timed_runs / 2, times.end());
  std::printf("%-13s %-9s [%zu, %zu]   %-20.3g %-22.3g %.1f us\n",
              std::string(Compiled::schedule).c_str(),
              std::string(Compiled::selected_variant()).c_str(), batch,
              nnfuse::graph<Net>::out_width, max_abs_difference(output, torch64),
              max_abs_difference(output, reference), times[timed_runs / 2]);
}

}  // namespace

int main(int argc, char** argv) try {
  const std::filesystem::path dir = argc > 1 ? argv[1] : NNFUSE_MNIST_DIR;
  const auto golden = nnfuse::SafetensorsFile::open(dir / "mnist_batch32.safetensors");
  const auto input = golden.read_float32(golden.at("input"));
  const auto torch_output = golden.read_float32(golden.at("output"));
  std::printf(
      "nnfuse seed network: Input<784> -> Dense<128> fc1 -> ReLU -> Dense<10> fc2, "
      "weights %s\n\n",
      (dir / "mnist_mlp.safetensors").c_str());
  std::printf("%-13s %-9s %-10s %-20s %-22s %s\n", "schedule", "variant", "output",
              "max |y - PyTorch|", "max |y - reference|", "time per forward (median)");
  std::apply([&](auto... schedule) { (run<decltype(schedule)>(dir, input, torch_output), ...); },
             nnfuse::generated::mnist_mlp::schedules{});
  using Manual = nnfuse::generated::mnist_mlp::manual;
  const nnfuse::Model<Manual> model(dir / "mnist_mlp.safetensors");
  nnfuse::Session session;
  std::printf("\nper fused node, manual/%s (nnfuse::profile, medians of 200 calls):\n%s",
              std::string(Manual::selected_variant()).c_str(),
              nnfuse::profile(model, session, input, 200).to_string().c_str());
  std::printf("\nwhich plan a call takes (nnfuse::describe):\n");
  std::apply(
      [](auto... schedule) {
        for (const std::size_t rows : {batch, std::size_t{1}}) {
          ((std::printf("%s", nnfuse::describe<decltype(schedule)>(rows).to_string().c_str())),
           ...);
        }
      },
      nnfuse::generated::mnist_mlp::schedules{});
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "mnist_demo: %s\n", e.what());
  return 1;
}
