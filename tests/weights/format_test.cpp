// SafetensorsFile's validation of the file itself: every way a file can be damaged is rejected
// with a WeightsError of kind `damaged` whose whole message is checked (file, tensor, expected,
// found), and well-formed edge cases (no tensors, zero-sized tensors, scalars, padding, every
// dtype) are accepted.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/weights/safetensors.hpp>

#include "safetensors_builder.hpp"

namespace {

using nnfuse::DType;
using nnfuse::SafetensorsFile;
using nnfuse::WeightsError;
using nnfuse::test::make_file;
using nnfuse::test::make_valid_file;
using nnfuse::test::RawTensor;
using nnfuse::test::zeros;

constexpr const char* file_name = "test.safetensors";

WeightsError parse_failure(const std::vector<std::byte>& bytes) {
  try {
    static_cast<void>(SafetensorsFile::from_bytes(bytes, file_name));
  } catch (const WeightsError& e) {
    return e;
  }
  throw std::logic_error("the file was accepted");
}

// The file is rejected as damaged, with this tensor and this exact message.
void check_damaged(const std::vector<std::byte>& bytes, const std::string& tensor,
                   const std::string& message) {
  WeightsError e = parse_failure(bytes);
  EXPECT_EQ(e.kind(), WeightsError::Kind::damaged);
  EXPECT_EQ(e.file(), file_name);
  EXPECT_EQ(e.tensor(), tensor);
  EXPECT_EQ(std::string(e.what()), message);
}

// A macro so that a failure names the caller's line (std::source_location needs a builtin that
// clang 14 lacks).
#define EXPECT_DAMAGED(...)     \
  do {                          \
    SCOPED_TRACE("here");       \
    check_damaged(__VA_ARGS__); \
  } while (false)

// A header with one tensor entry "w" whose fields are given as JSON text.
std::string one_entry(const std::string& dtype, const std::string& shape,
                      const std::string& offsets) {
  return R"({"w":{"dtype":)" + dtype + R"(,"shape":)" + shape + R"(,"data_offsets":)" + offsets +
         "}}";
}

TEST(WeightsFormat, FileShorterThanTheLengthField) {
  for (std::size_t n = 0; n < 8; ++n) {
    EXPECT_DAMAGED(zeros(n), "",
                   "test.safetensors: expected at least 8 bytes (the header length), found " +
                       std::to_string(n) + " bytes");
  }
}

TEST(WeightsFormat, HeaderLengthBeyondTheFile) {
  EXPECT_DAMAGED(make_file("{}", {}, 3), "",
                 "test.safetensors: expected a header length of at most 2 (the file has 10 "
                 "bytes), found 3");
  EXPECT_DAMAGED(make_file("", {}, 1), "",
                 "test.safetensors: expected a header length of at most 0 (the file has 8 "
                 "bytes), found 1");
  // A length that would wrap around if added to the position.
  EXPECT_DAMAGED(make_file("{}", {}, UINT64_MAX), "",
                 "test.safetensors: expected a header length of at most 2 (the file has 10 "
                 "bytes), found 18446744073709551615");
}

TEST(WeightsFormat, HeaderLengthBeyondTheCap) {
  // A file big enough to hold the header, so only the cap rejects it.
  const std::size_t length = SafetensorsFile::max_header_bytes + 1;
  std::vector<std::byte> bytes = make_file("", {}, length);
  bytes.resize(8 + length, std::byte{' '});
  EXPECT_DAMAGED(bytes, "",
                 "test.safetensors: expected a header length of at most 104857600, found "
                 "104857601");
}

TEST(WeightsFormat, HeaderNotJson) {
  EXPECT_DAMAGED(make_file(""), "",
                 "test.safetensors: expected a JSON header, found invalid JSON at byte 1 of the "
                 "header");
  EXPECT_DAMAGED(make_file("{"), "",
                 "test.safetensors: expected a JSON header, found invalid JSON at byte 2 of the "
                 "header");
  EXPECT_DAMAGED(make_file(R"({"a":1,})"), "",
                 "test.safetensors: expected a JSON header, found invalid JSON at byte 8 of the "
                 "header");
  // Something after the object (padding must be spaces).
  EXPECT_DAMAGED(make_file("{} x"), "",
                 "test.safetensors: expected a JSON header, found invalid JSON at byte 4 of the "
                 "header");
  // NUL padding, which the JSON library alone would take for the end of the text: a header
  // whose rest would be ignored.
  EXPECT_DAMAGED(make_file(std::string("{}\0\0", 4)), "",
                 "test.safetensors: expected a JSON header, found a NUL byte at byte 3 of the "
                 "header");
  EXPECT_DAMAGED(make_file(std::string("{}\0{\"hidden\":1}", 15)), "",
                 "test.safetensors: expected a JSON header, found a NUL byte at byte 3 of the "
                 "header");
  // Invalid UTF-8 in a name.
  EXPECT_DAMAGED(make_file("{\"\xff\":1}"), "",
                 "test.safetensors: expected a JSON header, found invalid JSON at byte 3 of the "
                 "header");
}

TEST(WeightsFormat, HeaderNotAnObject) {
  const std::string expected = "test.safetensors: expected a JSON object at the top of the header";
  EXPECT_DAMAGED(make_file("[]"), "", expected + ", found an array");
  EXPECT_DAMAGED(make_file("3"), "", expected + ", found 3");
  EXPECT_DAMAGED(make_file("\"x\""), "", expected + ", found the string 'x'");
  EXPECT_DAMAGED(make_file("null"), "", expected + ", found null");
  EXPECT_DAMAGED(make_file("true"), "", expected + ", found true");
  // Deep nesting is refused at the first bracket, before any of it is built.
  EXPECT_DAMAGED(make_file(std::string(100000, '[') + std::string(100000, ']')), "",
                 expected + ", found an array");
}

TEST(WeightsFormat, EntryNotAnObject) {
  const std::string expected =
      R"(test.safetensors: tensor 'w': expected an object {"dtype", "shape", "data_offsets"})";
  EXPECT_DAMAGED(make_file(R"({"w":3})"), "w", expected + ", found 3");
  EXPECT_DAMAGED(make_file(R"({"w":[1,2]})"), "w", expected + ", found an array");
  EXPECT_DAMAGED(make_file(R"({"w":null})"), "w", expected + ", found null");
}

TEST(WeightsFormat, EntryWithUnknownOrMissingKeys) {
  EXPECT_DAMAGED(
      make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"offset":0}})", zeros(4)),
      "w",
      "test.safetensors: tensor 'w': expected only the keys dtype, shape and data_offsets, "
      "found the key 'offset'");
  EXPECT_DAMAGED(make_file(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", zeros(4)), "w",
                 "test.safetensors: tensor 'w': expected the keys dtype, shape and "
                 "data_offsets, found no dtype");
  EXPECT_DAMAGED(make_file(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", zeros(4)), "w",
                 "test.safetensors: tensor 'w': expected the keys dtype, shape and "
                 "data_offsets, found no shape");
  EXPECT_DAMAGED(make_file(R"({"w":{"dtype":"F32","shape":[1]}})", zeros(4)), "w",
                 "test.safetensors: tensor 'w': expected the keys dtype, shape and "
                 "data_offsets, found no data_offsets");
}

TEST(WeightsFormat, UnknownDtype) {
  const std::string expected =
      "test.safetensors: tensor 'w': expected a dtype among BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, "
      "U16, F16, BF16, I32, U32, F32, F64, I64, U64";
  EXPECT_DAMAGED(make_file(one_entry(R"("F4")", "[1]", "[0,1]"), zeros(1)), "w",
                 expected + ", found the string 'F4'");
  // Tags are case-sensitive, as the format spells them.
  EXPECT_DAMAGED(make_file(one_entry(R"("f32")", "[1]", "[0,4]"), zeros(4)), "w",
                 expected + ", found the string 'f32'");
  EXPECT_DAMAGED(make_file(one_entry("4", "[1]", "[0,4]"), zeros(4)), "w", expected + ", found 4");
}

TEST(WeightsFormat, BadShape) {
  const std::string prefix = "test.safetensors: tensor 'w': expected ";
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "3", "[0,12]"), zeros(12)), "w",
                 prefix + "a shape (an array of non-negative integers), found 3");
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[2,-1]", "[0,0]")), "w",
                 prefix + "a shape of non-negative 64-bit integers, found -1 at dimension 1");
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[2.0]", "[0,8]"), zeros(8)), "w",
                 prefix + "a shape of non-negative 64-bit integers, found 2.0 at dimension 0");
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", R"(["2"])", "[0,8]"), zeros(8)), "w",
                 prefix +
                     "a shape of non-negative 64-bit integers, found the string '2' at "
                     "dimension 0");
  // Above INT64_MAX, and above UINT64_MAX (which JSON parsers read as a double).
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[9223372036854775808]", "[0,0]")), "w",
                 prefix +
                     "a shape of non-negative 64-bit integers, found 9223372036854775808 at "
                     "dimension 0");
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[18446744073709551616]", "[0,0]")), "w",
                 prefix +
                     "a shape of non-negative 64-bit integers, found 1.8446744073709552e+19 at "
                     "dimension 0");
}

