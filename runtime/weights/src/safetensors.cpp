// The safetensors reader: header parsing and validation, conversion to float32, loading by name.
// Everything read from the file is checked before it is used as a size, an offset or an index;
// arithmetic on such values is done in 64 bits with explicit overflow checks. And the writer,
// which replaces a file atomically (POSIX: open, write, fsync, rename).
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <numeric>
#include <set>
#include <system_error>
#include <tuple>
#include <utility>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <nnfuse/weights/safetensors.hpp>

namespace nnfuse {

using json = nlohmann::json;
using Kind = WeightsError::Kind;

// ---------------------------------------------------------------------------------------------
// dtypes

namespace {

struct DTypeEntry {
  DType dtype;
  std::string_view name;
  std::size_t size;
};

// In the order the format's specification lists them (and the error message repeats).
constexpr std::array<DTypeEntry, 15> dtype_table{{
    {DType::boolean, "BOOL", 1},
    {DType::u8, "U8", 1},
    {DType::i8, "I8", 1},
    {DType::f8_e5m2, "F8_E5M2", 1},
    {DType::f8_e4m3, "F8_E4M3", 1},
    {DType::i16, "I16", 2},
    {DType::u16, "U16", 2},
    {DType::f16, "F16", 2},
    {DType::bf16, "BF16", 2},
    {DType::i32, "I32", 4},
    {DType::u32, "U32", 4},
    {DType::f32, "F32", 4},
    {DType::f64, "F64", 8},
    {DType::i64, "I64", 8},
    {DType::u64, "U64", 8},
}};

const DTypeEntry& entry_of(DType dtype) noexcept {
  const auto* it = std::find_if(dtype_table.begin(), dtype_table.end(),
                                [dtype](const DTypeEntry& e) { return e.dtype == dtype; });
  // Every enumerator is in the table; an out-of-range value (a cast from garbage) gets the
  // first entry rather than undefined behaviour.
  return it == dtype_table.end() ? dtype_table.front() : *it;
}

std::string all_dtype_names() {
  std::string names;
  for (const auto& e : dtype_table) {
    if (!names.empty()) names += ", ";
    names += e.name;
  }
  return names;
}

}  // namespace

std::string_view dtype_name(DType dtype) noexcept {
  return entry_of(dtype).name;
}

std::size_t dtype_size(DType dtype) noexcept {
  return entry_of(dtype).size;
}

std::optional<DType> dtype_from_name(std::string_view name) noexcept {
  for (const auto& e : dtype_table) {
    if (e.name == name) return e.dtype;
  }
  return std::nullopt;
}

bool is_float_dtype(DType dtype) noexcept {
  return dtype == DType::f32 || dtype == DType::f16 || dtype == DType::bf16 || dtype == DType::f64;
}

// ---------------------------------------------------------------------------------------------
// WeightsError

struct WeightsError::Details {
  Kind kind;
  std::string file;
  std::string tensor;
  std::string expected;
  std::string found;
};

namespace {

// Names come from the file (hostile) or the caller; in a message they are quoted with control
// bytes, quotes and backslashes escaped, and cut at a UTF-8 boundary when very long, so a
// message stays one readable line. The accessors keep the exact name.
constexpr std::size_t max_name_in_message = 200;

std::string quote_name(std::string_view text) {
  std::string out = "'";
  std::size_t shown = text.size();
  if (shown > max_name_in_message) {
    shown = max_name_in_message;
    // Back off to the start of a UTF-8 sequence (continuation bytes are 10xxxxxx).
    while (shown > 0 && (static_cast<unsigned char>(text[shown]) & 0xC0U) == 0x80U) --shown;
  }
  for (char c : text.substr(0, shown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20U || byte == 0x7FU) {
      static constexpr std::string_view hex = "0123456789abcdef";
      out += "\\x";
      out += hex[byte >> 4U];
      out += hex[byte & 0xFU];
    } else {
      out += c;
    }
  }
  out += '\'';
  if (shown < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

std::string compose_message(const std::string& file, const std::string& tensor,
                            const std::string& expected, const std::string& found) {
  std::string message = file + ": ";
  if (!tensor.empty()) message += "tensor " + quote_name(tensor) + ": ";
  message += "expected " + expected + ", found " + found;
  return message;
}

}  // namespace

WeightsError::WeightsError(Kind kind, std::string file, std::string tensor, std::string expected,
                           std::string found)
    : std::runtime_error(compose_message(file, tensor, expected, found)),
      details_(std::make_shared<const Details>(Details{kind, std::move(file), std::move(tensor),
                                                       std::move(expected), std::move(found)})) {}

WeightsError::Kind WeightsError::kind() const noexcept {
  return details_->kind;
}
const std::string& WeightsError::file() const noexcept {
  return details_->file;
}
const std::string& WeightsError::tensor() const noexcept {
  return details_->tensor;
}
const std::string& WeightsError::expected() const noexcept {
  return details_->expected;
}
const std::string& WeightsError::found() const noexcept {
  return details_->found;
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by parsing and loading

namespace {

template <typename Int>
std::string format_shape(std::span<const Int> shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::string format_shape(const std::vector<std::int64_t>& shape) {
  return format_shape(std::span<const std::int64_t>(shape));
}

// Product of non-negative dimensions, or nullopt if it does not fit in size_t. A zero
// dimension makes the product 0 whatever the others are (no spurious overflow).
std::optional<std::size_t> element_count(std::span<const std::int64_t> shape) {
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  std::size_t count = 1;
  for (std::int64_t dim : shape) {
    const auto d = static_cast<std::uint64_t>(dim);
    if (d > std::numeric_limits<std::size_t>::max() / count) return std::nullopt;
    count *= static_cast<std::size_t>(d);
  }
  return count;
}

// Reads little-endian integers from bytes of any alignment (memcpy is how C++ reads bytes as an
// object without aliasing or alignment problems; the compiler makes it one load).
template <typename UInt>
UInt load_le(const std::byte* p) noexcept {
  UInt value = 0;
  std::memcpy(&value, p, sizeof value);
  if constexpr (std::endian::native == std::endian::big) {
    UInt swapped = 0;
    for (std::size_t i = 0; i < sizeof value; ++i) {
      swapped = static_cast<UInt>((swapped << 8U) | ((value >> (8U * i)) & 0xFFU));
    }
    value = swapped;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Conversions to float32

// IEEE binary16 → binary32 is exact: every half is a float. Subnormal halves (exponent field 0)
// are m·2⁻²⁴, normal in float32, computed exactly as an integer times a power of two.
float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = (std::uint32_t{h} & 0x8000U) << 16U;
  const std::uint32_t exponent = (std::uint32_t{h} >> 10U) & 0x1FU;
  const std::uint32_t mantissa = std::uint32_t{h} & 0x3FFU;
  if (exponent == 0x1FU) {  // inf, or NaN with its payload moved to the top of float's
    return std::bit_cast<float>(sign | 0x7F800000U | (mantissa << 13U));
  }
  if (exponent == 0) {
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24F;
    return sign != 0 ? -magnitude : magnitude;
  }
  // Rebias the exponent from 15 to 127.
  return std::bit_cast<float>(sign | ((exponent + 112U) << 23U) | (mantissa << 13U));
}

// bfloat16 is the top half of a float32.
float bfloat16_to_float(std::uint16_t b) noexcept {
  return std::bit_cast<float>(std::uint32_t{b} << 16U);
}

// binary64 → binary32, round to nearest-even. Done by hand outside float's range because a
// C++ conversion of a value the destination cannot hold is undefined behaviour, NaN included.
// nullopt: a finite value that rounds to infinity.
std::optional<float> double_to_float(double d) noexcept {
  if (std::isnan(d)) {
    // Keep the sign and the 23 leading payload bits; set the quiet bit (as x86's cvtsd2ss).
    const auto bits = std::bit_cast<std::uint64_t>(d);
    const auto sign = static_cast<std::uint32_t>(bits >> 32U) & 0x80000000U;
    const auto payload = static_cast<std::uint32_t>(bits >> 29U) & 0x7FFFFFU;
    return std::bit_cast<float>(sign | 0x7FC00000U | payload);
  }
  if (std::isinf(d))
    return d > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  constexpr double max_float = std::numeric_limits<float>::max();
  // Halfway between FLT_MAX and 2¹²⁸ (FLT_MAX's ulp is 2¹⁰⁴): from there on, nearest-even
  // rounding gives infinity (FLT_MAX's significand is odd, so the tie goes up too).
  constexpr double overflow_threshold = max_float + 0x1p103;
  const double magnitude = std::fabs(d);
  if (magnitude >= overflow_threshold) return std::nullopt;
  if (magnitude > max_float) return std::copysign(std::numeric_limits<float>::max(), d);
  return static_cast<float>(d);
}

// The shortest decimal that reads back as `value`.
std::string shortest(double value) {
  std::array<char, 32> text{};
  const auto result = std::to_chars(text.data(), text.data() + text.size(), value);
  return {text.data(), result.ptr};
}

std::string describe_float(float value) {
  if (std::isnan(value)) return std::signbit(value) ? "-NaN" : "NaN";
  return value > 0 ? "inf" : "-inf";
}

// "element 5 (index [1, 2])" for the flat index of an element of a tensor of this shape.
std::string describe_element(std::size_t flat, const std::vector<std::int64_t>& shape) {
  std::vector<std::size_t> index(shape.size());
  std::size_t rest = flat;
  for (std::size_t i = shape.size(); i-- > 0;) {
    const auto dim = static_cast<std::size_t>(shape[i]);
    index[i] = dim == 0 ? 0 : rest % dim;
    rest = dim == 0 ? 0 : rest / dim;
  }
  return "element " + std::to_string(flat) + " (index " +
         format_shape(std::span<const std::size_t>(index)) + ")";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parsing

namespace {

// What parsing a file yields; the data block points into the bytes parsed.
struct Parsed {
  std::span<const std::byte> data;  // the data block (after the header)
  std::vector<TensorInfo> tensors;  // sorted by name
  std::map<std::string, std::string, std::less<>> metadata;
};

}  // namespace

struct SafetensorsFile::State {
  std::string name;
  std::vector<std::byte> owned;  // the file's bytes when this object owns them
  Parsed parsed;
};

namespace {

constexpr std::string_view metadata_key = "__metadata__";

// The schema's nesting: the top object (1), a tensor's entry or __metadata__ (2), a shape or
// data_offsets array (3).
constexpr std::size_t max_depth = 3;

// One problem found while parsing, before the file's name is attached.
[[noreturn]] void fail(Kind kind, const std::string& file, std::string tensor, std::string expected,
                       std::string found) {
  throw WeightsError(kind, file, std::move(tensor), std::move(expected), std::move(found));
}

// A JSON value as a message shows it: scalars by value (cut short), containers by kind.
std::string describe(const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "the string " + quote_name(value.get_ref<const std::string&>());
    case json::value_t::null:
      return "null";
    default: {
      std::string text = value.dump();
      if (text.size() > 40) text = text.substr(0, 40) + "...";
      return text;
    }
  }
}

// Runs as nlohmann's parser callback: sees every key and value as it is parsed, before the DOM
// is built, so it rejects duplicate keys (nlohmann would keep the last one silently), nesting
// deeper than the schema's and arrays longer than any the schema has — the last two bound the
// memory a hostile header can make the parser allocate.
class HeaderGuard {
 public:
  explicit HeaderGuard(const std::string& file) : file_(file) {}

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        count_element(parsed,
                      event == json::parse_event_t::object_start ? "an object" : "an array");
        if (frames_.size() == max_depth) {
          fail(Kind::damaged, file_, entry_tensor(),
               "the safetensors schema (a shape or data_offsets array holds only integers)",
               "nesting deeper than " + std::to_string(max_depth) + " levels");
        }
        frames_.push_back(Frame{event == json::parse_event_t::object_start, 0, {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case json::parse_event_t::key:
        on_key(parsed.get_ref<const std::string&>());
        break;
      case json::parse_event_t::value:
        count_element(parsed);
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool is_object;
    std::size_t elements;
    std::set<std::string, std::less<>> keys;
  };

  // The tensor whose entry is being parsed ("" inside __metadata__ or at the top).
  [[nodiscard]] std::string entry_tensor() const {
    return frames_.size() >= 2 && entry_ != metadata_key ? entry_ : "";
  }

  // `element` is the value being started or parsed; for object_start and array_start nlohmann
  // passes a placeholder, so containers are described by the event instead.
  void count_element(const json& element, std::string_view container = {}) {
    if (frames_.empty()) {
      if (container == "an object") return;  // the top object itself
      fail(Kind::damaged, file_, "", "a JSON object at the top of the header",
           container.empty() ? describe(element) : std::string(container));
    }
    Frame& top = frames_.back();
    if (!top.is_object && ++top.elements > SafetensorsFile::max_rank) {
      fail(Kind::damaged, file_, entry_tensor(),
           "an array of at most " + std::to_string(SafetensorsFile::max_rank) +
               " elements (shape, data_offsets)",
           "a longer array");
    }
  }

  void on_key(const std::string& key) {
    Frame& top = frames_.back();
    const bool inserted = top.keys.insert(key).second;
    if (frames_.size() == 1) {
      if (!inserted) {
        if (key == metadata_key) {
          fail(Kind::damaged, file_, "", "one \"__metadata__\" entry", "two");
        }
        fail(Kind::damaged, file_, key, "each tensor name once in the header", "it twice");
      }
      entry_ = key;
    } else if (!inserted) {
      if (entry_ == metadata_key) {
        fail(Kind::damaged, file_, "", "each \"__metadata__\" key once",
             "the key " + quote_name(key) + " twice");
      }
      fail(Kind::damaged, file_, entry_, "each key once in the tensor's entry",
           "the key " + quote_name(key) + " twice");
    }
  }

  const std::string& file_;
  std::vector<Frame> frames_;
  std::string entry_;
};

// A non-negative JSON integer, or nullopt (negative, fractional, too large for uint64, not a
// number). nlohmann stores non-negative integers as unsigned and parses integers beyond 64 bits
// as floating point, so only "unsigned" values qualify — and -0, which is the integer 0.
std::optional<std::uint64_t> as_unsigned(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() == 0) return 0;
  return std::nullopt;
}

TensorInfo parse_entry(const std::string& file, const std::string& name, const json& entry,
                       std::size_t data_size) {
  if (!entry.is_object()) {
    fail(Kind::damaged, file, name, R"(an object {"dtype", "shape", "data_offsets"})",
         describe(entry));
  }
  for (const auto& [key, value] : entry.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      fail(Kind::damaged, file, name, "only the keys dtype, shape and data_offsets",
           "the key " + quote_name(key));
    }
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(key)) {
      fail(Kind::damaged, file, name, "the keys dtype, shape and data_offsets",
           std::string("no ") + key);
    }
  }

  TensorInfo info;
  info.name = name;

  const json& dtype = entry["dtype"];
  const std::optional<DType> parsed_dtype =
      dtype.is_string() ? dtype_from_name(dtype.get_ref<const std::string&>()) : std::nullopt;
  if (!parsed_dtype) {
    fail(Kind::damaged, file, name, "a dtype among " + all_dtype_names(), describe(dtype));
  }
  info.dtype = *parsed_dtype;

  const json& shape = entry["shape"];
  if (!shape.is_array()) {
    fail(Kind::damaged, file, name, "a shape (an array of non-negative integers)", describe(shape));
  }
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const std::optional<std::uint64_t> dim = as_unsigned(shape[i]);
    if (!dim || *dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(Kind::damaged, file, name, "a shape of non-negative 64-bit integers",
           describe(shape[i]) + " at dimension " + std::to_string(i));
    }
    info.shape.push_back(static_cast<std::int64_t>(*dim));
  }

  const json& offsets = entry["data_offsets"];
  std::optional<std::uint64_t> begin;
  std::optional<std::uint64_t> end;
  if (offsets.is_array() && offsets.size() == 2) {
    begin = as_unsigned(offsets[0]);
    end = as_unsigned(offsets[1]);
  }
  if (!begin || !end) {
    fail(Kind::damaged, file, name, "data_offsets [begin, end] of two non-negative integers",
         offsets.is_array() ? "an array of size " + std::to_string(offsets.size()) + ": " +
                                  offsets.dump(-1, ' ', true).substr(0, 80)
                            : describe(offsets));
  }
  const std::string offsets_text = "[" + std::to_string(*begin) + ", " + std::to_string(*end) + "]";
  if (*begin > *end) {
    fail(Kind::damaged, file, name, "data_offsets [begin, end] with begin <= end", offsets_text);
  }
  if (*end > data_size) {
    fail(Kind::damaged, file, name,
         "data_offsets within the data block of " + std::to_string(data_size) + " bytes",
         offsets_text);
  }
  info.begin = static_cast<std::size_t>(*begin);
  info.end = static_cast<std::size_t>(*end);

  const std::optional<std::size_t> count = element_count(info.shape);
  const std::size_t element_size = dtype_size(info.dtype);
  if (!count || *count > std::numeric_limits<std::size_t>::max() / element_size) {
    fail(Kind::damaged, file, name, "a shape whose size in bytes fits in 64 bits",
         "shape " + format_shape(info.shape));
  }
  info.element_count = *count;
  if (*count * element_size != info.byte_size()) {
    fail(Kind::damaged, file, name,
         std::to_string(*count * element_size) + " bytes for shape " + format_shape(info.shape) +
             " of " + std::string(dtype_name(info.dtype)),
         std::to_string(info.byte_size()) + " bytes in data_offsets " + offsets_text);
  }
  return info;
}

// The tensors' byte ranges must tile the data block: sorted by position, each starts where the
// previous one ends, the first at 0 and the last at the block's end.
void check_layout(const std::string& file, const std::vector<TensorInfo>& tensors,
                  std::size_t data_size) {
  std::vector<const TensorInfo*> by_offset;
  by_offset.reserve(tensors.size());
  for (const auto& t : tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return std::tie(a->begin, a->end, a->name) < std::tie(b->begin, b->end, b->name);
  });
  std::size_t position = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo* t : by_offset) {
    const std::string offsets_text =
        "data_offsets [" + std::to_string(t->begin) + ", " + std::to_string(t->end) + "]";
    if (t->begin != position) {
      const std::string where = previous != nullptr
                                    ? " (where tensor " + quote_name(previous->name) + " ends)"
                                    : std::string(" (the start of the data block)");
      fail(Kind::damaged, file, t->name,
           "data_offsets starting at byte " + std::to_string(position) + where,
           offsets_text + (t->begin < position
                               ? ", overlapping " + quote_name(previous->name)
                               : ", leaving bytes [" + std::to_string(position) + ", " +
                                     std::to_string(t->begin) + ") in no tensor"));
    }
    position = t->end;
    previous = t;
  }
  if (position != data_size) {
    fail(
        Kind::damaged, file, "",
        "tensors covering the whole data block of " + std::to_string(data_size) + " bytes",
        "bytes [" + std::to_string(position) + ", " + std::to_string(data_size) + ") in no tensor");
  }
}

Parsed parse(const std::string& file, std::span<const std::byte> bytes) {
  Parsed parsed;
  constexpr std::size_t length_field = 8;
  if (bytes.size() < length_field) {
    fail(Kind::damaged, file, "", "at least 8 bytes (the header length)",
         std::to_string(bytes.size()) + " bytes");
  }
  const auto header_size = load_le<std::uint64_t>(bytes.data());
  const std::size_t available = bytes.size() - length_field;
  if (header_size > available) {
    fail(Kind::damaged, file, "",
         "a header length of at most " + std::to_string(available) + " (the file has " +
             std::to_string(bytes.size()) + " bytes)",
         std::to_string(header_size));
  }
  if (header_size > SafetensorsFile::max_header_bytes) {
    fail(Kind::damaged, file, "",
         "a header length of at most " + std::to_string(SafetensorsFile::max_header_bytes),
         std::to_string(header_size));
  }
  const auto header = bytes.subspan(length_field, static_cast<std::size_t>(header_size));
  parsed.data = bytes.subspan(length_field + header.size());

  // nlohmann's lexer takes a NUL byte for the end of the input, so "{}\0<anything>" would parse
  // as "{}" and silently drop the rest. No valid JSON text contains a raw NUL.
  const auto nul = std::find(header.begin(), header.end(), std::byte{0});
  if (nul != header.end()) {
    fail(Kind::damaged, file, "", "a JSON header",
         "a NUL byte at byte " + std::to_string(nul - header.begin() + 1) + " of the header");
  }

  json root;
  try {
    HeaderGuard guard(file);
    const auto* first = reinterpret_cast<const char*>(header.data());
    root = json::parse(first, first + header.size(), std::ref(guard));
  } catch (const json::parse_error& e) {
    // nlohmann's own text quotes the offending token; the position is enough and is stable.
    fail(Kind::damaged, file, "", "a JSON header",
         "invalid JSON at byte " + std::to_string(e.byte) + " of the header");
  } catch (const json::exception& e) {
    fail(Kind::damaged, file, "", "a JSON header", std::string("a JSON error: ") + e.what());
  }
  if (!root.is_object()) {  // the guard rejects these first; kept as a backstop
    fail(Kind::damaged, file, "", "a JSON object at the top of the header", describe(root));
  }

  // nlohmann keeps an object's keys sorted (std::map), so tensors come out sorted by name.
  for (const auto& [key, value] : root.items()) {
    if (key == metadata_key) {
      if (!value.is_object()) {
        fail(Kind::damaged, file, "", "\"__metadata__\" to be an object of strings",
             describe(value));
      }
      for (const auto& [meta_key, meta_value] : value.items()) {
        if (!meta_value.is_string()) {
          fail(Kind::damaged, file, "", "\"__metadata__\" to map names to strings",
               quote_name(meta_key) + " mapped to " + describe(meta_value));
        }
        parsed.metadata.emplace(meta_key, meta_value.get<std::string>());
      }
      continue;
    }
    parsed.tensors.push_back(parse_entry(file, key, value, parsed.data.size()));
  }
  check_layout(file, parsed.tensors, parsed.data.size());
  return parsed;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SafetensorsFile

SafetensorsFile::SafetensorsFile(std::shared_ptr<const State> state) noexcept
    : state_(std::move(state)) {}

SafetensorsFile SafetensorsFile::from_bytes(std::vector<std::byte> bytes, std::string name) {
  auto state = std::make_shared<State>();
  state->name = std::move(name);
  state->owned = std::move(bytes);
  state->parsed = parse(state->name, state->owned);
  return SafetensorsFile(std::move(state));
}

SafetensorsFile SafetensorsFile::view(std::span<const std::byte> bytes, std::string name) {
  auto state = std::make_shared<State>();
  state->name = std::move(name);
  state->parsed = parse(state->name, bytes);
  return SafetensorsFile(std::move(state));
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  const std::string name = path.string();
  const auto io_error = [&](std::string expected, std::string found) {
    fail(Kind::io, name, "", std::move(expected), std::move(found));
  };
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) io_error("a readable file", ec.message());
  if (!std::filesystem::is_regular_file(status)) {
    io_error("a regular file",
             std::filesystem::is_directory(status) ? "a directory" : "another kind of file");
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) io_error("a readable file", ec.message());
  if (size > std::vector<std::byte>().max_size()) {
    io_error("a file that fits in memory", std::to_string(size) + " bytes");
  }

  // One read of the whole file. std::FILE rather than iostreams: errno says why it failed.
  struct Closer {
    // The unique_ptr below owns the FILE; this is its deleter.
    // NOLINTNEXTLINE(cppcoreguidelines-owning-memory)
    void operator()(std::FILE* f) const noexcept { static_cast<void>(std::fclose(f)); }
  };
  errno = 0;
  const std::unique_ptr<std::FILE, Closer> stream(std::fopen(name.c_str(), "rb"));
  if (!stream) io_error("a readable file", std::generic_category().message(errno));
  std::vector<std::byte> bytes;
  try {
    bytes.resize(static_cast<std::size_t>(size));
  } catch (const std::bad_alloc&) {
    io_error("a file that fits in memory", std::to_string(size) + " bytes");
  }
  const std::size_t got = std::fread(bytes.data(), 1, bytes.size(), stream.get());
  if (got != bytes.size()) {
    io_error(std::to_string(size) + " bytes",
             std::ferror(stream.get()) != 0
                 ? "a read error after " + std::to_string(got) + " bytes"
                 : std::to_string(got) + " bytes (the file shrank while being read)");
  }
  if (std::fgetc(stream.get()) != EOF) {
    io_error(std::to_string(size) + " bytes", "more (the file grew while being read)");
  }
  return from_bytes(std::move(bytes), name);
}

const std::string& SafetensorsFile::name() const noexcept {
  return state_->name;
}

std::span<const TensorInfo> SafetensorsFile::tensors() const noexcept {
  return state_->parsed.tensors;
}

const TensorInfo* SafetensorsFile::find(std::string_view tensor_name) const noexcept {
  const auto& tensors = state_->parsed.tensors;
  const auto it = std::lower_bound(
      tensors.begin(), tensors.end(), tensor_name,
      [](const TensorInfo& t, std::string_view n) { return std::string_view(t.name) < n; });
  return it != tensors.end() && it->name == tensor_name ? &*it : nullptr;
}

const TensorInfo& SafetensorsFile::at(std::string_view tensor_name) const {
  const TensorInfo* info = find(tensor_name);
  if (info == nullptr) {
    fail(Kind::missing, state_->name, std::string(tensor_name), "a tensor of this name", "none");
  }
  return *info;
}

const std::map<std::string, std::string, std::less<>>& SafetensorsFile::metadata() const noexcept {
  return state_->parsed.metadata;
}

const TensorInfo& SafetensorsFile::checked(const TensorInfo& tensor) const {
  // std::less gives a total order over pointers, even ones into different arrays.
  const std::less<> less;
  const TensorInfo* first = state_->parsed.tensors.data();
  const TensorInfo* last = first + state_->parsed.tensors.size();
  if (less(&tensor, first) || !less(&tensor, last)) {
    throw std::invalid_argument("SafetensorsFile(" + quote_name(state_->name) + "): tensor " +
                                quote_name(tensor.name) +
                                " was not obtained from this file (use tensors(), find or at)");
  }
  return tensor;
}

std::span<const std::byte> SafetensorsFile::bytes(const TensorInfo& tensor) const {
  const TensorInfo& t = checked(tensor);
  return state_->parsed.data.subspan(t.begin, t.byte_size());
}

std::optional<std::span<const float>> SafetensorsFile::float32_view(
    const TensorInfo& tensor) const {
  const TensorInfo& t = checked(tensor);
  if (t.dtype != DType::f32 || std::endian::native != std::endian::little) return std::nullopt;
  const std::byte* first = state_->parsed.data.data() + t.begin;
  if (reinterpret_cast<std::uintptr_t>(first) % alignof(float) != 0) return std::nullopt;
  // The bytes were written as floats by the file's producer; the buffer is never written after
  // parsing, so reading it through a float pointer cannot be reordered against a store.
  return std::span<const float>(reinterpret_cast<const float*>(first), t.element_count);
}

void SafetensorsFile::read_float32(const TensorInfo& tensor, std::span<float> destination) const {
  const TensorInfo& t = checked(tensor);
  if (destination.size() != t.element_count) {
    throw std::invalid_argument("SafetensorsFile::read_float32: tensor " + quote_name(t.name) +
                                " has " + std::to_string(t.element_count) +
                                " elements, the destination " + std::to_string(destination.size()));
  }
  const std::byte* source = state_->parsed.data.data() + t.begin;
  const std::size_t n = t.element_count;
  switch (t.dtype) {
    case DType::f32:
      if constexpr (std::endian::native == std::endian::little) {
        if (n != 0) std::memcpy(destination.data(), source, n * sizeof(float));
      } else {
        for (std::size_t i = 0; i < n; ++i) {
          destination[i] = std::bit_cast<float>(load_le<std::uint32_t>(source + 4 * i));
        }
      }
      return;
    case DType::f16:
      for (std::size_t i = 0; i < n; ++i) {
        destination[i] = half_to_float(load_le<std::uint16_t>(source + 2 * i));
      }
      return;
    case DType::bf16:
      for (std::size_t i = 0; i < n; ++i) {
        destination[i] = bfloat16_to_float(load_le<std::uint16_t>(source + 2 * i));
      }
      return;
    case DType::f64:
      for (std::size_t i = 0; i < n; ++i) {
        const auto value = std::bit_cast<double>(load_le<std::uint64_t>(source + 8 * i));
        const std::optional<float> converted = double_to_float(value);
        if (!converted) {
          fail(Kind::out_of_range, state_->name, t.name,
               "F64 values within float32's range (magnitude below 3.4028235677973366e+38)",
               shortest(value) + " at " + describe_element(i, t.shape));
        }
        destination[i] = *converted;
      }
      return;
    default:
      fail(Kind::wrong_dtype, state_->name, t.name,
           "a floating-point dtype (F32, F16, BF16 or F64)", std::string(dtype_name(t.dtype)));
  }
}

std::vector<float> SafetensorsFile::read_float32(const TensorInfo& tensor) const {
  std::vector<float> out(checked(tensor).element_count);
  read_float32(tensor, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Loading a model's tensors

namespace {

// "3 tensors: a, b, c" — at most a few names, for messages that say what there is instead.
template <typename Range, typename NameOf>
std::string list_names(const Range& items, NameOf name_of) {
  constexpr std::size_t shown = 8;
  const std::size_t total = std::size(items);
  if (total == 0) return "no tensors";
  std::string out = std::to_string(total) + (total == 1 ? " tensor: " : " tensors: ");
  std::size_t i = 0;
  for (const auto& item : items) {
    if (i == shown) {
      out += ", ...";
      break;
    }
    if (i != 0) out += ", ";
    out += quote_name(name_of(item));
    ++i;
  }
  return out;
}

void check_arguments(std::span<const TensorSpec> expected, std::size_t destination_size,
                     std::span<const std::size_t> offsets, std::vector<std::size_t>& counts) {
  const auto invalid = [](const std::string& what) {
    throw std::invalid_argument("nnfuse::load_float32: " + what);
  };
  if (expected.size() != offsets.size()) {
    invalid(std::to_string(expected.size()) + " tensors but " + std::to_string(offsets.size()) +
            " offsets");
  }
  counts.clear();
  std::vector<std::size_t> order(expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const TensorSpec& spec = expected[i];
    for (std::int64_t dim : spec.shape) {
      if (dim < 0)
        invalid("tensor " + quote_name(spec.name) + " has shape " + format_shape(spec.shape));
    }
    const std::optional<std::size_t> count = element_count(spec.shape);
    if (!count) invalid("tensor " + quote_name(spec.name) + " has too many elements");
    if (offsets[i] > destination_size || *count > destination_size - offsets[i]) {
      invalid("tensor " + quote_name(spec.name) + " at float offset " + std::to_string(offsets[i]) +
              " with " + std::to_string(*count) + " floats does not fit a destination of " +
              std::to_string(destination_size) + " floats");
    }
    counts.push_back(*count);
    order[i] = i;
  }

  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return expected[a].name < expected[b].name; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (expected[order[i]].name == expected[order[i - 1]].name) {
      invalid("tensor " + quote_name(expected[order[i]].name) + " is expected twice");
    }
  }

  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::pair(offsets[a], counts[a]) < std::pair(offsets[b], counts[b]);
  });
  std::size_t previous_end = 0;
  const TensorSpec* previous = nullptr;
  for (std::size_t i : order) {
    if (counts[i] == 0) continue;
    if (previous != nullptr && offsets[i] < previous_end) {
      invalid("tensors " + quote_name(previous->name) + " and " + quote_name(expected[i].name) +
              " overlap in the destination");
    }
    previous_end = offsets[i] + counts[i];
    previous = &expected[i];
  }
}

}  // namespace

void load_float32(const SafetensorsFile& file, std::span<const TensorSpec> expected,
                  std::span<float> destination, std::span<const std::size_t> offsets_in_floats,
                  const LoadOptions& options) {
  std::vector<std::size_t> counts;
  check_arguments(expected, destination.size(), offsets_in_floats, counts);

  // Everything that can be decided from the header is checked before anything is written.
  std::vector<const TensorInfo*> found(expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const TensorSpec& spec = expected[i];
    const TensorInfo* info = file.find(spec.name);
    if (info == nullptr) {
      fail(Kind::missing, file.name(), spec.name, "a tensor of shape " + format_shape(spec.shape),
           "none of that name (the file has " +
               list_names(file.tensors(), [](const TensorInfo& t) { return t.name; }) + ")");
    }
    if (!is_float_dtype(info->dtype)) {
      fail(Kind::wrong_dtype, file.name(), spec.name,
           "a floating-point dtype (F32, F16, BF16 or F64)", std::string(dtype_name(info->dtype)));
    }
    if (info->shape != spec.shape) {
      fail(Kind::wrong_shape, file.name(), spec.name, "shape " + format_shape(spec.shape),
           "shape " + format_shape(info->shape));
    }
    found[i] = info;
  }
  if (!options.allow_unexpected) {
    std::set<std::string_view, std::less<>> wanted;
    for (const auto& spec : expected) wanted.insert(spec.name);
    for (const TensorInfo& t : file.tensors()) {
      if (wanted.count(t.name) == 0) {
        fail(Kind::unexpected, file.name(), t.name,
             "only the model's tensors (the model has " +
                 list_names(expected, [](const TensorSpec& s) { return s.name; }) +
                 "; LoadOptions::allow_unexpected skips others)",
             "this one, of dtype " + std::string(dtype_name(t.dtype)) + " and shape " +
                 format_shape(t.shape));
      }
    }
  }

  for (std::size_t i = 0; i < expected.size(); ++i) {
    const std::span<float> target = destination.subspan(offsets_in_floats[i], counts[i]);
    file.read_float32(*found[i], target);
    if (options.check_finite) {
      const auto bad =
          std::find_if(target.begin(), target.end(), [](float v) { return !std::isfinite(v); });
      if (bad != target.end()) {
        const auto index = static_cast<std::size_t>(bad - target.begin());
        fail(Kind::not_finite, file.name(), expected[i].name, "finite weights",
             describe_float(*bad) + " at " + describe_element(index, expected[i].shape));
      }
    }
  }
}

std::vector<float> load_float32(const SafetensorsFile& file, std::span<const TensorSpec> expected,
                                const LoadOptions& options) {
  std::vector<std::size_t> offsets;
  offsets.reserve(expected.size());
  std::size_t total = 0;
  for (const auto& spec : expected) {
    offsets.push_back(total);
    const bool valid =
        std::all_of(spec.shape.begin(), spec.shape.end(), [](std::int64_t d) { return d >= 0; });
    const std::optional<std::size_t> count =
        valid ? element_count(spec.shape) : std::optional<std::size_t>(0);
    if (!count || *count > std::numeric_limits<std::size_t>::max() - total) {
      throw std::invalid_argument("nnfuse::load_float32: the expected tensors have too many " +
                                  std::string("elements in total"));
    }
    total += *count;  // an invalid shape is reported by the checks below, with its name
  }
  std::vector<float> out(total);
  load_float32(file, expected, out, offsets, options);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

namespace {

constexpr std::size_t f32_size = 4;

[[noreturn]] void invalid_save(const std::string& file, const std::string& what) {
  throw std::invalid_argument("nnfuse::save_safetensors(" + quote_name(file) + "): " + what);
}

// nlohmann refuses to write a string that is not UTF-8, and no reader would parse one.
bool is_utf8(const std::string& text) {
  try {
    static_cast<void>(json(text).dump());
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

// Checks every argument; returns the tensors' indices sorted by name (the header's and the data
// block's order).
std::vector<std::size_t> check_save_arguments(const std::string& file,
                                              std::span<const TensorToSave> tensors,
                                              const std::map<std::string, std::string>& metadata) {
  std::uint64_t total_bytes = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorToSave& t = tensors[i];
    if (t.name.empty()) invalid_save(file, "tensor " + std::to_string(i) + " has an empty name");
    const std::string tensor = "tensor " + quote_name(t.name);
    if (t.name == metadata_key) {
      invalid_save(file, tensor + ": the name is reserved for the header's metadata");
    }
    if (!is_utf8(t.name)) invalid_save(file, tensor + ": the name is not valid UTF-8");
    if (t.shape.size() > SafetensorsFile::max_rank) {
      invalid_save(file, tensor + ": rank " + std::to_string(t.shape.size()) + ", above the " +
                             std::to_string(SafetensorsFile::max_rank) + " a file may have");
    }
    if (std::any_of(t.shape.begin(), t.shape.end(), [](std::int64_t d) { return d < 0; })) {
      invalid_save(file, tensor + ": shape " + format_shape(t.shape) + " has a negative dimension");
    }
    const std::optional<std::size_t> count = element_count(t.shape);
    if (!count || *count > std::numeric_limits<std::uint64_t>::max() / f32_size) {
      invalid_save(file, tensor + ": shape " + format_shape(t.shape) + " has too many elements");
    }
    if (*count != t.values.size()) {
      invalid_save(file, tensor + ": shape " + format_shape(t.shape) + " holds " +
                             std::to_string(*count) + (*count == 1 ? " value, " : " values, ") +
                             std::to_string(t.values.size()) + " given");
    }
    const std::uint64_t bytes = std::uint64_t{*count} * f32_size;
    if (bytes > std::numeric_limits<std::uint64_t>::max() - total_bytes) {
      invalid_save(file, "the tensors hold more than 2^64 bytes in all");
    }
    total_bytes += bytes;
  }

  std::vector<std::size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return tensors[a].name < tensors[b].name; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (tensors[order[i]].name == tensors[order[i - 1]].name) {
      invalid_save(file, "tensor " + quote_name(tensors[order[i]].name) + " is given twice");
    }
  }

  for (const auto& [key, value] : metadata) {
    if (!is_utf8(key)) invalid_save(file, "metadata key " + quote_name(key) + " is not UTF-8");
    if (!is_utf8(value)) {
      invalid_save(file, "metadata " + quote_name(key) + ": the value is not UTF-8");
    }
  }
  return order;
}

// The length field and the header, padded with spaces so that the data block starts 8-aligned.
// Keys in the order tools/export_safetensors.py writes them (ordered_json keeps insertion order),
// so that both writers give the same bytes.
std::string header_bytes(const std::string& file, std::span<const TensorToSave> tensors,
                         std::span<const std::size_t> order,
                         const std::map<std::string, std::string>& metadata) {
  using ordered_json = nlohmann::ordered_json;
  std::map<std::string, std::string> all_metadata = metadata;
  all_metadata.emplace("format", "pt");  // the caller's "format", if any, stays
  ordered_json meta = ordered_json::object();
  for (const auto& [key, value] : all_metadata) meta[key] = value;
  ordered_json header = ordered_json::object();
  header[std::string(metadata_key)] = std::move(meta);
  std::uint64_t offset = 0;
  for (std::size_t i : order) {
    const TensorToSave& t = tensors[i];
    const std::uint64_t end = offset + std::uint64_t{t.values.size()} * f32_size;
    ordered_json entry = ordered_json::object();
    entry["dtype"] = dtype_name(DType::f32);
    entry["shape"] = t.shape;
    entry["data_offsets"] = ordered_json::array({offset, end});
    header[t.name] = std::move(entry);
    offset = end;
  }
  std::string text = header.dump();
  constexpr std::size_t length_field = 8;
  constexpr std::size_t alignment = 8;
  text.append((alignment - (length_field + text.size()) % alignment) % alignment, ' ');
  if (text.size() > SafetensorsFile::max_header_bytes) {
    invalid_save(file, "the header would have " + std::to_string(text.size()) +
                           " bytes, above the " +
                           std::to_string(SafetensorsFile::max_header_bytes) + " a reader accepts");
  }
  std::string out(length_field, '\0');
  for (std::size_t i = 0; i < length_field; ++i) {
    out[i] = static_cast<char>((std::uint64_t{text.size()} >> (8 * i)) & 0xFFU);
  }
  return out + text;
}

std::string errno_text(int error) {
  return std::generic_category().message(error);
}

// The file a save writes before renaming it over the destination: created next to it (a rename
// is atomic only within one file system), removed again unless the rename happened.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::string destination) : destination_(std::move(destination)) {
    // Unique within the process (the counter) and among processes (the pid); O_EXCL never
    // opens a file left by a crashed process that had the same pid, it takes the next name.
    static std::atomic<unsigned> counter{0};
    constexpr int attempts = 100;
    for (int attempt = 0;; ++attempt) {
      path_ = destination_ + ".tmp." + std::to_string(::getpid()) + "." +
              std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
      do {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      } while (fd_ < 0 && errno == EINTR);
      if (fd_ >= 0) break;
      if (errno != EEXIST || attempt + 1 == attempts) {
        const int error = errno;
        const std::string tried = std::exchange(path_, {});  // nothing to remove
        fail(Kind::io, destination_, "", "to create the temporary file " + quote_name(tried),
             errno_text(error));
      }
    }
  }

  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  TemporaryFile(TemporaryFile&&) = delete;
  TemporaryFile& operator=(TemporaryFile&&) = delete;

  ~TemporaryFile() {
    if (fd_ >= 0) static_cast<void>(::close(fd_));
    if (!path_.empty()) static_cast<void>(::unlink(path_.c_str()));
  }

  // `expected_total` is the file's size, for the message should a write fail.
  void write(std::span<const std::byte> bytes, std::uint64_t expected_total) {
    while (!bytes.empty()) {
      const ::ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fail(Kind::io, destination_, "",
             std::to_string(expected_total) + " bytes written to " + quote_name(path_),
             (n < 0 ? errno_text(errno) : std::string("no progress")) + " after " +
                 std::to_string(written_) + " bytes");
      }
      written_ += static_cast<std::uint64_t>(n);
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
  }

  // Flushes the bytes to disk (else a crash soon after the rename could leave the new name on
  // an empty or partial file), closes the file and renames it over the destination.
  void commit() {
    int result = 0;
    do {
      result = ::fsync(fd_);
    } while (result != 0 && errno == EINTR);
    if (result != 0) {
      fail(Kind::io, destination_, "", quote_name(path_) + " flushed to disk", errno_text(errno));
    }
    const int fd = std::exchange(fd_, -1);
    // Linux releases the descriptor even when close fails; EINTR is not a failure to write.
    if (::close(fd) != 0 && errno != EINTR) {
      fail(Kind::io, destination_, "", quote_name(path_) + " closed", errno_text(errno));
    }
    std::error_code ec;
    std::filesystem::rename(path_, destination_, ec);
    if (ec) {
      fail(Kind::io, destination_, "", quote_name(path_) + " renamed over it", ec.message());
    }
    path_.clear();
  }

 private:
  std::string destination_;
  std::string path_;  // empty once there is nothing to remove
  int fd_ = -1;
  std::uint64_t written_ = 0;
};

// Makes the rename itself durable. Best effort: the new file is complete and in place either
// way, and some file systems cannot sync a directory.
void sync_directory_of(const std::filesystem::path& path) {
  std::filesystem::path directory = path.parent_path();
  if (directory.empty()) directory = ".";
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    static_cast<void>(::fsync(fd));
    static_cast<void>(::close(fd));
  }
}

}  // namespace

void save_safetensors(const std::filesystem::path& path, std::span<const TensorToSave> tensors,
                      const std::map<std::string, std::string>& metadata) {
  const std::string file = path.string();
  const std::vector<std::size_t> order = check_save_arguments(file, tensors, metadata);
  const std::string header = header_bytes(file, tensors, order, metadata);
  std::uint64_t total = header.size();
  for (const TensorToSave& t : tensors) total += std::uint64_t{t.values.size()} * f32_size;

  TemporaryFile temporary(file);
  temporary.write(std::as_bytes(std::span<const char>(header)), total);
  for (std::size_t i : order) {
    const std::span<const float> values = tensors[i].values;
    if constexpr (std::endian::native == std::endian::little) {
      temporary.write(std::as_bytes(values), total);
    } else {
      // Big-endian host: the format's bytes, a chunk at a time.
      constexpr std::size_t chunk = 4096;
      std::vector<std::byte> buffer;
      buffer.reserve(chunk * f32_size);
      for (std::size_t first = 0; first < values.size(); first += chunk) {
        buffer.clear();
        for (float v : values.subspan(first, std::min(chunk, values.size() - first))) {
          const auto bits = std::bit_cast<std::uint32_t>(v);
          for (std::size_t b = 0; b < f32_size; ++b) {
            buffer.push_back(static_cast<std::byte>((bits >> (8 * b)) & 0xFFU));
          }
        }
        temporary.write(buffer, total);
      }
    }
  }
  temporary.commit();
  try {
    sync_directory_of(path);
  } catch (const std::bad_alloc&) {  // the save itself succeeded
  }
}

}  // namespace nnfuse
