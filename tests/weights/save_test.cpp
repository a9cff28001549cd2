// save_safetensors: what it writes reads back through SafetensorsFile bit for bit, in the layout
// tools/export_safetensors.py writes (checked byte for byte here against a header written by
// hand, and against the exporter itself by import_safetensors_test.py); a bad argument is
// refused before anything is touched; and a save that fails (missing or unwritable directory, a
// directory in the way, a write error) removes its temporary file and leaves the previous file
// as it was.
#include <algorithm>
#include <bit>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <nnfuse/weights/safetensors.hpp>

namespace {

using nnfuse::DType;
using nnfuse::SafetensorsFile;
using nnfuse::TensorToSave;
using nnfuse::WeightsError;
using testing::EndsWith;
using testing::StartsWith;

std::vector<float> from_bits(std::initializer_list<std::uint32_t> bits) {
  std::vector<float> out;
  for (std::uint32_t b : bits) out.push_back(std::bit_cast<float>(b));
  return out;
}

std::vector<std::uint32_t> bits_of(const std::vector<float>& values) {
  std::vector<std::uint32_t> out;
  out.reserve(values.size());
  for (float v : values) out.push_back(std::bit_cast<std::uint32_t>(v));
  return out;
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class WeightsSave : public testing::Test {
 protected:
  void SetUp() override {
    // Unique per run: the same test may run at once in several build trees.
    dir_ = std::filesystem::temp_directory_path() /
           ("nnfuse_save_test_" + std::to_string(std::random_device{}()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(dir_, ec);
  }

  // The names in the test's directory (a temporary file left behind would show here).
  [[nodiscard]] std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::filesystem::path dir_;
};

// The error save_safetensors throws (of type E) for these arguments.
template <typename E>
E save_failure(const std::filesystem::path& path, const std::vector<TensorToSave>& tensors,
               const std::map<std::string, std::string>& metadata = {}) {
  try {
    nnfuse::save_safetensors(path, tensors, metadata);
  } catch (const E& e) {
    return e;
  }
  throw std::logic_error("the save succeeded");
}

TEST_F(WeightsSave, RoundTripIsBitExact) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> weight = {0.5F, -1.25F, 2.0F, 0.1F, 0.2F, -0.3F};
  const std::vector<float> bias = {0.25F, -0.1F};
  // -0, the smallest and largest subnormals, the largest float, infinities, a quiet NaN with a
  // payload, a signalling NaN, a negative NaN, 1/3.
  const std::vector<float> special =
      from_bits({0x80000000U, 0x00000001U, 0x007FFFFFU, 0x7F7FFFFFU, 0xFF800000U, 0x7F800000U,
                 0x7FC00001U, 0x7FA00000U, 0xFFC00000U, 0x3EAAAAABU});
  std::vector<float> odd(15);  // [3, 5]
  for (std::size_t i = 0; i < odd.size(); ++i) odd[i] = static_cast<float>(i) * 0.75F - 5;
  const std::vector<float> seven = {1, -2, 3, -4, 5, -6, inf};
  const std::vector<float> scalar = {42};

  const auto path = dir_ / "model.safetensors";
  // Given out of order: the file sorts them.
  const std::vector<TensorToSave> tensors = {
      {"fc1.weight", {2, 3}, weight}, {"fc1.bias", {2}, bias}, {"special", {10}, special},
      {"odd", {3, 5}, odd},           {"seven", {7}, seven},   {"scalar", {}, scalar},
      {"empty", {0, 4}, {}},          {"conv.w", {1, 0}, {}},
  };
  nnfuse::save_safetensors(path, tensors, {{"epoch", "3"}, {"source", "save_test"}});

  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string, std::less<>>{
                                 {"epoch", "3"}, {"format", "pt"}, {"source", "save_test"}}));
  ASSERT_EQ(file.tensors().size(), tensors.size());
  std::vector<std::string> names;
  for (const auto& t : file.tensors()) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv.w", "empty", "fc1.bias", "fc1.weight", "odd",
                                             "scalar", "seven", "special"}));
  for (const TensorToSave& expected : tensors) {
    SCOPED_TRACE(expected.name);
    const nnfuse::TensorInfo& info = file.at(expected.name);
    EXPECT_EQ(info.dtype, DType::f32);
    EXPECT_EQ(info.shape, expected.shape);
    const std::vector<float> values(expected.values.begin(), expected.values.end());
    EXPECT_EQ(bits_of(file.read_float32(info)), bits_of(values));
    // Every tensor starts 4-aligned in an 8-aligned data block, so it can be used in place.
    const auto view = file.float32_view(info);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->size(), values.size());
  }
  // And loads as a model's weights by name.
  const std::vector<nnfuse::TensorSpec> specs = {{"fc1.weight", {2, 3}}, {"fc1.bias", {2}}};
  const std::vector<float> params =
      nnfuse::load_float32(file, specs, {.allow_unexpected = true, .check_finite = true});
  EXPECT_EQ(params, (std::vector<float>{0.5F, -1.25F, 2.0F, 0.1F, 0.2F, -0.3F, 0.25F, -0.1F}));
}

