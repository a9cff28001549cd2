// The runtime's compiled part: Session's arena, the context table that tells nnfuse's user
// contexts from any other, the halide_malloc / halide_free / halide_error overrides that serve
// Halide's allocations from the arena, and the buffer descriptors Model::forward passes.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>

#include <HalideRuntime.h>

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include <nnfuse/runtime/model.hpp>
#include <nnfuse/runtime/session.hpp>
#include <nnfuse/runtime/trainer.hpp>

namespace nnfuse {

namespace {
// Halide vectorizes up to 64-byte loads; it asks halide_malloc for memory aligned to that.
constexpr std::size_t alignment = 64;

std::size_t round_up(std::size_t bytes) {
  return (bytes + alignment - 1) / alignment * alignment;
}

}  // namespace

void* aligned_heap_for_halide(std::size_t bytes) noexcept {
  return std::aligned_alloc(alignment, std::max(round_up(bytes), alignment));
}

namespace {
void* aligned_heap(std::size_t bytes) noexcept {
  return aligned_heap_for_halide(bytes);
}
}  // namespace

// ---- The context table ---------------------------------------------------------------------
// The user context of a Session's kernel calls is the address of its slot here. Slots come in
// chunks allocated as Sessions need them and never freed, so the hooks can tell an nnfuse context
// from any other pointer by comparing addresses, without reading through it. Claiming and
// releasing a slot (constructing and destroying a Session) take a mutex; looking one up is a few
// atomic loads.
namespace {
struct ContextSlot {
  std::atomic<Session*> owner{nullptr};
};

constexpr std::size_t slots_per_chunk = 1024;
constexpr std::size_t max_chunks = 64;

struct ContextTable {
  std::array<std::atomic<ContextSlot*>, max_chunks> chunks{};
  std::atomic<std::size_t> chunk_count{0};
  std::mutex claiming;
};

// Never destroyed: a Session with static storage may outlive any other static object.
ContextTable& context_table() {
  // NOLINTNEXTLINE(*-owning-memory,*-avoid-non-const-global-variables)
  static auto* table = new ContextTable;
  return *table;
}

void* claim_context(Session* session) {
  ContextTable& table = context_table();
  const std::lock_guard lock(table.claiming);
  const std::size_t count = table.chunk_count.load(std::memory_order_relaxed);
  for (std::size_t c = 0; c < count; ++c) {
    ContextSlot* chunk = table.chunks[c].load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < slots_per_chunk; ++i) {
      if (chunk[i].owner.load(std::memory_order_relaxed) == nullptr) {
        chunk[i].owner.store(session, std::memory_order_release);
        return &chunk[i];
      }
    }
  }
  if (count == max_chunks) {
    throw std::length_error("nnfuse::Session: more than " +
                            std::to_string(max_chunks * slots_per_chunk) +
                            " Sessions alive at once");
  }
  auto* chunk = new ContextSlot[slots_per_chunk];  // NOLINT(cppcoreguidelines-owning-memory)
  chunk[0].owner.store(session, std::memory_order_relaxed);
  table.chunks[count].store(chunk, std::memory_order_release);
  table.chunk_count.store(count + 1, std::memory_order_release);
  return chunk;
}
}  // namespace

Session* detail::session_of(void* user_context) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(user_context);
  ContextTable& table = context_table();
  const std::size_t count = table.chunk_count.load(std::memory_order_acquire);
  for (std::size_t c = 0; c < count; ++c) {
    ContextSlot* chunk = table.chunks[c].load(std::memory_order_acquire);
    const auto first = reinterpret_cast<std::uintptr_t>(chunk);
    const std::uintptr_t offset = address - first;  // wraps for addresses below the chunk
    if (offset < slots_per_chunk * sizeof(ContextSlot) && offset % sizeof(ContextSlot) == 0) {
      return chunk[offset / sizeof(ContextSlot)].owner.load(std::memory_order_acquire);
    }
  }
  return nullptr;
}

