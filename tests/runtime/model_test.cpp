// nnfuse::Model and Session as a user meets them: PyTorch's weights and outputs (the seed
// network and an odd-sized one, made by PyTorch; |y - torch| <= 1e-5 * max(1, |torch|)),
// every per-target variant of a multi-target build, and every error path of the API.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <nnfuse/dsl/reference.hpp>
#include <nnfuse/generated/test_mlp.hpp>
#include <nnfuse/generated/test_odd.hpp>
#include <nnfuse/generated/test_residual.hpp>

#include "each_schedule.hpp"

namespace {

const std::filesystem::path data_dir = NNFUSE_RUNTIME_TEST_DATA;
const std::filesystem::path mnist_dir = NNFUSE_MNIST_DIR;

void expect_close(std::span<const float> y, std::span<const float> expected,
                  const std::string& what) {
  ASSERT_EQ(y.size(), expected.size()) << what;
  for (std::size_t i = 0; i < y.size(); ++i) {
    EXPECT_LE(std::fabs(y[i] - expected[i]), 1e-5 * std::max(1.0F, std::fabs(expected[i])))
        << what << " element " << i;
  }
}

template <class Compiled>
void check_against_torch(const std::filesystem::path& weights, const std::filesystem::path& batch) {
  const nnfuse::Model<Compiled> model(weights);
  const auto golden = nnfuse::SafetensorsFile::open(batch);
  const auto input = golden.read_float32(golden.at("input"));
  const auto expected = golden.read_float32(golden.at("output"));
  std::vector<float> output(expected.size());
  nnfuse::Session session;
  model.forward(session, input, output);
  expect_close(output, expected, std::string(Compiled::schedule));
}

TEST(TorchGolden, SeedNetwork) {
  // tests/runtime's Mlp is the seed network's type; the weights are the example's.
  nnfuse_test::for_each_schedule<nnfuse::generated::test_mlp::schedules>([](auto s) {
    check_against_torch<decltype(s)>(mnist_dir / "mnist_mlp.safetensors",
                                     mnist_dir / "mnist_batch32.safetensors");
  });
}

// How far a float32 forward is from the float64 one: the worst of |y - ref| / max(1e-5 |ref|,
// 1e-6) over the batch (1 is PyTorch's float32 tolerance at the boundary).
double accumulation_score(std::span<const float> y, std::span<const double> ref) {
  double worst = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    worst = std::max(worst, std::fabs(y[i] - ref[i]) / std::max(1e-5 * std::fabs(ref[i]), 1e-6));
  }
  return worst;
}

// The seed network's float32 accumulation is at least as accurate as PyTorch's float32 forward
// of the same batch, against the float64 forward (the hand-written schedules; the
// autoschedulers choose their own order and are only reported).
TEST(TorchGolden, SeedAccumulationAtLeastAsAccurateAsTorch) {
  const auto golden = nnfuse::SafetensorsFile::open(mnist_dir / "mnist_batch32.safetensors");
  const auto input = golden.read_float32(golden.at("input"));
  const auto torch_output = golden.read_float32(golden.at("output"));
  nnfuse_test::for_each_schedule<nnfuse::generated::test_mlp::schedules>([&](auto s) {
    using Compiled = decltype(s);
    using Net = typename Compiled::network;
    const nnfuse::Model<Compiled> model(mnist_dir / "mnist_mlp.safetensors");
    const std::size_t batch = input.size() / nnfuse::graph<Net>::in_width;
    const auto ref =
        nnfuse::reference_forward<Net>(model.parameters(), std::span<const float>(input), batch);
    std::vector<float> output(torch_output.size());
    nnfuse::Session session;
    model.forward(session, input, output);
    const double torch_score = accumulation_score(torch_output, ref);
    const double score = accumulation_score(output, ref);
    std::printf("accumulation score, seed network B = %zu: %s %.4f, PyTorch float32 %.4f\n", batch,
                std::string(Compiled::schedule).c_str(), score, torch_score);
    const std::string_view name = Compiled::schedule;
    if (name == "naive" || name == "manual" || name == "fused") {
      EXPECT_LE(score, torch_score) << name;
    }
  });
}

TEST(TorchGolden, OddNetwork) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_odd::schedules>([](auto s) {
    check_against_torch<decltype(s)>(data_dir / "odd_net.safetensors",
                                     data_dir / "odd_batch.safetensors");
  });
}

using Mlp = nnfuse::generated::test_mlp::manual;

nnfuse::Model<Mlp> small_model() {
  std::vector<float> params(nnfuse::graph<Mlp::network>::parameter_bytes / sizeof(float), 0.01F);
  return nnfuse::Model<Mlp>::from_parameters(params);
}

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no exception";
}

