// libFuzzer target for the safetensors loader (nnfuse::weights). The input is a whole file.
// SafetensorsFile::view must either accept it or throw WeightsError(damaged); once it accepts,
// every accessor and load_float32 (with an expected list derived from the file, and several
// that do not match it) must work or throw WeightsError / std::invalid_argument. Anything else
// — a crash, a sanitizer report, another exception type, a broken invariant — is a bug: the
// exception escapes (libFuzzer aborts on it) or the invariant check calls std::abort.
//
// Built and run by tests/fuzz/fuzz.sh (stage `fuzz` of scripts/test.sh).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nnfuse/weights/safetensors.hpp>

namespace {

using nnfuse::DType;
using nnfuse::LoadOptions;
using nnfuse::SafetensorsFile;
using nnfuse::TensorInfo;
using nnfuse::TensorSpec;
using nnfuse::WeightsError;
using Kind = WeightsError::Kind;

constexpr std::string_view file_name = "fuzz.safetensors";

// An invariant the loader documents does not hold: report it and abort (libFuzzer saves the
// input as a crash).
[[noreturn]] void violated(const char* what, int line) {
  std::fprintf(stderr, "safetensors_fuzzer.cpp:%d: invariant violated: %s\n", line, what);
  std::abort();
}
#define FUZZ_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : violated(#condition, __LINE__))  // NOLINT

// Every WeightsError names the file and says what was expected and found.
void check_error(const WeightsError& e) {
  FUZZ_CHECK(e.file() == file_name);
  FUZZ_CHECK(!e.expected().empty());
  FUZZ_CHECK(!e.found().empty());
  FUZZ_CHECK(std::string_view(e.what()).starts_with(std::string(file_name) + ": "));
  // Copying never throws and shares the details.
  const WeightsError copy = e;
  FUZZ_CHECK(copy.kind() == e.kind() && &copy.found() == &e.found());
}

// A load error the expected list and the file can produce (never io or damaged: the file has
// been parsed already).
void check_load_error(const WeightsError& e) {
  check_error(e);
  FUZZ_CHECK(e.kind() != Kind::io && e.kind() != Kind::damaged);
}

// What view() promised: the tensors are sorted, unique, inside the data block, sized by their
// shape and dtype, and tile the block exactly; find/at/bytes agree with them.
void check_tensors(const SafetensorsFile& file, std::size_t input_size) {
  const std::span<const TensorInfo> tensors = file.tensors();
  std::vector<const TensorInfo*> by_offset;
  std::size_t data_size = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = tensors[i];
    if (i != 0) FUZZ_CHECK(tensors[i - 1].name < t.name);
    FUZZ_CHECK(t.name != "__metadata__");
    FUZZ_CHECK(t.begin <= t.end);
    FUZZ_CHECK(t.end <= input_size);
    FUZZ_CHECK(t.shape.size() <= SafetensorsFile::max_rank);
    std::size_t count = 1;
    bool zero = false;
    for (std::int64_t d : t.shape) {
      FUZZ_CHECK(d >= 0);
      if (d == 0) zero = true;
    }
    if (!zero) {
      for (std::int64_t d : t.shape) {
        FUZZ_CHECK(!__builtin_mul_overflow(count, static_cast<std::size_t>(d), &count));
      }
    }
    FUZZ_CHECK(t.element_count == (zero ? 0 : count));
    FUZZ_CHECK(t.byte_size() == t.element_count * nnfuse::dtype_size(t.dtype));

    FUZZ_CHECK(file.find(t.name) == &t);
    FUZZ_CHECK(&file.at(t.name) == &t);
    const std::span<const std::byte> bytes = file.bytes(t);
    FUZZ_CHECK(bytes.size() == t.byte_size());
    // Touch every byte (ASan reports a read outside the input).
    unsigned sum = 0;
    for (std::byte b : bytes) sum += std::to_integer<unsigned>(b);
    static_cast<void>(sum);

    by_offset.push_back(&t);
    data_size = std::max(data_size, t.end);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::size_t position = 0;
  for (const TensorInfo* t : by_offset) {
    FUZZ_CHECK(t->begin == position);
    position = t->end;
  }
  // The tensors' bytes are contiguous in memory: the last one ends where the data block does.
  if (!by_offset.empty() && by_offset.front()->byte_size() != 0) {
    const std::byte* first = file.bytes(*by_offset.front()).data();
    const std::byte* last_end =
        file.bytes(*by_offset.back()).data() + by_offset.back()->byte_size();
    FUZZ_CHECK(static_cast<std::size_t>(last_end - first) == position);
  }
}

// Reads every tensor both ways and compares with the raw bytes where the conversion is exact.
void check_reads(const SafetensorsFile& file) {
  for (const TensorInfo& t : file.tensors()) {
    const std::optional<std::span<const float>> view = file.float32_view(t);
    if (view) {
      FUZZ_CHECK(t.dtype == DType::f32);
      FUZZ_CHECK(view->size() == t.element_count);
      FUZZ_CHECK(static_cast<const void*>(view->data()) ==
                 static_cast<const void*>(file.bytes(t).data()));
    }
    try {
      const std::vector<float> values = file.read_float32(t);
      FUZZ_CHECK(nnfuse::is_float_dtype(t.dtype));
      FUZZ_CHECK(values.size() == t.element_count);
      if (t.dtype == DType::f32 && !values.empty()) {
        FUZZ_CHECK(std::memcmp(values.data(), file.bytes(t).data(), t.byte_size()) == 0);
      }
      if (view) {
        FUZZ_CHECK(values.empty() ||
                   std::memcmp(values.data(), view->data(), values.size() * sizeof(float)) == 0);
      }
      // The span overload, into a destination of the right size and of a wrong one.
      std::vector<float> again(t.element_count);
      file.read_float32(t, again);
      FUZZ_CHECK(again.size() == values.size());
      FUZZ_CHECK(values.empty() ||
                 std::memcmp(again.data(), values.data(), values.size() * sizeof(float)) == 0);
      std::vector<float> wrong(t.element_count + 1);
      try {
        file.read_float32(t, wrong);
        violated("read_float32 into a destination of the wrong size did not throw", __LINE__);
      } catch (const std::invalid_argument&) {
      }
    } catch (const WeightsError& e) {
      check_error(e);
      FUZZ_CHECK(e.tensor() == t.name);
      if (nnfuse::is_float_dtype(t.dtype)) {
        FUZZ_CHECK(e.kind() == Kind::out_of_range && t.dtype == DType::f64);
      } else {
        FUZZ_CHECK(e.kind() == Kind::wrong_dtype);
      }
    }
  }
}

// load_float32 with lists that match the file and lists that do not. Each call either succeeds
// or throws WeightsError / std::invalid_argument; the caller only catches those.
void run_load(const SafetensorsFile& file, const std::vector<TensorSpec>& expected,
              const LoadOptions& options) {
  try {
    const std::vector<float> out = nnfuse::load_float32(file, expected, options);
    std::size_t total = 0;
    for (const TensorSpec& spec : expected) total += file.at(spec.name).element_count;
    FUZZ_CHECK(out.size() == total);
    if (options.check_finite) {
      FUZZ_CHECK(std::all_of(out.begin(), out.end(), [](float v) { return std::isfinite(v); }));
    }
  } catch (const WeightsError& e) {
    check_load_error(e);
  } catch (const std::invalid_argument&) {
  }
}

void check_loads(const SafetensorsFile& file) {
  std::vector<TensorSpec> all;
  std::vector<TensorSpec> floats;
  for (const TensorInfo& t : file.tensors()) {
    all.push_back({t.name, t.shape});
    if (nnfuse::is_float_dtype(t.dtype)) floats.push_back({t.name, t.shape});
  }
  for (const bool check_finite : {false, true}) {
    const LoadOptions strict{.allow_unexpected = false, .check_finite = check_finite};
    const LoadOptions lenient{.allow_unexpected = true, .check_finite = check_finite};
    run_load(file, all, strict);      // the file's own list: fails only on dtype or values
    run_load(file, floats, lenient);  // the loadable tensors, others skipped
    run_load(file, floats, strict);   // unexpected if the file has non-float tensors
    run_load(file, {}, strict);       // unexpected if the file has any tensor
    run_load(file, {}, lenient);      // nothing to load
  }

  // Lists that do not match the file.
  std::vector<TensorSpec> missing = floats;
  missing.push_back({"fuzz.missing", {1}});
  run_load(file, missing, {});
  if (!floats.empty()) {
    std::vector<TensorSpec> reshaped = floats;
    reshaped.front().shape.push_back(1);
    run_load(file, reshaped, {.allow_unexpected = true});
    std::vector<TensorSpec> flattened = floats;
    flattened.back().shape = {static_cast<std::int64_t>(file.at(floats.back().name).element_count)};
    run_load(file, flattened, {.allow_unexpected = true});
    std::vector<TensorSpec> duplicated = floats;
    duplicated.push_back(floats.front());
    run_load(file, duplicated, {.allow_unexpected = true});
    std::vector<TensorSpec> negative = floats;
    negative.back().shape.push_back(-1);
    run_load(file, negative, {.allow_unexpected = true});
    std::vector<TensorSpec> dropped(floats.begin() + 1, floats.end());
    run_load(file, dropped, {});

    // The offsets overload: packed, then every tensor at offset 0 (overlapping unless at most one
    // is non-empty), then a destination one float short.
    std::vector<std::size_t> packed;
    std::size_t total = 0;
    for (const TensorSpec& spec : floats) {
      packed.push_back(total);
      total += file.at(spec.name).element_count;
    }
    for (const std::size_t extra : {std::size_t{0}, std::size_t{1}}) {
      std::vector<float> destination(total + extra, -1.0F);
      try {
        nnfuse::load_float32(file, floats, destination, packed, {.allow_unexpected = true});
      } catch (const WeightsError& e) {
        check_load_error(e);
      }
      if (extra == 1) FUZZ_CHECK(destination.back() == -1.0F);  // nothing written past the end
    }
    const std::vector<std::size_t> zeros(floats.size(), 0);
    std::vector<float> destination(total);
    try {
      nnfuse::load_float32(file, floats, destination, zeros, {.allow_unexpected = true});
    } catch (const WeightsError& e) {
      check_load_error(e);
    } catch (const std::invalid_argument&) {
    }
    if (total != 0) {
      std::vector<float> short_destination(total - 1);
      try {
        nnfuse::load_float32(file, floats, short_destination, packed, {.allow_unexpected = true});
        violated("load_float32 into a destination too small did not throw", __LINE__);
      } catch (const std::invalid_argument&) {
      }
    }
  }
}

// A TensorInfo of another file is refused, as is one copied out of the file.
void check_foreign(const SafetensorsFile& file, const SafetensorsFile& other) {
  if (file.tensors().empty()) return;
  const TensorInfo& theirs = other.tensors().front();
  const TensorInfo copy = file.tensors().front();
  for (const TensorInfo* t : {&theirs, &copy}) {
    try {
      static_cast<void>(file.bytes(*t));
      violated("bytes() accepted a TensorInfo that is not the file's", __LINE__);
    } catch (const std::invalid_argument&) {
    }
    try {
      static_cast<void>(file.read_float32(*t));
      violated("read_float32() accepted a TensorInfo that is not the file's", __LINE__);
    } catch (const std::invalid_argument&) {
    }
  }
}

void fuzz_one(std::span<const std::byte> input) {
  std::optional<SafetensorsFile> parsed;
  try {
    parsed.emplace(SafetensorsFile::view(input, std::string(file_name)));
  } catch (const WeightsError& e) {
    check_error(e);
    FUZZ_CHECK(e.kind() == Kind::damaged);
    return;
  }
  const SafetensorsFile& file = *parsed;
  FUZZ_CHECK(file.name() == file_name);
  check_tensors(file, input.size());

  for (const auto& [key, value] : file.metadata()) {
    FUZZ_CHECK(key.size() + value.size() <= input.size());
  }
  // Names that are not in the file.
  FUZZ_CHECK(file.find("") == nullptr || file.find("")->name.empty());
  FUZZ_CHECK(file.find("__metadata__") == nullptr);
  try {
    static_cast<void>(file.at("__metadata__"));
    violated("at(\"__metadata__\") did not throw", __LINE__);
  } catch (const WeightsError& e) {
    check_error(e);
    FUZZ_CHECK(e.kind() == Kind::missing);
  }

  check_reads(file);
  check_loads(file);

  // A copy shares the bytes: the original's TensorInfo objects work with it.
  const SafetensorsFile copy = file;  // NOLINT(performance-unnecessary-copy-initialization)
  for (const TensorInfo& t : file.tensors()) {
    FUZZ_CHECK(copy.bytes(t).data() == file.bytes(t).data());
  }

  // The same bytes owned by the file parse the same way.
  const SafetensorsFile owned =
      SafetensorsFile::from_bytes({input.begin(), input.end()}, std::string(file_name));
  FUZZ_CHECK(owned.tensors().size() == file.tensors().size());
  for (std::size_t i = 0; i < owned.tensors().size(); ++i) {
    const TensorInfo& a = owned.tensors()[i];
    const TensorInfo& b = file.tensors()[i];
    FUZZ_CHECK(a.name == b.name && a.dtype == b.dtype && a.shape == b.shape && a.begin == b.begin &&
               a.end == b.end);
    FUZZ_CHECK(a.byte_size() == 0 ||
               std::memcmp(owned.bytes(a).data(), file.bytes(b).data(), a.byte_size()) == 0);
  }
  FUZZ_CHECK(owned.metadata() == file.metadata());
  check_foreign(file, owned);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Only WeightsError and std::invalid_argument are expected, and fuzz_one catches each where
  // it can occur; any other exception escapes and libFuzzer reports it as a crash.
  fuzz_one(std::as_bytes(std::span<const std::uint8_t>(data, size)));
  return 0;
}
