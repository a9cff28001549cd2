// load_float32: a model's expected tensors copied by name into its float32 parameter block,
// with every mismatch between model and file reported by name (missing, unexpected, wrong dtype,
// wrong shape, non-finite values) and every misuse of the arguments refused before anything is
// written.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/weights/safetensors.hpp>

#include "safetensors_builder.hpp"

namespace {

using nnfuse::LoadOptions;
using nnfuse::SafetensorsFile;
using nnfuse::TensorSpec;
using nnfuse::WeightsError;
using nnfuse::test::f32_bytes;
using nnfuse::test::f64_bytes;
using nnfuse::test::make_valid_file;
using nnfuse::test::u16_bytes;
using nnfuse::test::zeros;

constexpr const char* file_name = "model.safetensors";
constexpr float sentinel = -12345.0F;

// fc1: a 3→2 layer stored as F32 weight, F16 bias; act: a PReLU weight stored as BF16.
SafetensorsFile model_file(std::vector<nnfuse::test::RawTensor> extra = {}) {
  std::vector<nnfuse::test::RawTensor> tensors = {
      {"fc1.weight", "F32", {2, 3}, f32_bytes({1, 2, 3, 4, 5, 6})},
      {"fc1.bias", "F16", {2}, u16_bytes({0x3800, 0xB400})},     // 0.5, -0.25
      {"act.weight", "BF16", {2}, u16_bytes({0x3E80, 0x3F80})},  // 0.25, 1
  };
  for (auto& t : extra) tensors.push_back(std::move(t));
  return SafetensorsFile::from_bytes(make_valid_file(tensors), file_name);
}

const std::vector<TensorSpec> model_specs = {
    {"fc1.weight", {2, 3}},
    {"fc1.bias", {2}},
    {"act.weight", {2}},
};

template <typename F>
WeightsError load_failure(F&& load) {
  try {
    load();
  } catch (const WeightsError& e) {
    return e;
  }
  throw std::logic_error("the load succeeded");
}

TEST(WeightsLoad, CopiesEveryTensorToItsOffset) {
  // Offsets with gaps (a parameter table aligns each tensor), in an order unlike the file's.
  std::vector<float> block(40, sentinel);
  const std::vector<std::size_t> offsets = {16, 0, 32};
  nnfuse::load_float32(model_file(), model_specs, block, offsets);
  EXPECT_EQ(std::vector<float>(block.begin() + 16, block.begin() + 22),
            (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(std::vector<float>(block.begin(), block.begin() + 2),
            (std::vector<float>{0.5F, -0.25F}));
  EXPECT_EQ(std::vector<float>(block.begin() + 32, block.begin() + 34),
            (std::vector<float>{0.25F, 1.0F}));
  // The padding is untouched.
  EXPECT_EQ(block[2], sentinel);
  EXPECT_EQ(block[22], sentinel);
  EXPECT_EQ(block[39], sentinel);
}

TEST(WeightsLoad, PackedOverload) {
  EXPECT_EQ(nnfuse::load_float32(model_file(), model_specs),
            (std::vector<float>{1, 2, 3, 4, 5, 6, 0.5F, -0.25F, 0.25F, 1.0F}));
}

TEST(WeightsLoad, MissingTensor) {
  const std::vector<TensorSpec> specs = {{"fc1.weight", {2, 3}}, {"fc2.weight", {4, 2}}};
  std::vector<float> block(14, sentinel);
  const std::vector<std::size_t> offsets = {0, 6};
  const WeightsError e = load_failure([&] {
    nnfuse::load_float32(model_file(), specs, block, offsets, {.allow_unexpected = true});
  });
  EXPECT_EQ(e.kind(), WeightsError::Kind::missing);
  EXPECT_EQ(e.file(), file_name);
  EXPECT_EQ(e.tensor(), "fc2.weight");
  EXPECT_EQ(std::string(e.what()),
            "model.safetensors: tensor 'fc2.weight': expected a tensor of shape [4, 2], found "
            "none of that name (the file has 3 tensors: 'act.weight', 'fc1.bias', "
            "'fc1.weight')");
  // Nothing was written, not even the tensors found before the missing one.
  EXPECT_EQ(block, std::vector<float>(14, sentinel));
}

TEST(WeightsLoad, MissingTensorListsAFewNamesOnly) {
  std::vector<nnfuse::test::RawTensor> tensors;
  for (int i = 0; i < 10; ++i) tensors.push_back({"t" + std::to_string(i), "F32", {0}, {}});
  const auto file = SafetensorsFile::from_bytes(make_valid_file(tensors), file_name);
  const std::vector<TensorSpec> specs = {{"w", {}}};
  const WeightsError e =
      load_failure([&] { static_cast<void>(nnfuse::load_float32(file, specs)); });
  EXPECT_EQ(std::string(e.what()),
            "model.safetensors: tensor 'w': expected a tensor of shape [], found none of that "
            "name (the file has 10 tensors: 't0', 't1', 't2', 't3', 't4', 't5', 't6', 't7', ...)");

  const auto empty = SafetensorsFile::from_bytes(make_valid_file({}), file_name);
  EXPECT_EQ(std::string(load_failure([&] {
                          static_cast<void>(nnfuse::load_float32(empty, specs));
                        }).what()),
            "model.safetensors: tensor 'w': expected a tensor of shape [], found none of that "
            "name (the file has no tensors)");
}

TEST(WeightsLoad, UnexpectedTensor) {
  const auto file = model_file({{"fc2.weight", "F32", {1, 2}, f32_bytes({7, 8})}});
  const WeightsError e =
      load_failure([&] { static_cast<void>(nnfuse::load_float32(file, model_specs)); });
  EXPECT_EQ(e.kind(), WeightsError::Kind::unexpected);
  EXPECT_EQ(e.tensor(), "fc2.weight");
  EXPECT_EQ(std::string(e.what()),
            "model.safetensors: tensor 'fc2.weight': expected only the model's tensors (the "
            "model has 3 tensors: 'fc1.weight', 'fc1.bias', 'act.weight'; "
            "LoadOptions::allow_unexpected skips others), found this one, of dtype F32 and shape "
            "[1, 2]");
  // Allowed: the extra tensor is skipped, whatever its dtype.
  const auto with_buffer = model_file({{"bn.num_batches_tracked", "I64", {}, zeros(8)}});
  EXPECT_EQ(nnfuse::load_float32(with_buffer, model_specs, {.allow_unexpected = true}).size(), 10U);
}

TEST(WeightsLoad, WrongDtype) {
  const auto file = SafetensorsFile::from_bytes(
      make_valid_file({{"steps", "I64", {1}, zeros(8)}, {"mask", "BOOL", {2}, zeros(2)}}),
      file_name);
  for (const std::string name : {"steps", "mask"}) {
    const std::vector<TensorSpec> specs = {{name, {name == "steps" ? 1 : 2}}};
    const WeightsError e = load_failure(
        [&] { static_cast<void>(nnfuse::load_float32(file, specs, {.allow_unexpected = true})); });
    EXPECT_EQ(e.kind(), WeightsError::Kind::wrong_dtype);
    EXPECT_EQ(std::string(e.what()),
              "model.safetensors: tensor '" + name +
                  "': expected a floating-point dtype (F32, F16, BF16 or F64), found " +
                  (name == "steps" ? "I64" : "BOOL"));
  }
}

TEST(WeightsLoad, WrongShape) {
  const auto check = [](const std::vector<std::int64_t>& shape, const std::string& message) {
    std::vector<TensorSpec> specs = model_specs;
    specs[0].shape = shape;
    const WeightsError e =
        load_failure([&] { static_cast<void>(nnfuse::load_float32(model_file(), specs)); });
    EXPECT_EQ(e.kind(), WeightsError::Kind::wrong_shape);
    EXPECT_EQ(e.tensor(), "fc1.weight");
    EXPECT_EQ(std::string(e.what()), message);
  };
  // Transposed (same element count), flattened, and with an extra unit dimension: all refused,
  // since a silently reinterpreted weight matrix computes garbage.
  check({3, 2},
        "model.safetensors: tensor 'fc1.weight': expected shape [3, 2], found shape [2, 3]");
  check({6}, "model.safetensors: tensor 'fc1.weight': expected shape [6], found shape [2, 3]");
  check({1, 2, 3},
        "model.safetensors: tensor 'fc1.weight': expected shape [1, 2, 3], found shape [2, 3]");
}

TEST(WeightsLoad, ScalarIsNotAOneElementVector) {
  const auto file =
      SafetensorsFile::from_bytes(make_valid_file({{"s", "F32", {}, f32_bytes({2})}}), file_name);
  const std::vector<TensorSpec> vector_spec = {{"s", {1}}};
  EXPECT_EQ(
      load_failure([&] { static_cast<void>(nnfuse::load_float32(file, vector_spec)); }).kind(),
      WeightsError::Kind::wrong_shape);
  const std::vector<TensorSpec> scalar_spec = {{"s", {}}};
  EXPECT_EQ(nnfuse::load_float32(file, scalar_spec), std::vector<float>{2.0F});
}

TEST(WeightsLoad, ZeroSizedTensors) {
  const auto file = SafetensorsFile::from_bytes(
      make_valid_file({{"empty", "F16", {0, 3}, {}}, {"w", "F32", {1}, f32_bytes({4})}}),
      file_name);
  const std::vector<TensorSpec> specs = {{"empty", {0, 3}}, {"w", {1}}};
  std::vector<float> block(1, sentinel);
  // A zero-sized tensor may sit at the end of the block, or share an offset with another.
  const std::vector<std::size_t> offsets = {0, 0};
  nnfuse::load_float32(file, specs, block, offsets);
  EXPECT_EQ(block, std::vector<float>{4.0F});
}

TEST(WeightsLoad, CheckFinite) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const auto file = SafetensorsFile::from_bytes(
      make_valid_file(
          {{"a", "F32", {2, 3}, f32_bytes({0, 1, 2, 3, nan, 5})},
           {"b", "F16", {2}, u16_bytes({0x3C00, 0xFC00})},
           {"c", "F64", {1, 1, 2}, f64_bytes({1, std::numeric_limits<double>::infinity()})}}),
      file_name);
  const auto failure = [&](const std::string& name, const std::vector<std::int64_t>& shape) {
    const std::vector<TensorSpec> specs = {{name, shape}};
    return load_failure([&] {
      static_cast<void>(
          nnfuse::load_float32(file, specs, {.allow_unexpected = true, .check_finite = true}));
    });
  };
  WeightsError e = failure("a", {2, 3});
  EXPECT_EQ(e.kind(), WeightsError::Kind::not_finite);
  EXPECT_EQ(e.tensor(), "a");
  EXPECT_EQ(std::string(e.what()),
            "model.safetensors: tensor 'a': expected finite weights, found NaN at element 4 "
            "(index [1, 1])");
  EXPECT_EQ(std::string(failure("b", {2}).what()),
            "model.safetensors: tensor 'b': expected finite weights, found -inf at element 1 "
            "(index [1])");
  EXPECT_EQ(std::string(failure("c", {1, 1, 2}).what()),
            "model.safetensors: tensor 'c': expected finite weights, found inf at element 1 "
            "(index [0, 0, 1])");

  // Without the option, non-finite weights load as they are.
  const std::vector<TensorSpec> all = {{"a", {2, 3}}, {"b", {2}}, {"c", {1, 1, 2}}};
  const std::vector<float> values = nnfuse::load_float32(file, all);
  EXPECT_TRUE(std::isnan(values[4]));
  EXPECT_EQ(values[7], -inf);
  EXPECT_EQ(values[9], inf);
}

TEST(WeightsLoad, Float64OutOfRange) {
  const auto file = SafetensorsFile::from_bytes(
      make_valid_file({{"d", "F64", {2}, f64_bytes({1, 1e40})}}), file_name);
  const std::vector<TensorSpec> specs = {{"d", {2}}};
  const WeightsError e =
      load_failure([&] { static_cast<void>(nnfuse::load_float32(file, specs)); });
  EXPECT_EQ(e.kind(), WeightsError::Kind::out_of_range);
  EXPECT_EQ(std::string(e.what()),
            "model.safetensors: tensor 'd': expected F64 values within float32's range "
            "(magnitude below 3.4028235677973366e+38), found 1e+40 at element 1 (index [1])");
}

TEST(WeightsLoad, ChecksItsArgumentsBeforeWriting) {
  const auto file = model_file();
  std::vector<float> block(10, sentinel);
  const auto refused = [&](const std::vector<TensorSpec>& specs,
                           const std::vector<std::size_t>& offsets, const std::string& message) {
    try {
      nnfuse::load_float32(file, specs, block, offsets, {.allow_unexpected = true});
      ADD_FAILURE() << "accepted: " << message;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
    EXPECT_EQ(block, std::vector<float>(10, sentinel));
  };
  refused(model_specs, {0, 6}, "nnfuse::load_float32: 3 tensors but 2 offsets");
  refused({{"fc1.bias", {2}}, {"fc1.bias", {2}}}, {0, 2},
          "nnfuse::load_float32: tensor 'fc1.bias' is expected twice");
  refused({{"fc1.bias", {-2}}}, {0}, "nnfuse::load_float32: tensor 'fc1.bias' has shape [-2]");
  refused({{"fc1.weight", {2, 3}}}, {5},
          "nnfuse::load_float32: tensor 'fc1.weight' at float offset 5 with 6 floats does not "
          "fit a destination of 10 floats");
  refused({{"fc1.weight", {2, 3}}}, {std::numeric_limits<std::size_t>::max()},
          "nnfuse::load_float32: tensor 'fc1.weight' at float offset 18446744073709551615 with 6 "
          "floats does not fit a destination of 10 floats");
  refused({{"fc1.weight", {2, 3}}, {"fc1.bias", {2}}}, {0, 5},
          "nnfuse::load_float32: tensors 'fc1.weight' and 'fc1.bias' overlap in the destination");
  refused({{"fc1.weight", {std::numeric_limits<std::int64_t>::max(), 4}}}, {0},
          "nnfuse::load_float32: tensor 'fc1.weight' has too many elements");
}

}  // namespace