TEST(ModelErrors, WrongInputWidthBatchZeroAndWrongOutput) {
  const auto model = small_model();
  nnfuse::Session session;
  std::vector<float> output(10);
  std::vector<float> input(783);
  EXPECT_EQ(error_of([&] { model.forward(session, input, output); }),
            "nnfuse::Model<test_mlp>::forward: the input has 783 floats, not a positive multiple "
            "of the input width 784");
  EXPECT_EQ(
      error_of([&] { model.forward(session, std::span<const float>(input.data(), 0), output); }),
      "nnfuse::Model<test_mlp>::forward: the input has 0 floats, not a positive multiple "
      "of the input width 784");
  input.resize(784 * 2);
  EXPECT_EQ(error_of([&] { model.forward(session, input, output); }),
            "nnfuse::Model<test_mlp>::forward: the output has 10 floats, expected batch 2 x 10 = "
            "20");
  EXPECT_EQ(error_of([&] { model.forward(session, std::span<const float>(), std::span<float>()); }),
            "nnfuse::Model<test_mlp>::forward: null input or output");
}

// The kernels index in int32: a batch of 2^31 elements or more is refused, not truncated. The
// rows are reserved address space only (MAP_NORESERVE), never touched.
TEST(ModelErrors, ABatchOfTwoToTheThirtyOneElementsIsRefused) {
  const auto model = small_model();
  constexpr std::size_t rows = INT32_MAX / 784 + 1;
  auto reserve = [](std::size_t floats) {
    void* p = mmap(nullptr, floats * sizeof(float), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? nullptr : static_cast<float*>(p);
  };
  float* input = reserve(rows * 784);
  float* output = reserve(rows * 10);
  ASSERT_NE(input, nullptr);
  ASSERT_NE(output, nullptr);
  nnfuse::Session session;
  EXPECT_EQ(error_of([&] {
              model.forward(session, std::span<const float>(input, rows * 784),
                            std::span<float>(output, rows * 10));
            }),
            "nnfuse::Model<test_mlp>::forward: a batch of " + std::to_string(rows) +
                " rows of up to 784 floats is 2^31 elements or more, the most one call takes");
  munmap(input, rows * 784 * sizeof(float));
  munmap(output, rows * 10 * sizeof(float));
}

TEST(ModelErrors, ParameterBlockOfTheWrongSize) {
  std::vector<float> params(10);
  EXPECT_EQ(error_of([&] { (void)nnfuse::Model<Mlp>::from_parameters(params); }),
            "nnfuse::Model<test_mlp>: the parameter block has 10 floats, expected 101770");
}

TEST(ModelErrors, WeightsOfAnotherNetworkNameFileAndTensor) {
  // The odd network's file has fc3 and the wrong shapes for the MLP.
  const auto path = data_dir / "odd_net.safetensors";
  try {
    const nnfuse::Model<Mlp> model(path);
    FAIL() << "expected nnfuse::WeightsError";
  } catch (const nnfuse::WeightsError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find("fc1.weight"), std::string::npos) << message;
    EXPECT_EQ(e.tensor(), "fc1.weight");
  }
  EXPECT_THROW((nnfuse::Model<Mlp>(data_dir / "does_not_exist.safetensors")), nnfuse::WeightsError);
}

// A kernel called directly with a malformed buffer returns Halide's error code and leaves the
// message in the Session, instead of Halide's default of printing and aborting the process.
TEST(Session, KeepsTheKernelsErrorMessageInsteadOfAborting) {
  const auto model = small_model();
  nnfuse::Session session;
  std::vector<float> input(784 * 3, 0.5F);
  std::vector<float> output(9 * 3);  // the network's output is 10 wide
  nnfuse::detail::RowsBuffer in(input.data(), 784, 3);
  nnfuse::detail::RowsBuffer out(output.data(), 9, 3);
  nnfuse::detail::VectorBuffer weights(model.packed().data(), model.packed().size());
  {
    const nnfuse::Session::Call call = session.begin_call();
    const int code =
        Mlp::forward(call.user_context(), &in.buffer, nullptr, &weights.buffer, &out.buffer);
    EXPECT_NE(code, 0);
    const std::string message(session.last_error());
    EXPECT_NE(message.find("Output buffer"), std::string::npos) << message;
  }
  const nnfuse::Session::Call next = session.begin_call();
  EXPECT_TRUE(session.last_error().empty()) << "a new call starts without an error";
}

// The forward and node kernels are compiled without Halide's asserts; their entry points check
// every buffer instead. Each malformed form is refused before the kernel reads anything, with
// Halide's error code and a message naming the kernel, the buffer and what is wrong.
struct Malformed {
  const char* what;
  int code;
  const char* message;
};

