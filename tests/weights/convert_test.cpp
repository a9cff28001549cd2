// Conversion of every floating-point dtype to float32 (SafetensorsFile::read_float32 and
// float32_view), checked bit for bit: all 65536 F16 and all 65536 BF16 patterns against a
// reference computed from the formats' definitions with ldexp, F64 rounding cases worked out by
// hand, NaN payloads, signed zeros, and the format's little-endian byte order.
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/weights/safetensors.hpp>

#include "safetensors_builder.hpp"

namespace {

using nnfuse::SafetensorsFile;
using nnfuse::WeightsError;
using nnfuse::test::make_valid_file;
using nnfuse::test::RawTensor;

constexpr const char* file_name = "test.safetensors";

std::uint32_t bits(float f) {
  return std::bit_cast<std::uint32_t>(f);
}

// One tensor "t" of `dtype` holding `data`, converted to float32.
std::vector<float> convert(const std::string& dtype, std::vector<std::byte> data,
                           std::size_t element_size) {
  const auto count = static_cast<std::int64_t>(data.size() / element_size);
  const auto file = SafetensorsFile::from_bytes(
      make_valid_file({{"t", dtype, {count}, std::move(data)}}), file_name);
  return file.read_float32(file.at("t"));
}

// binary16 from its definition: (-1)^s · 2^(e-15) · (1 + m/2^10), subnormals 2^-14 · m/2^10.
double half_reference(std::uint16_t h) {
  const int sign = h >> 15;
  const int exponent = (h >> 10) & 0x1F;
  const int mantissa = h & 0x3FF;
  const double magnitude =
      exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
  return sign != 0 ? -magnitude : magnitude;
}

// bfloat16 from its definition: (-1)^s · 2^(e-127) · (1 + m/2^7), subnormals 2^-126 · m/2^7.
double bfloat16_reference(std::uint16_t b) {
  const int sign = b >> 15;
  const int exponent = (b >> 7) & 0xFF;
  const int mantissa = b & 0x7F;
  const double magnitude =
      exponent == 0 ? std::ldexp(mantissa, -133) : std::ldexp(128 + mantissa, exponent - 134);
  return sign != 0 ? -magnitude : magnitude;
}

std::vector<std::uint16_t> all_16_bit_patterns() {
  std::vector<std::uint16_t> patterns(65536);
  for (std::size_t i = 0; i < patterns.size(); ++i) patterns[i] = static_cast<std::uint16_t>(i);
  return patterns;
}

TEST(WeightsConvert, EveryHalfConvertsExactly) {
  const auto patterns = all_16_bit_patterns();
  const std::vector<float> got = convert("F16", nnfuse::test::u16_bytes(patterns), 2);
  ASSERT_EQ(got.size(), patterns.size());
  for (std::uint16_t h : patterns) {
    const std::uint32_t sign = (h & 0x8000U) << 16U;
    if ((h & 0x7C00U) == 0x7C00U) {  // inf and NaN: sign and payload carried into float's
      EXPECT_EQ(bits(got[h]), sign | 0x7F800000U | ((h & 0x3FFU) << 13U)) << std::hex << h;
    } else {
      // Every finite half is a float: compare bits, so -0 must stay -0.
      EXPECT_EQ(bits(got[h]), bits(static_cast<float>(half_reference(h)))) << std::hex << h;
    }
  }
}

TEST(WeightsConvert, HalfByHand) {
  const std::vector<float> got =
      convert("F16",
              nnfuse::test::u16_bytes({0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400, 0x3555,
                                       0x8000, 0x8001, 0x7C00, 0xFC00, 0x7E00, 0xFC01}),
              2);
  EXPECT_EQ(got[0], 1.0F);
  EXPECT_EQ(got[1], -2.0F);
  EXPECT_EQ(got[2], 65504.0F);           // the largest half
  EXPECT_EQ(got[3], 0x1p-24F);           // the smallest subnormal half, 5.96e-8
  EXPECT_EQ(got[4], 0x1.ff8p-15F);       // the largest subnormal half
  EXPECT_EQ(got[5], 0x1p-14F);           // the smallest normal half
  EXPECT_EQ(got[6], 0x1.554p-2F);        // 1/3 as a half
  EXPECT_EQ(bits(got[7]), 0x80000000U);  // -0
  EXPECT_EQ(got[8], -0x1p-24F);
  EXPECT_EQ(got[9], std::numeric_limits<float>::infinity());
  EXPECT_EQ(got[10], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(bits(got[11]), 0x7FC00000U);  // quiet NaN
  EXPECT_EQ(bits(got[12]), 0xFF802000U);  // signalling NaN: sign and payload kept, not quieted
}

TEST(WeightsConvert, EveryBfloat16ConvertsExactly) {
  const auto patterns = all_16_bit_patterns();
  const std::vector<float> got = convert("BF16", nnfuse::test::u16_bytes(patterns), 2);
  for (std::uint16_t b : patterns) {
    if ((b & 0x7F80U) == 0x7F80U) {
      EXPECT_EQ(bits(got[b]), std::uint32_t{b} << 16U) << std::hex << b;
    } else {
      EXPECT_EQ(bits(got[b]), bits(static_cast<float>(bfloat16_reference(b)))) << std::hex << b;
    }
  }
}

TEST(WeightsConvert, Bfloat16ByHand) {
  const std::vector<float> got =
      convert("BF16", nnfuse::test::u16_bytes({0x3F80, 0x7F7F, 0x0001, 0xFF80, 0x7FC1, 0x3EAB}), 2);
  EXPECT_EQ(got[0], 1.0F);
  EXPECT_EQ(got[1], 0x1.fep127F);  // the largest bfloat16
  EXPECT_EQ(got[2], 0x1p-133F);    // the smallest subnormal bfloat16
  EXPECT_EQ(got[3], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(bits(got[4]), 0x7FC10000U);
  EXPECT_EQ(got[5], 0x1.56p-2F);  // 1/3 as a bfloat16
}

TEST(WeightsConvert, Float32IsCopiedBitForBit) {
  const std::vector<std::uint32_t> patterns = {0x3F800000U, 0x80000000U, 0x00000001U, 0x007FFFFFU,
                                               0x7F7FFFFFU, 0xFF800000U, 0x7FA00001U, 0xFFC12345U};
  std::vector<std::byte> data;
  for (std::uint32_t p : patterns) nnfuse::test::append_le(data, p, 4);
  const std::vector<float> got = convert("F32", data, 4);
  ASSERT_EQ(got.size(), patterns.size());
  for (std::size_t i = 0; i < patterns.size(); ++i) EXPECT_EQ(bits(got[i]), patterns[i]) << i;
}

TEST(WeightsConvert, Float64RoundsToNearestEven) {
  const double flt_max = std::numeric_limits<float>::max();
  const double overflow = flt_max + 0x1p103;  // halfway to 2^128: rounds to infinity
  const std::vector<double> inputs = {
      0.1,
      1.0 / 3.0,
      1 + 0x1p-24,  // a tie: rounds to the even neighbour, 1
      1 + 0x3p-24,  // a tie: rounds up to the even neighbour, 1 + 2^-22
      0x1p-149,     // float's smallest subnormal
      0x1p-150,     // a tie between 0 and 2^-149: 0 is even
      0x1.8p-150,   // above the tie: 2^-149
      0x1.8p-149,   // a tie between 1 and 2 subnormal ulps: 2
      1e-46,        // underflows to 0
      -1e-46,       // ... keeping its sign
      -0.0,
      123456789.0,
      flt_max,
      std::nextafter(overflow, 0.0),  // below the halfway point: FLT_MAX, not infinity
      -std::nextafter(overflow, 0.0),
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
  };
  const std::vector<float> expected = {
      0.1F,
      0x1.555556p-2F,
      1.0F,
      0x1.000004p0F,
      0x1p-149F,
      0.0F,
      0x1p-149F,
      0x1p-148F,
      0.0F,
      -0.0F,
      -0.0F,
      123456792.0F,
      std::numeric_limits<float>::max(),
      std::numeric_limits<float>::max(),
      -std::numeric_limits<float>::max(),
      std::numeric_limits<float>::infinity(),
      -std::numeric_limits<float>::infinity(),
  };
  std::vector<std::byte> data;
  for (double d : inputs) nnfuse::test::append_le(data, std::bit_cast<std::uint64_t>(d), 8);
  const std::vector<float> got = convert("F64", data, 8);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(bits(got[i]), bits(expected[i])) << i << ": " << inputs[i];
  }
}

TEST(WeightsConvert, Float64NaNKeepsSignAndLeadingPayload) {
  std::vector<std::byte> data;
  // A signalling NaN whose payload is only in the low bits, and a negative quiet NaN with
  // payload bit 29 (the lowest one float keeps) set.
  nnfuse::test::append_le(data, 0x7FF0000000000001U, 8);
  nnfuse::test::append_le(data, 0xFFF8000020000000U, 8);
  const std::vector<float> got = convert("F64", data, 8);
  EXPECT_EQ(bits(got[0]), 0x7FC00000U);
  EXPECT_EQ(bits(got[1]), 0xFFC00001U);
}

TEST(WeightsConvert, Float64BeyondFloatRangeIsAnError) {
  const auto fails_with = [](double value, std::int64_t rows, const std::string& message) {
    std::vector<std::byte> data;
    for (std::int64_t i = 0; i < 2 * rows - 1; ++i) nnfuse::test::append_le(data, 0, 8);
    nnfuse::test::append_le(data, std::bit_cast<std::uint64_t>(value), 8);
    const auto file =
        SafetensorsFile::from_bytes(make_valid_file({{"d", "F64", {rows, 2}, data}}), file_name);
    try {
      static_cast<void>(file.read_float32(file.at("d")));
      ADD_FAILURE() << value << " was converted";
    } catch (const WeightsError& e) {
      EXPECT_EQ(e.kind(), WeightsError::Kind::out_of_range);
      EXPECT_EQ(e.tensor(), "d");
      EXPECT_EQ(std::string(e.what()), message);
    }
  };
  const std::string prefix =
      "test.safetensors: tensor 'd': expected F64 values within float32's range (magnitude "
      "below 3.4028235677973366e+38), found ";
  fails_with(std::numeric_limits<float>::max() + 0x1p103, 1,
             prefix + "3.4028235677973366e+38 at element 1 (index [0, 1])");
  fails_with(1e300, 2, prefix + "1e+300 at element 3 (index [1, 1])");
  fails_with(-1e39, 3, prefix + "-1e+39 at element 5 (index [2, 1])");
}

TEST(WeightsConvert, LittleEndianBytes) {
  // The format is little-endian whatever the host is: these are the bytes on disk.
  const auto raw = [](std::initializer_list<unsigned> bytes) {
    std::vector<std::byte> out;
    for (unsigned b : bytes) out.push_back(static_cast<std::byte>(b));
    return out;
  };
  EXPECT_EQ(convert("F32", raw({0x00, 0x00, 0x80, 0x3F}), 4), std::vector<float>{1.0F});
  EXPECT_EQ(convert("F16", raw({0x00, 0x3C}), 2), std::vector<float>{1.0F});
  EXPECT_EQ(convert("BF16", raw({0x80, 0x3F}), 2), std::vector<float>{1.0F});
  EXPECT_EQ(convert("F64", raw({0, 0, 0, 0, 0, 0, 0xF0, 0x3F}), 8), std::vector<float>{1.0F});
}

TEST(WeightsConvert, NonFloatDtypesAreNotWeights) {
  for (const std::string dtype : {"I64", "I32", "BOOL", "U8", "F8_E4M3", "U64"}) {
    const std::size_t size = nnfuse::dtype_size(*nnfuse::dtype_from_name(dtype));
    const auto file = SafetensorsFile::from_bytes(
        make_valid_file({{"n", dtype, {2}, nnfuse::test::zeros(2 * size)}}), file_name);
    try {
      static_cast<void>(file.read_float32(file.at("n")));
      ADD_FAILURE() << dtype << " was converted";
    } catch (const WeightsError& e) {
      EXPECT_EQ(e.kind(), WeightsError::Kind::wrong_dtype);
      EXPECT_EQ(std::string(e.what()),
                "test.safetensors: tensor 'n': expected a floating-point dtype (F32, F16, BF16 or "
                "F64), found " +
                    dtype);
    }
  }
}

TEST(WeightsConvert, DestinationMustMatchTheElementCount) {
  const auto file = SafetensorsFile::from_bytes(
      make_valid_file(
          {{"w", "F32", {2}, nnfuse::test::f32_bytes({1, 2})}, {"z", "F16", {0, 4}, {}}}),
      file_name);
  std::vector<float> three(3);
  EXPECT_THROW(file.read_float32(file.at("w"), three), std::invalid_argument);
  EXPECT_TRUE(file.read_float32(file.at("z")).empty());
}

TEST(WeightsConvert, Float32ViewIsZeroCopyWhenAligned) {
  const std::vector<std::byte> bytes =
      make_valid_file({{"h", "F16", {2}, nnfuse::test::u16_bytes({0x3C00, 0x4000})},
                       {"w", "F32", {3}, nnfuse::test::f32_bytes({1.5F, -2.0F, 0x1p-149F})}});
  // The file puts "w" at byte 4 of the data block, which starts 8-aligned.
  const auto file = SafetensorsFile::view(bytes, file_name);
  const auto view = file.float32_view(file.at("w"));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(std::vector<float>(view->begin(), view->end()),
            (std::vector<float>{1.5F, -2.0F, 0x1p-149F}));
  EXPECT_EQ(static_cast<const void*>(view->data()),
            static_cast<const void*>(file.bytes(file.at("w")).data()));
  EXPECT_FALSE(file.float32_view(file.at("h")).has_value());  // F16: convert instead

  // The same file one byte off alignment: no view, but reading still works.
  std::vector<std::byte> storage(bytes.size() + 1);
  std::memcpy(storage.data() + 1, bytes.data(), bytes.size());
  const auto shifted = SafetensorsFile::view(std::span(storage).subspan(1), file_name);
  EXPECT_FALSE(shifted.float32_view(shifted.at("w")).has_value());
  EXPECT_EQ(shifted.read_float32(shifted.at("w")), (std::vector<float>{1.5F, -2.0F, 0x1p-149F}));
  // view() borrows: the bytes are the caller's.
  EXPECT_EQ(shifted.bytes(shifted.at("h")).data(), storage.data() + 1 + bytes.size() - 16);
}

}  // namespace