TEST(WeightsFormat, BadDataOffsets) {
  const std::string prefix = "test.safetensors: tensor 'w': expected ";
  const std::string two = "data_offsets [begin, end] of two non-negative integers";
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[1]", "[0]"), zeros(4)), "w",
                 prefix + two + ", found an array of size 1: [0]");
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[1]", "[0,4,8]"), zeros(4)), "w",
                 prefix + two + ", found an array of size 3: [0,4,8]");
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[1]", "[-4,0]"), zeros(4)), "w",
                 prefix + two + ", found an array of size 2: [-4,0]");
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[1]", "[0,4.0]"), zeros(4)), "w",
                 prefix + two + ", found an array of size 2: [0,4.0]");
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[1]", R"({"begin":0})"), zeros(4)), "w",
                 prefix + two + ", found an object");
}

TEST(WeightsFormat, DataOffsetsReversed) {
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[1]", "[8,4]"), zeros(8)), "w",
                 "test.safetensors: tensor 'w': expected data_offsets [begin, end] with begin <= "
                 "end, found [8, 4]");
}

TEST(WeightsFormat, DataOffsetsOutsideTheDataBlock) {
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[2]", "[0,8]"), zeros(4)), "w",
                 "test.safetensors: tensor 'w': expected data_offsets within the data block of 4 "
                 "bytes, found [0, 8]");
  // Offsets so large that begin + size would wrap.
  EXPECT_DAMAGED(
      make_file(one_entry(R"("F32")", "[1]", "[18446744073709551612,18446744073709551615]"),
                zeros(4)),
      "w",
      "test.safetensors: tensor 'w': expected data_offsets within the data block of 4 bytes, "
      "found [18446744073709551612, 18446744073709551615]");
}

