// Softmax and LogSoftmax kernels on rows with +inf, -inf, NaN and extreme spreads, in both
// precisions and every schedule built, against the DSL's eval_row and the MPFR reference. The
// decided semantics (docs/ARCHITECTURE.md): exactly one +inf in a row gives 1 there and 0
// elsewhere (LogSoftmax 0 and -inf); two or more +inf, or any NaN, give an all-NaN row.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/dsl/eval.hpp>
#include <nnfuse/generated/test_row_log_softmax.hpp>
#include <nnfuse/generated/test_row_log_softmax_exact.hpp>
#include <nnfuse/generated/test_row_softmax.hpp>
#include <nnfuse/generated/test_row_softmax_exact.hpp>

#include "each_schedule.hpp"
#include "mpfr_reference.hpp"
#include "ulp.hpp"

namespace {

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float nan = std::numeric_limits<float>::quiet_NaN();
constexpr std::size_t width = 10;

// The float32 path's bound for these rows, a budget rather than a measured maximum: exp
// (~1 ULP, with the difference's rounding error carried), the row sum of 10 terms and the
// quotient; log_softmax's log1p of the sum.
constexpr double fast_row_bound = 4.0;

std::vector<std::vector<float>> special_rows() {
  std::vector<std::vector<float>> rows = {
      {inf, 0, 1, 2, 3, 4, 5, 6, 7, 8},
      {inf, inf, 0, 0, 0, 0, 0, 0, 0, 0},
      {inf, nan, 0, 1, 2, 3, 4, 5, 6, 7},
      {nan, 0, 1, 2, 3, 4, 5, 6, 7, 8},
      {-inf, -inf, 0, 1, 2, 3, 4, 5, 6, 7},
      {-inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf},
      {0, -41, -42, -43, -44, -45, -46, -47, -48, -49},
      {0, -80, -90, -100, -103, -104, -110, -200, -1e30F, -inf},
      {1e30F, 1e30F, 0, 0, 0, 0, 0, 0, 0, 0},
      {-1e30F, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {3.4e38F, -3.4e38F, 0, 1, 2, 3, 4, 5, 6, 7},
      {0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
  };
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> wide(-60.0F, 60.0F);
  for (int r = 0; r < 64; ++r) {
    std::vector<float> row(width);
    for (float& v : row) v = wide(gen);
    rows.push_back(row);
  }
  return rows;
}

template <class Compiled, class Expression>
void check_rows(Expression expression, bool log) {
  const auto model = nnfuse::Model<Compiled>::from_parameters(std::vector<float>{});
  nnfuse::Session session;
  const bool exact = Compiled::precision == "exact";
  for (const std::vector<float>& row : special_rows()) {
    std::vector<float> got(width);
    model.forward(session, row, got);
    std::vector<float> expected(width);
    nnfuse::eval_row(expression, std::span<const float>(row), std::span<float>(expected));
    const std::vector<double> row64(row.begin(), row.end());
    const std::vector<double> mpfr =
        log ? nnfuse::reference::log_softmax(row64) : nnfuse::reference::softmax(row64);
    for (std::size_t i = 0; i < width; ++i) {
      const std::string where =
          std::string(Compiled::name) + " " + std::string(Compiled::schedule) + " row starting " +
          std::to_string(row[0]) + ", " + std::to_string(row[1]) + ", element " + std::to_string(i);
      if (std::isnan(mpfr[i])) {
        EXPECT_TRUE(std::isnan(got[i])) << where << ": " << got[i] << ", not NaN";
        EXPECT_TRUE(std::isnan(expected[i])) << where << ": eval_row gave " << expected[i];
        continue;
      }
      const float rounded = nnfuse::reference::round_to_float(mpfr[i]);
      if (std::isinf(rounded) || rounded == 0.0F) {
        EXPECT_EQ(std::bit_cast<std::uint32_t>(got[i]), std::bit_cast<std::uint32_t>(rounded))
            << where << ": " << got[i] << ", not " << rounded;
      } else {
        EXPECT_LE(nnfuse::reference::ulp_error(got[i], mpfr[i]), exact ? 1.0 : fast_row_bound)
            << where << ": " << got[i] << ", not " << mpfr[i];
      }
      EXPECT_LE(nnfuse::reference::ulp_error(expected[i], mpfr[i]), 1.0)
          << where << ": eval_row gave " << expected[i] << ", not " << mpfr[i];
    }
  }
}

TEST(RowSpecial, SoftmaxEverySchedule) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_row_softmax::schedules>(
      [](auto s) { check_rows<decltype(s)>(nnfuse::softmax, false); });
  nnfuse_test::for_each_schedule<nnfuse::generated::test_row_softmax_exact::schedules>(
      [](auto s) { check_rows<decltype(s)>(nnfuse::softmax, false); });
}

TEST(RowSpecial, LogSoftmaxEverySchedule) {
  nnfuse_test::for_each_schedule<nnfuse::generated::test_row_log_softmax::schedules>(
      [](auto s) { check_rows<decltype(s)>(nnfuse::log_softmax, true); });
  nnfuse_test::for_each_schedule<nnfuse::generated::test_row_log_softmax_exact::schedules>(
      [](auto s) { check_rows<decltype(s)>(nnfuse::log_softmax, true); });
}

}  // namespace