// ---- Session -------------------------------------------------------------------------------
void Session::FreeAligned::operator()(std::byte* p) const noexcept {
  // NOLINTNEXTLINE(cppcoreguidelines-no-malloc, cppcoreguidelines-owning-memory): C memory
  std::free(p);
}

Session::Session() : context_(claim_context(this)) {}

Session::~Session() {
  static_cast<ContextSlot*>(context_)->owner.store(nullptr, std::memory_order_release);
}

Session::Call Session::begin_call() {
  if (in_call_.exchange(true, std::memory_order_acquire)) {
    throw std::logic_error(
        "nnfuse::Session: a call is already in progress on this Session (is it shared by two "
        "threads? give each thread its own Session; they may share the Model)");
  }
  // Grow between calls, never during one: the pointers handed out stay valid. Relaxed: Halide's
  // thread pool orders these stores before its workers' allocations.
  const std::size_t needed = used_.load(std::memory_order_relaxed);
  if (needed > capacity_) {
    arena_.reset(static_cast<std::byte*>(aligned_heap(needed)));
    if (!arena_) {
      capacity_ = 0;
      in_call_.store(false, std::memory_order_release);
      throw std::bad_alloc();
    }
    capacity_ = round_up(needed);
  }
  used_.store(0, std::memory_order_relaxed);
  heap_fallbacks_.store(0, std::memory_order_relaxed);
  error_length_.store(0, std::memory_order_relaxed);
  error_claimed_.store(false, std::memory_order_relaxed);
  return {*this, context_};
}

Session::Call::~Call() {
  session_.in_call_.store(false, std::memory_order_release);
}

void Session::record_error(const char* message) noexcept {
  if (error_claimed_.exchange(true)) return;
  std::size_t length = 0;
  while (message != nullptr && message[length] != '\0' && length < error_.size()) {
    error_[length] = message[length];
    ++length;
  }
  while (length > 0 && (error_[length - 1] == '\n' || error_[length - 1] == ' ')) --length;
  error_length_ = length;
}

std::string_view Session::last_error() const noexcept {
  return {error_.data(), error_length_.load()};
}

void* Session::allocate(std::size_t bytes) noexcept {
  const std::size_t size = round_up(bytes);
  const std::size_t start = used_.fetch_add(size, std::memory_order_relaxed);
  if (start + size <= capacity_) return arena_.get() + start;
  heap_fallbacks_.fetch_add(1, std::memory_order_relaxed);
  return aligned_heap(bytes);
}

void Session::release(void* pointer) noexcept {
  const auto* p = static_cast<std::byte*>(pointer);
  if (arena_ && p >= arena_.get() && p < arena_.get() + capacity_) return;  // freed with the call
  // NOLINTNEXTLINE(cppcoreguidelines-no-malloc, cppcoreguidelines-owning-memory): C memory
  std::free(pointer);
}

// ---- Which target variants this CPU runs ------------------------------------------------------
// A generated library picks its variant with halide_can_use_target_features. Halide 14's x86
// runtime answers from cpuid; its AArch64 one is a stub that calls every feature usable, so a
// two-variant ARM build would always take the first. nnfuse's runtime answers from the kernel's
// hardware capabilities there.
#if defined(__aarch64__) && defined(__linux__)
namespace {
bool wants(int count, const uint64_t* features, halide_target_feature_t feature) {
  const auto word = static_cast<int>(feature) / 64;
  return word < count && (features[word] >> (static_cast<int>(feature) % 64) & 1U) != 0;
}

int arm_can_use_target_features(int count, const uint64_t* features) {
  const unsigned long hwcap = getauxval(AT_HWCAP);
  const unsigned long hwcap2 = getauxval(AT_HWCAP2);
  const struct {
    halide_target_feature_t feature;
    bool present;
  } checks[] = {
      {halide_target_feature_arm_dot_prod, (hwcap & HWCAP_ASIMDDP) != 0},
      {halide_target_feature_arm_fp16, (hwcap & HWCAP_FPHP) != 0 && (hwcap & HWCAP_ASIMDHP) != 0},
      {halide_target_feature_armv81a,
       (hwcap & HWCAP_ATOMICS) != 0 && (hwcap & HWCAP_ASIMDRDM) != 0},
      {halide_target_feature_sve, (hwcap & HWCAP_SVE) != 0},
      {halide_target_feature_sve2, (hwcap2 & HWCAP2_SVE2) != 0},
  };
  for (const auto& check : checks) {
    if (wants(count, features, check.feature) && !check.present) return 0;
  }
  return halide_default_can_use_target_features(count, features);
}

// Installed before main: the first forward call is the first to ask.
[[maybe_unused]] const bool arm_check_installed =
    (halide_set_custom_can_use_target_features(&arm_can_use_target_features), true);
}  // namespace
#endif