TEST_F(WeightsSave, LayoutIsTheExportersByteForByte) {
  const auto path = dir_ / "small.safetensors";
  const std::vector<float> a = {1, 2};
  const std::vector<float> b = {-1};
  const std::vector<TensorToSave> tensors = {{"b", {1, 1}, b}, {"a", {2}, a}};
  nnfuse::save_safetensors(path, tensors, {{"format", "custom"}});

  // The header tools/export_safetensors.py writes for the same tensors and metadata: metadata
  // first, names sorted, compact JSON, spaces up to the 8-aligned data block, data by name.
  std::string header = R"({"__metadata__":{"format":"custom"},)"
                       R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}})";
  while ((8 + header.size()) % 8 != 0) header += ' ';
  std::string expected(8, '\0');
  expected[0] = static_cast<char>(header.size());
  expected += header;
  expected += std::string("\x00\x00\x80\x3F\x00\x00\x00\x40\x00\x00\x80\xBF", 12);
  EXPECT_EQ(read_all(path), expected);
}

TEST_F(WeightsSave, EmptyFileAndPaddingOfEveryLength) {
  // Names of 1..9 bytes move the header's end through every residue modulo 8.
  for (std::size_t length = 0; length < 10; ++length) {
    SCOPED_TRACE(length);
    const auto path = dir_ / "pad.safetensors";
    const std::vector<float> one = {7};
    std::vector<TensorToSave> tensors;
    if (length != 0) tensors.push_back({std::string(length, 'x'), {1}, one});
    nnfuse::save_safetensors(path, tensors);
    const std::string bytes = read_all(path);
    ASSERT_GE(bytes.size(), 8U);
    std::uint64_t header_size = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      header_size |= std::uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
    }
    EXPECT_EQ((8 + header_size) % 8, 0U);
    EXPECT_EQ(bytes.size(), 8 + header_size + 4 * tensors.size());
    const auto file = SafetensorsFile::open(path);
    EXPECT_EQ(file.tensors().size(), tensors.size());
    EXPECT_EQ(file.metadata().at("format"), "pt");
  }
  EXPECT_EQ(entries(), (std::vector<std::string>{"pad.safetensors"}));
}

TEST_F(WeightsSave, ReplacesAnExistingFile) {
  const auto path = dir_ / "m.safetensors";
  const std::vector<float> first = {1, 2, 3};
  const std::vector<float> second = {4};
  nnfuse::save_safetensors(path, std::vector<TensorToSave>{{"w", {3}, first}});
  nnfuse::save_safetensors(path, std::vector<TensorToSave>{{"v", {1}, second}});
  const auto file = SafetensorsFile::open(path);
  ASSERT_EQ(file.tensors().size(), 1U);
  EXPECT_EQ(file.read_float32(file.at("v")), second);
  EXPECT_EQ(entries(), (std::vector<std::string>{"m.safetensors"}));
}

TEST_F(WeightsSave, BadArgumentsTouchNothing) {
  const auto path = dir_ / "keep.safetensors";
  const std::vector<float> ok = {1, 2};
  nnfuse::save_safetensors(path, std::vector<TensorToSave>{{"w", {2}, ok}});
  const std::string before = read_all(path);
  const std::string prefix = "nnfuse::save_safetensors('" + path.string() + "'): ";

  const std::vector<float> six(6);
  const std::vector<float> none;
  const auto check = [&](const std::vector<TensorToSave>& tensors, const std::string& message,
                         const std::map<std::string, std::string>& metadata = {}) {
    const auto e = save_failure<std::invalid_argument>(path, tensors, metadata);
    EXPECT_EQ(std::string(e.what()), prefix + message);
  };
  check({{"w", {2}, ok}, {"", {2}, ok}}, "tensor 1 has an empty name");
  check({{"w", {2}, ok}, {"v", {6}, six}, {"w", {2}, ok}}, "tensor 'w' is given twice");
  check({{"__metadata__", {2}, ok}},
        "tensor '__metadata__': the name is reserved for the header's metadata");
  check({{"fc1.weight", {2, 3}, ok}}, "tensor 'fc1.weight': shape [2, 3] holds 6 values, 2 given");
  check({{"w", {}, ok}}, "tensor 'w': shape [] holds 1 value, 2 given");
  check({{"w", {0}, ok}}, "tensor 'w': shape [0] holds 0 values, 2 given");
  check({{"w", {3, -2}, six}}, "tensor 'w': shape [3, -2] has a negative dimension");
  check({{"w", {-1, 0}, none}}, "tensor 'w': shape [-1, 0] has a negative dimension");
  check({{"w", {std::int64_t{1} << 40, std::int64_t{1} << 40}, ok}},
        "tensor 'w': shape [1099511627776, 1099511627776] has too many elements");
  check({{"w", std::vector<std::int64_t>(65, 1), ok}},
        "tensor 'w': rank 65, above the 64 a file may have");
  check({{"bad\xFF", {2}, ok}}, "tensor 'bad\xFF': the name is not valid UTF-8");
  check({{"w", {2}, ok}}, "metadata key 'k\xC0' is not UTF-8", {{"k\xC0", "v"}});
  check({{"w", {2}, ok}}, "metadata 'k': the value is not UTF-8", {{"k", "\xE2\x82"}});

  EXPECT_EQ(read_all(path), before);
  EXPECT_EQ(entries(), (std::vector<std::string>{"keep.safetensors"}));
}

