// Test helpers that write safetensors bytes by hand: a header text and a data block of any
// content (so every kind of damaged file is one line), or a list of tensors laid out as the
// format requires (a valid file). The JSON is written with string concatenation, not with the
// loader's JSON library, so the tests do not share the code they check. Elements are encoded
// little-endian byte by byte, whatever the host's order, as the format specifies.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nnfuse::test {

inline void append_le(std::vector<std::byte>& out, std::uint64_t value, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) {
    out.push_back(static_cast<std::byte>((value >> (8 * i)) & 0xFFU));
  }
}

// The 8-byte length (the header's size unless `length` overrides it), the header, the data.
inline std::vector<std::byte> make_file(std::string_view header,
                                        std::span<const std::byte> data = {},
                                        std::optional<std::uint64_t> length = std::nullopt) {
  std::vector<std::byte> out;
  append_le(out, length.value_or(header.size()), 8);
  for (char c : header) out.push_back(static_cast<std::byte>(c));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

inline std::vector<std::byte> zeros(std::size_t n) {
  return std::vector<std::byte>(n);
}

// Elements as the format stores them.
inline std::vector<std::byte> f32_bytes(std::initializer_list<float> values) {
  std::vector<std::byte> out;
  for (float v : values) append_le(out, std::bit_cast<std::uint32_t>(v), 4);
  return out;
}
inline std::vector<std::byte> f64_bytes(std::initializer_list<double> values) {
  std::vector<std::byte> out;
  for (double v : values) append_le(out, std::bit_cast<std::uint64_t>(v), 8);
  return out;
}
// F16, BF16, or any 16-bit dtype, from bit patterns.
inline std::vector<std::byte> u16_bytes(std::span<const std::uint16_t> values) {
  std::vector<std::byte> out;
  for (std::uint16_t v : values) append_le(out, v, 2);
  return out;
}
inline std::vector<std::byte> u16_bytes(std::initializer_list<std::uint16_t> values) {
  return u16_bytes(std::span<const std::uint16_t>(values.begin(), values.size()));
}

struct RawTensor {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> data;
};

inline std::string shape_json(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) out += ",";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

// A valid file: tensors back to back in the order given, header padded with spaces so the
// data block starts at a multiple of 8 (as writers that follow the format do).
inline std::vector<std::byte> make_valid_file(const std::vector<RawTensor>& tensors,
                                              std::string_view metadata_json = "") {
  std::string header = "{";
  if (!metadata_json.empty()) {
    header += "\"__metadata__\":";
    header += metadata_json;
  }
  std::vector<std::byte> data;
  for (const RawTensor& t : tensors) {
    if (header.size() > 1) header += ",";
    header += "\"" + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":" + shape_json(t.shape) +
              ",\"data_offsets\":[" + std::to_string(data.size()) + "," +
              std::to_string(data.size() + t.data.size()) + "]}";
    data.insert(data.end(), t.data.begin(), t.data.end());
  }
  header += "}";
  while ((8 + header.size()) % 8 != 0) header += ' ';
  return make_file(header, data);
}

}  // namespace nnfuse::test
