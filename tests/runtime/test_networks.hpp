// Network specs of the runtime tests, one header as a user would write it: the seed MLP, a
// residual network with PReLU, ELU and Softmax, an odd-sized one and elementwise ones.
#pragma once

#include <nnfuse/dsl.hpp>

namespace nnfuse_test {

using namespace nnfuse;  // NOLINT(google-build-using-namespace): specs read like torch code

using Mlp = Sequential<Input<784>, Dense<128, Name<"fc1">>, ReLU, Dense<10, Name<"fc2">>>;

using ResidualNet = Sequential<Input<17>, Dense<33, Name<"fc1">>, PReLU<Name<"act1">>,
                               Residual<Sequential<Name<"block">, Dense<33, Name<"fc">>, ELU<>>>,
                               Dense<7, Name<"head">>, Softmax>;

using OddNet = Sequential<Input<300>, Dense<257, Name<"fc1">>, ELU<>, Dense<33, Name<"fc2">>,
                          LeakyReLU<0.1F>, Dense<7, Name<"fc3">>, Softmax>;

// One activation, no Dense, a width that is no multiple of any vector: forward_in_place.
using ElementwiseNet = Sequential<Input<37>, GELU>;

// One network per activation whose kernel has special-value paths (NaN, ±inf, saturation,
// subnormal tails): special_values_test.cpp feeds them those values.
template <class Activation>
using Special = Sequential<Input<23>, Activation>;

// Row-wise epilogues alone, for rows with ±inf, NaN and extreme spreads (row_special_test.cpp).
using RowSoftmax = Sequential<Input<10>, Softmax>;
using RowLogSoftmax = Sequential<Input<10>, LogSoftmax>;

// Training (training_test.cpp, against tests/runtime/data/make_training_golden.py): the seed MLP
// with CrossEntropy, PReLU with MSE on a sigmoid output, and a residual block with PReLU and ELU.
using TrainPReLU = Sequential<Input<64>, Dense<48, Name<"fc1">>, PReLU<Name<"act1">>,
                              Dense<16, Name<"fc2">>, Sigmoid>;
using TrainResidual = Sequential<Input<17>, Dense<33, Name<"fc1">>, PReLU<Name<"act1">>,
                                 Residual<Sequential<Name<"block">, Dense<33, Name<"fc">>, ELU<>>>,
                                 Dense<7, Name<"head">>>;

// One network per catalog activation (and a user-defined one) with MSE: each backward kernel
// against central differences of its forward (gradient_test.cpp).
template <class Activation>
using Gradient = Sequential<Input<19>, Activation>;
inline constexpr auto user_mish_expression = x * tanh(softplus<>(x));
using UserMish = Act<user_mish_expression, "user_mish">;

}  // namespace nnfuse_test
