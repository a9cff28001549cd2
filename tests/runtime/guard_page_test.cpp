// Generated kernels never touch memory outside the buffers they are given: inputs, outputs and
// the packed weights are placed flush against an inaccessible guard page (mprotect PROT_NONE)
// on the side they could overrun, for odd batch sizes and widths (17, 33, 257, 300 ...); an
// access past the end is a segmentation fault, which fails the test. (ASan cannot see this:
// the kernels are not instrumented.)
#include <cstring>
#include <span>
#include <vector>

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <nnfuse/dsl/reference.hpp>
#include <nnfuse/generated/test_odd.hpp>
#include <nnfuse/generated/test_residual.hpp>

#include "each_schedule.hpp"
#include "gtest_reference.hpp"

namespace {

// `count` floats ending exactly at a PROT_NONE page (and starting after one).
class GuardedFloats {
 public:
  explicit GuardedFloats(std::size_t count) : count_(count) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t bytes = count * sizeof(float);
    data_pages_ = (bytes + page - 1) / page;
    total_ = (data_pages_ + 2) * page;
    void* region =
        mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) throw std::bad_alloc();
    base_ = static_cast<std::byte*>(region);
    mprotect(base_, page, PROT_NONE);
    mprotect(base_ + (data_pages_ + 1) * page, page, PROT_NONE);
    data_ = reinterpret_cast<float*>(base_ + (data_pages_ + 1) * page - bytes);
  }
  GuardedFloats(const GuardedFloats&) = delete;
  GuardedFloats& operator=(const GuardedFloats&) = delete;
  ~GuardedFloats() { munmap(base_, total_); }
  std::span<float> span() { return {data_, count_}; }

 private:
  std::size_t count_;
  std::size_t data_pages_ = 0;
  std::size_t total_ = 0;
  std::byte* base_ = nullptr;
  float* data_ = nullptr;
};

template <class Compiled>
void run_guarded(std::size_t batch) {
  using Net = typename Compiled::network;
  std::vector<float> params(nnfuse::graph<Net>::parameter_bytes / sizeof(float));
  for (std::size_t i = 0; i < params.size(); ++i) params[i] = static_cast<float>(i % 13) * 0.01F;
  const auto model = nnfuse::Model<Compiled>::from_parameters(params);
  GuardedFloats input(batch * nnfuse::graph<Net>::in_width);
  GuardedFloats output(batch * nnfuse::graph<Net>::out_width);
  for (float& v : input.span()) v = 0.5F;
  nnfuse::Session session;
  model.forward(session, input.span(), output.span());
  const auto expected =
      nnfuse::reference_forward<Net>(params, std::span<const float>(input.span()), batch);
  ASSERT_TRUE(nnfuse_test::matches_reference(output.span(), expected, Compiled::schedule,
                                             Compiled::selected_variant(), batch,
                                             nnfuse::graph<Net>::out_width));
  // The kernel itself, with the packed weights against a guard page too.
  const std::size_t packed_floats = Compiled::layout_floats[Compiled::selected_layout()];
  GuardedFloats packed(packed_floats);
  Compiled::pack(Compiled::selected_layout(), params.data(), packed.span().data());
  GuardedFloats direct(batch * nnfuse::graph<Net>::out_width);
  nnfuse::detail::RowsBuffer in(input.span().data(), nnfuse::graph<Net>::in_width, batch);
  nnfuse::detail::RowsBuffer out(direct.span().data(), nnfuse::graph<Net>::out_width, batch);
  nnfuse::detail::VectorBuffer weights(packed.span().data(), packed_floats);
  ASSERT_EQ(Compiled::forward(nullptr, &in.buffer, nullptr, &weights.buffer, &out.buffer), 0);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(direct.span()[i], output.span()[i]);
  }
}

TEST(GuardPages, OddShapesStayInsideTheirBuffers) {
  for (std::size_t batch : {1U, 2U, 5U, 6U, 7U, 17U, 33U}) {
    auto check = [batch](auto s) { run_guarded<decltype(s)>(batch); };
    nnfuse_test::for_each_schedule<nnfuse::generated::test_residual::schedules>(check);
    nnfuse_test::for_each_schedule<nnfuse::generated::test_odd::schedules>(check);
  }
}

}  // namespace
