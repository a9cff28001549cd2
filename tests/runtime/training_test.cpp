// The generated training kernels against PyTorch (make_training_golden.py): from the same
// float32 weights and batch, the loss, every parameter's gradient, the input's gradient and the
// weights after one and after ten SGD steps, each compared with PyTorch's float64 run. The bar is
// PyTorch's own float32 run: nnfuse's error (max |a - ref| / max |ref| per tensor) must not exceed
// kErrorBar times PyTorch float32's, or kErrorFloor, whichever is larger. Every schedule built.
// Also: the Trainer's argument errors, bit-identical steps, save -> Model, momentum state.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/generated/test_multi.hpp>
#include <nnfuse/generated/test_train_mlp.hpp>
#include <nnfuse/generated/test_train_odd.hpp>
#include <nnfuse/generated/test_train_prelu.hpp>
#include <nnfuse/generated/test_train_residual.hpp>
#include <nnfuse/generated/test_train_residual_softmax.hpp>
#include <nnfuse/runtime/trainer.hpp>
#include <nnfuse/weights/safetensors.hpp>

#include "each_schedule.hpp"

namespace {

// nnfuse's error may be this many times PyTorch float32's (both against float64), or this
// floor: the sums run in different orders, and a tensor PyTorch happens to get nearly exact
// (a bias gradient of a few terms) should not fail a kernel that is 1 ULP off.
constexpr double kErrorBar = 2.0;
constexpr double kErrorFloor = 1.2e-7;  // 2^-23

const std::filesystem::path kGoldens = NNFUSE_TRAINING_GOLDEN_DIR;

struct Golden {
  nnfuse::SafetensorsFile file;
  explicit Golden(const std::string& name)
      : file(nnfuse::SafetensorsFile::open(kGoldens / ("train_" + name + ".safetensors"))) {}

  [[nodiscard]] std::vector<double> f64(const std::string& tensor) const {
    const nnfuse::TensorInfo& info = file.at(tensor);
    if (info.dtype == nnfuse::DType::f64) {
      std::vector<double> values(info.element_count);
      std::memcpy(values.data(), file.bytes(info).data(), info.byte_size());
      return values;
    }
    const std::vector<float> values = file.read_float32(info);
    return {values.begin(), values.end()};
  }
  [[nodiscard]] std::vector<float> f32(const std::string& tensor) const {
    return file.read_float32(file.at(tensor));
  }
  [[nodiscard]] std::vector<std::int32_t> labels() const {
    const nnfuse::TensorInfo& info = file.at("labels");
    std::vector<std::int64_t> wide(info.element_count);
    std::memcpy(wide.data(), file.bytes(info).data(), info.byte_size());
    return {wide.begin(), wide.end()};
  }
  [[nodiscard]] float metadata(const std::string& key) const {
    return std::stof(file.metadata().at(key));
  }
};

// The golden's initial weights as a parameter block of Net.
template <class Net>
std::vector<float> initial_parameters(const Golden& golden) {
  std::vector<float> block(nnfuse::graph<Net>::parameter_bytes / sizeof(float), 0.0F);
  for (const nnfuse::ParameterInfo& p : nnfuse::graph<Net>::parameters) {
    const std::vector<float> values = golden.f32(std::string(p.name));
    std::copy(values.begin(), values.end(),
              block.begin() + static_cast<std::ptrdiff_t>(p.offset_bytes / sizeof(float)));
  }
  return block;
}

double relative_error(std::span<const float> actual, std::span<const double> reference) {
  double worst = 0.0;
  double scale = 0.0;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(actual[i]) - reference[i]));
    scale = std::max(scale, std::abs(reference[i]));
  }
  return scale == 0.0 ? worst : worst / scale;
}

// The tensor `name` of a PyTorch-layout parameter block.
template <class Net>
std::span<const float> tensor_of(const std::vector<float>& block, std::string_view name) {
  for (const nnfuse::ParameterInfo& p : nnfuse::graph<Net>::parameters) {
    if (p.name == name) return {block.data() + p.offset_bytes / sizeof(float), p.count};
  }
  ADD_FAILURE() << "no tensor " << name;
  return {};
}

// Checks one quantity and prints both errors.
void expect_as_close_as_torch(const std::string& what, std::span<const float> nnfuse_values,
                              const Golden& golden, const std::string& ref,
                              const std::string& torch) {
  const std::vector<double> reference = golden.f64(ref);
  ASSERT_EQ(nnfuse_values.size(), reference.size()) << what;
  const std::vector<float> torch_values = golden.f32(torch);
  const double ours = relative_error(nnfuse_values, reference);
  const double theirs = relative_error(torch_values, reference);
  std::printf("  %-48s nnfuse %.2e  torch float32 %.2e\n", what.c_str(), ours, theirs);
  EXPECT_LE(ours, std::max(kErrorBar * theirs, kErrorFloor))
      << what << ": nnfuse " << ours << " vs PyTorch float32 " << theirs;
}

