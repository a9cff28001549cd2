// The runtime's compiled part: Session's arena, the halide_malloc / halide_free overrides that
// serve Halide's allocations from it, and the buffer descriptors Model::forward passes.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include <HalideRuntime.h>

#include <nnfuse/runtime/model.hpp>
#include <nnfuse/runtime/session.hpp>

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

void Session::FreeAligned::operator()(std::byte* p) const noexcept {
  std::free(p);
}

Session::~Session() = default;

void Session::begin_call() {
  // Grow between calls, never during one: the pointers handed out stay valid.
  const std::size_t needed = high_water_.load();
  if (needed > capacity_) {
    arena_.reset(static_cast<std::byte*>(aligned_heap(needed)));
    if (!arena_) throw std::bad_alloc();
    capacity_ = round_up(needed);
  }
  used_ = 0;
  high_water_ = 0;
  heap_fallbacks_ = 0;
  error_length_ = 0;
  error_claimed_ = false;
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
  high_water_.fetch_add(size);
  const std::size_t start = used_.fetch_add(size);
  if (start + size <= capacity_) return arena_.get() + start;
  heap_fallbacks_.fetch_add(1);
  return aligned_heap(bytes);
}

void Session::release(void* pointer) noexcept {
  const auto* p = static_cast<std::byte*>(pointer);
  if (arena_ && p >= arena_.get() && p < arena_.get() + capacity_) return;  // freed with the call
  std::free(pointer);
}

void set_num_threads(int threads) {
  if (threads < 1) throw std::invalid_argument("nnfuse::set_num_threads: needs at least 1 thread");
  halide_set_num_threads(threads);
}

namespace detail {

RowsBuffer::RowsBuffer(const float* data, std::size_t width, std::size_t rows)
    : dims{{0, static_cast<int32_t>(width), 1, 0},
           {0, static_cast<int32_t>(rows), static_cast<int32_t>(width), 0}} {
  buffer.host = reinterpret_cast<uint8_t*>(const_cast<float*>(data));
  buffer.type = halide_type_t(halide_type_float, 32);
  buffer.dimensions = 2;
  buffer.dim = dims;
}

VectorBuffer::VectorBuffer(const float* data, std::size_t size)
    : dim{0, static_cast<int32_t>(size), 1, 0} {
  buffer.host = reinterpret_cast<uint8_t*>(const_cast<float*>(data));
  buffer.type = halide_type_t(halide_type_float, 32);
  buffer.dimensions = 1;
  buffer.dim = &dim;
}

void throw_kernel_error(std::string_view kernel, int code, std::string_view message) {
  throw std::runtime_error("nnfuse: kernel " + std::string(kernel) + " failed with Halide error " +
                           std::to_string(code) + (message.empty() ? "" : ": ") +
                           std::string(message));
}

void AlignedFloats::Free::operator()(float* p) const noexcept {
  std::free(p);
}

AlignedFloats::AlignedFloats(std::size_t count)
    : data(static_cast<float*>(aligned_heap(count * sizeof(float)))), size(count) {
  if (!data) throw std::bad_alloc();
}

}  // namespace detail
}  // namespace nnfuse

// Halide calls these with the user context the kernels were given: the caller's Session.
extern "C" void* halide_malloc(void* user_context, size_t bytes) {
  if (user_context == nullptr) return nnfuse::aligned_heap_for_halide(bytes);
  return static_cast<nnfuse::Session*>(user_context)->allocate(bytes);
}

// Halide's default prints and aborts; a library must not end its caller's process. The kernel
// returns the error code, and Model::forward throws with this message.
extern "C" void halide_error(void* user_context, const char* message) {
  if (user_context == nullptr) {
    std::fputs(message, stderr);
    return;
  }
  static_cast<nnfuse::Session*>(user_context)->record_error(message);
}

extern "C" void halide_free(void* user_context, void* pointer) {
  if (pointer == nullptr) return;
  if (user_context == nullptr) {
    std::free(pointer);
    return;
  }
  static_cast<nnfuse::Session*>(user_context)->release(pointer);
}