TEST(WeightsFormat, ByteLengthDiffersFromShapeTimesDtype) {
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[2]", "[0,4]"), zeros(4)), "w",
                 "test.safetensors: tensor 'w': expected 8 bytes for shape [2] of F32, found 4 "
                 "bytes in data_offsets [0, 4]");
  EXPECT_DAMAGED(make_file(one_entry(R"("F64")", "[]", "[0,4]"), zeros(4)), "w",
                 "test.safetensors: tensor 'w': expected 8 bytes for shape [] of F64, found 4 "
                 "bytes in data_offsets [0, 4]");
  EXPECT_DAMAGED(make_file(one_entry(R"("F16")", "[3,0]", "[0,2]"), zeros(2)), "w",
                 "test.safetensors: tensor 'w': expected 0 bytes for shape [3, 0] of F16, found 2 "
                 "bytes in data_offsets [0, 2]");
}

TEST(WeightsFormat, ShapeProductOverflows) {
  const std::string expected =
      "test.safetensors: tensor 'w': expected a shape whose size in bytes fits in 64 bits";
  // The element count overflows...
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[4294967296,4294967296,4]", "[0,0]")), "w",
                 expected + ", found shape [4294967296, 4294967296, 4]");
  // ...or only the count times the element size does.
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[4611686018427387904]", "[0,0]")), "w",
                 expected + ", found shape [4611686018427387904]");
  // A product that would wrap to exactly the byte length (2^62 · 4 = 2^64 ≡ 0).
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[2147483648,2147483648]", "[0,0]")), "w",
                 expected + ", found shape [2147483648, 2147483648]");
}

