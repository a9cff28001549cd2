// Training data: gzip-compressed IDX files (the format of MNIST and Fashion-MNIST: a big-endian
// header `00 00 <type> <rank>`, one 32-bit big-endian size per dimension, then the elements) read
// into float32 images in [0, 1] and int32 labels, and a reproducible epoch order. A data file is
// input from outside, so the reader treats it as hostile: it decompresses with zlib in bounded
// chunks, validates the header (unsigned-byte elements, rank 3 for images and 1 for labels, no
// zero dimension, a payload of at most `max_idx_payload_bytes`) before it keeps any payload,
// grows its buffers only as bytes actually arrive, and reports a cut-off or corrupt gzip stream,
// a payload shorter or longer than the header says, disagreeing image and label counts and
// out-of-range labels as a `DataError` that names the file and the problem. The epoch order is
// SplitMix64 with Lemire's unbiased bounded draw and a Fisher-Yates shuffle, specified below
// step by step so that another implementation (tools/fashion_order.py) gives the same order bit
// for bit. This library is standalone (no DSL or Halide header; zlib only inside the .cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nnfuse::data {

// A data file that cannot be used as asked. `what()` reads "<file>: <problem>", e.g.
// "…/train-labels-idx1-ubyte.gz: truncated: the header says 60000 labels, the stream ends after
// 1234". Copying never throws: the details are shared.
class DataError : public std::runtime_error {
 public:
  enum class Kind : std::uint8_t {
    not_found,           // the file does not exist
    io,                  // the file cannot be opened or read (permissions, a directory, EIO)
    corrupt,             // not a valid gzip stream (bad gzip header, CRC or length mismatch)
    bad_header,          // the IDX header: magic, element type, rank, a zero or absurd size
    truncated,           // the file (gzip or IDX payload) ends before the header says it does
    trailing_data,       // bytes after the IDX payload, or after the last gzip member
    count_mismatch,      // an images file and a labels file with different counts
    label_out_of_range,  // a label not below the number of classes
  };

  // `file` is the path the message names; `problem` the rest of the message.
  DataError(Kind kind, std::string file, const std::string& problem);

  [[nodiscard]] Kind kind() const noexcept;
  [[nodiscard]] const std::string& file() const noexcept;

 private:
  struct Details;
  std::shared_ptr<const Details> details_;
};

// The largest IDX payload (elements, one byte each) accepted: 2 GiB, 8 GiB as float32. The sizes
// in a header are untrusted; EMNIST's largest split (about 0.55 GB) fits with room to spare.
inline constexpr std::uint64_t max_idx_payload_bytes = std::uint64_t{1} << 31U;

// `count` images of `rows` x `cols` pixels, row-major, one after another: pixel (r, c) of image
// i is pixels[(i * rows + r) * cols + c]. Each pixel is its byte divided by 255 in float32
// (`float(byte) / 255.0F`, correctly rounded: 0 -> 0.0, 255 -> 1.0).
struct Images {
  std::size_t count = 0;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<float> pixels;  // count * rows * cols

  [[nodiscard]] std::size_t pixels_per_image() const noexcept { return rows * cols; }
};

// Reads an images file (IDX magic 00 00 08 03: unsigned bytes, rank 3, sizes count, rows, cols,
// none zero), gzip-compressed (a file of several gzip members, as `cat a.gz b.gz` makes, is one
// stream). Throws DataError; nothing is returned unless the whole file is valid.
[[nodiscard]] Images load_idx_images(const std::filesystem::path& path);

// Reads a labels file (IDX magic 00 00 08 01: unsigned bytes, rank 1, a size not zero), each
// label a byte 0..255 widened to int32. Throws DataError as load_idx_images does.
[[nodiscard]] std::vector<std::int32_t> load_idx_labels(const std::filesystem::path& path);

// Images and their labels: labels[i] (in [0, classes)) is the class of image i.
struct LabelledImages {
  Images images;
  std::vector<std::int32_t> labels;  // images.count of them
  std::size_t classes = 0;
};

// Reads both files and checks that they hold the same number of items (count_mismatch, naming
// both files) and that every label is below `classes` (label_out_of_range, with the label's
// index). `classes` must be at least 1 (std::invalid_argument otherwise).
[[nodiscard]] LabelledImages load_labelled_images(const std::filesystem::path& images_path,
                                                  const std::filesystem::path& labels_path,
                                                  std::size_t classes);

// Where Debian's dataset-fashion-mnist package installs the files.
inline constexpr std::string_view fashion_mnist_default_dir = "/usr/share/datasets/fashion-mnist";

// Fashion-MNIST: 60000 training and 10000 test images, 28 x 28, 10 classes.
struct FashionMnist {
  LabelledImages train;  // train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz
  LabelledImages test;   // t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz
};

// Reads the four Fashion-MNIST files from `dir` (with 10 classes; the sizes are whatever the
// files say). A missing file is a DataError (not_found) that names it and says that
// `apt-get install dataset-fashion-mnist` provides it.
[[nodiscard]] FashionMnist load_fashion_mnist(
    const std::filesystem::path& dir = std::filesystem::path(fashion_mnist_default_dir));

// SplitMix64 (Steele, Lea and Flood, 2014; Vigna's reference splitmix64.c), all arithmetic on
// unsigned 64-bit integers modulo 2^64:
//   next():  state += 0x9E3779B97F4A7C15
//            z = state
//            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
//            z = (z ^ (z >> 27)) * 0x94D049BB133111EB
//            return z ^ (z >> 31)
// Seed 0 gives 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F, ...
class SplitMix64 {
 public:
  constexpr explicit SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}

  constexpr std::uint64_t next() noexcept {
    state_ += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31U);
  }

  // A uniform integer in [0, r), r >= 1 (std::invalid_argument for 0), by Lemire's unbiased
  // multiply-shift ("Fast random integer generation in an interval", 2019), with m a 128-bit
  // product:
  //   x = next(); m = x * r; l = m mod 2^64
  //   if l < r:
  //     t = (2^64 - r) mod r
  //     while l < t: x = next(); m = x * r; l = m mod 2^64
  //   return m >> 64
  // It draws one next() except, with probability below r / 2^64, a few more.
  [[nodiscard]] std::uint64_t bounded(std::uint64_t r);

  // The current state (the seed, plus 0x9E3779B97F4A7C15 per next()).
  [[nodiscard]] constexpr std::uint64_t state() const noexcept { return state_; }

 private:
  std::uint64_t state_;
};

// A uniformly random permutation of 0 .. n-1 (an epoch's order) drawn from `rng`: start from
// the identity order[k] = k, then Fisher-Yates from the back:
//   for i = n-1 down to 1: j = rng.bounded(i + 1); swap(order[i], order[j])
// exactly n-1 calls of bounded (none for n <= 1). Successive calls on one generator give
// successive epochs. n must be at most 2^32 (std::invalid_argument otherwise).
[[nodiscard]] std::vector<std::uint32_t> shuffled_order(std::size_t n, SplitMix64& rng);

}  // namespace nnfuse::data
