// compare_activations: the seed tutorial's comparison of activations, measured. The seed
// architecture 784 -> 128 -> 10 is trained on Fashion-MNIST with each hidden activation — ReLU,
// Leaky ReLU (0.01), PReLU, ELU, Sigmoid, Tanh, and GELU and SiLU as the modern rows — from the
// same initial Linear weights (recipe.hpp), in the same batch order, with the same optimizer, and
// after every epoch the statistics kernels (nnfuse_add_network(... STATISTICS)) count, over the
// whole training set at the epoch's weights, each hidden unit's active rows (z > 0), zero outputs
// and saturated rows (|f'(z)| < 1 % of max |f'|). It prints the seed's table with measured
// columns, then the dying-ReLU experiment: ReLU, Leaky ReLU and PReLU trained with SGD
// (momentum 0.9) at a learning rate high enough to kill ReLU units, with the units never active
// over the training set per epoch.
//
//   comparison  Adam(lr 1e-3, cosine per epoch, as train_fashion_mnist), --epochs (default 3)
//   dying       SGD(lr --dying-lr (default 0.1), momentum 0.9), --dying-epochs (default 3)
// Both batch 32, orders from SplitMix64(seed). Writes to --out: epochs.csv (one line per
// experiment, activation and epoch), histograms.csv (each network's fc1 pre-activations over the
// training set at the end, 64 bins over [-8, 8) and the tails), and each network's final weights
// (<experiment>_<activation>.safetensors, PyTorch's state_dict names) with the per-unit active
// counts (<experiment>_<activation>_active.csv) for tools/never_active_torch.py, which recounts
// them with a PyTorch forward hook. tools/plot_activations.py draws the plots.
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <nnfuse/data/idx.hpp>
#include <nnfuse/generated/fashion_elu.hpp>
#include <nnfuse/generated/fashion_gelu.hpp>
#include <nnfuse/generated/fashion_leakyrelu.hpp>
#include <nnfuse/generated/fashion_prelu.hpp>
#include <nnfuse/generated/fashion_relu.hpp>
#include <nnfuse/generated/fashion_sigmoid.hpp>
#include <nnfuse/generated/fashion_silu.hpp>
#include <nnfuse/generated/fashion_tanh.hpp>
#include <nnfuse/runtime/statistics.hpp>
#include <nnfuse/runtime/trainer.hpp>

#include "recipe.hpp"