TEST(WeightsFormat, ZeroDimensionMakesAnyShapeEmpty) {
  const auto file = SafetensorsFile::from_bytes(
      make_file(one_entry(R"("F32")", "[0,9223372036854775807,9223372036854775807]", "[0,0]")),
      file_name);
  ASSERT_EQ(file.tensors().size(), 1U);
  EXPECT_EQ(file.tensors()[0].element_count, 0U);
}

TEST(WeightsFormat, TensorsMustTileTheDataBlock) {
  const auto f32 = [](const std::string& name, int begin, int end) {
    return "\"" + name + R"(":{"dtype":"F32","shape":[)" + std::to_string((end - begin) / 4) +
           R"(],"data_offsets":[)" + std::to_string(begin) + "," + std::to_string(end) + "]}";
  };
  // A gap before the first tensor.
  EXPECT_DAMAGED(make_file("{" + f32("a", 4, 8) + "}", zeros(8)), "a",
                 "test.safetensors: tensor 'a': expected data_offsets starting at byte 0 (the "
                 "start of the data block), found data_offsets [4, 8], leaving bytes [0, 4) in "
                 "no tensor");
  // A gap between two tensors.
  EXPECT_DAMAGED(make_file("{" + f32("a", 0, 4) + "," + f32("b", 8, 12) + "}", zeros(12)), "b",
                 "test.safetensors: tensor 'b': expected data_offsets starting at byte 4 (where "
                 "tensor 'a' ends), found data_offsets [8, 12], leaving bytes [4, 8) in no tensor");
  // Overlap, partial and complete.
  EXPECT_DAMAGED(make_file("{" + f32("a", 0, 8) + "," + f32("b", 4, 8) + "}", zeros(8)), "b",
                 "test.safetensors: tensor 'b': expected data_offsets starting at byte 8 (where "
                 "tensor 'a' ends), found data_offsets [4, 8], overlapping 'a'");
  EXPECT_DAMAGED(make_file("{" + f32("a", 0, 4) + "," + f32("b", 0, 4) + "}", zeros(4)), "b",
                 "test.safetensors: tensor 'b': expected data_offsets starting at byte 4 (where "
                 "tensor 'a' ends), found data_offsets [0, 4], overlapping 'a'");
  // Bytes after the last tensor, and a data block with no tensor at all.
  EXPECT_DAMAGED(make_file("{" + f32("a", 0, 4) + "}", zeros(6)), "",
                 "test.safetensors: expected tensors covering the whole data block of 6 bytes, "
                 "found bytes [4, 6) in no tensor");
  EXPECT_DAMAGED(make_file("{}", zeros(3)), "",
                 "test.safetensors: expected tensors covering the whole data block of 3 bytes, "
                 "found bytes [0, 3) in no tensor");
  // Order in the header does not matter, only the byte ranges.
  const auto file = SafetensorsFile::from_bytes(
      make_file("{" + f32("z", 0, 4) + "," + f32("a", 4, 12) + "}", zeros(12)), file_name);
  EXPECT_EQ(file.tensors().size(), 2U);
}

TEST(WeightsFormat, DuplicateKeys) {
  const std::string entry = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  EXPECT_DAMAGED(make_file(R"({"w":)" + entry + R"(,"w":)" + entry + "}", zeros(4)), "w",
                 "test.safetensors: tensor 'w': expected each tensor name once in the header, "
                 "found it twice");
  // The same name spelt with an escape is still the same name.
  EXPECT_DAMAGED(make_file(R"({"w":)" + entry + R"(,"\u0077":)" + entry + "}", zeros(4)), "w",
                 "test.safetensors: tensor 'w': expected each tensor name once in the header, "
                 "found it twice");
  EXPECT_DAMAGED(
      make_file(R"({"w":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}})",
                zeros(4)),
      "w",
      "test.safetensors: tensor 'w': expected each key once in the tensor's entry, found the "
      "key 'dtype' twice");
  EXPECT_DAMAGED(make_file(R"({"__metadata__":{},"__metadata__":{}})"), "",
                 "test.safetensors: expected one \"__metadata__\" entry, found two");
  EXPECT_DAMAGED(make_file(R"({"__metadata__":{"k":"a","k":"b"}})"), "",
                 "test.safetensors: expected each \"__metadata__\" key once, found the key 'k' "
                 "twice");
}

TEST(WeightsFormat, Metadata) {
  EXPECT_DAMAGED(make_file(R"({"__metadata__":3})"), "",
                 "test.safetensors: expected \"__metadata__\" to be an object of strings, found 3");
  EXPECT_DAMAGED(make_file(R"({"__metadata__":{"format":"pt","epoch":3}})"), "",
                 "test.safetensors: expected \"__metadata__\" to map names to strings, found "
                 "'epoch' mapped to 3");
  EXPECT_DAMAGED(make_file(R"({"__metadata__":{"k":{"x":1}}})"), "",
                 "test.safetensors: expected \"__metadata__\" to map names to strings, found 'k' "
                 "mapped to an object");
  const auto file = SafetensorsFile::from_bytes(
      make_file(R"({"__metadata__":{"format":"pt","note":"a \"quoted\" \u00e9"}})"), file_name);
  EXPECT_TRUE(file.tensors().empty());
  ASSERT_EQ(file.metadata().size(), 2U);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  EXPECT_EQ(file.metadata().at("note"), "a \"quoted\" \xc3\xa9");
}

