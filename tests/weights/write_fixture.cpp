// weights_write_fixture OUTPUT: writes OUTPUT with nnfuse::save_safetensors, for
// import_safetensors_test.py to read with PyTorch (the C++ → PyTorch half of the round trip).
// The values are given as bit patterns, and the test spells the same patterns out on its side,
// so that each side checks the other rather than both sharing one table. Keep the two in step.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <vector>

#include <nnfuse/weights/safetensors.hpp>

namespace {

std::vector<float> from_bits(std::initializer_list<std::uint32_t> bits) {
  std::vector<float> out;
  for (std::uint32_t b : bits) out.push_back(std::bit_cast<float>(b));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: weights_write_fixture OUTPUT.safetensors\n");
    return 2;
  }
  try {
    // 0.5, -1.25, 2, 0.1f, 0.2f, -0.3f and 0.25, -0.1f: an nn.Linear(3, 2).
    const std::vector<float> weight =
        from_bits({0x3F000000U, 0xBFA00000U, 0x40000000U, 0x3DCCCCCDU, 0x3E4CCCCDU, 0xBE99999AU});
    const std::vector<float> bias = from_bits({0x3E800000U, 0xBDCCCCCDU});
    // -0, the smallest and largest subnormals, the largest float, -inf, inf, a quiet NaN with a
    // payload, a signalling NaN, a negative NaN, 1/3.
    const std::vector<float> special =
        from_bits({0x80000000U, 0x00000001U, 0x007FFFFFU, 0x7F7FFFFFU, 0xFF800000U, 0x7F800000U,
                   0x7FC00001U, 0x7FA00000U, 0xFFC00000U, 0x3EAAAAABU});
    // (i - 9) / 8 for i in 0..17, exact in float32.
    std::vector<float> conv(18);
    for (std::size_t i = 0; i < conv.size(); ++i) conv[i] = (static_cast<float>(i) - 9) / 8;
    const std::vector<float> scalar = {42};

    const std::vector<nnfuse::TensorToSave> tensors = {
        {"fc1.weight", {2, 3}, weight},      {"fc1.bias", {2}, bias}, {"special", {10}, special},
        {"conv.weight", {2, 1, 3, 3}, conv}, {"scalar", {}, scalar},  {"empty", {0, 4}, {}},
    };
    nnfuse::save_safetensors(argv[1], tensors,
                             {{"source", "weights_write_fixture"}, {"epoch", "3"}});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weights_write_fixture: %s\n", e.what());
    return 1;
  }
  return 0;
}
