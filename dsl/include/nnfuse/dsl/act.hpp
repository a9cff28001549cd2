// `Act<expression, "kind">`: the one wrapper through which an activation enters a network,
// for catalog entries and user-defined expressions alike (`using Swish = Act<swish, "swish">`).
// The expression is a template argument (expressions are empty structural types), the kind
// is the name kernels and summaries use. The catalog's layer names below are aliases of it,
// with torch.nn's spelling and defaults; PReLU, which owns a per-channel tensor and so needs
// an instance name for its state_dict entry, is a layer of its own (see docs/ARCHITECTURE.md).
#pragma once

#include <string_view>
#include <type_traits>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "nnfuse/dsl/activations.hpp"
#include "nnfuse/dsl/expr.hpp"

namespace nnfuse {

template <class Expression>
struct act_needs_an_nnfuse_expression {
  static_assert(always_false<Expression>,
                "nnfuse::Act<e, \"kind\">: e must be an nnfuse expression such as x * sigmoid(x)");
};

namespace detail {
template <class E>
constexpr bool act_expression_is_valid() {
  if constexpr (Expr<E>) {
    return true;
  } else {
    (void)sizeof(act_needs_an_nnfuse_expression<E>);
    return false;
  }
}
}  // namespace detail

template <auto Expression, FixedString Kind>
struct Act {
  using expression_type = std::remove_cvref_t<decltype(Expression)>;
  static constexpr expression_type expression = Expression;
  static constexpr std::string_view kind = Kind.view();
  static constexpr bool row_wise = is_row_wise<expression_type>;

  static_assert(detail::act_expression_is_valid<expression_type>(),
                "see act_needs_an_nnfuse_expression above");
};

// clang-format off
using Identity = Act<identity, "identity">;
using ReLU = Act<relu, "relu">;
template <Float Slope = 0.01F> using LeakyReLU = Act<leaky_relu<Slope>, "leaky_relu">;
template <Float Alpha = 1.0> using ELU = Act<elu<Alpha>, "elu">;
using SELU = Act<selu, "selu">;
using Sigmoid = Act<sigmoid, "sigmoid">;
using Tanh = Act<tanh(x), "tanh">;
using GELU = Act<gelu, "gelu">;
using GELUTanh = Act<gelu_tanh, "gelu_tanh">;
using SiLU = Act<silu, "silu">;
using Mish = Act<mish, "mish">;
template <Float Beta = 1.0, Float Threshold = 20.0>
using Softplus = Act<softplus<Beta, Threshold>, "softplus">;
using Hardsigmoid = Act<hardsigmoid, "hardsigmoid">;
using Hardswish = Act<hardswish, "hardswish">;
using ReLU6 = Act<relu6, "relu6">;
using Softmax = Act<softmax, "softmax">;
using LogSoftmax = Act<log_softmax, "log_softmax">;
// clang-format on

// The catalog's layers, for tables and tests that visit all of them.
inline constexpr auto elementwise_catalog =
    boost::hana::tuple_t<Identity, ReLU, LeakyReLU<>, ELU<>, SELU, Sigmoid, Tanh, GELU, GELUTanh,
                         SiLU, Mish, Softplus<>, Hardsigmoid, Hardswish, ReLU6>;
inline constexpr auto row_wise_catalog = boost::hana::tuple_t<Softmax, LogSoftmax>;

}  // namespace nnfuse