TEST(WeightsFormat, NestingAndArrayLengthBeyondTheSchema) {
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", "[[1]]", "[0,4]"), zeros(4)), "w",
                 "test.safetensors: tensor 'w': expected the safetensors schema (a shape or "
                 "data_offsets array holds only integers), found nesting deeper than 3 levels");
  EXPECT_DAMAGED(make_file(R"({"w":)" + std::string(10000, '[') + std::string(10000, ']') + "}"),
                 "w",
                 "test.safetensors: tensor 'w': expected the safetensors schema (a shape or "
                 "data_offsets array holds only integers), found nesting deeper than 3 levels");
  EXPECT_DAMAGED(make_file(R"({"__metadata__":{"k":{"x":[1]}}})"), "",
                 "test.safetensors: expected the safetensors schema (a shape or data_offsets "
                 "array holds only integers), found nesting deeper than 3 levels");

  std::string ones = "[1";
  for (int i = 1; i < 64; ++i) ones += ",1";
  const auto file = SafetensorsFile::from_bytes(
      make_file(one_entry(R"("F32")", ones + "]", "[0,4]"), zeros(4)), file_name);
  EXPECT_EQ(file.tensors()[0].shape.size(), 64U);
  EXPECT_DAMAGED(make_file(one_entry(R"("F32")", ones + ",1]", "[0,4]"), zeros(4)), "w",
                 "test.safetensors: tensor 'w': expected an array of at most 64 elements (shape, "
                 "data_offsets), found a longer array");
}