TEST_F(WeightsSave, MissingDirectory) {
  const auto path = dir_ / "no" / "such" / "m.safetensors";
  const std::vector<float> ok = {1};
  const auto e = save_failure<WeightsError>(path, {{"w", {1}, ok}});
  EXPECT_EQ(e.kind(), WeightsError::Kind::io);
  EXPECT_EQ(e.file(), path.string());
  EXPECT_THAT(e.what(), StartsWith(path.string() + ": expected to create the temporary file '" +
                                   path.string() + ".tmp."));
  EXPECT_THAT(e.what(), EndsWith("', found No such file or directory"));
  EXPECT_TRUE(entries().empty());
}

TEST_F(WeightsSave, ParentIsAFile) {
  std::ofstream(dir_ / "file") << "not a directory";
  const auto path = dir_ / "file" / "m.safetensors";
  const std::vector<float> ok = {1};
  const auto e = save_failure<WeightsError>(path, {{"w", {1}, ok}});
  EXPECT_EQ(e.kind(), WeightsError::Kind::io);
  EXPECT_THAT(e.what(), EndsWith("', found Not a directory"));
  EXPECT_EQ(entries(), (std::vector<std::string>{"file"}));
}

TEST_F(WeightsSave, UnwritableDirectory) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories";
  const auto path = dir_ / "m.safetensors";
  const std::vector<float> ok = {1};
  nnfuse::save_safetensors(path, std::vector<TensorToSave>{{"w", {1}, ok}});
  const std::string before = read_all(path);
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::remove);
  const std::vector<float> other = {2};
  const auto e = save_failure<WeightsError>(path, {{"w", {1}, other}});
  EXPECT_EQ(e.kind(), WeightsError::Kind::io);
  EXPECT_THAT(e.what(), EndsWith("', found Permission denied"));
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  EXPECT_EQ(read_all(path), before);
  EXPECT_EQ(entries(), (std::vector<std::string>{"m.safetensors"}));
}

TEST_F(WeightsSave, DirectoryInTheWayOfTheRename) {
  // The temporary file is written and synced, then the rename fails: it must be removed, and
  // the directory (with its contents) left alone.
  const auto path = dir_ / "m.safetensors";
  std::filesystem::create_directory(path);
  std::ofstream(path / "inside") << "kept";
  const std::vector<float> ok = {1};
  const auto e = save_failure<WeightsError>(path, {{"w", {1}, ok}});
  EXPECT_EQ(e.kind(), WeightsError::Kind::io);
  EXPECT_THAT(e.what(), StartsWith(path.string() + ": expected '" + path.string() + ".tmp."));
  EXPECT_THAT(e.what(), EndsWith("' renamed over it, found Is a directory"));
  EXPECT_EQ(entries(), (std::vector<std::string>{"m.safetensors"}));
  EXPECT_EQ(read_all(path / "inside"), "kept");
}

TEST_F(WeightsSave, WriteErrorKeepsThePreviousFile) {
  // A file size limit makes write() fail halfway (EFBIG, as a full disk fails with ENOSPC). The
  // file is 8 + 96 (header) + 16384 bytes.
  const auto path = dir_ / "m.safetensors";
  const std::vector<float> small = {1, 2, 3};
  nnfuse::save_safetensors(path, std::vector<TensorToSave>{{"w", {3}, small}});
  const std::string before = read_all(path);

  const std::vector<float> large(4096, 1.5F);
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit limit = old_limit;
  limit.rlim_cur = 1000;
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  std::string message;
  try {
    nnfuse::save_safetensors(path, std::vector<TensorToSave>{{"w", {4096}, large}});
  } catch (const WeightsError& e) {
    EXPECT_EQ(e.kind(), WeightsError::Kind::io);
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);

  EXPECT_THAT(message, StartsWith(path.string() + ": expected 16488 bytes written to '" +
                                  path.string() + ".tmp."));
  EXPECT_THAT(message, EndsWith("', found File too large after 1000 bytes"));
  EXPECT_EQ(read_all(path), before);
  EXPECT_EQ(entries(), (std::vector<std::string>{"m.safetensors"}));
}

}  // namespace
