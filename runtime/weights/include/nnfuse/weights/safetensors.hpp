// Reading model weights from safetensors files (the format PyTorch users exchange weights in:
// an 8-byte little-endian header length, a JSON header mapping each tensor name to its dtype,
// shape and byte range, then one data block). A weight file is input from outside, so
// `SafetensorsFile` treats it as hostile: it validates the whole header and the layout of the
// data block before anything can read a tensor, never reads outside the bytes it was given, and
// reports every problem as a `WeightsError` that names the file, the tensor, what was expected
// and what was found. `load_float32` copies the tensors a model expects, by their PyTorch
// state_dict names, into the model's float32 parameter block, converting F16, BF16 and F64 and
// checking names, dtypes and shapes. `save_safetensors` writes float32 tensors back (weights
// trained or adjusted in C++, for PyTorch or nnfuse to load). This library is standalone (no DSL
// or Halide header) so that it can be fuzzed and used on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nnfuse {

// The element types the safetensors format defines (named after the format's tags, lower case;
// `boolean` is "BOOL"). Only the floating-point ones can be loaded as float32 weights; the
// others are still parsed and validated, so a file holding an integer buffer (BatchNorm's
// `num_batches_tracked`, I64) can be inspected and its other tensors loaded.
enum class DType : std::uint8_t {
  boolean,
  u8,
  i8,
  f8_e5m2,
  f8_e4m3,
  i16,
  u16,
  f16,
  bf16,
  i32,
  u32,
  f32,
  f64,
  i64,
  u64,
};

// The format's tag: "F32", "BF16", "BOOL", ...
[[nodiscard]] std::string_view dtype_name(DType dtype) noexcept;
// Bytes per element.
[[nodiscard]] std::size_t dtype_size(DType dtype) noexcept;
// The dtype whose tag is `name` (case-sensitive, as the format spells it), if any.
[[nodiscard]] std::optional<DType> dtype_from_name(std::string_view name) noexcept;
// F32, F16, BF16 and F64: the dtypes `load_float32` accepts.
[[nodiscard]] bool is_float_dtype(DType dtype) noexcept;

// A weight file (or in-memory buffer) that cannot be used as asked. `what()` reads
// "<file>: tensor '<tensor>': expected <expected>, found <found>" (without the tensor part when
// the problem is not one tensor's). Copying never throws: the details are shared.
class WeightsError : public std::runtime_error {
 public:
  enum class Kind : std::uint8_t {
    io,            // the file cannot be opened or read (or, saving, written)
    damaged,       // not a well-formed safetensors file (header, schema, dtype tag, layout)
    missing,       // a tensor the model expects is not in the file
    unexpected,    // the file has a tensor the model does not expect
    wrong_dtype,   // a tensor's dtype cannot be loaded as float32 (I64, BOOL, ...)
    wrong_shape,   // a tensor's shape differs from the model's
    not_finite,    // a NaN or infinite weight, with LoadOptions::check_finite
    out_of_range,  // a finite F64 weight too large for float32
  };

  WeightsError(Kind kind, std::string file, std::string tensor, std::string expected,
               std::string found);

  [[nodiscard]] Kind kind() const noexcept;
  // The file's path, or the name given to an in-memory buffer.
  [[nodiscard]] const std::string& file() const noexcept;
  // The tensor's full name, unescaped and untruncated; empty when the problem is not one
  // tensor's (a damaged header, a gap after the last tensor).
  [[nodiscard]] const std::string& tensor() const noexcept;
  [[nodiscard]] const std::string& expected() const noexcept;
  [[nodiscard]] const std::string& found() const noexcept;

 private:
  struct Details;
  std::shared_ptr<const Details> details_;
};

// One tensor of a file, as its header describes it (after validation: the byte range lies
// inside the data block and holds exactly product(shape) elements of `dtype`).
struct TensorInfo {
  std::string name;
  DType dtype = DType::f32;
  std::vector<std::int64_t> shape;  // [] for a scalar
  std::size_t element_count = 0;    // product of `shape` (1 for a scalar)
  std::size_t begin = 0;            // byte range [begin, end) within the data block
  std::size_t end = 0;

  [[nodiscard]] std::size_t byte_size() const noexcept { return end - begin; }
};

// A parsed and fully validated safetensors file. Construction checks everything that can be
// checked without a model: the header length, the JSON and its schema (each entry exactly
// {dtype, shape, data_offsets}, an optional "__metadata__" object of strings, no duplicate
// keys), dtype tags, shapes (non-negative, element count and byte size without overflow),
// and that the tensors' byte ranges tile the data block exactly — no overlap, no gap, nothing
// outside, nothing left over. Afterwards every accessor is bounds-safe.
//
// Copies are cheap and share the (immutable) bytes; a file is safe to read from many threads.
class SafetensorsFile {
 public:
  // The largest header accepted (the reference implementation's limit): a header length field
  // is untrusted and must not make the loader parse or allocate without bound.
  static constexpr std::size_t max_header_bytes = std::size_t{100} << 20U;
  // Shapes of higher rank are rejected: no model comes close, and the cap bounds the memory a
  // hostile header can make the JSON parser allocate (no array in the schema may be longer).
  static constexpr std::size_t max_rank = 64;