template <class Compiled>
auto targets_of(const Golden& golden) {
  if constexpr (Compiled::loss::integer_labels) {
    return golden.labels();
  } else {
    return golden.f32("target");
  }
}

// Gradients, one step and ten steps of `case_name` through schedule `Compiled` on `variant`.
template <class Compiled>
void check_parity(const std::string& case_name,
                  std::size_t variant = Compiled::selected_variant_index()) {
  using Net = typename Compiled::network;
  const Golden golden(case_name);
  const std::string label = case_name + "/" + std::string(Compiled::schedule) + "/" +
                            std::string(Compiled::variants[variant]);
  std::printf("%s\n", label.c_str());
  const nnfuse::Sgd sgd{golden.metadata("lr"), golden.metadata("momentum"),
                        golden.metadata("weight_decay")};
  auto trainer =
      nnfuse::Trainer<Compiled>::from_parameters(initial_parameters<Net>(golden), sgd, variant);
  const std::vector<float> input = golden.f32("input");
  const auto targets = targets_of<Compiled>(golden);
  nnfuse::Session session;

  std::vector<float> input_gradient(input.size());
  const float loss = trainer.gradients(session, input, targets, input_gradient);
  const std::vector<float> loss_value{loss};
  expect_as_close_as_torch(label + " loss", loss_value, golden, "ref64.loss", "torch32.loss");
  const std::vector<float> grads = trainer.gradient_parameters();
  for (const nnfuse::ParameterInfo& p : nnfuse::graph<Net>::parameters) {
    const std::string name(p.name);
    const std::string grad = "grad." + name;
    expect_as_close_as_torch(label + " " + grad, tensor_of<Net>(grads, name), golden,
                             "ref64." + grad, "torch32." + grad);
  }
  expect_as_close_as_torch(label + " grad input", input_gradient, golden, "ref64.grad.input",
                           "torch32.grad.input");

  float loss10 = 0.0F;
  for (int step = 1; step <= 10; ++step) {
    loss10 = trainer.step(session, input, targets);
    if (step != 1 && step != 10) continue;
    const std::vector<float> weights = trainer.parameters();
    for (const nnfuse::ParameterInfo& p : nnfuse::graph<Net>::parameters) {
      const std::string name(p.name);
      std::string tensor = "step";
      tensor += std::to_string(step);
      tensor += ".";
      tensor += name;
      expect_as_close_as_torch(label + " " + tensor, tensor_of<Net>(weights, name), golden,
                               "ref64." + tensor, "torch32." + tensor);
    }
  }
  const std::vector<float> loss10_value{loss10};
  expect_as_close_as_torch(label + " loss at step 10", loss10_value, golden, "ref64.loss10",
                           "torch32.loss10");
}

TEST(TrainingParity, SeedNetworkCrossEntropy) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_train_mlp::schedules>(
      [](auto schedule) { check_parity<decltype(schedule)>("mlp"); });
}

TEST(TrainingParity, SeedNetworkBatchOne) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_train_mlp::schedules>(
      [](auto schedule) { check_parity<decltype(schedule)>("mlp_b1"); });
}

TEST(TrainingParity, PReLUSigmoidMse) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_train_prelu::schedules>(
      [](auto schedule) { check_parity<decltype(schedule)>("prelu"); });
}

TEST(TrainingParity, ResidualPReLUEluCrossEntropy) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_train_residual::schedules>(
      [](auto schedule) { check_parity<decltype(schedule)>("residual_ce"); });
}

// Backward through Softmax: its vector-Jacobian product (vjp.hpp), MSE on the probabilities.
TEST(TrainingParity, ResidualSoftmaxMse) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_train_residual_softmax::schedules>(
      [](auto schedule) { check_parity<decltype(schedule)>("residual_softmax"); });
}

TEST(TrainingParity, OddWidthsEluLeakyReluSoftmaxMse) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_train_odd::schedules>(
      [](auto schedule) { check_parity<decltype(schedule)>("odd"); });
}

// A multi-target build (avx512, avx2, baseline): every variant this CPU runs trains the same.
TEST(TrainingParity, EveryVariantOfAMultiTargetBuild) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_multi::schedules>([](auto schedule) {
    using Compiled = decltype(schedule);
    if constexpr (Compiled::trains) {
      for (std::size_t v = Compiled::selected_variant_index(); v < Compiled::variants.size(); ++v) {
        check_parity<Compiled>("residual_softmax", v);
      }
    }
  });
}

