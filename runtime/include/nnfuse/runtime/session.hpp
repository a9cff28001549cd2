// nnfuse::Session: one caller's workspace. Every intermediate buffer Halide allocates while a
// kernel runs (halide_malloc, called with the Session as user context) comes from the
// Session's arena, so a warmed forward call performs no heap allocation. The arena grows only
// between calls: a call that needed more than the arena had is served from the heap once and
// the next call finds the arena large enough. A Session is used by one thread at a time;
// separate Sessions may run concurrently on one Model.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <string_view>

namespace nnfuse {

class Session {
 public:
  Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = delete;
  Session& operator=(Session&&) = delete;
  ~Session();

  // Bytes reserved in the arena, and how many allocations the last call had to take from the
  // heap (0 once warmed for its batch size).
  [[nodiscard]] std::size_t arena_bytes() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t heap_fallbacks() const noexcept { return heap_fallbacks_.load(); }

  // Called around every kernel call by Model::forward.
  void begin_call();
  void* allocate(std::size_t bytes) noexcept;
  void release(void* pointer) noexcept;

  // Halide's error message of the last call (empty if it succeeded), kept instead of Halide's
  // default of printing and aborting; Model::forward puts it in the exception it throws. The
  // first message of a call wins (worker threads may report at once); it is truncated to
  // fit, without allocating.
  void record_error(const char* message) noexcept;
  [[nodiscard]] std::string_view last_error() const noexcept;

 private:
  struct FreeAligned {
    void operator()(std::byte* p) const noexcept;
  };
  std::unique_ptr<std::byte, FreeAligned> arena_;
  std::size_t capacity_ = 0;
  // Halide's worker threads allocate concurrently within one call: a lock-free bump pointer.
  std::atomic<std::size_t> used_ = 0;
  std::atomic<std::size_t> high_water_ = 0;  // bytes the last call needed in all
  std::atomic<std::size_t> heap_fallbacks_ = 0;
  std::atomic<bool> error_claimed_ = false;
  std::atomic<std::size_t> error_length_ = 0;
  std::array<char, 512> error_{};
};

// 64-byte-aligned heap memory, freed with std::free (Halide's allocations outside a Session).
void* aligned_heap_for_halide(std::size_t bytes) noexcept;

// Halide's worker threads, shared by every Model in the process (Halide's own thread pool).
void set_num_threads(int threads);

}  // namespace nnfuse