void set_num_threads(int threads) {
  if (threads < 1) throw std::invalid_argument("nnfuse::set_num_threads: needs at least 1 thread");
  halide_set_num_threads(threads);
}

namespace {
bool finite_non_negative(float value) {
  return std::isfinite(value) && value >= 0.0F;
}
}  // namespace

const char* Sgd::invalid() const noexcept {
  for (const auto& [key, value] : hyperparameters(*this)) {
    if (!finite_non_negative(*value)) return key;
  }
  return nullptr;
}

const char* Adam::invalid() const noexcept {
  for (const auto& [key, value] : hyperparameters(*this)) {
    if (!finite_non_negative(*value)) return key;
  }
  if (beta1 >= 1.0F) return "beta1";
  if (beta2 >= 1.0F) return "beta2";
  return nullptr;
}

AdamStep Adam::at_step(std::int64_t t) const noexcept {
  const auto step = static_cast<double>(t);
  const double bias_correction1 = 1.0 - std::pow(static_cast<double>(beta1), step);
  const double bias_correction2 = 1.0 - std::pow(static_cast<double>(beta2), step);
  return AdamStep{beta1,
                  beta2,
                  eps,
                  weight_decay,
                  static_cast<float>(static_cast<double>(lr) / bias_correction1),
                  static_cast<float>(std::sqrt(bias_correction2))};
}

namespace detail {

namespace {
template <class T>
T metadata_number(const SafetensorsFile& file, const std::filesystem::path& path,
                  const std::string& key, const char* kind) {
  const auto& metadata = file.metadata();
  const auto it = metadata.find(key);
  if (it == metadata.end()) {
    throw std::invalid_argument("nnfuse: " + path.string() + ": the state has no metadata \"" +
                                key + "\"");
  }
  const std::string& text = it->second;
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    throw std::invalid_argument("nnfuse: " + path.string() + ": metadata \"" + key + "\" is \"" +
                                text + "\", not " + kind);
  }
  return value;
}
}  // namespace

float metadata_float(const SafetensorsFile& file, const std::filesystem::path& path,
                     const std::string& key) {
  return metadata_number<float>(file, path, key, "a number");
}

std::int64_t metadata_integer(const SafetensorsFile& file, const std::filesystem::path& path,
                              const std::string& key) {
  return metadata_number<std::int64_t>(file, path, key, "an integer");
}

RowsBuffer::RowsBuffer(const float* data, std::size_t width, std::size_t rows)
    : dims{{0, static_cast<int32_t>(width), 1, 0},
           {0, static_cast<int32_t>(rows), static_cast<int32_t>(width), 0}} {
  // halide_buffer_t has no pointer to const; the kernels only read their inputs.
  buffer.host = reinterpret_cast<uint8_t*>(const_cast<float*>(data));  // NOLINT(*-const-cast)
  buffer.type = halide_type_t(halide_type_float, 32);
  buffer.dimensions = 2;
  buffer.dim = dims;
}

