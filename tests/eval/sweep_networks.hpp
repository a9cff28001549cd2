// The networks tests/eval measures: one activation on a row of 1024 inputs each, every catalog
// activation with the parameters the sweep covers, and two user-defined expressions built from
// the same primitives (a user's expression gets the primitives' bounds, not a promise of its own).
#pragma once

#include <cstddef>

#include <nnfuse/dsl.hpp>

namespace nnfuse_eval {

using namespace nnfuse;  // NOLINT(google-build-using-namespace): specs read like torch code

inline constexpr std::size_t width = 1024;

template <class Activation>
using Sweep = Sequential<Input<width>, Activation>;

using PReLUSweep = Sequential<Input<width>, PReLU<Name<"act">>>;

// Mish spelt the way the issue of the float32 path measures a user expression.
using TanhSoftplus = Act<x * tanh(softplus<>), "x_tanh_softplus">;
// The sigmoid approximation of GELU (x·σ(1.702x)).
using QuickGELU = Act<x * sigmoid(lit<1.702>* x), "quick_gelu">;

}  // namespace nnfuse_eval
