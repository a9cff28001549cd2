// The network of examples/consumer: the seed's 784 -> 128 ReLU -> 10, named as a PyTorch module
// with layers fc1 and fc2 would be.
#pragma once

#include <nnfuse/dsl.hpp>

namespace my_app {

using Mlp = nnfuse::Sequential<nnfuse::Input<784>, nnfuse::Dense<128, nnfuse::Name<"fc1">>,
                               nnfuse::ReLU, nnfuse::Dense<10, nnfuse::Name<"fc2">>>;

}  // namespace my_app
