// The calling convention every generated kernel follows, shared by the generated headers and
// the runtime: Halide AOT functions compiled with a user context (so the runtime can serve
// Halide's allocations from the caller's Session), taking the input rows, an optional
// residual input (ignored by kernels that read none), the packed parameter block and the
// output rows; 0 on success, a Halide error code otherwise. A network generated with a LOSS also
// has training kernels, whose buffers travel in the structs below (each node's kernel reads the
// ones its signature needs and ignores the rest). The forward and node kernels are compiled
// without Halide's own argument checks and bounds query; their entry points run check_rows and
// check_packed below instead, so a malformed buffer is still refused with a message that names it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>

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

namespace detail {
// Reports "<kernel>: <role> buffer <name> <what>" (`what` formatted with a and b) through
// halide_error, which a Session keeps, and returns `code`. Builds no string on the heap.
inline int refuse(void* user_context, int code, const char* kernel, const char* role,
                  const char* name, const char* what, long long a = 0, long long b = 0) noexcept {
  std::array<char, 160> detail{};
  std::array<char, 320> text{};
  // NOLINTBEGIN(cppcoreguidelines-pro-type-vararg, hicpp-vararg): C formatters
  std::snprintf(detail.data(), detail.size(), what, a, b);
  std::snprintf(text.data(), text.size(), "%s: %s buffer %s %s\n", kernel, role, name,
                detail.data());
  // NOLINTEND(cppcoreguidelines-pro-type-vararg, hicpp-vararg)
  halide_error(user_context, text.data());
  return code;
}

// A host float32 buffer of `dimensions` dimensions, or the error code (reported).
inline int check_host_float32(void* user_context, const char* kernel, const char* role,
                              const char* name, const halide_buffer_t* buffer,
                              int dimensions) noexcept {
  auto fail = [&](int code, const char* what, long long a = 0, long long b = 0) {
    return refuse(user_context, code, kernel, role, name, what, a, b);
  };
  if (buffer == nullptr) return fail(halide_error_code_buffer_argument_is_null, "is null");
  if (buffer->host == nullptr) {
    return fail(halide_error_code_host_is_null,
                "has no host memory (the kernels run on the host and answer no bounds query)");
  }
  if (buffer->device_dirty()) {
    return fail(halide_error_code_device_dirty_with_no_device_support,
                "is dirty on a device; copy it to the host first");
  }
  if (buffer->type.code != halide_type_float || buffer->type.bits != 32 ||
      buffer->type.lanes != 1) {
    return fail(halide_error_code_bad_type, "has type code %lld with %lld bits, not float32",
                buffer->type.code, buffer->type.bits);
  }
  if (buffer->dimensions != dimensions) {
    return fail(halide_error_code_bad_dimensions, "has %lld dimensions, not %lld",
                buffer->dimensions, dimensions);
  }
  return 0;
}
}  // namespace detail

// What Halide's checks asked of a rows argument of `kernel`: a host float32 buffer of two
// dimensions, `width` floats per row (dimension 0: min 0, extent `width`, stride 1) and rows
// stored densely (dimension 1: min 0, stride `width`), at least `rows` of them (0: at least
// one) and fewer than 2^31 elements (the kernels index in int32). `role` is "Input" or
// "Output", `name` the argument's. 0 if it is, else the error code, the message through
// halide_error.
inline int check_rows(void* user_context, const char* kernel, const char* role, const char* name,
                      const halide_buffer_t* buffer, int width, int rows) noexcept {
  if (const int code = detail::check_host_float32(user_context, kernel, role, name, buffer, 2)) {
    return code;
  }
  auto fail = [&](int code, const char* what, long long a, long long b) {
    return detail::refuse(user_context, code, kernel, role, name, what, a, b);
  };
  const halide_dimension_t& feature = buffer->dim[0];
  const halide_dimension_t& row = buffer->dim[1];
  const int needed = rows > 0 ? rows : 1;
  if (feature.extent != width) {
    return fail(halide_error_code_constraint_violated, "is %lld floats wide, the kernel's is %lld",
                feature.extent, width);
  }
  if (feature.min != 0 || row.min != 0) {
    return fail(halide_error_code_constraint_violated, "starts at (%lld, %lld), not (0, 0)",
                feature.min, row.min);
  }
  if (feature.stride != 1 || row.stride != width) {
    return fail(halide_error_code_constraint_violated,
                "has strides (%lld, %lld); rows must be dense, (1, width)", feature.stride,
                row.stride);
  }
  if (row.extent < needed) {
    return fail(halide_error_code_access_out_of_bounds, "has %lld rows, the call needs %lld",
                row.extent, needed);
  }
  if (static_cast<std::int64_t>(row.extent) * width > INT32_MAX) {
    return fail(halide_error_code_buffer_extents_too_large,
                "has %lld rows of %lld floats: 2^31 elements or more", row.extent, width);
  }
  return 0;
}

// The packed parameter block of `kernel`: a host float32 buffer of one dimension, min 0,
// stride 1 and exactly `floats` floats (the layout the kernel's variant reads).
inline int check_packed(void* user_context, const char* kernel, const halide_buffer_t* buffer,
                        int floats) noexcept {
  const char* const role = "Input";
  const char* const name = "packed";
  if (const int code = detail::check_host_float32(user_context, kernel, role, name, buffer, 1)) {
    return code;
  }
  const halide_dimension_t& d = buffer->dim[0];
  if (d.min != 0 || d.stride != 1) {
    return detail::refuse(user_context, halide_error_code_constraint_violated, kernel, role, name,
                          "starts at %lld with stride %lld, not 0 and 1", d.min, d.stride);
  }
  if (d.extent != floats) {
    return detail::refuse(user_context, halide_error_code_constraint_violated, kernel, role, name,
                          "holds %lld floats, the variant's layout %lld", d.extent, floats);
  }
  return 0;
}

}  // namespace nnfuse
