// The IDX reader on small files written here with zlib: valid ones read back exactly, then
// damaged copies, each of which must throw a DataError of the right kind whose message names the
// file and the problem.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <nnfuse/data/idx.hpp>

namespace {

namespace fs = std::filesystem;
using nnfuse::data::DataError;
using Bytes = std::vector<unsigned char>;

// An IDX header and payload: 00 00 <type> <rank>, big-endian sizes, then `payload`.
Bytes idx(unsigned char type, const std::vector<std::uint32_t>& sizes, const Bytes& payload) {
  Bytes out{0, 0, type, static_cast<unsigned char>(sizes.size())};
  for (const std::uint32_t size : sizes) {
    for (const unsigned shift : {24U, 16U, 8U, 0U}) {
      out.push_back(static_cast<unsigned char>((size >> shift) & 0xFFU));
    }
  }
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// `count` bytes that are neither constant nor trivially compressible, 0 and 255 among them.
Bytes pattern(std::size_t count, unsigned seed = 1) {
  Bytes out(count);
  std::uint32_t state = seed;
  for (std::size_t i = 0; i < count; ++i) {
    state = state * 1664525U + 1013904223U;
    out[i] = static_cast<unsigned char>(i == 0 ? 0 : i == 1 ? 255 : state >> 24U);
  }
  return out;
}

Bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// A fresh directory per test, removed afterwards.
class IdxFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("nnfuse_data_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `content` gzip-compressed (zlib's gzopen "wb") as <dir>/<name>.
  [[nodiscard]] fs::path gz(const std::string& name, const Bytes& content) const {
    fs::path path = dir_ / name;
    gzFile file = gzopen(path.c_str(), "wb");
    EXPECT_NE(file, nullptr) << path;
    if (file == nullptr) return path;
    if (!content.empty()) {
      EXPECT_EQ(gzwrite(file, content.data(), static_cast<unsigned>(content.size())),
                static_cast<int>(content.size()));
    }
    EXPECT_EQ(gzclose(file), Z_OK);
    return path;
  }

  [[nodiscard]] fs::path raw(const std::string& name, const Bytes& bytes) const {
    fs::path path = dir_ / name;
    write_file(path, bytes);
    return path;
  }

  fs::path dir_;
};

// Runs `load` and checks that it throws a DataError of `kind` naming `file` and saying each of
// `fragments`.
template <typename Load>
void expect_error(Load load, DataError::Kind kind, const fs::path& file,
                  std::initializer_list<std::string_view> fragments) {
  try {
    static_cast<void>(load());
    ADD_FAILURE() << "no error for " << file;
  } catch (const DataError& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.kind(), kind) << message;
    EXPECT_EQ(e.file(), file.string()) << message;
    EXPECT_EQ(message.rfind(file.string() + ": ", 0), 0U) << message;
    for (const auto& fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "'" << fragment << "' not in: " << message;
    }
  }
}

auto images_of(const fs::path& path) {
  return [path] { return nnfuse::data::load_idx_images(path); };
}
auto labels_of(const fs::path& path) {
  return [path] { return nnfuse::data::load_idx_labels(path); };
}

// ---------------------------------------------------------------------------------------------
// Valid files

TEST_F(IdxFiles, ImagesReadBackExactly) {
  // Odd sizes: 3 images of 5 x 7.
  const Bytes pixels = pattern(std::size_t{3} * 5 * 7);
  const auto images = nnfuse::data::load_idx_images(gz("images.gz", idx(0x08, {3, 5, 7}, pixels)));
  EXPECT_EQ(images.count, 3U);
  EXPECT_EQ(images.rows, 5U);
  EXPECT_EQ(images.cols, 7U);
  EXPECT_EQ(images.pixels_per_image(), 35U);
  ASSERT_EQ(images.pixels.size(), pixels.size());
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    EXPECT_EQ(images.pixels[i], static_cast<float>(pixels[i]) / 255.0F) << i;
  }
  EXPECT_EQ(images.pixels[0], 0.0F);
  EXPECT_EQ(images.pixels[1], 1.0F);
}

TEST_F(IdxFiles, OneImageAndOnePixel) {
  const auto one = nnfuse::data::load_idx_images(gz("one.gz", idx(0x08, {1, 2, 3}, pattern(6))));
  EXPECT_EQ(one.count, 1U);
  EXPECT_EQ(one.pixels.size(), 6U);
  const auto pixel = nnfuse::data::load_idx_images(gz("pixel.gz", idx(0x08, {1, 1, 1}, {128})));
  EXPECT_EQ(pixel.count * pixel.rows * pixel.cols, 1U);
  ASSERT_EQ(pixel.pixels.size(), 1U);
  EXPECT_EQ(pixel.pixels[0], 128.0F / 255.0F);
}

