// The training-step benchmark's problem, for the peers of nnfuse's BM_TrainStep (the libtorch
// program and bench_training_problem, which hands it to the PyTorch eager script): the same
// batches, labels, SGD hyperparameters, FLOP count and float64 reference loss as
// nnfuse_bench.cpp's training_step, which takes them from here. The data itself
// is cases.hpp's make_problem<Net>(batch, 1.0F), as BM_TrainStep's shared_problem makes it, so
// nnfuse and every peer start from the same weights and inputs, bit for bit.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <nnfuse/dsl.hpp>

#include "cases.hpp"

namespace nnfuse_bench {

// BM_TrainStep's batches and its nnfuse::Sgd{lr, momentum, weight_decay} (a small learning rate,
// so the weights stay in range however long a benchmark runs).
inline constexpr std::array<std::size_t, 2> training_batches{1, 32};
inline constexpr float training_lr = 1e-4F;
inline constexpr float training_momentum = 0.9F;
inline constexpr float training_weight_decay = 0.0F;

// The first step's loss must agree with the reference within this, relative (at least 1).
inline constexpr double training_loss_tolerance = 1e-5;

// Sample b's label: b mod the number of classes.
inline std::vector<std::int32_t> training_labels(std::size_t batch, std::size_t classes) {
  std::vector<std::int32_t> labels(batch);
  for (std::size_t b = 0; b < batch; ++b) labels[b] = static_cast<std::int32_t>(b % classes);
  return labels;
}

// Mean cross-entropy of the float64 reference forward's logits (nnfuse::reference_forward) at
// the problem's weights and inputs.
template <class Net>
double reference_cross_entropy(const Problem& p, std::span<const std::int32_t> labels) {
  constexpr std::size_t classes = nnfuse::graph<Net>::out_width;
  const std::vector<double> logits = nnfuse::reference_forward<Net>(
      std::span<const float>(p.parameters), std::span<const float>(p.input), p.batch);
  double loss = 0.0;
  for (std::size_t b = 0; b < p.batch; ++b) {
    const double* row = &logits[b * classes];
    const double top = *std::max_element(row, row + classes);
    double sum = 0.0;
    for (std::size_t j = 0; j < classes; ++j) sum += std::exp(row[j] - top);
    loss += (top + std::log(sum) - row[labels[b]]) / static_cast<double>(p.batch);
  }
  return loss;
}

inline bool loss_agrees(double loss, double reference) {
  return std::abs(loss - reference) <= training_loss_tolerance * std::max(1.0, std::abs(reference));
}

// FLOPs of one training step (BM_TrainStep's convention): per node with a matmul, the forward
// 2·B·K·N, dW 2·B·K·N and, but for the first node, dX 2·B·K·N; the epilogues', the loss's and
// the optimizer's elementwise work is not counted (seed network, B = 32: 13.1 MFLOP).
template <class Net>
double training_step_flops(std::size_t batch) {
  using G = nnfuse::graph<Net>;
  double flops = 0.0;
  for (std::size_t i = 0; i < G::node_count; ++i) {
    if (!G::nodes[i].has_matmul) continue;
    const double mac =
        2.0 * static_cast<double>(batch * G::nodes[i].in_width * G::nodes[i].out_width);
    flops += (i == 0 ? 2.0 : 3.0) * mac;
  }
  return flops;
}

}  // namespace nnfuse_bench