template <class Compiled>
void expect_every_malformed_buffer_refused() {
  using Net = typename Compiled::network;
  constexpr std::size_t in_width = nnfuse::graph<Net>::in_width;
  constexpr std::size_t out_width = nnfuse::graph<Net>::out_width;
  constexpr std::size_t rows = 3;
  std::vector<float> params(nnfuse::graph<Net>::parameter_bytes / sizeof(float), 0.01F);
  const auto model = nnfuse::Model<Compiled>::from_parameters(params);
  std::vector<float> input(in_width * rows, 0.5F);
  std::vector<float> output(out_width * rows, -1.0F);
  const std::string kernel =
      std::string(Compiled::name) + "__forward__" + std::string(Compiled::schedule) + "__host: ";
  nnfuse::Session session;
  auto call = [&](const Malformed& form, auto&& damage) {
    nnfuse::detail::RowsBuffer in(input.data(), in_width, rows);
    nnfuse::detail::RowsBuffer out(output.data(), out_width, rows);
    nnfuse::detail::VectorBuffer packed(model.packed().data(), model.packed().size());
    halide_buffer_t* buffers[] = {&in.buffer, &packed.buffer, &out.buffer};  // NOLINT(*-c-arrays)
    damage(buffers);
    const nnfuse::Session::Call c = session.begin_call();
    const int code =
        Compiled::forward(c.user_context(), buffers[0], nullptr, buffers[1], buffers[2]);
    EXPECT_EQ(code, form.code) << Compiled::schedule << ": " << form.what;
    EXPECT_EQ(std::string(session.last_error()), kernel + form.message)
        << Compiled::schedule << ": " << form.what;
    EXPECT_EQ(output, std::vector<float>(out_width * rows, -1.0F))
        << Compiled::schedule << ": " << form.what << " wrote the output";
  };
  using B = halide_buffer_t*;
  call({"null output", halide_error_code_buffer_argument_is_null, "Output buffer output is null"},
       [](B* b) { b[2] = nullptr; });
  call({"null packed", halide_error_code_buffer_argument_is_null, "Input buffer packed is null"},
       [](B* b) { b[1] = nullptr; });
  call({"no host", halide_error_code_host_is_null,
        "Input buffer input has no host memory (the kernels run on the host and answer no "
        "bounds query)"},
       [](B* b) { b[0]->host = nullptr; });
  call({"device dirty", halide_error_code_device_dirty_with_no_device_support,
        "Input buffer input is dirty on a device; copy it to the host first"},
       [](B* b) { b[0]->set_device_dirty(); });
  call({"int32", halide_error_code_bad_type,
        "Input buffer input has type code 0 with 32 bits, not float32"},
       [](B* b) { b[0]->type = halide_type_t(halide_type_int, 32); });
  call({"one dimension", halide_error_code_bad_dimensions,
        "Output buffer output has 1 dimensions, not 2"},
       [](B* b) { b[2]->dimensions = 1; });
  call({"narrow input", halide_error_code_constraint_violated,
        "Input buffer input is 783 floats wide, the kernel's is 784"},
       [](B* b) { b[0]->dim[0].extent = 783; });
  call({"row min", halide_error_code_constraint_violated,
        "Output buffer output starts at (0, 1), not (0, 0)"},
       [](B* b) { b[2]->dim[1].min = 1; });
  call({"row stride", halide_error_code_constraint_violated,
        "Input buffer input has strides (1, 800); rows must be dense, (1, width)"},
       [](B* b) { b[0]->dim[1].stride = 800; });
  call({"fewer input rows", halide_error_code_access_out_of_bounds,
        "Input buffer input has 2 rows, the call needs 3"},
       [](B* b) { b[0]->dim[1].extent = 2; });
  call({"no rows", halide_error_code_access_out_of_bounds,
        "Output buffer output has 0 rows, the call needs 1"},
       [](B* b) { b[2]->dim[1].extent = 0; });
  call({"2^31 elements", halide_error_code_buffer_extents_too_large,
        "Output buffer output has 214748365 rows of 10 floats: 2^31 elements or more"},
       [](B* b) { b[2]->dim[1].extent = 214748365; });
  const std::string short_packed =
      "Input buffer packed holds " + std::to_string(model.packed().size() - 1) +
      " floats, the variant's layout " + std::to_string(model.packed().size());
  call({"short packed", halide_error_code_constraint_violated, short_packed.c_str()},
       [](B* b) { --b[1]->dim[0].extent; });
  // Then a well-formed call on the same Session gives what a fresh Session's does.
  std::vector<float> expected(output.size());
  nnfuse::Session fresh;
  model.forward(fresh, input, expected);
  model.forward(session, input, output);
  EXPECT_EQ(output, expected) << Compiled::schedule;
}