TEST(WeightsFormat, NamesInMessagesAreEscapedAndCut) {
  // Control bytes, quotes and backslashes are escaped; tensor() keeps the exact name.
  const std::string entry = R"({"dtype":"F32","shape":[2],"data_offsets":[0,4]})";
  WeightsError e =
      parse_failure(make_file(R"({"a\u0001'\\b\n":)" + entry + "}", nnfuse::test::zeros(4)));
  EXPECT_EQ(e.tensor(), "a\x01'\\b\n");
  EXPECT_EQ(std::string(e.what()),
            "test.safetensors: tensor 'a\\x01\\'\\\\b\\x0a': expected 8 bytes for shape [2] of "
            "F32, found 4 bytes in data_offsets [0, 4]");

  // A long name is cut at 200 bytes, backing off to the start of a UTF-8 sequence.
  const std::string name = std::string(199, 'x') + "\xc3\xa9" + std::string(100, 'y');
  e = parse_failure(make_file("{\"" + name + "\":" + entry + "}", zeros(4)));
  EXPECT_EQ(e.tensor(), name);
  EXPECT_EQ(std::string(e.what()),
            "test.safetensors: tensor '" + std::string(199, 'x') +
                "'... (301 bytes): expected 8 bytes for shape [2] of F32, found 4 bytes in "
                "data_offsets [0, 4]");
}

TEST(WeightsFormat, WellFormedEdgeCases) {
  // No tensors at all.
  EXPECT_TRUE(SafetensorsFile::from_bytes(make_file("{}"), file_name).tensors().empty());
  // JSON whitespace around the object, and the spaces writers pad the header with.
  EXPECT_TRUE(
      SafetensorsFile::from_bytes(make_file(" \t\n{ }\r\n     "), file_name).tensors().empty());

  // Zero-sized tensors may share an offset with each other and with a tensor's start; a scalar
  // has shape [] and one element.
  const auto file = SafetensorsFile::from_bytes(
      make_file(R"({"empty1":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                R"("empty2":{"dtype":"F16","shape":[3,0,2],"data_offsets":[0,0]},)"
                R"("scalar":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                R"("tail":{"dtype":"BF16","shape":[0],"data_offsets":[4,4]},)"
                R"("vector":{"dtype":"U8","shape":[3],"data_offsets":[4,7]}})",
                zeros(7)),
      file_name);
  ASSERT_EQ(file.tensors().size(), 5U);
  EXPECT_EQ(file.at("empty2").element_count, 0U);
  EXPECT_EQ(file.at("empty2").shape, (std::vector<std::int64_t>{3, 0, 2}));
  EXPECT_EQ(file.at("scalar").element_count, 1U);
  EXPECT_TRUE(file.at("scalar").shape.empty());
  EXPECT_EQ(file.at("vector").begin, 4U);
  EXPECT_EQ(file.at("vector").end, 7U);
  EXPECT_EQ(file.bytes(file.at("vector")).size(), 3U);
}

TEST(WeightsFormat, EveryDtypeOfTheFormat) {
  const std::vector<std::pair<std::string, std::size_t>> dtypes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8}};
  std::vector<RawTensor> tensors;
  for (const auto& [tag, size] : dtypes) tensors.push_back({"t_" + tag, tag, {3}, zeros(3 * size)});
  const auto file = SafetensorsFile::from_bytes(make_valid_file(tensors), file_name);
  ASSERT_EQ(file.tensors().size(), dtypes.size());
  for (const auto& [tag, size] : dtypes) {
    const auto& info = file.at("t_" + tag);
    EXPECT_EQ(nnfuse::dtype_name(info.dtype), tag);
    EXPECT_EQ(nnfuse::dtype_size(info.dtype), size);
    EXPECT_EQ(nnfuse::dtype_from_name(tag), info.dtype);
    EXPECT_EQ(info.byte_size(), 3 * size);
    EXPECT_EQ(nnfuse::is_float_dtype(info.dtype),
              tag == "F16" || tag == "BF16" || tag == "F32" || tag == "F64")
        << tag;
  }
}

