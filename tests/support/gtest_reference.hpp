// GoogleTest's side of reference_check.hpp: one assertion that a kernel's output matches the
// scalar reference, reporting schedule, variant, batch, row, column and both values.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include <gtest/gtest.h>

#include "reference_check.hpp"

namespace nnfuse_test {

// EXPECT_TRUE(matches_reference(output, expected, "manual", "avx2", batch, out_width))
inline ::testing::AssertionResult matches_reference(std::span<const float> kernel,
                                                    std::span<const double> reference,
                                                    std::string_view schedule,
                                                    std::string_view variant, std::size_t batch,
                                                    std::size_t width,
                                                    double tolerance = default_tolerance) {
  if (const auto m = first_mismatch(kernel, reference, tolerance)) {
    return ::testing::AssertionFailure() << describe(*m, schedule, variant, batch, width);
  }
  return ::testing::AssertionSuccess();
}

}  // namespace nnfuse_test
