// What each training kernel reads and writes, shared by the pipelines that build them
// (training.hpp) and the C++ that calls them (emit.hpp): a node's backward signature, in the
// Halide function's argument order, and where a tensor's gradient lives in the packed layout.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nnfuse/generators/packing.hpp>

namespace nnfuse::generators {

// A node's backward kernel: its buffers in argument order (inputs, then outputs).
struct BackwardSignature {
  bool loss = false;               // the last node: reads the loss's target, writes loss rows
  bool integer_labels = false;     // CrossEntropy's int32 labels instead of target rows
  std::size_t residual_grads = 0;  // dRes inputs: later nodes reading y as residual
  bool reads_pre_activation = false;
  bool reads_residual = false;
  bool reads_input = false;  // x, for dW
  bool writes_input_grad = false;
  bool writes_residual_grad = false;
  std::vector<std::string> tensors;  // gradients written, one buffer each (state_dict names)
};

// A gradient buffer's dimensions (innermost first): the tensor's place in the packed layout,
// padding included (the kernels write zeros there, so SGD keeps it zero).
struct GradientShape {
  std::vector<int> extents;
  std::vector<int> strides;
};

inline GradientShape gradient_shape(const PackedTensor& t) {
  const int rows = static_cast<int>(t.padded_rows);
  const int cols = static_cast<int>(t.cols);
  if (t.cols == 0) return {{rows}, {1}};
  if (t.panels) {
    const int p = static_cast<int>(t.panel);
    return {{p, cols, rows / p}, {1, p, cols * p}};
  }
  if (t.transposed) return {{rows, cols}, {1, rows}};
  return {{cols, rows}, {1, cols}};
}

// A unit is saturated at z when |f'(z)| < saturation_threshold · max |f'| (vanishing gradients:
// sigmoid beyond ±5.99, tanh beyond ±2.99); statistics kernels count it (training.hpp).
inline constexpr double saturation_threshold = 0.01;

// One node's training kernels (function names without the variant).
struct TrainingNode {
  std::string train_forward;  // empty: the node keeps no z, its forward kernel serves
  std::string forward;        // the node's forward kernel
  std::string statistics;     // the statistics kernel (empty where train_forward is)
  double max_slope = 0.0;     // its saturation count's max |f'| (0: it counts none)
  bool reads_residual = false;
  std::string backward;
  BackwardSignature signature;
  std::string backward_input;  // the first node's backward that also writes dX
  BackwardSignature signature_input;
};

struct TrainingKernels {
  std::string loss_type;  // "nnfuse::CrossEntropy"
  std::vector<TrainingNode> nodes;
  std::string sgd;
  std::string adam;
};

}  // namespace nnfuse::generators
