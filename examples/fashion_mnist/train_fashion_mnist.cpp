// train_fashion_mnist: trains the seed network 784 -> 128 ReLU -> 10 (or, with --activation
// prelu, the same with a learned PReLU alpha per hidden unit) on Fashion-MNIST from Debian's
// dataset-fashion-mnist, with nnfuse's generated training kernels (nnfuse::Trainer, the manual
// schedule), and prints per epoch the loss, the train and test accuracy and the time.
//
// The recipe, which tools/train_fashion_mnist_torch.py repeats in PyTorch line for line:
//   inputs     pixel / 255 (nnfuse::data's [0, 1]; no further normalisation)
//   weights    PyTorch's default init of nn.Linear: weight and bias uniform in
//              [-1/sqrt(fan_in), 1/sqrt(fan_in)), PReLU alpha 0.25, drawn from
//              SplitMix64(seed + 1) as u = (next() >> 40) * 2^-24; written to
//              <out>/initial_<activation>.safetensors before the first step, for the
//              PyTorch script
//   order      one shuffle per epoch, nnfuse::data::shuffled_order(60000, SplitMix64(seed)),
//              one generator for the whole run (tools/fashion_order.py draws the same)
//   batches    32 rows, in that order; the last batch of an epoch is whatever is left
//   loss       CrossEntropy (mean over the batch)
//   optimizer  Adam(lr, betas (0.9, 0.999), eps 1e-8, no weight decay), lr 1e-3 by default,
//              decayed per epoch with a cosine: epoch e (0-based) of E uses
//              lr * 0.5 * (1 + cos(pi * e / E))
// Train accuracy is measured after each epoch on the whole training set with the epoch's final
// weights; the time is the epoch's training steps alone. At the end the weights are saved
// (<out>/<activation>.safetensors, PyTorch's state_dict names), loaded back into an
// nnfuse::Model and its test accuracy printed next to the trainer's (exit status 1 if they
// differ; 2 for a bad command line, 1 for a missing or damaged data file).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <unistd.h>

#include <nnfuse/data/idx.hpp>
#include <nnfuse/generated/fashion_prelu.hpp>
#include <nnfuse/generated/fashion_relu.hpp>
#include <nnfuse/runtime/trainer.hpp>

#include "recipe.hpp"

namespace {

struct Options {
  std::string activation = "relu";
  int epochs = 10;
  float lr = 1e-3F;
  std::uint64_t seed = 1;
  std::filesystem::path data{nnfuse::data::fashion_mnist_default_dir};
  std::filesystem::path out = "fashion_mnist_run";
};

using fashion::accuracy;
using fashion::initial_parameters;
using fashion::kBatch;
using fashion::parse_number;
constexpr const char* kUsage =
    "usage: train_fashion_mnist [--activation relu|prelu] [--epochs N] [--lr RATE] [--seed N]\n"
    "                           [--data DIR] [--out DIR]\n";

Options parse(int argc, char** argv) {
  Options options;
  fashion::for_each_flag(argc, argv, kUsage, [&](std::string_view flag, std::string_view value) {
    if (flag == "--activation") {
      if (value != "relu" && value != "prelu") {
        throw std::invalid_argument("--activation: \"" + std::string(value) +
                                    "\" is neither relu nor prelu");
      }
      options.activation = value;
    } else if (flag == "--epochs") {
      options.epochs = parse_number<int>(flag, value);
      if (options.epochs < 1) throw std::invalid_argument("--epochs: needs at least 1");
    } else if (flag == "--lr") {
      options.lr = parse_number<float>(flag, value);
      if (!(options.lr > 0.0F) || !std::isfinite(options.lr)) {
        throw std::invalid_argument("--lr: needs a positive learning rate");
      }
    } else if (flag == "--seed") {
      options.seed = parse_number<std::uint64_t>(flag, value);
    } else if (flag == "--data") {
      options.data = value;
    } else if (flag == "--out") {
      options.out = value;
    } else {
      throw std::invalid_argument("unknown option " + std::string(flag));
    }
  });
  return options;
}

// A progress bar on a terminal (nothing when stderr is a file or a pipe).
class Progress {
 public:
  Progress() : shown_(isatty(STDERR_FILENO) == 1) {}
  void update(std::size_t done, std::size_t total, double loss) {
    if (!shown_ || (done != total && done % 64 != 0)) return;
    constexpr int width = 40;
    const int filled = static_cast<int>(width * done / total);
    std::fprintf(stderr, "\r  [%.*s%*s] %3zu %%  loss %.4f", filled,
                 "========================================", width - filled, "", 100 * done / total,
                 loss);
    std::fflush(stderr);
  }
  void clear() {
    if (shown_) std::fputs("\r\033[K", stderr);
  }

