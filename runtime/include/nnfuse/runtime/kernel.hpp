// The calling convention every generated kernel follows, shared by the generated headers and
// the runtime: Halide AOT functions compiled with a user context (so the runtime can serve
// Halide's allocations from the caller's Session), taking the input rows, an optional
// residual input (ignored by kernels that read none), the packed parameter block and the
// output rows; 0 on success, a Halide error code otherwise. A network generated with a LOSS also
// has training kernels, whose buffers travel in the structs below (each node's kernel reads the
// ones its signature needs and ignores the rest).
#pragma once

#include <array>
#include <cstddef>

#include <HalideRuntime.h>

namespace nnfuse {

// How a schedule's kernels arrange a call (a generated struct's plan_family, read by
// nnfuse::describe): `naive` loops; the micro-kernel's `tiled` row plans (`manual`); the whole
// network per `chunked` block of rows (`fused`); an `autoscheduled` plan, made for the typical
// batch, with `manual`'s tiles below it.
enum class PlanFamily { naive, tiled, chunked, autoscheduled };

// One tile of the micro-kernel: `rows` rows of X by `columns` output columns, all in registers.
struct TileShape {
  std::size_t rows = 0;
  std::size_t columns = 0;
};
// A node's tiles on one target variant, one per row plan, tallest first (count 0: no matmul).
inline constexpr std::size_t max_row_plans = 4;
struct NodeTiles {
  std::size_t count = 0;
  std::array<TileShape, max_row_plans> tiles{};
};

using KernelFn = int (*)(void* user_context, halide_buffer_t* input, halide_buffer_t* residual,
                         halide_buffer_t* packed, halide_buffer_t* output) noexcept;

// One target variant of a whole-network kernel, as Halide compiled it (no residual input).
using ForwardFn = int (*)(void* user_context, halide_buffer_t* input, halide_buffer_t* packed,
                          halide_buffer_t* output);

// A node's training forward: z = X·Wᵀ + b and y = epilogue(z), both rows. A node that keeps no z
// (its epilogue is the identity) writes only y.
// Training kernels run the variant they are given (an index into the header's variant_names).
using TrainForwardFn = int (*)(void* user_context, std::size_t variant, halide_buffer_t* input,
                               halide_buffer_t* residual, halide_buffer_t* packed,
                               halide_buffer_t* pre_activation, halide_buffer_t* output) noexcept;

// A node's statistics kernel (nnfuse_add_network(... STATISTICS)): a training forward's z and y,
// and per unit n the counts of the call's rows as int32 [3][N] (row 0: z > 0; row 1: saturated,
// |f'(z)| below the threshold; row 2: y == 0). A node that counts nothing writes only y.
using StatisticsFn = int (*)(void* user_context, std::size_t variant, halide_buffer_t* input,
                             halide_buffer_t* residual, halide_buffer_t* packed,
                             halide_buffer_t* pre_activation, halide_buffer_t* output,
                             halide_buffer_t* counts) noexcept;

// The buffers of a node's backward kernel. `gradient` is the whole gradient buffer, in the
// packed layout; the kernel writes its node's tensors in their places.
struct BackwardBuffers {
  halide_buffer_t* target = nullptr;            // the last node: labels (int32) or target rows
  halide_buffer_t* output = nullptr;            // the last node: its output y
  halide_buffer_t* doutput = nullptr;           // the others: dLoss/dy
  halide_buffer_t* const* dresidual = nullptr;  // dLoss/dy through each residual reader of y
  halide_buffer_t* pre_activation = nullptr;    // z
  halide_buffer_t* residual = nullptr;          // the residual input, when the node adds one
  halide_buffer_t* input = nullptr;             // x
  halide_buffer_t* packed = nullptr;            // the weights
  halide_buffer_t* loss_rows = nullptr;         // out, the last node: each row's loss
  halide_buffer_t* dinput = nullptr;            // out: dLoss/dx
  halide_buffer_t* dresidual_source = nullptr;  // out: dLoss/d(residual input)
  halide_buffer_t* gradient = nullptr;          // out: the node's tensors' gradients
};
using BackwardFn = int (*)(void* user_context, std::size_t variant,
                           const BackwardBuffers& buffers) noexcept;

// SGD over the packed buffers, in place: velocity and weights are read and written.
using SgdFn = int (*)(void* user_context, std::size_t variant, float lr, float momentum,
                      float weight_decay, halide_buffer_t* weights, halide_buffer_t* gradient,
                      halide_buffer_t* velocity) noexcept;

// One Adam step's scalars: the hyperparameters, and lr / (1 - β1^t) and √(1 - β2^t), which the
// caller computes in double (torch.optim.Adam's order).
struct AdamStep {
  float beta1;
  float beta2;
  float eps;
  float weight_decay;
  float step_size;
  float bias_correction2_sqrt;
};
// Adam over the packed buffers, in place: both moments and the weights are read and written.
using AdamFn = int (*)(void* user_context, std::size_t variant, const AdamStep& step,
                       halide_buffer_t* weights, halide_buffer_t* gradient,
                       halide_buffer_t* exp_avg, halide_buffer_t* exp_avg_sq) noexcept;

}  // namespace nnfuse
