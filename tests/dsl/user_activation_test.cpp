// A user-defined activation behaves exactly like a built-in: it evaluates, prints,
// differentiates (also w.r.t. its own parameter) and enters a network through Act.
#include <cmath>
#include <type_traits>

#include <gtest/gtest.h>

#include "user_activations.hpp"

namespace {

TEST(UserActivation, SwishIsSiLU) {
  for (float v : {-30.0F, -2.0F, -1e-7F, 0.0F, 0.5F, 3.0F, 30.0F}) {
    EXPECT_EQ(nnfuse::eval(user::swish, v), nnfuse::eval(nnfuse::silu, v)) << v;
    EXPECT_EQ(nnfuse::eval(nnfuse::derivative(user::swish), v),
              nnfuse::eval(nnfuse::derivative(nnfuse::silu), v))
        << v;
  }
  EXPECT_EQ(user::Swish::kind, "swish");
  static_assert(
      std::is_same_v<user::Swish::expression_type, std::remove_cv_t<decltype(user::swish)>>);
}

TEST(UserActivation, ParameterDerivativeMatchesCentralDifference) {
  const double beta = 1.7;
  const auto dbeta = nnfuse::derivative(user::soft_relu, nnfuse::param<"beta">);
  for (double v : {-3.0, -0.5, 0.25, 2.0}) {
    const double h = 1e-6;
    const double numeric = (nnfuse::eval(user::soft_relu, v, nnfuse::bind<"beta">(beta + h)) -
                            nnfuse::eval(user::soft_relu, v, nnfuse::bind<"beta">(beta - h))) /
                           (2 * h);
    EXPECT_NEAR(nnfuse::eval(dbeta, v, nnfuse::bind<"beta">(beta)), numeric, 1e-8) << v;
  }
}

TEST(UserActivation, TemplateConstantsWork) {
  EXPECT_EQ(nnfuse::eval(user::hardtanh<>, -5.0F), -1.0F);
  EXPECT_EQ(nnfuse::eval(user::hardtanh<-2.0F, 2.0F>, -5.0F), -2.0F);
  EXPECT_EQ(nnfuse::to_string(user::hardtanh<>), "min(max(x, -1), 1)");
}

}  // namespace