TEST(WeightsFormat, LookupByName) {
  const auto file = SafetensorsFile::from_bytes(
      make_valid_file({{"b", "F32", {1}, zeros(4)}, {"a", "F32", {1}, zeros(4)}}), file_name);
  ASSERT_EQ(file.tensors().size(), 2U);
  EXPECT_EQ(file.tensors()[0].name, "a");  // sorted by name
  EXPECT_EQ(file.tensors()[1].name, "b");
  EXPECT_EQ(file.find("b"), &file.tensors()[1]);
  EXPECT_EQ(file.find("c"), nullptr);
  try {
    static_cast<void>(file.at("c"));
    ADD_FAILURE() << "at() found a tensor that is not there";
  } catch (const WeightsError& e) {
    EXPECT_EQ(e.kind(), WeightsError::Kind::missing);
    EXPECT_EQ(e.tensor(), "c");
    EXPECT_EQ(std::string(e.what()),
              "test.safetensors: tensor 'c': expected a tensor of this name, found none");
  }
}

TEST(WeightsFormat, TensorInfoFromAnotherFileIsRefused) {
  const auto bytes = make_valid_file({{"a", "F32", {1}, zeros(4)}});
  const auto one = SafetensorsFile::from_bytes(bytes, "one");
  const auto other = SafetensorsFile::from_bytes(bytes, "other");
  EXPECT_THROW(static_cast<void>(other.bytes(one.at("a"))), std::invalid_argument);
  const nnfuse::TensorInfo forged = one.at("a");  // a copy is not the file's either
  EXPECT_THROW(static_cast<void>(one.read_float32(forged)), std::invalid_argument);
  // Copies of a file share its tensors.
  const SafetensorsFile copy = one;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.bytes(one.at("a")).size(), 4U);
}

// open(): the same checks on a file on disk, plus the file system's own errors.
class WeightsOpen : public testing::Test {
 protected:
  void SetUp() override {
    // Unique per run: the same test may run at once in several build trees.
    dir_ = std::filesystem::temp_directory_path() /
           ("nnfuse_weights_test_" + std::to_string(std::random_device{}()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& name, const std::vector<std::byte>& bytes) {
    const auto path = dir_ / name;
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  std::filesystem::path dir_;
};

WeightsError open_failure(const std::filesystem::path& path) {
  try {
    static_cast<void>(SafetensorsFile::open(path));
  } catch (const WeightsError& e) {
    return e;
  }
  throw std::logic_error("the file was accepted");
}

TEST_F(WeightsOpen, ReadsAValidFile) {
  const auto path = write("ok.safetensors",
                          make_valid_file({{"w", "F32", {2}, nnfuse::test::f32_bytes({1, 2})}}));
  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file.name(), path.string());
  EXPECT_EQ(file.read_float32(file.at("w")), (std::vector<float>{1, 2}));
}

TEST_F(WeightsOpen, DamagedFileNamesThePath) {
  const auto path = write("short.safetensors", zeros(5));
  const WeightsError e = open_failure(path);
  EXPECT_EQ(e.kind(), WeightsError::Kind::damaged);
  EXPECT_EQ(e.file(), path.string());
  EXPECT_EQ(std::string(e.what()),
            path.string() + ": expected at least 8 bytes (the header length), found 5 bytes");
}

TEST_F(WeightsOpen, FileSystemErrors) {
  const auto missing = dir_ / "missing.safetensors";
  WeightsError e = open_failure(missing);
  EXPECT_EQ(e.kind(), WeightsError::Kind::io);
  EXPECT_EQ(std::string(e.what()),
            missing.string() + ": expected a readable file, found No such file or directory");

  e = open_failure(dir_);
  EXPECT_EQ(e.kind(), WeightsError::Kind::io);
  EXPECT_EQ(std::string(e.what()), dir_.string() + ": expected a regular file, found a directory");

  e = open_failure("/dev/null");
  EXPECT_EQ(e.kind(), WeightsError::Kind::io);
  EXPECT_EQ(std::string(e.what()),
            "/dev/null: expected a regular file, found another kind of file");
}

}  // namespace
