// A user's own activations, defined exactly as a user would in their spec header: with the
// DSL's vocabulary only, no registration. The tests check they behave like built-ins.
#pragma once

#include <nnfuse/dsl.hpp>

namespace user {

using nnfuse::lit;
using nnfuse::x;

inline constexpr auto swish = x * nnfuse::sigmoid(x);
using Swish = nnfuse::Act<swish, "swish">;

// A smooth ReLU with a learned per-channel temperature.
inline constexpr auto soft_relu =
    nnfuse::log1p(nnfuse::exp(x * nnfuse::param<"beta">)) / nnfuse::param<"beta">;

template <nnfuse::Float Lo = -1.0F, nnfuse::Float Hi = 1.0F>
inline constexpr auto hardtanh = nnfuse::min(nnfuse::max(x, lit<Lo>), lit<Hi>);
using Hardtanh = nnfuse::Act<hardtanh<>, "hardtanh">;

}  // namespace user