  // Reads the whole file with one read (not mmap: a mapped file truncated by another process
  // raises SIGBUS, a crash the loader must not have). Throws WeightsError (io or damaged).
  [[nodiscard]] static SafetensorsFile open(const std::filesystem::path& path);
  // Parses bytes the file takes ownership of; `name` stands for the file in error messages.
  [[nodiscard]] static SafetensorsFile from_bytes(std::vector<std::byte> bytes, std::string name);
  // Parses bytes the caller keeps alive (and unchanged) for as long as the returned file or any
  // copy of it is used: no copy is made (weights embedded in a binary, the fuzzer's input).
  [[nodiscard]] static SafetensorsFile view(std::span<const std::byte> bytes, std::string name);

  // The path or name errors mention.
  [[nodiscard]] const std::string& name() const noexcept;
  // Every tensor, sorted by name.
  [[nodiscard]] std::span<const TensorInfo> tensors() const noexcept;
  // The tensor called `tensor_name`, or nullptr.
  [[nodiscard]] const TensorInfo* find(std::string_view tensor_name) const noexcept;
  // The tensor called `tensor_name`; WeightsError (missing) if there is none.
  [[nodiscard]] const TensorInfo& at(std::string_view tensor_name) const;
  // The header's "__metadata__" entries (PyTorch writers put {"format": "pt"} there).
  [[nodiscard]] const std::map<std::string, std::string, std::less<>>& metadata() const noexcept;

  // The functions below take a TensorInfo of this file (from tensors(), find() or at(), of this
  // object or a copy of it); any other throws std::invalid_argument.

  // The tensor's raw bytes (little-endian elements, as stored). No copy.
  [[nodiscard]] std::span<const std::byte> bytes(const TensorInfo& tensor) const;
  // The tensor's elements in place, when it is F32, the host is little-endian and the bytes
  // happen to be aligned for float (writers that follow the format align the data block);
  // otherwise nullopt and the caller copies with read_float32.
  [[nodiscard]] std::optional<std::span<const float>> float32_view(const TensorInfo& tensor) const;
  // Converts the tensor's elements to float32 into `destination`, whose size must be the
  // tensor's element count (std::invalid_argument otherwise). F32 and BF16 are copied exactly,
  // F16 converts exactly (subnormals included), F64 rounds to nearest-even; NaN stays NaN (sign
  // and leading payload bits kept) and infinities stay infinite. A finite F64 beyond float32's
  // range is an error (out_of_range), not a silent infinity. Other dtypes: wrong_dtype.
  void read_float32(const TensorInfo& tensor, std::span<float> destination) const;
  [[nodiscard]] std::vector<float> read_float32(const TensorInfo& tensor) const;

 private:
  struct State;
  explicit SafetensorsFile(std::shared_ptr<const State> state) noexcept;
  [[nodiscard]] const TensorInfo& checked(const TensorInfo& tensor) const;

  std::shared_ptr<const State> state_;
};

// A tensor a model expects: its state_dict name and shape.
struct TensorSpec {
  std::string name;
  std::vector<std::int64_t> shape;
};

struct LoadOptions {
  // Tensors in the file that the model does not expect are an error unless this is set (a
  // checkpoint with an optimizer's or another head's tensors, an I64 buffer).
  bool allow_unexpected = false;
  // Report the first NaN or infinite weight (with its index) as an error.
  bool check_finite = false;
};

// Copies every expected tensor into `destination`, the model's float32 parameter block:
// expected[i] goes to destination[offsets_in_floats[i] ...] (product(shape) floats). Checks, in
// this order: the arguments (std::invalid_argument: sizes differ, a duplicate name, a negative
// dimension, a range outside `destination` or overlapping another); then, for each expected
// tensor in order, that the file has it (missing), that its dtype is F32/F16/BF16/F64
// (wrong_dtype) and that its shape is the expected one (wrong_shape); then that the file has no
// other tensor (unexpected, unless allowed). Only then is anything written: converting (see
// read_float32; out_of_range) and, with check_finite, checking values (not_finite). If a
// conversion or value check throws, `destination` is partly written: load into a fresh block.
void load_float32(const SafetensorsFile& file, std::span<const TensorSpec> expected,
                  std::span<float> destination, std::span<const std::size_t> offsets_in_floats,
                  const LoadOptions& options = {});

// The same, packing the tensors one after another in the order of `expected`.
[[nodiscard]] std::vector<float> load_float32(const SafetensorsFile& file,
                                              std::span<const TensorSpec> expected,
                                              const LoadOptions& options = {});

// A float32 tensor to write: its state_dict name, its shape ([] for a scalar) and its
// product(shape) elements, row-major. The values are only read during the call.
struct TensorToSave {
  std::string name;
  std::vector<std::int64_t> shape;
  std::span<const float> values;
};

// Writes float32 tensors as a safetensors file, so that weights trained or changed in C++ go back
// to PyTorch (tools/import_safetensors.py, the `safetensors` package) and to nnfuse. The layout
// is tools/export_safetensors.py's (names sorted, {"format": "pt"} metadata unless `metadata`
// has a "format", data block 8-aligned): both writers give the same bytes for the same tensors.
//
// Bad arguments (an empty, duplicate or "__metadata__" name, a negative dimension, a rank above
// SafetensorsFile::max_rank, a value count other than product(shape), a string that is not
// UTF-8) throw std::invalid_argument, naming file and tensor, before anything is touched. The
// file is replaced atomically (a temporary "<path>.tmp.<pid>.<n>" next to it, fsync, rename)
// because a crash or a full disk mid-save must not leave a truncated checkpoint where the last
// good one was: on failure the temporary is removed, `path` is left as it was, and a
// WeightsError (io) names the file and the system's reason.
void save_safetensors(const std::filesystem::path& path, std::span<const TensorToSave> tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace nnfuse
