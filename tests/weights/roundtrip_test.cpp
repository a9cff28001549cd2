// PyTorch in, nnfuse out: files written by tools/export_safetensors.py from real PyTorch models
// (tests/weights/data, made by make_test_data.py there) load under their state_dict names with
// PyTorch's values, and a layer computed from the loaded weights gives PyTorch's output. The
// expected values below are what make_test_data.py prints (float.hex, from torch itself).
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/weights/safetensors.hpp>

namespace {

using nnfuse::SafetensorsFile;
using nnfuse::TensorSpec;

std::string data_file(const char* name) {
  return std::string(NNFUSE_WEIGHTS_TEST_DATA) + "/" + name;
}

TEST(WeightsRoundTrip, LinearFromPyTorch) {
  // nn.DataParallel(nn.Sequential(nn.Linear(3, 2))), saved with torch.save, exported with
  // --rename 0=fc1: "module.0.weight" became "fc1.weight".
  const auto file = SafetensorsFile::open(data_file("tiny.safetensors"));
  EXPECT_EQ(file.metadata().at("format"), "pt");
  const std::vector<TensorSpec> specs = {{"fc1.weight", {2, 3}}, {"fc1.bias", {2}}};
  const std::vector<float> params = nnfuse::load_float32(file, specs);
  const std::vector<float> weight(params.begin(), params.begin() + 6);
  const std::vector<float> bias(params.begin() + 6, params.end());
  EXPECT_EQ(weight, (std::vector<float>{0.5F, -1.25F, 2.0F, 0.1F, 0.2F, -0.3F}));
  EXPECT_EQ(bias, (std::vector<float>{0.25F, -0.1F}));

  // y = x·Wᵀ + b for PyTorch's input, against PyTorch's output. Three-term float32 sums may
  // round differently in another order, hence a tolerance of a few ulps.
  const std::vector<float> input = {1.0F, 2.0F, 3.0F, -0.5F, 0.25F, 4.0F};
  const std::vector<float> torch_output = {0x1.1p+2F, -0x1.000002p-1F, 0x1.ecp+2F, -0x1.4ccccep+0F};
  for (std::size_t row = 0; row < 2; ++row) {
    for (std::size_t out = 0; out < 2; ++out) {
      float y = bias[out];
      for (std::size_t k = 0; k < 3; ++k) y += input[row * 3 + k] * weight[out * 3 + k];
      const float expected = torch_output[row * 2 + out];
      EXPECT_NEAR(y, expected, 4 * std::ldexp(std::abs(expected), -23)) << row << ", " << out;
    }
  }
}

TEST(WeightsRoundTrip, EveryDtypeMatchesTorchsOwnConversion) {
  // Exported with keep_dtype: the loader's float32 must equal torch's `.float()` bit for bit.
  const auto file = SafetensorsFile::open(data_file("dtypes.safetensors"));
  ASSERT_EQ(file.tensors().size(), 5U);
  EXPECT_EQ(file.at("half").dtype, nnfuse::DType::f16);
  EXPECT_EQ(file.at("bfloat").dtype, nnfuse::DType::bf16);
  EXPECT_EQ(file.at("double").dtype, nnfuse::DType::f64);
  EXPECT_EQ(file.at("single").dtype, nnfuse::DType::f32);
  EXPECT_EQ(file.at("steps").dtype, nnfuse::DType::i64);
  EXPECT_TRUE(file.at("steps").shape.empty());

  const float inf = INFINITY;
  const auto same_bits = [](const std::vector<float>& got, const std::vector<float>& expected) {
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (std::isnan(expected[i])) {
        EXPECT_TRUE(std::isnan(got[i])) << i;
      } else {
        EXPECT_EQ(got[i], expected[i]) << i;
        EXPECT_EQ(std::signbit(got[i]), std::signbit(expected[i])) << i;
      }
    }
  };
  same_bits(file.read_float32(file.at("half")),
            {0x1.554p-2F, 0x1.ffcp+15F, 0x1p-24F, 0x1.ff8p-15F, -0.0F, -inf, inf, NAN, -0x1.4p+1F});
  same_bits(file.read_float32(file.at("bfloat")),
            {0x1.56p-2F, 0x1.fep+127F, 0x1p-133F, -0.0F, -0x1.8p+0F});
  same_bits(file.read_float32(file.at("double")),
            {0x1.99999ap-4F, 0x1.555556p-2F, 0x1.16c2p-133F, -0.0F, 0x1p+0F, 0x1.d6f346p+26F});
  same_bits(file.read_float32(file.at("single")), {0x1.8p+0F, -0x1p+1F});

  // The exporter aligns every tensor to its element size, so F32 data can be used in place.
  EXPECT_TRUE(file.float32_view(file.at("single")).has_value());
  // The I64 buffer is not a weight.
  const std::vector<TensorSpec> specs = {{"steps", {}}};
  EXPECT_THROW(static_cast<void>(nnfuse::load_float32(file, specs, {.allow_unexpected = true})),
               nnfuse::WeightsError);
}

}  // namespace
