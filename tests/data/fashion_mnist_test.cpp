// The real Fashion-MNIST, where Debian's dataset-fashion-mnist package installs it (skipped when
// it is absent). The expected values were read with Python's gzip module:
//   python3 -c "import gzip; d = gzip.open('/usr/share/datasets/fashion-mnist/'
//     'train-labels-idx1-ubyte.gz').read(); print(list(d[8:18]))"
// gives [9, 0, 0, 3, 0, 2, 7, 2, 5, 5] (t10k: [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]); the first training
// image's bytes sum to 76247 (the first test image's to 33456), its first non-zero byte is
// pixel 96 (value 1), and every class has 6000 training and 1000 test images.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/data/idx.hpp>

namespace {

// The sum of the bytes of image `index` (pixels * 255, rounded back to the byte).
std::int64_t byte_sum(const nnfuse::data::Images& images, std::size_t index) {
  const std::size_t n = images.pixels_per_image();
  const auto first = images.pixels.begin() + static_cast<std::ptrdiff_t>(index * n);
  return std::accumulate(first, first + static_cast<std::ptrdiff_t>(n), std::int64_t{0},
                         [](std::int64_t sum, float p) { return sum + std::lround(p * 255.0F); });
}

std::array<std::size_t, 10> class_counts(const std::vector<std::int32_t>& labels) {
  std::array<std::size_t, 10> counts{};
  for (const auto label : labels) ++counts.at(static_cast<std::size_t>(label));
  return counts;
}

TEST(FashionMnist, LoadsTheInstalledDataset) {
  const std::filesystem::path dir(nnfuse::data::fashion_mnist_default_dir);
  if (!std::filesystem::exists(dir / "train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << dir << " has no Fashion-MNIST (apt-get install dataset-fashion-mnist)";
  }
  const auto data = nnfuse::data::load_fashion_mnist(dir);

  for (const auto* set : {&data.train, &data.test}) {
    EXPECT_EQ(set->images.rows, 28U);
    EXPECT_EQ(set->images.cols, 28U);
    EXPECT_EQ(set->classes, 10U);
    EXPECT_EQ(set->labels.size(), set->images.count);
    EXPECT_EQ(set->images.pixels.size(), set->images.count * 28 * 28);
    const auto [low, high] =
        std::minmax_element(set->images.pixels.begin(), set->images.pixels.end());
    EXPECT_EQ(*low, 0.0F);
    EXPECT_EQ(*high, 1.0F);
  }
  EXPECT_EQ(data.train.images.count, 60000U);
  EXPECT_EQ(data.test.images.count, 10000U);

  std::array<std::size_t, 10> train_counts{};
  train_counts.fill(6000);
  std::array<std::size_t, 10> test_counts{};
  test_counts.fill(1000);
  EXPECT_EQ(class_counts(data.train.labels), train_counts);
  EXPECT_EQ(class_counts(data.test.labels), test_counts);

  EXPECT_EQ(std::vector<std::int32_t>(data.train.labels.begin(), data.train.labels.begin() + 10),
            (std::vector<std::int32_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  EXPECT_EQ(std::vector<std::int32_t>(data.test.labels.begin(), data.test.labels.begin() + 10),
            (std::vector<std::int32_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  EXPECT_EQ(byte_sum(data.train.images, 0), 76247);
  EXPECT_EQ(byte_sum(data.test.images, 0), 33456);
  const auto& first = data.train.images.pixels;
  const auto nonzero = std::find_if(first.begin(), first.end(), [](float p) { return p != 0.0F; });
  EXPECT_EQ(nonzero - first.begin(), 96);
  EXPECT_EQ(*nonzero, 1.0F / 255.0F);
}

}  // namespace