using MlpManual = nnfuse::generated::test_train_mlp::manual;

std::vector<float> seed_block() {
  return initial_parameters<MlpManual::network>(Golden("mlp"));
}

TEST(Trainer, RefusesBadArguments) {
  auto trainer = nnfuse::Trainer<MlpManual>::from_parameters(seed_block());
  nnfuse::Session session;
  const std::vector<float> input(std::size_t{2} * 784, 0.5F);
  const std::vector<std::int32_t> labels{3, 10};
  try {
    trainer.step(session, input, labels);
    FAIL() << "a label past the classes was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("label 10 of row 1"), std::string::npos) << e.what();
  }
  const std::vector<std::int32_t> one_label{3};
  EXPECT_THROW(trainer.step(session, input, one_label), std::invalid_argument);
  const std::vector<float> ragged(784 + 1, 0.5F);
  EXPECT_THROW(trainer.step(session, ragged, labels), std::invalid_argument);
  const std::vector<float> wrong_size(5);
  EXPECT_THROW(nnfuse::Trainer<MlpManual>::from_parameters(wrong_size), std::invalid_argument);
  EXPECT_THROW(nnfuse::Trainer<MlpManual>::from_parameters(seed_block(), {}, 7),
               std::invalid_argument);
}

// The same steps give the same bits at 1 and at 2 threads, and across the two (every reduction
// has a fixed order; threads split only pure loops); a smaller batch after a larger one reuses
// the buffers.
TEST(Trainer, StepsAreBitIdenticalFromRunToRunAndAcrossThreadCounts) {
  const Golden golden("mlp");
  const std::vector<float> input = golden.f32("input");
  const std::vector<std::int32_t> labels = golden.labels();
  auto run = [&](int threads) {
    nnfuse::set_num_threads(threads);
    auto trainer = nnfuse::Trainer<MlpManual>::from_parameters(seed_block(), {0.05F, 0.9F, 0.0F});
    nnfuse::Session session;
    for (int i = 0; i < 3; ++i) trainer.step(session, input, labels);
    trainer.step(session, std::span(input).first(std::size_t{784} * 5), std::span(labels).first(5));
    return trainer.parameters();
  };
  const std::vector<float> one = run(1);
  const std::vector<float> one_again = run(1);
  const std::vector<float> two = run(2);
  const std::vector<float> two_again = run(2);
  nnfuse::set_num_threads(static_cast<int>(std::max(1U, std::thread::hardware_concurrency())));
  const auto same_bits = [](const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  };
  EXPECT_TRUE(same_bits(one, one_again));
  EXPECT_TRUE(same_bits(two, two_again));
  EXPECT_TRUE(same_bits(one, two));
}

// save() writes PyTorch's names; a Model loads the file and computes the trainer's forward; the
// momentum state resumes.
TEST(Trainer, SavesWeightsAModelLoadsAndStateResumes) {
  const Golden golden("mlp");
  const std::vector<float> input = golden.f32("input");
  const std::vector<std::int32_t> labels = golden.labels();
  const nnfuse::Sgd sgd{0.05F, 0.9F, 1e-3F};
  auto trainer = nnfuse::Trainer<MlpManual>::from_parameters(seed_block(), sgd);
  nnfuse::Session session;
  for (int i = 0; i < 2; ++i) trainer.step(session, input, labels);
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "nnfuse_train_test";
  std::filesystem::create_directories(dir);
  trainer.save(dir / "weights.safetensors");
  trainer.save_state(dir / "sgd.safetensors");

  const nnfuse::Model<MlpManual> loaded(dir / "weights.safetensors");
  const nnfuse::Model<MlpManual> snapshot = trainer.model();
  std::vector<float> from_file(std::size_t{33} * 10);
  std::vector<float> from_snapshot(std::size_t{33} * 10);
  loaded.forward(session, input, from_file);
  snapshot.forward(session, input, from_snapshot);
  EXPECT_EQ(from_file, from_snapshot);
  EXPECT_EQ(loaded.parameters(), trainer.parameters());

  // Resume: a fresh trainer from the saved weights and state steps exactly as the first one.
  auto resumed = nnfuse::Trainer<MlpManual>(dir / "weights.safetensors");
  resumed.load_state(dir / "sgd.safetensors");
  EXPECT_FLOAT_EQ(resumed.optimizer().momentum, 0.9F);
  trainer.step(session, input, labels);
  resumed.step(session, input, labels);
  EXPECT_EQ(resumed.parameters(), trainer.parameters());
  std::filesystem::remove_all(dir);
}

}  // namespace
