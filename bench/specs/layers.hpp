// The benchmark networks' shapes, as DSL types. A single layer is `Input<K> -> Dense<N> ->
// act` (the activation optional: the seed network's second layer has none), named `fc` so its
// tensors are fc.weight [N][K] and fc.bias [N], PyTorch's nn.Linear layout that every peer is
// fed too. An elementwise network is `Input<W> -> act` with no Dense: one fused node without a
// matmul, which is how the DSL spells "apply an activation to a tensor". Which shapes and
// activations are built is decided in bench/CMakeLists.txt (NNFUSE_BENCH_SHAPES and
// NNFUSE_BENCH_ACTIVATIONS); the seed network is examples/mnist/mnist_mlp.hpp's type.
#pragma once

#include <cstddef>

#include <nnfuse/dsl.hpp>

namespace nnfuse_bench {

template <std::size_t K, std::size_t N, class... Activation>
using Layer =
    nnfuse::Sequential<nnfuse::Input<K>, nnfuse::Dense<N, nnfuse::Name<"fc">>, Activation...>;

template <std::size_t Width, class Activation>
using Elementwise = nnfuse::Sequential<nnfuse::Input<Width>, Activation>;

}  // namespace nnfuse_bench