TEST(KernelEntryPoint, RefusesEveryMalformedBufferNamingIt) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_mlp::schedules>(
      [](auto s) { expect_every_malformed_buffer_refused<decltype(s)>(); });
}

// A node kernel that adds a residual checks that buffer too (the residual block of ResidualNet,
// 33 wide, node 1).
TEST(KernelEntryPoint, ANodeKernelChecksItsResidual) {
  using Compiled = nnfuse::generated::test_residual::manual;
  using Net = Compiled::network;
  std::vector<float> params(nnfuse::graph<Net>::parameter_bytes / sizeof(float), 0.01F);
  const auto model = nnfuse::Model<Compiled>::from_parameters(params);
  std::vector<float> x(33 * 2, 0.5F);
  std::vector<float> y(33 * 2);
  nnfuse::detail::RowsBuffer in(x.data(), 33, 2);
  nnfuse::detail::RowsBuffer residual(x.data(), 33, 1);
  nnfuse::detail::RowsBuffer out(y.data(), 33, 2);
  nnfuse::detail::VectorBuffer packed(model.packed().data(), model.packed().size());
  const std::string kernel = std::string(Compiled::node_names[1]) + "__host: ";
  nnfuse::Session session;
  {
    const nnfuse::Session::Call c = session.begin_call();
    EXPECT_EQ(Compiled::node1(c.user_context(), &in.buffer, nullptr, &packed.buffer, &out.buffer),
              halide_error_code_buffer_argument_is_null);
    EXPECT_EQ(std::string(session.last_error()), kernel + "Input buffer residual is null");
  }
  {
    const nnfuse::Session::Call c = session.begin_call();
    EXPECT_EQ(Compiled::node1(c.user_context(), &in.buffer, &residual.buffer, &packed.buffer,
                              &out.buffer),
              halide_error_code_access_out_of_bounds);
    EXPECT_EQ(std::string(session.last_error()),
              kernel + "Input buffer residual has 1 rows, the call needs 2");
  }
}

// Another Halide library in the process calls the same (process-wide) hooks with a user context
// of its own: nnfuse serves it from the heap and stderr and never reads through it. The foreign
// context is one byte, so reading it as a Session would be an overflow that ASan reports.
TEST(Session, AForeignUserContextIsServedByTheHeapAndNeverRead) {
  const auto model = small_model();
  std::vector<float> input(784 * 3, 0.5F);
  std::vector<float> expected(10 * 3);
  std::vector<float> output(10 * 3);
  nnfuse::Session session;
  model.forward(session, input, expected);

  char foreign = 42;
  nnfuse::detail::RowsBuffer in(input.data(), 784, 3);
  nnfuse::detail::RowsBuffer out(output.data(), 10, 3);
  nnfuse::detail::VectorBuffer weights(model.packed().data(), model.packed().size());
  EXPECT_EQ(Mlp::forward(&foreign, &in.buffer, nullptr, &weights.buffer, &out.buffer), 0);
  EXPECT_EQ(output, expected);
  EXPECT_EQ(foreign, 42);

  void* block = halide_malloc(&foreign, 100);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % 64, 0U);
  halide_free(&foreign, block);
  // A Session's own address is not its context either.
  EXPECT_EQ(nnfuse::detail::session_of(&session), nullptr);
  EXPECT_EQ(nnfuse::detail::session_of(nullptr), nullptr);
  testing::internal::CaptureStderr();
  halide_error(&foreign, "a foreign library's error\n");
  EXPECT_NE(testing::internal::GetCapturedStderr().find("a foreign library's error"),
            std::string::npos);
  EXPECT_EQ(foreign, 42);
}

TEST(Session, ArenaServesHalideAfterTheFirstCallOfABatchSize) {
  const auto model = small_model();
  nnfuse::Session session;
  std::vector<float> input(784 * 64, 0.5F);
  std::vector<float> output(10 * 64);
  model.forward(session, input, output);
  model.forward(session, input, output);
  EXPECT_EQ(session.heap_fallbacks(), 0U);
  model.forward(session, std::span<const float>(input.data(), 784),
                std::span<float>(output.data(), 10));
  EXPECT_EQ(session.heap_fallbacks(), 0U) << "a smaller batch fits the arena";
}

TEST(Threads, CountIsSettableAndResultsDoNotDependOnIt) {
  const auto model = small_model();
  nnfuse::Session session;
  std::vector<float> input(784 * 9);
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(i % 17) * 0.1F;
  std::vector<float> one(90);
  std::vector<float> two(90);
  nnfuse::set_num_threads(1);
  model.forward(session, input, one);
  nnfuse::set_num_threads(2);
  model.forward(session, input, two);
  EXPECT_EQ(one, two);
  EXPECT_THROW(nnfuse::set_num_threads(0), std::invalid_argument);
}

}  // namespace