namespace {

namespace gen = nnfuse::generated;

struct Options {
  int epochs = 3;
  int dying_epochs = 3;
  float dying_lr = 0.1F;
  std::uint64_t seed = 1;
  std::filesystem::path data{nnfuse::data::fashion_mnist_default_dir};
  std::filesystem::path out = "compare_activations";
};

constexpr const char* kUsage =
    "usage: compare_activations [--epochs N] [--dying-epochs N] [--dying-lr RATE] [--seed N]\n"
    "                           [--data DIR] [--out DIR]\n";

Options parse(int argc, char** argv) {
  Options options;
  fashion::for_each_flag(argc, argv, kUsage, [&](std::string_view flag, std::string_view value) {
    if (flag == "--epochs" || flag == "--dying-epochs") {
      const int epochs = fashion::parse_number<int>(flag, value);
      if (epochs < 0) throw std::invalid_argument(std::string(flag) + ": needs at least 0");
      (flag == "--epochs" ? options.epochs : options.dying_epochs) = epochs;
    } else if (flag == "--dying-lr") {
      options.dying_lr = fashion::parse_number<float>(flag, value);
      if (!(options.dying_lr > 0.0F) || !std::isfinite(options.dying_lr)) {
        throw std::invalid_argument("--dying-lr: needs a positive learning rate");
      }
    } else if (flag == "--seed") {
      options.seed = fashion::parse_number<std::uint64_t>(flag, value);
    } else if (flag == "--data") {
      options.data = value;
    } else if (flag == "--out") {
      options.out = value;
    } else {
      throw std::invalid_argument("unknown option " + std::string(flag));
    }
  });
  if (options.epochs + options.dying_epochs == 0) {
    throw std::invalid_argument("--epochs and --dying-epochs are both 0: nothing to do");
  }
  return options;
}

// One network's epoch, measured.
struct EpochResult {
  int epoch = 0;
  double loss = 0;
  double test = 0;
  double seconds = 0;  // the training steps alone
  std::size_t never_active = 0;
  double sparsity = 0;
  double active = 0;
  double saturated = 0;
  bool counts_saturation = false;
};

struct Run {
  std::string activation;
  std::vector<EpochResult> epochs;
};

constexpr std::size_t kHidden = 128;

struct Files {
  std::ofstream epochs;
  std::ofstream histograms;
  explicit Files(const std::filesystem::path& out)
      : epochs(out / "epochs.csv"), histograms(out / "histograms.csv") {
    if (!epochs || !histograms) {
      throw std::runtime_error("cannot write to " + out.string());
    }
    epochs << "experiment,activation,epoch,loss,test_accuracy,never_active,sparsity,active,"
              "saturated,seconds\n";
    histograms << "experiment,activation,bin,low,high,count\n";
  }
};

// Trains Compiled's network for `epochs` with `Opt` and measures every epoch.
template <class Compiled, class Opt>
Run train(const std::string& experiment, const std::string& activation, Opt optimizer, bool cosine,
          int epochs, const Options& options, const nnfuse::data::FashionMnist& data,
          Files& files) {
  using Net = typename Compiled::network;
  using G = nnfuse::graph<Net>;
  const nnfuse::data::LabelledImages& train_set = data.train;
  const std::size_t rows = train_set.labels.size();
  auto trainer = nnfuse::Trainer<Compiled, Opt>::from_parameters(
      fashion::initial_parameters<Net>(options.seed), optimizer);
  const float base_lr = optimizer.lr;
  nnfuse::data::SplitMix64 order_rng(options.seed);
  nnfuse::Session session;
  nnfuse::Statistics<Compiled> statistics(nnfuse::HistogramRange{});
  std::vector<float> pixels;
  std::vector<std::int32_t> labels;
  std::vector<float> scores(rows * G::out_width);
  Run run{activation, {}};
  for (int epoch = 0; epoch < epochs; ++epoch) {
    if (cosine) {
      trainer.optimizer().lr = static_cast<float>(
          static_cast<double>(base_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * epoch / epochs)));
    }
    const std::vector<std::uint32_t> order = nnfuse::data::shuffled_order(rows, order_rng);
    double loss_sum = 0.0;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t first = 0; first < rows; first += fashion::kBatch) {
      const std::size_t count =
          fashion::gather_batch(train_set, order, first, G::in_width, pixels, labels);
      const float loss = trainer.step(session, std::span(pixels).first(count * G::in_width),
                                      std::span<const std::int32_t>(labels).first(count));
      loss_sum += static_cast<double>(loss) * static_cast<double>(count);
    }
    EpochResult result;
    result.epoch = epoch + 1;
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.loss = loss_sum / static_cast<double>(rows);
    const nnfuse::Model<Compiled> model = trainer.model();
    // The whole training set through the statistics kernels at this epoch's weights.
    statistics.reset();
    scores.resize(rows * G::out_width);
    model.forward(session, train_set.images.pixels, scores, statistics);
    const nnfuse::LayerStatistics& hidden = statistics.layers().front();
    result.never_active = hidden.never_active();
    result.sparsity = hidden.sparsity();
    result.active = hidden.active_share();
    result.counts_saturation = hidden.counts_saturation;
    result.saturated = hidden.saturated_share();
    result.test = fashion::accuracy(model, session, data.test, scores);
    files.epochs << experiment << ',' << activation << ',' << result.epoch << ',' << result.loss
                 << ',' << result.test << ',' << result.never_active << ',' << result.sparsity
                 << ',' << result.active << ','
                 << (result.counts_saturation ? std::to_string(result.saturated) : "") << ','
                 << result.seconds << '\n';
    run.epochs.push_back(result);
    std::printf("  %-10s epoch %d  loss %.4f  test %6.2f %%  never active %3zu / %zu  %5.2f s\n",
                activation.c_str(), result.epoch, result.loss, result.test, result.never_active,
                kHidden, result.seconds);
    std::fflush(stdout);
  }
  if (epochs == 0) return run;
  const nnfuse::LayerStatistics& hidden = statistics.layers().front();
  const nnfuse::HistogramRange range;
  const double width = (range.high - range.low) / static_cast<double>(range.bins);
  for (std::size_t bin = 0; bin < hidden.histogram.size(); ++bin) {
    double low = range.low + width * static_cast<double>(bin);
    double high = low + width;
    constexpr double inf = std::numeric_limits<double>::infinity();
    if (bin == range.bins) {
      low = -inf;
      high = range.low;
    } else if (bin == range.bins + 1) {
      low = range.high;
      high = inf;
    } else if (bin == range.bins + 2) {
      low = std::numeric_limits<double>::quiet_NaN();
      high = low;
    }
    files.histograms << experiment << ',' << activation << ',' << bin << ',' << low << ',' << high
                     << ',' << hidden.histogram[bin] << '\n';
  }
  const std::string stem = experiment + "_" + activation;
  trainer.save(options.out / (stem + ".safetensors"));
  std::ofstream active(options.out / (stem + "_active.csv"));
  active << "unit,active_rows,rows\n";
  for (std::size_t n = 0; n < hidden.units; ++n) {
    active << n << ',' << hidden.active[n] << ',' << hidden.rows << '\n';
  }
  return run;
}

std::string epochs_to(const Run& run, double percent) {
  for (const EpochResult& e : run.epochs) {
    if (e.test >= percent) return std::to_string(e.epoch);
  }
  return "not reached";
}

