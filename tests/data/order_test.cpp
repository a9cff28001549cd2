// SplitMix64, its bounded draw and shuffled_order against the published reference values and
// against tools/fashion_order.py. The epoch literals were printed by
//   /usr/bin/python3 tools/fashion_order.py --n 60000 --seed 42 --epochs 2 --head 10
// and the bounded draws by
//   /usr/bin/python3 -c "import sys; sys.path.insert(0, 'tools'); import fashion_order as f;
//     r = f.SplitMix64(1); print([hex(r.bounded((1 << 63) + 1)) for _ in range(8)])"
// (which took 14 draws of next()). tests/data/fashion_order_test.py checks the Python module
// against the same literals.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/data/idx.hpp>

namespace {

using nnfuse::data::SplitMix64;

constexpr std::uint64_t golden_gamma = 0x9E3779B97F4A7C15ULL;

bool is_permutation_of_iota(std::vector<std::uint32_t> order) {
  std::sort(order.begin(), order.end());
  std::vector<std::uint32_t> iota(order.size());
  std::iota(iota.begin(), iota.end(), 0U);
  return order == iota;
}

TEST(SplitMix64, ReferenceValuesForSeedZero) {
  SplitMix64 rng(0);
  EXPECT_EQ(rng.next(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(rng.next(), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(rng.next(), 0x06C45D188009454FULL);
  EXPECT_EQ(rng.state(), 3 * golden_gamma);
  static_assert(SplitMix64(0).next() == 0xE220A8397B1DCDAFULL, "next() is constexpr");
}

TEST(SplitMix64, BoundedMatchesPythonThroughRejections) {
  // r = 2^63 + 1 rejects about half of the draws: the while loop is exercised.
  SplitMix64 rng(1);
  const std::uint64_t r = (std::uint64_t{1} << 63U) + 1;
  const std::vector<std::uint64_t> expected{
      0x7c49d1777d992aafULL, 0x38e0c34877216485ULL, 0x38ddaa6c6880dadcULL, 0x61a685ffc80a8140ULL,
      0x65a1ae473a30b3cbULL, 0x33baee3b80ab27b0ULL, 0x4d7e6a268a67c5ffULL, 0x43d9a0eb486bd145ULL};
  for (const std::uint64_t value : expected) EXPECT_EQ(rng.bounded(r), value);
  EXPECT_EQ(rng.state(), 1 + 14 * golden_gamma);
}

TEST(SplitMix64, BoundedEdges) {
  SplitMix64 rng(5);
  EXPECT_THROW(static_cast<void>(rng.bounded(0)), std::invalid_argument);
  EXPECT_EQ(rng.state(), 5U);  // nothing drawn
  for (int i = 0; i < 100; ++i) EXPECT_EQ(rng.bounded(1), 0U);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(rng.bounded(7), 7U);
  const std::uint64_t all = ~std::uint64_t{0};
  for (int i = 0; i < 100; ++i) EXPECT_LT(rng.bounded(all), all);
}

TEST(ShuffledOrder, MatchesPythonForTwoEpochs) {
  SplitMix64 rng(42);
  const auto epoch1 = nnfuse::data::shuffled_order(60000, rng);
  const auto epoch2 = nnfuse::data::shuffled_order(60000, rng);
  ASSERT_EQ(epoch1.size(), 60000U);
  ASSERT_EQ(epoch2.size(), 60000U);
  EXPECT_EQ(std::vector<std::uint32_t>(epoch1.begin(), epoch1.begin() + 10),
            (std::vector<std::uint32_t>{57630, 3518, 47514, 24059, 52744, 32630, 681, 56646, 16965,
                                        42666}));
  EXPECT_EQ(std::vector<std::uint32_t>(epoch2.begin(), epoch2.begin() + 10),
            (std::vector<std::uint32_t>{28175, 22287, 15881, 3941, 2839, 49408, 57247, 47988, 49985,
                                        27936}));
  EXPECT_TRUE(is_permutation_of_iota(epoch1));
  EXPECT_TRUE(is_permutation_of_iota(epoch2));
  EXPECT_NE(epoch1, epoch2);
}

TEST(ShuffledOrder, SmallSizes) {
  SplitMix64 rng(9);
  EXPECT_TRUE(nnfuse::data::shuffled_order(0, rng).empty());
  EXPECT_EQ(nnfuse::data::shuffled_order(1, rng), std::vector<std::uint32_t>{0});
  EXPECT_EQ(rng.state(), 9U);  // n <= 1 draws nothing
  const auto order = nnfuse::data::shuffled_order(2, rng);
  EXPECT_TRUE(is_permutation_of_iota(order));
  EXPECT_EQ(rng.state(), 9 + golden_gamma);  // n - 1 = 1 draw (r = 2 never rejects here)
}

TEST(ShuffledOrder, TooManyItems) {
  SplitMix64 rng(0);
  EXPECT_THROW(static_cast<void>(nnfuse::data::shuffled_order((std::size_t{1} << 32U) + 1, rng)),
               std::invalid_argument);
}

}  // namespace