TEST_F(IdxFiles, LargerThanOneReadChunk) {
  // 1.5 MiB of pixels: more than the reader's 1 MiB payload step and 64 KiB input chunk.
  const Bytes pixels = pattern(std::size_t{3} * 512 * 1024, 7);
  const auto images =
      nnfuse::data::load_idx_images(gz("big.gz", idx(0x08, {3, 512, 1024}, pixels)));
  ASSERT_EQ(images.pixels.size(), pixels.size());
  EXPECT_TRUE(
      std::equal(pixels.begin(), pixels.end(), images.pixels.begin(),
                 [](unsigned char b, float p) { return p == static_cast<float>(b) / 255.0F; }));
}

TEST_F(IdxFiles, LabelsReadBack) {
  const Bytes labels{9, 0, 0, 3, 255, 2, 7};
  const auto read = nnfuse::data::load_idx_labels(gz("labels.gz", idx(0x08, {7}, labels)));
  EXPECT_EQ(read, (std::vector<std::int32_t>{9, 0, 0, 3, 255, 2, 7}));
}

TEST_F(IdxFiles, SeveralGzipMembersAreOneStream) {
  // `cat a.gz b.gz` is a valid gzip file whose content is a's then b's.
  const Bytes whole = idx(0x08, {5}, {1, 2, 3, 4, 5});
  const Bytes a = read_file(gz("a.gz", Bytes(whole.begin(), whole.begin() + 6)));
  const Bytes b = read_file(gz("b.gz", Bytes(whole.begin() + 6, whole.end())));
  Bytes both = a;
  both.insert(both.end(), b.begin(), b.end());
  EXPECT_EQ(nnfuse::data::load_idx_labels(raw("ab.gz", both)),
            (std::vector<std::int32_t>{1, 2, 3, 4, 5}));
}