void print_comparison(const std::vector<Run>& runs) {
  std::printf(
      "\nThe seed's comparison, measured (fc1's 128 units over the 60000 training images at the "
      "end):\n"
      "| activation | test accuracy | epochs to 85 %% | never active | sparsity | saturated | "
      "time per epoch |\n|---|---|---|---|---|---|---|\n");
  for (const Run& run : runs) {
    const EpochResult& last = run.epochs.back();
    double seconds = 0;
    for (const EpochResult& e : run.epochs) seconds += e.seconds;
    char saturated[32];  // NOLINT(*-avoid-c-arrays)
    if (last.counts_saturation) {
      std::snprintf(saturated, sizeof saturated, "%.2f %%", 100.0 * last.saturated);
    } else {
      std::snprintf(saturated, sizeof saturated, "-");
    }
    std::printf("| %s | %.2f %% | %s | %zu / %zu (%.1f %%) | %.2f %% | %s | %.2f s |\n",
                run.activation.c_str(), last.test, epochs_to(run, 85.0).c_str(), last.never_active,
                kHidden, 100.0 * static_cast<double>(last.never_active) / kHidden,
                100.0 * last.sparsity, saturated, seconds / static_cast<double>(run.epochs.size()));
  }
}

void print_dying(const std::vector<Run>& runs, float lr) {
  std::printf(
      "\nDying ReLU: SGD lr %g, momentum 0.9; fc1 units never active over the training set "
      "after each epoch (test accuracy)\n| activation |",
      static_cast<double>(lr));
  for (const EpochResult& e : runs.front().epochs) std::printf(" epoch %d |", e.epoch);
  std::printf("\n|---|");
  for (std::size_t e = 0; e < runs.front().epochs.size(); ++e) std::printf("---|");
  std::printf("\n");
  for (const Run& run : runs) {
    std::printf("| %s |", run.activation.c_str());
    for (const EpochResult& e : run.epochs) {
      if (std::isfinite(e.loss)) {
        std::printf(" %zu (%.2f %%) |", e.never_active, e.test);
      } else {  // the weights are NaN: nothing is active, nothing is learned
        std::printf(" diverged (loss %g) |", e.loss);
      }
    }
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    const nnfuse::data::FashionMnist data = nnfuse::data::load_fashion_mnist(options.data);
    std::filesystem::create_directories(options.out);
    Files files(options.out);
    const auto start = std::chrono::steady_clock::now();
    if (options.epochs > 0) {
      std::printf(
          "The comparison: 784 -> 128 -> 10 on Fashion-MNIST, Adam lr 1e-3 cosine over %d "
          "epochs, batch %zu, seed %llu\n",
          options.epochs, fashion::kBatch, static_cast<unsigned long long>(options.seed));
      const nnfuse::Adam adam{.lr = 1e-3F};
      const std::string c = "comparison";
      const int e = options.epochs;
      std::vector<Run> runs;
      runs.push_back(
          train<gen::fashion_relu::manual>(c, "relu", adam, true, e, options, data, files));
      runs.push_back(train<gen::fashion_leakyrelu::manual>(c, "leaky_relu", adam, true, e, options,
                                                           data, files));
      runs.push_back(
          train<gen::fashion_prelu::manual>(c, "prelu", adam, true, e, options, data, files));
      runs.push_back(
          train<gen::fashion_elu::manual>(c, "elu", adam, true, e, options, data, files));
      runs.push_back(
          train<gen::fashion_sigmoid::manual>(c, "sigmoid", adam, true, e, options, data, files));
      runs.push_back(
          train<gen::fashion_tanh::manual>(c, "tanh", adam, true, e, options, data, files));
      runs.push_back(
          train<gen::fashion_gelu::manual>(c, "gelu", adam, true, e, options, data, files));
      runs.push_back(
          train<gen::fashion_silu::manual>(c, "silu", adam, true, e, options, data, files));
      print_comparison(runs);
    }
    if (options.dying_epochs > 0) {
      std::printf("\nDying ReLU: SGD lr %g momentum 0.9 for %d epochs\n",
                  static_cast<double>(options.dying_lr), options.dying_epochs);
      const nnfuse::Sgd sgd{.lr = options.dying_lr, .momentum = 0.9F};
      const std::string d = "dying";
      const int e = options.dying_epochs;
      std::vector<Run> runs;
      runs.push_back(
          train<gen::fashion_relu::manual>(d, "relu", sgd, false, e, options, data, files));
      runs.push_back(train<gen::fashion_leakyrelu::manual>(d, "leaky_relu", sgd, false, e, options,
                                                           data, files));
      runs.push_back(
          train<gen::fashion_prelu::manual>(d, "prelu", sgd, false, e, options, data, files));
      print_dying(runs, options.dying_lr);
    }
    std::printf("\n%.1f s in all; results in %s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                options.out.c_str());
    return 0;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "compare_activations: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compare_activations: %s\n", e.what());
    return 1;
  }
}
