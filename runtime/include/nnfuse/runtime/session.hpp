// nnfuse::Session: one caller's workspace. Every intermediate buffer Halide allocates while a
// kernel runs (halide_malloc, called with the Session as user context) comes from the
// Session's arena, so a warmed forward call performs no heap allocation. The arena grows only
// between calls: a call that needed more than the arena had is served from the heap once and
// the next call finds the arena large enough. A Session is used by one thread at a time
// (a second thread entering a call is refused with std::logic_error); separate Sessions may
// run concurrently on one Model.
//
// The user context Halide passes to halide_malloc / halide_free / halide_error is not the
// Session's address but that of a slot in nnfuse's own context table: the hooks recognise it by
// address alone, so another Halide library in the process that passes a context of its own is
// never read through; its allocations go to the heap and its errors to stderr. A heap that is
// exhausted during a kernel call ends the process with a message (the forward kernels carry no
// Halide asserts that would catch a null buffer: kernel.hpp).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <string_view>

namespace nnfuse {

class Session {
 public:
  Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = delete;
  Session& operator=(Session&&) = delete;
  ~Session();

  // Bytes reserved in the arena, and how many allocations the last call had to take from the
  // heap (0 once warmed for its batch size).
  [[nodiscard]] std::size_t arena_bytes() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t heap_fallbacks() const noexcept { return heap_fallbacks_.load(); }

  // One kernel call in progress on this Session: pass user_context() to the kernel. Made by
  // begin_call(), which throws std::logic_error if another call on the Session is in
  // progress (two threads sharing one Session); the Session is free again when it is destroyed.
  class Call {
   public:
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    Call(Call&&) = delete;
    Call& operator=(Call&&) = delete;
    ~Call();
    [[nodiscard]] void* user_context() const noexcept { return context_; }

   private:
    friend class Session;
    Call(Session& session, void* context) : session_(session), context_(context) {}
    Session& session_;
    void* context_;
  };
  [[nodiscard]] Call begin_call();

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
  void* context_;  // this Session's slot in the context table
  std::unique_ptr<std::byte, FreeAligned> arena_;
  std::size_t capacity_ = 0;
  std::atomic<bool> in_call_ = false;
  // Halide's worker threads allocate concurrently within one call: a lock-free bump pointer.
  // It only grows during a call, so at the next begin_call it says what the last one needed.
  std::atomic<std::size_t> used_ = 0;
  std::atomic<std::size_t> heap_fallbacks_ = 0;
  std::atomic<bool> error_claimed_ = false;
  std::atomic<std::size_t> error_length_ = 0;
  std::array<char, 512> error_{};
};

namespace detail {
// The Session whose context `user_context` is, or nullptr for any other pointer; decided from
// the address alone (the hooks never read through a foreign context).
Session* session_of(void* user_context) noexcept;
}  // namespace detail

// 64-byte-aligned heap memory, freed with std::free (Halide's allocations outside a Session).
void* aligned_heap_for_halide(std::size_t bytes) noexcept;

// Halide's worker threads, shared by every Model in the process (Halide's own thread pool).
void set_num_threads(int threads);

}  // namespace nnfuse
