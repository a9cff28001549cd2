// Prints the seed network's summary (layers, fused kernels, FLOPs) and its parameter table —
// the state_dict names, shapes and offsets a PyTorch checkpoint is loaded by.
// Usage: summary [batch]   (default batch 1)
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nnfuse/dsl.hpp>

namespace {
using Seed = nnfuse::Sequential<nnfuse::Input<784>, nnfuse::Dense<128, nnfuse::Name<"fc1">>,
                                nnfuse::ReLU, nnfuse::Dense<10, nnfuse::Name<"fc2">>>;
}  // namespace

int main(int argc, char** argv) {
  std::size_t batch = 1;
  if (argc > 1) {
    const long parsed = std::strtol(argv[1], nullptr, 10);  // NOLINT(*-pointer-arithmetic)
    if (parsed < 1) {
      std::fprintf(stderr, "usage: summary [batch >= 1]\n");
      return 2;
    }
    batch = static_cast<std::size_t>(parsed);
  }
  std::printf("%s\n", nnfuse::summary<Seed>(batch).c_str());
  std::printf("%-12s %-12s %12s\n", "tensor", "shape", "offset bytes");
  for (const nnfuse::ParameterInfo& p : nnfuse::graph<Seed>::parameters) {
    const std::string shape =
        p.rank == 2 ? "[" + std::to_string(p.shape[0]) + ", " + std::to_string(p.shape[1]) + "]"
                    : "[" + std::to_string(p.shape[0]) + "]";
    std::printf("%-12.*s %-12s %12zu\n", static_cast<int>(p.name.size()), p.name.data(),
                shape.c_str(), p.offset_bytes);
  }
  return 0;
}