VectorBuffer::VectorBuffer(const float* data, std::size_t size)
    : dim{0, static_cast<int32_t>(size), 1, 0} {
  // halide_buffer_t has no pointer to const; the kernels only read their inputs.
  buffer.host = reinterpret_cast<uint8_t*>(const_cast<float*>(data));  // NOLINT(*-const-cast)
  buffer.type = halide_type_t(halide_type_float, 32);
  buffer.dimensions = 1;
  buffer.dim = &dim;
}

LabelsBuffer::LabelsBuffer(const std::int32_t* data, std::size_t size)
    : dim{0, static_cast<int32_t>(size), 1, 0} {
  // halide_buffer_t has no pointer to const; the kernels only read their inputs.
  buffer.host =
      reinterpret_cast<uint8_t*>(const_cast<std::int32_t*>(data));  // NOLINT(*-const-cast)
  buffer.type = halide_type_t(halide_type_int, 32);
  buffer.dimensions = 1;
  buffer.dim = &dim;
}

std::string exact_decimal(float value) {
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%.9g", static_cast<double>(value));
  return text.data();
}

std::vector<TensorToSave> tensors_to_save(std::span<const ParameterInfo> parameters,
                                          std::span<const float> block, const std::string& suffix) {
  std::vector<TensorToSave> tensors;
  tensors.reserve(parameters.size());
  for (const ParameterInfo& p : parameters) {
    TensorToSave t{std::string(p.name) + suffix, {static_cast<std::int64_t>(p.shape[0])}, {}};
    if (p.rank == 2) t.shape.push_back(static_cast<std::int64_t>(p.shape[1]));
    t.values = block.subspan(p.offset_bytes / sizeof(float), p.count);
    tensors.push_back(std::move(t));
  }
  return tensors;
}

void throw_kernel_error(std::string_view kernel, int code, std::string_view message) {
  throw std::runtime_error("nnfuse: kernel " + std::string(kernel) + " failed with Halide error " +
                           std::to_string(code) + (message.empty() ? "" : ": ") +
                           std::string(message));
}

void AlignedFloats::Free::operator()(float* p) const noexcept {
  // NOLINTNEXTLINE(cppcoreguidelines-no-malloc, cppcoreguidelines-owning-memory): C memory
  std::free(p);
}

AlignedFloats::AlignedFloats(std::size_t count)
    : data(static_cast<float*>(aligned_heap(count * sizeof(float)))), size(count) {
  if (!data) throw std::bad_alloc();
}

}  // namespace detail
}  // namespace nnfuse

// Halide calls these with the user context the kernels were given. nnfuse's own (a Session's
// slot) is served by the Session; any other context (null, or another Halide library's in the
// same process) by the heap and stderr, without being read.
// The forward and node kernels carry no Halide asserts (compile.hpp's ArgumentChecks), so none
// would catch a null intermediate buffer: an exhausted heap during a kernel call ends the process
// with a message, as a failed allocation in a noexcept function does.
extern "C" void* halide_malloc(void* user_context, size_t bytes) {
  nnfuse::Session* session = nnfuse::detail::session_of(user_context);
  void* memory =
      session != nullptr ? session->allocate(bytes) : nnfuse::aligned_heap_for_halide(bytes);
  if (memory == nullptr) {
    std::fprintf(stderr, "nnfuse: out of memory for a kernel's intermediate buffer of %zu bytes\n",
                 bytes);
    std::abort();
  }
  return memory;
}

// Halide's default prints and aborts; a library must not end its caller's process. The kernel
// returns the error code, and Model::forward throws with this message.
extern "C" void halide_error(void* user_context, const char* message) {
  if (nnfuse::Session* session = nnfuse::detail::session_of(user_context)) {
    session->record_error(message);
    return;
  }
  std::fputs(message, stderr);
}

extern "C" void halide_free(void* user_context, void* pointer) {
  if (pointer == nullptr) return;
  if (nnfuse::Session* session = nnfuse::detail::session_of(user_context)) {
    session->release(pointer);
    return;
  }
  // NOLINTNEXTLINE(cppcoreguidelines-no-malloc, cppcoreguidelines-owning-memory): C memory
  std::free(pointer);
}
