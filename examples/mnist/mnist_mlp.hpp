// The seed network as a user writes it: 784 -> 128 ReLU -> 10, the PyTorch model
//   nn.Sequential(OrderedDict(fc1=nn.Linear(784, 128), relu=nn.ReLU(), fc2=nn.Linear(128, 10)))
// whose state_dict (fc1.weight, fc1.bias, fc2.weight, fc2.bias) loads with no renaming.
#pragma once

#include <nnfuse/dsl.hpp>

namespace mnist {

using Network = nnfuse::Sequential<nnfuse::Input<784>, nnfuse::Dense<128, nnfuse::Name<"fc1">>,
                                   nnfuse::ReLU, nnfuse::Dense<10, nnfuse::Name<"fc2">>>;

}  // namespace mnist
