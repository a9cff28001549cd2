// Independent high-precision reference for nnfuse's activation functions, used by the tests to
// measure the float32/float64 results of the DSL in ULPs. Every function evaluates the exact
// mathematical definition with MPFR at kWorkingPrecisionBits bits (the double input is taken
// exactly as given) and rounds the result once to double with round-to-nearest, so results are
// correctly rounded doubles for all practical purposes. Formulas are arranged to avoid
// cancellation (expm1, log1p, erfc, sigma(-x) instead of 1 - sigma(x)), so tiny results such as
// gelu(-30) or sigmoid'(40) are right too. NaN inputs give NaN; +-inf inputs give the
// mathematical limits of the function and of its derivative. At kinks the derivative follows
// PyTorch 1.13's autograd convention (table in tests/golden/README.md). This code deliberately
// shares nothing with dsl/ so that it can judge it.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace nnfuse::reference {

// Bits of working precision of every intermediate MPFR value (double has 53, float 24).
inline constexpr int kWorkingPrecisionBits = 256;

// leaky_relu's negative slope as PyTorch float32 uses it: 0.01 rounded to float, widened exactly.
inline constexpr double kLeakyReluSlope = static_cast<double>(0.01f);

// SELU constants as exact decimals (from the SELU paper); they are parsed by MPFR, not by double.
inline constexpr std::string_view kSeluAlphaDecimal = "1.6732632423543772848170429916717";
inline constexpr std::string_view kSeluScaleDecimal = "1.0507009873554804934193349852946";

// PyTorch's softplus switches to the identity when beta * x > threshold (beta = 1 here).
inline constexpr double kSoftplusThreshold = 20.0;

// Names accepted by activation() and derivative(), in a fixed order: relu, leaky_relu, elu, selu,
// sigmoid, tanh, gelu, gelu_tanh, silu, mish, softplus, hardsigmoid, hardswish, relu6, identity.
std::vector<std::string_view> activation_names();

// Value and derivative d/dx of the named activation at x. Throws std::invalid_argument naming the
// activation if it is not one of activation_names() (prelu has its own functions below).
double activation(std::string_view name, double x);
double derivative(std::string_view name, double x);

// prelu(x, alpha) = x > 0 ? x : alpha * x, and its partial derivatives in x and in alpha.
double prelu(double x, double alpha);
double prelu_dx(double x, double alpha);
double prelu_dalpha(double x, double alpha);

// Row-wise softmax y_i = exp(x_i) / sum_j exp(x_j) and log_softmax log(y_i) of one row. A NaN
// anywhere makes the whole row NaN. A single +inf entry gives the limit (one-hot); two or more
// +inf entries, or a row of only -inf, have no limit and give NaN (as PyTorch does). -inf entries
// contribute exp(-inf) = 0. An empty row gives an empty result.
std::vector<double> softmax(std::span<const double> row);
std::vector<double> log_softmax(std::span<const double> row);

// Diagonals of the Jacobians of the two functions above: d y_i / d x_i = y_i (1 - y_i) for softmax
// and d log(y_i) / d x_i = 1 - y_i for log_softmax (same NaN and limit rules).
std::vector<double> softmax_diag_derivative(std::span<const double> row);
std::vector<double> log_softmax_diag_derivative(std::span<const double> row);

}  // namespace nnfuse::reference