 private:
  bool shown_;
};

template <class Compiled>
void train(const Options& options, const nnfuse::data::FashionMnist& data) {
  using Net = typename Compiled::network;
  using G = nnfuse::graph<Net>;
  const nnfuse::data::LabelledImages& train_set = data.train;
  const std::size_t rows = train_set.labels.size();
  std::filesystem::create_directories(options.out);

  auto trainer = nnfuse::Trainer<Compiled, nnfuse::Adam>::from_parameters(
      initial_parameters<Net>(options.seed), nnfuse::Adam{.lr = options.lr});
  trainer.save(options.out / ("initial_" + options.activation + ".safetensors"));
  std::printf(
      "nnfuse: %s on Fashion-MNIST (%zu train, %zu test images), Adam lr %g cosine over "
      "%d epochs, batch %zu, seed %llu, %s/%s\n",
      options.activation.c_str(), rows, data.test.labels.size(), static_cast<double>(options.lr),
      options.epochs, kBatch, static_cast<unsigned long long>(options.seed),
      std::string(Compiled::schedule).c_str(),
      std::string(Compiled::variants[trainer.variant()]).c_str());

  nnfuse::data::SplitMix64 order_rng(options.seed);
  nnfuse::Session session;
  std::vector<float> batch_pixels(kBatch * G::in_width);
  std::vector<std::int32_t> batch_labels(kBatch);
  std::vector<float> scores;
  Progress progress;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    const double lr = static_cast<double>(options.lr) * 0.5 *
                      (1.0 + std::cos(std::numbers::pi * epoch / options.epochs));
    trainer.optimizer().lr = static_cast<float>(lr);
    const std::vector<std::uint32_t> order = nnfuse::data::shuffled_order(rows, order_rng);
    double loss_sum = 0.0;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t first = 0; first < rows; first += kBatch) {
      const std::size_t count =
          fashion::gather_batch(train_set, order, first, G::in_width, batch_pixels, batch_labels);
      const float loss = trainer.step(session, std::span(batch_pixels).first(count * G::in_width),
                                      std::span<const std::int32_t>(batch_labels).first(count));
      loss_sum += static_cast<double>(loss) * static_cast<double>(count);
      progress.update(first + count, rows, loss_sum / static_cast<double>(first + count));
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.clear();
    const nnfuse::Model<Compiled> model = trainer.model();
    std::printf("epoch %2d  lr %.2e  loss %.4f  train %6.2f %%  test %6.2f %%  %6.2f s\n",
                epoch + 1, lr, loss_sum / static_cast<double>(rows),
                accuracy(model, session, train_set, scores),
                accuracy(model, session, data.test, scores), seconds);
    std::fflush(stdout);
  }

  const std::filesystem::path saved = options.out / (options.activation + ".safetensors");
  trainer.save(saved);
  const nnfuse::Model<Compiled> reloaded(saved);
  const double reloaded_accuracy = accuracy(reloaded, session, data.test, scores);
  const double trained_accuracy = accuracy(trainer.model(), session, data.test, scores);
  std::printf("saved %s; reloaded into nnfuse::Model: test %.2f %% (the trainer's: %.2f %%)\n",
              saved.c_str(), reloaded_accuracy, trained_accuracy);
  if (reloaded_accuracy != trained_accuracy) {
    throw std::runtime_error("the reloaded weights do not reproduce the trainer's accuracy");
  }
  if constexpr (std::is_same_v<Net, fashion::PReLUNet>) {
    std::vector<float> alpha;
    const std::vector<float> parameters = trainer.parameters();
    for (const nnfuse::ParameterInfo& p : G::parameters) {
      if (p.name == "act.weight") {
        const float* values = parameters.data() + p.offset_bytes / sizeof(float);
        alpha.assign(values, values + p.count);
      }
    }
    std::sort(alpha.begin(), alpha.end());
    std::printf("PReLU alpha per channel (%zu, from 0.25): min %.4f  median %.4f  max %.4f\n",
                alpha.size(), static_cast<double>(alpha.front()),
                static_cast<double>(alpha[alpha.size() / 2]), static_cast<double>(alpha.back()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    const nnfuse::data::FashionMnist data = nnfuse::data::load_fashion_mnist(options.data);
    if (options.activation == "prelu") {
      train<nnfuse::generated::fashion_prelu::manual>(options, data);
    } else {
      train<nnfuse::generated::fashion_relu::manual>(options, data);
    }
    return 0;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "train_fashion_mnist: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_fashion_mnist: %s\n", e.what());
    return 1;
  }
}