TEST_F(IdxFiles, LabelledImages) {
  const auto images = gz("images.gz", idx(0x08, {4, 3, 2}, pattern(24)));
  const auto labels = gz("labels.gz", idx(0x08, {4}, {2, 0, 1, 2}));
  const auto set = nnfuse::data::load_labelled_images(images, labels, 3);
  EXPECT_EQ(set.images.count, 4U);
  EXPECT_EQ(set.labels, (std::vector<std::int32_t>{2, 0, 1, 2}));
  EXPECT_EQ(set.classes, 3U);
  EXPECT_THROW(static_cast<void>(nnfuse::data::load_labelled_images(images, labels, 0)),
               std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// The IDX header

TEST_F(IdxFiles, BadMagic) {
  Bytes content = idx(0x08, {2}, {0, 1});
  content[0] = 0x01;
  const auto path = gz("magic.gz", content);
  expect_error(labels_of(path), DataError::Kind::bad_header, path,
               {"bad magic", "expected 00 00 08 01", "found 01 00 08 01"});
}

TEST_F(IdxFiles, WrongElementType) {
  const auto path = gz("float.gz", idx(0x0D, {1, 1, 1}, {0, 0, 0, 0}));
  expect_error(images_of(path), DataError::Kind::bad_header, path,
               {"element type 0d (float32)", "expected 08 (unsigned byte)"});
}

TEST_F(IdxFiles, WrongRank) {
  // A labels file where images are expected, and the other way round.
  const auto labels = gz("labels.gz", idx(0x08, {2}, {0, 1}));
  expect_error(images_of(labels), DataError::Kind::bad_header, labels,
               {"rank 1", "has 3 dimensions"});
  const auto images = gz("images.gz", idx(0x08, {1, 1, 1}, {0}));
  expect_error(labels_of(images), DataError::Kind::bad_header, images,
               {"rank 3", "has 1 dimension"});
}

TEST_F(IdxFiles, ZeroDimension) {
  const auto rows = gz("rows.gz", idx(0x08, {2, 0, 3}, {}));
  expect_error(images_of(rows), DataError::Kind::bad_header, rows, {"dimension 1 (rows) is 0"});
  const auto count = gz("count.gz", idx(0x08, {0}, {}));
  expect_error(labels_of(count), DataError::Kind::bad_header, count, {"dimension 0 (count) is 0"});
}

TEST_F(IdxFiles, AbsurdSizes) {
  // 2^32-1 images of 2^32-1 x 2^32-1 would overflow 64 bits; one of 28 x 28 exceeds the limit.
  const auto overflow = gz("overflow.gz", idx(0x08, {0xFFFFFFFFU, 0xFFFFFFFFU, 0xFFFFFFFFU}, {}));
  expect_error(images_of(overflow), DataError::Kind::bad_header, overflow,
               {"absurd size", "4294967295 x 4294967295 x 4294967295", "2147483648-byte limit"});
  const auto huge = gz("huge.gz", idx(0x08, {0xFFFFFFFFU, 28, 28}, pattern(std::size_t{28} * 28)));
  expect_error(images_of(huge), DataError::Kind::bad_header, huge,
               {"absurd size", "4294967295 x 28 x 28"});
  const auto labels = gz("labels.gz", idx(0x08, {0xFFFFFFFFU}, {1, 2}));
  expect_error(labels_of(labels), DataError::Kind::bad_header, labels, {"absurd size"});
}

TEST_F(IdxFiles, HugeCountOverAShortStream) {
  // Within the limit, so the header is accepted; the reader grows its buffer only as bytes come
  // (it does not allocate the promised gigabyte) and reports what it got.
  const auto path = gz("labels.gz", idx(0x08, {1000000000U}, {1, 2, 3, 4, 5}));
  expect_error(labels_of(path), DataError::Kind::truncated, path,
               {"truncated: the header says 1000000000 labels, the stream ends after 5"});
}

TEST_F(IdxFiles, ShortHeader) {
  const Bytes header = idx(0x08, {28, 28, 28}, {});
  const auto path = gz("short.gz", Bytes(header.begin(), header.begin() + 10));
  expect_error(images_of(path), DataError::Kind::truncated, path,
               {"the stream ends after 10 bytes, inside the 16-byte IDX header"});
  const auto magic_only = gz("two.gz", {0, 0});
  expect_error(labels_of(magic_only), DataError::Kind::truncated, magic_only,
               {"ends after 2 bytes, inside the 8-byte IDX header"});
}

// ---------------------------------------------------------------------------------------------
// The payload

TEST_F(IdxFiles, PayloadShorterThanTheHeaderSays) {
  // A complete gzip stream whose content stops early.
  const auto labels = gz("labels.gz", idx(0x08, {5}, {1, 2, 3}));
  expect_error(labels_of(labels), DataError::Kind::truncated, labels,
               {"truncated: the header says 5 labels, the stream ends after 3"});
  const auto images = gz("images.gz", idx(0x08, {3, 2, 2}, pattern(9)));
  expect_error(images_of(images), DataError::Kind::truncated, images,
               {"the header says 3 images of 2 x 2", "ends after 9 of their 12 pixel bytes",
                "(2 whole images)"});
}

TEST_F(IdxFiles, TrailingBytesAfterThePayload) {
  const auto labels = gz("labels.gz", idx(0x08, {2}, {1, 2, 3, 4, 5}));
  expect_error(labels_of(labels), DataError::Kind::trailing_data, labels,
               {"trailing bytes: 3 bytes after the 2-byte payload"});
  const auto images = gz("images.gz", idx(0x08, {1, 2, 2}, pattern(5)));
  expect_error(images_of(images), DataError::Kind::trailing_data, images,
               {"1 bytes after the 4-byte payload"});
}

// ---------------------------------------------------------------------------------------------
// The gzip stream

TEST_F(IdxFiles, TruncatedGzip) {
  // The compressed file cut in half: the payload stops early and the message says the gzip
  // stream was cut off.
  const Bytes pixels = pattern(std::size_t{20} * 9 * 11, 3);
  const Bytes whole = read_file(gz("whole.gz", idx(0x08, {20, 9, 11}, pixels)));
  const auto half =
      raw("half.gz",
          Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(whole.size() / 2)));
  expect_error(images_of(half), DataError::Kind::truncated, half,
               {"truncated: the header says 20 images of 9 x 11", "the gzip stream is cut off"});
  // Cut inside the 8-byte trailer: the payload is complete but its CRC cannot be checked.
  const auto no_trailer = raw("trailer.gz", Bytes(whole.begin(), whole.end() - 4));
  expect_error(images_of(no_trailer), DataError::Kind::truncated, no_trailer,
               {"gzip stream ends after", "before its CRC", "payload itself is complete"});
  // Only gzip's 10-byte header.
  const auto header_only = raw("header.gz", Bytes(whole.begin(), whole.begin() + 10));
  expect_error(images_of(header_only), DataError::Kind::truncated, header_only,
               {"ends after 0 bytes, inside the 16-byte IDX header", "cut off after 10"});
}

TEST_F(IdxFiles, CorruptGzip) {
  const Bytes whole =
      read_file(gz("whole.gz", idx(0x08, {20, 9, 11}, pattern(std::size_t{20} * 9 * 11, 5))));
  // A flipped byte in the deflate data.
  Bytes flipped = whole;
  flipped[flipped.size() / 2] ^= 0x5AU;
  const auto data = raw("data.gz", flipped);
  expect_error(images_of(data), DataError::Kind::corrupt, data, {"corrupt gzip stream: "});
  // A flipped byte in the CRC-32 (the trailer's first four bytes): the data inflates fine.
  Bytes crc = whole;
  crc[crc.size() - 8] ^= 0x01U;
  const auto crc_path = raw("crc.gz", crc);
  expect_error(images_of(crc_path), DataError::Kind::corrupt, crc_path,
               {"corrupt gzip stream: incorrect data check"});
  // The uncompressed length (ISIZE, the last four bytes).
  Bytes length = whole;
  length[length.size() - 4] ^= 0x01U;
  const auto length_path = raw("length.gz", length);
  expect_error(images_of(length_path), DataError::Kind::corrupt, length_path,
               {"incorrect length check"});
}

TEST_F(IdxFiles, NotGzip) {
  const auto path = raw("plain", idx(0x08, {2}, {0, 1}));
  expect_error(labels_of(path), DataError::Kind::corrupt, path,
               {"not gzip-compressed: it starts with 00 00 08 01, not gzip's 1f 8b"});
}

TEST_F(IdxFiles, GarbageAfterTheGzipStream) {
  Bytes bytes = read_file(gz("labels.gz", idx(0x08, {2}, {0, 1})));
  const std::size_t end = bytes.size();
  bytes.insert(bytes.end(), {0, 0, 0, 0});
  const auto path = raw("padded.gz", bytes);
  expect_error(labels_of(path), DataError::Kind::trailing_data, path,
               {"trailing bytes after the gzip stream", "compressed byte " + std::to_string(end),
                "does not start another gzip member"});
}

// ---------------------------------------------------------------------------------------------
// Files

TEST_F(IdxFiles, MissingFile) {
  const auto path = dir_ / "absent.gz";
  expect_error(labels_of(path), DataError::Kind::not_found, path, {"not found"});
}

TEST_F(IdxFiles, EmptyFile) {
  const auto path = raw("empty.gz", {});
  expect_error(images_of(path), DataError::Kind::truncated, path, {"empty file"});
  // An empty gzip stream (a valid gzip file of no bytes) is an empty IDX file.
  const auto empty_gzip = gz("empty_content.gz", {});
  expect_error(images_of(empty_gzip), DataError::Kind::truncated, empty_gzip,
               {"ends after 0 bytes, inside the 16-byte IDX header"});
}

TEST_F(IdxFiles, Directory) {
  expect_error(labels_of(dir_), DataError::Kind::io, dir_, {"cannot read: Is a directory"});
}

// ---------------------------------------------------------------------------------------------
// Images with labels

TEST_F(IdxFiles, CountMismatch) {
  const auto images = gz("images.gz", idx(0x08, {3, 2, 2}, pattern(12)));
  const auto labels = gz("labels.gz", idx(0x08, {2}, {0, 1}));
  expect_error([&] { return nnfuse::data::load_labelled_images(images, labels, 10); },
               DataError::Kind::count_mismatch, labels,
               {"count mismatch: 2 labels, but " + images.string() + " has 3 images"});
}

TEST_F(IdxFiles, LabelOutOfRange) {
  const auto images = gz("images.gz", idx(0x08, {4, 1, 1}, pattern(4)));
  const auto labels = gz("labels.gz", idx(0x08, {4}, {0, 9, 10, 3}));
  expect_error([&] { return nnfuse::data::load_labelled_images(images, labels, 10); },
               DataError::Kind::label_out_of_range, labels,
               {"label out of range: label 10 at index 2 is not below the 10 classes"});
  EXPECT_EQ(nnfuse::data::load_labelled_images(images, labels, 11).labels[2], 10);
}

TEST_F(IdxFiles, FashionMnistMissingFile) {
  // The first of the four files that is missing is named, with the package that provides it.
  static_cast<void>(gz("train-images-idx3-ubyte.gz", idx(0x08, {1, 1, 1}, {0})));
  const auto missing = dir_ / "train-labels-idx1-ubyte.gz";
  expect_error([&] { return nnfuse::data::load_fashion_mnist(dir_); }, DataError::Kind::not_found,
               missing, {"not found", "apt-get install dataset-fashion-mnist"});
}

TEST(DataError, CopiesShareDetails) {
  const DataError error(DataError::Kind::io, "f.gz", "cannot read: x");
  const DataError copy = error;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_STREQ(copy.what(), "f.gz: cannot read: x");
  EXPECT_EQ(copy.file(), "f.gz");
  EXPECT_EQ(copy.kind(), DataError::Kind::io);
}

}  // namespace
