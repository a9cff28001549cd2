// A warmed forward call performs no heap allocation: malloc and friends are interposed in this
// test binary (operator new goes through malloc), Halide's halide_malloc is served by the
// Session's arena (its heap fallbacks are counted too), for every schedule built. Skipped under
// a sanitizer, whose own allocator interposes malloc.
#include <atomic>
#include <span>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/generated/test_mlp.hpp>
#include <nnfuse/generated/test_odd.hpp>
#include <nnfuse/generated/test_residual.hpp>
#include <nnfuse/generated/test_train_mlp.hpp>
#include <nnfuse/generated/test_train_residual_softmax.hpp>
#include <nnfuse/runtime/trainer.hpp>

#include "each_schedule.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NNFUSE_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NNFUSE_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef NNFUSE_COUNT_ALLOCATIONS
#define NNFUSE_COUNT_ALLOCATIONS 1
#endif

namespace {
std::atomic<bool> counting = false;
std::atomic<long> allocations = 0;
[[maybe_unused]] void note() {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
}
}  // namespace

#if NNFUSE_COUNT_ALLOCATIONS
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);

void* malloc(std::size_t size) {
  note();
  return __libc_malloc(size);
}
void* calloc(std::size_t n, std::size_t size) {
  note();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
  note();
  return __libc_realloc(p, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  note();
  return __libc_memalign(alignment, size);
}
void* memalign(std::size_t alignment, std::size_t size) {
  note();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  note();
  *out = __libc_memalign(alignment, size);
  return *out == nullptr ? 12 : 0;
}
}
#endif

namespace {

template <class Compiled>
void check_no_allocation(std::size_t batch) {
  using Net = typename Compiled::network;
  std::vector<float> params(nnfuse::graph<Net>::parameter_bytes / sizeof(float), 0.01F);
  const auto model = nnfuse::Model<Compiled>::from_parameters(params);
  std::vector<float> input(batch * nnfuse::graph<Net>::in_width, 0.25F);
  std::vector<float> output(batch * nnfuse::graph<Net>::out_width);
  nnfuse::Session session;
  model.forward(session, input, output);  // warm: the arena grows, Halide's threads start
  model.forward(session, input, output);
  allocations = 0;
  counting = true;
  for (int i = 0; i < 20; ++i) model.forward(session, input, output);
  counting = false;
  EXPECT_EQ(allocations.load(), 0) << Compiled::name << "::" << Compiled::schedule;
  EXPECT_EQ(session.heap_fallbacks(), 0U) << Compiled::name << "::" << Compiled::schedule;
}

TEST(NoAllocation, WarmedForwardOfEveryScheduleAndNetwork) {
  if (!NNFUSE_COUNT_ALLOCATIONS) GTEST_SKIP() << "a sanitizer owns malloc in this build";
  for (std::size_t batch : {1U, 7U, 64U}) {
    auto check = [batch](auto s) { check_no_allocation<decltype(s)>(batch); };
    nnfuse_test::for_each_schedule<nnfuse::generated::test_mlp::schedules>(check);
    nnfuse_test::for_each_schedule<nnfuse::generated::test_residual::schedules>(check);
    nnfuse_test::for_each_schedule<nnfuse::generated::test_odd::schedules>(check);
  }
}

// A warmed training step (forwards, backwards, SGD) allocates nothing either, also a smaller
// batch than the largest one seen after it; with SGD and with Adam.
template <class Compiled, class Optimizer>
void check_step_without_allocation(Optimizer optimizer) {
  using Net = typename Compiled::network;
  using G = nnfuse::graph<Net>;
  std::vector<float> params(G::parameter_bytes / sizeof(float), 0.01F);
  auto trainer = nnfuse::Trainer<Compiled, Optimizer>::from_parameters(params, optimizer);
  constexpr std::size_t batch = 33;
  std::vector<float> input(batch * G::in_width, 0.25F);
  using Targets = typename nnfuse::Trainer<Compiled, Optimizer>::Targets;
  std::vector<std::remove_const_t<typename Targets::element_type>> targets(
      Compiled::loss::integer_labels ? batch : batch * G::out_width);
  nnfuse::Session session;
  const auto small_input = std::span(input).first(3 * G::in_width);
  const auto small_targets = std::span(targets).first(targets.size() / batch * 3);
  trainer.step(session, input, targets);
  trainer.step(session, input, targets);
  // The Session's arena is warmed per batch size: below the typical batch an autoscheduled
  // schedule runs its `manual` fallback, whose intermediates may need more (Adams2019's did).
  trainer.step(session, small_input, small_targets);
  trainer.step(session, input, targets);
  allocations = 0;
  counting = true;
  for (int i = 0; i < 5; ++i) trainer.step(session, input, targets);
  trainer.step(session, small_input, small_targets);
  counting = false;
  EXPECT_EQ(allocations.load(), 0) << Compiled::name << "::" << Compiled::schedule;
}

TEST(NoAllocation, WarmedTrainingStep) {
  if (!NNFUSE_COUNT_ALLOCATIONS) GTEST_SKIP() << "a sanitizer owns malloc in this build";
  auto check = [](auto s) {
    check_step_without_allocation<decltype(s)>(nnfuse::Sgd{0.01F, 0.9F, 1e-4F});
    check_step_without_allocation<decltype(s)>(nnfuse::Adam{.lr = 1e-3F, .weight_decay = 1e-4F});
  };
  nnfuse_test::for_each_schedule<nnfuse::generated::test_train_mlp::schedules>(check);
  nnfuse_test::for_each_schedule<nnfuse::generated::test_train_residual_softmax::schedules>(check);
}

TEST(NoAllocation, TheCounterSeesAnAllocation) {
  if (!NNFUSE_COUNT_ALLOCATIONS) GTEST_SKIP() << "a sanitizer owns malloc in this build";
  allocations = 0;
  counting = true;
  auto* p = new std::vector<int>(100);
  counting = false;
  delete p;
  EXPECT_GE(allocations.load(), 2);
}

}  // namespace
