// The networks examples/fashion_mnist trains: the seed network 784 -> 128 ReLU -> 10
// (mnist::Network, the same spec the inference demo runs), and the same with PReLU in place of
// ReLU, one learned alpha per hidden unit, as PyTorch's
//   nn.Sequential(OrderedDict(fc1=nn.Linear(784, 128), act=nn.PReLU(128), fc2=nn.Linear(128, 10)))
// whose state_dict (fc1.*, act.weight, fc2.*) loads with no renaming; and the seed architecture
// with each activation of the seed tutorial's comparison.
#pragma once

#include <nnfuse/dsl.hpp>

#include "../mnist/mnist_mlp.hpp"

namespace fashion {

using ReLUNet = mnist::Network;
using PReLUNet =
    nnfuse::Sequential<nnfuse::Input<784>, nnfuse::Dense<128, nnfuse::Name<"fc1">>,
                       nnfuse::PReLU<nnfuse::Name<"act">>, nnfuse::Dense<10, nnfuse::Name<"fc2">>>;

// The seed architecture with another hidden activation (compare_activations), state_dict
// fc1.*, fc2.* as nn.Sequential(OrderedDict(fc1=..., act=nn.<Activation>(), fc2=...)).
template <class Activation>
using Seed = nnfuse::Sequential<nnfuse::Input<784>, nnfuse::Dense<128, nnfuse::Name<"fc1">>,
                                Activation, nnfuse::Dense<10, nnfuse::Name<"fc2">>>;
using LeakyReLUNet = Seed<nnfuse::LeakyReLU<>>;
using ELUNet = Seed<nnfuse::ELU<>>;
using SigmoidNet = Seed<nnfuse::Sigmoid>;
using TanhNet = Seed<nnfuse::Tanh>;
using GELUNet = Seed<nnfuse::GELU>;
using SiLUNet = Seed<nnfuse::SiLU>;

}  // namespace fashion
