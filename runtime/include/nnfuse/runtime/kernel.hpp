// The calling convention every generated kernel follows, shared by the generated headers and
// the runtime: Halide AOT functions compiled with a user context (so the runtime can serve
// Halide's allocations from the caller's Session), taking the input rows, an optional
// residual input (ignored by kernels that read none), the packed parameter block and the
// output rows; 0 on success, a Halide error code otherwise.
#pragma once

#include <HalideRuntime.h>

namespace nnfuse {

using KernelFn = int (*)(void* user_context, halide_buffer_t* input, halide_buffer_t* residual,
                         halide_buffer_t* packed, halide_buffer_t* output) noexcept;

// One target variant of a whole-network kernel, as Halide compiled it (no residual input).
using ForwardFn = int (*)(void* user_context, halide_buffer_t* input, halide_buffer_t* packed,
                          halide_buffer_t* output);

}  // namespace nnfuse
