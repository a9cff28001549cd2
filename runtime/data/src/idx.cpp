// The IDX reader: a gzip stream decompressed with zlib's inflate in bounded chunks, the IDX header
// validated before any payload is kept, the payload checked against the header's sizes, and the
// stream checked to end where the payload does. And SplitMix64's bounded draw and the shuffle.
#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <limits>
#include <new>
#include <system_error>
#include <utility>

#include <zlib.h>

#include <nnfuse/data/idx.hpp>

namespace nnfuse::data {

using Kind = DataError::Kind;

// ---------------------------------------------------------------------------------------------
// DataError

struct DataError::Details {
  Kind kind;
  std::string file;
};

DataError::DataError(Kind kind, std::string file, const std::string& problem)
    : std::runtime_error(file + ": " + problem),
      details_(std::make_shared<const Details>(Details{kind, std::move(file)})) {}

DataError::Kind DataError::kind() const noexcept {
  return details_->kind;
}
const std::string& DataError::file() const noexcept {
  return details_->file;
}

namespace {

[[noreturn]] void fail(Kind kind, const std::string& file, const std::string& problem) {
  throw DataError(kind, file, problem);
}

std::string hex_bytes(const unsigned char* bytes, std::size_t count) {
  static constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) out += ' ';
    out += hex[bytes[i] >> 4U];
    out += hex[bytes[i] & 0xFU];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// GzipStream: the decompressed bytes of a gzip file, read in caller-sized pieces

struct FileCloser {
  // The unique_ptr below owns the FILE; this is its deleter.
  // NOLINTNEXTLINE(cppcoreguidelines-owning-memory)
  void operator()(std::FILE* file) const noexcept { static_cast<void>(std::fclose(file)); }
};

class GzipStream {
 public:
  // std::FILE rather than iostreams: errno says why opening or reading failed.
  explicit GzipStream(const std::filesystem::path& path)
      : name_(path.string()), file_(std::fopen(name_.c_str(), "rb")) {
    if (!file_) {
      const int error = errno;
      if (error == ENOENT) fail(Kind::not_found, name_, "not found");
      fail(Kind::io, name_, "cannot open: " + std::generic_category().message(error));
    }
    // 16 + MAX_WBITS: a gzip wrapper only (a zlib or raw deflate stream is an error), its CRC-32
    // and length checked by inflate at the end of each member.
    const int rc = inflateInit2(&z_, 16 + MAX_WBITS);
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc != Z_OK)
      fail(Kind::io, name_, "zlib's inflateInit2 failed (" + std::to_string(rc) + ")");
  }
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;
  GzipStream(GzipStream&&) = delete;
  GzipStream& operator=(GzipStream&&) = delete;
  ~GzipStream() { static_cast<void>(inflateEnd(&z_)); }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  // Compressed bytes consumed so far (for messages).
  [[nodiscard]] std::uint64_t compressed_offset() const noexcept { return fed_ - z_.avail_in; }
  // Whether the file ended inside a gzip member (or was empty); meaningful once read() has
  // returned less than asked.
  [[nodiscard]] bool truncated() const noexcept { return truncated_; }

  // Decompresses up to `size` bytes into `out` and returns how many; fewer only when the file has
  // ended (then truncated() says whether it ended cleanly, after a whole member). A corrupt
  // stream, or bytes after the last member that do not start another one, throw DataError.
  std::size_t read(unsigned char* out, std::size_t size) {
    std::size_t produced = 0;
    while (produced < size && !ended_) {
      if (z_.avail_in == 0 && !refill()) {
        ended_ = true;
        truncated_ = in_member_ || members_ == 0;
        break;
      }
      if (!in_member_) start_member();
      const auto want = static_cast<uInt>(std::min<std::size_t>(size - produced, UINT_MAX));
      z_.next_out = out + produced;
      z_.avail_out = want;
      const int rc = inflate(&z_, Z_NO_FLUSH);
      produced += want - z_.avail_out;
      if (rc == Z_STREAM_END) {
        in_member_ = false;
        ++members_;
        if (inflateReset(&z_) != Z_OK) fail(Kind::io, name_, "zlib's inflateReset failed");
      } else if (rc == Z_MEM_ERROR) {
        throw std::bad_alloc();
      } else if (rc == Z_BUF_ERROR && z_.avail_in != 0 && z_.avail_out != 0) {
        fail(Kind::corrupt, name_, "corrupt gzip stream: zlib made no progress");
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        // Z_DATA_ERROR ("invalid block type", "incorrect data check" for a CRC mismatch, ...).
        const std::string reason = z_.msg != nullptr ? z_.msg : "zlib error " + std::to_string(rc);
        fail(Kind::corrupt, name_,
             "corrupt gzip stream: " + reason + " (at compressed byte " +
                 std::to_string(compressed_offset()) + ")");
      }
    }
    return produced;
  }

 private:
  static constexpr std::size_t input_chunk = std::size_t{64} << 10U;

  // Gives zlib the next piece of the file; false at its end.
  bool refill() {
    const std::size_t got = std::fread(input_.data(), 1, input_.size(), file_.get());
    if (got == 0) {
      if (std::ferror(file_.get()) != 0) {
        fail(Kind::io, name_, "cannot read: " + std::generic_category().message(errno));
      }
      return false;
    }
    fed_ += got;
    z_.next_in = input_.data();
    z_.avail_in = static_cast<uInt>(got);
    return true;
  }

  // The first member must be gzip (a better message than zlib's "incorrect header check" for an
  // uncompressed file); after the last member only another member may follow.
  void start_member() {
    const unsigned char* next = z_.next_in;
    const bool magic = next[0] == 0x1FU && (z_.avail_in < 2 || next[1] == 0x8BU);
    if (!magic && members_ == 0) {
      fail(Kind::corrupt, name_,
           "not gzip-compressed: it starts with " +
               hex_bytes(next, std::min<uInt>(z_.avail_in, 4)) + ", not gzip's 1f 8b");
    }
    if (!magic) {
      fail(Kind::trailing_data, name_,
           "trailing bytes after the gzip stream: compressed byte " +
               std::to_string(compressed_offset()) + " (" +
               hex_bytes(next, std::min<uInt>(z_.avail_in, 4)) + "...) does not start another " +
               "gzip member");
    }
    in_member_ = true;
  }

  std::string name_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  z_stream z_{};
  std::vector<unsigned char> input_ = std::vector<unsigned char>(input_chunk);
  std::uint64_t fed_ = 0;      // compressed bytes handed to zlib
  std::uint64_t members_ = 0;  // gzip members decompressed to their end
  bool in_member_ = false;
  bool ended_ = false;
  bool truncated_ = false;
};

// Reads exactly `size` bytes unless the stream ends first; returns how many.
std::size_t read_fully(GzipStream& in, unsigned char* out, std::size_t size) {
  std::size_t got = 0;
  while (got < size) {
    const std::size_t n = in.read(out + got, size - got);
    if (n == 0) break;
    got += n;
  }
  return got;
}

std::string cut_off_note(const GzipStream& in) {
  return in.truncated() ? " (the gzip stream is cut off after " +
                              std::to_string(in.compressed_offset()) + " compressed bytes)"
                        : "";
}

// ---------------------------------------------------------------------------------------------
// IDX

enum class IdxKind : std::uint8_t { images, labels };

struct IdxHeader {
  std::array<std::uint64_t, 3> sizes{};  // count, then rows and cols for images
  std::uint64_t payload = 0;             // product of the sizes: bytes after the header
};

constexpr std::uint8_t idx_unsigned_byte = 0x08;

std::uint64_t big_endian_u32(const unsigned char* b) {
  return (std::uint64_t{b[0]} << 24U) | (std::uint64_t{b[1]} << 16U) | (std::uint64_t{b[2]} << 8U) |
         std::uint64_t{b[3]};
}

std::string_view idx_type_name(unsigned char type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "not an IDX type";
  }
}

IdxHeader read_header(GzipStream& in, IdxKind kind) {
  const std::size_t rank = kind == IdxKind::images ? 3 : 1;
  const std::size_t header_bytes = 4 + 4 * rank;
  std::array<unsigned char, 16> header{};
  const std::size_t got = read_fully(in, header.data(), header_bytes);
  const auto truncated_header = [&](std::size_t bytes) {
    if (bytes == 0 && in.compressed_offset() == 0) fail(Kind::truncated, in.name(), "empty file");
    fail(Kind::truncated, in.name(),
         "truncated: the stream ends after " + std::to_string(bytes) + " bytes, inside the " +
             std::to_string(header_bytes) + "-byte IDX header" + cut_off_note(in));
  };
  if (got < 4) truncated_header(got);

  const std::string expected_magic = "00 00 08 0" + std::to_string(rank);
  const std::string what = kind == IdxKind::images ? "images" : "labels";
  if (header[0] != 0 || header[1] != 0) {
    fail(Kind::bad_header, in.name(),
         "bad magic: expected " + expected_magic + " (IDX, unsigned bytes, rank " +
             std::to_string(rank) + "), found " + hex_bytes(header.data(), 4));
  }
  if (header[2] != idx_unsigned_byte) {
    fail(Kind::bad_header, in.name(),
         "element type " + hex_bytes(&header[2], 1) + " (" + std::string(idx_type_name(header[2])) +
             "): expected 08 (unsigned byte)");
  }
  if (header[3] != rank) {
    fail(Kind::bad_header, in.name(),
         "rank " + std::to_string(header[3]) + ": an IDX " + what + " file has " +
             std::to_string(rank) +
             (rank == 1 ? " dimension (count)" : " dimensions (count, rows, cols)"));
  }
  if (got < header_bytes) truncated_header(got);

  static constexpr std::array<std::string_view, 3> dimension_names{"count", "rows", "cols"};
  IdxHeader result;
  std::uint64_t product = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::uint64_t size = big_endian_u32(&header[4 + 4 * d]);
    if (size == 0) {
      fail(Kind::bad_header, in.name(),
           "bad size: dimension " + std::to_string(d) + " (" + std::string(dimension_names[d]) +
               ") is 0");
    }
    result.sizes[d] = size;
    // product <= max_idx_payload_bytes (2^31) and size < 2^32: no overflow in 64 bits.
    product *= size;
    if (product > max_idx_payload_bytes) {
      std::string problem = "absurd size: the header says ";
      for (std::size_t e = 0; e < rank; ++e) {
        if (e != 0) problem += " x ";
        problem += std::to_string(big_endian_u32(&header[4 + 4 * e]));
      }
      problem += " bytes of ";
      problem += what;
      problem += ", more than the " + std::to_string(max_idx_payload_bytes) + "-byte limit";
      fail(Kind::bad_header, in.name(), problem);
    }
  }
  result.payload = product;
  return result;
}

// The payload, grown as bytes arrive (a header promising 2 GiB over a short stream allocates
// little), then the check that the stream ends there.
std::vector<unsigned char> read_payload(GzipStream& in, const IdxHeader& header, IdxKind kind) {
  static constexpr std::uint64_t step = std::uint64_t{1} << 20U;
  std::vector<unsigned char> bytes;
  bytes.reserve(static_cast<std::size_t>(std::min(header.payload, 16 * step)));
  while (bytes.size() < header.payload) {
    const auto old = bytes.size();
    const auto chunk = static_cast<std::size_t>(std::min(header.payload - old, step));
    bytes.resize(old + chunk);
    const std::size_t got = read_fully(in, bytes.data() + old, chunk);
    if (got < chunk) {
      const std::uint64_t have = old + got;
      std::string problem = "truncated: the header says " + std::to_string(header.sizes[0]);
      if (kind == IdxKind::labels) {
        problem += " labels, the stream ends after " + std::to_string(have);
      } else {
        const std::uint64_t per_image = header.sizes[1] * header.sizes[2];
        problem += " images of " + std::to_string(header.sizes[1]) + " x " +
                   std::to_string(header.sizes[2]) + ", the stream ends after " +
                   std::to_string(have) + " of their " + std::to_string(header.payload) +
                   " pixel bytes (" + std::to_string(have / per_image) + " whole images)";
      }
      fail(Kind::truncated, in.name(), problem + cut_off_note(in));
    }
  }

  // Trailing bytes are counted up to a bound (a gzip bomb appended to a valid file must not keep
  // the reader busy for minutes); reading to the end also makes zlib check the CRC.
  static constexpr std::uint64_t max_trailing_counted = std::uint64_t{64} << 20U;
  std::array<unsigned char, 4096> sink{};
  std::uint64_t trailing = 0;
  for (;;) {
    const std::size_t n = in.read(sink.data(), sink.size());
    trailing += n;
    if (n < sink.size() || trailing > max_trailing_counted) break;
  }
  if (trailing > 0) {
    fail(Kind::trailing_data, in.name(),
         "trailing bytes: " + std::string(trailing > max_trailing_counted ? "more than " : "") +
             std::to_string(std::min(trailing, max_trailing_counted)) + " bytes after the " +
             std::to_string(header.payload) + "-byte payload the header describes");
  }
  if (in.truncated()) {
    fail(Kind::truncated, in.name(),
         "truncated: the gzip stream ends after " + std::to_string(in.compressed_offset()) +
             " compressed bytes, before its CRC (the IDX payload itself is complete)");
  }
  return bytes;
}

}  // namespace

Images load_idx_images(const std::filesystem::path& path) {
  GzipStream in(path);
  const IdxHeader header = read_header(in, IdxKind::images);
  const std::vector<unsigned char> bytes = read_payload(in, header, IdxKind::images);

  // float(b) / 255.0F for each of the 256 bytes: the same values, one division each.
  static const std::array<float, 256> scale = [] {
    std::array<float, 256> table{};
    for (std::size_t b = 0; b < table.size(); ++b) table[b] = static_cast<float>(b) / 255.0F;
    return table;
  }();
  Images images;
  images.count = static_cast<std::size_t>(header.sizes[0]);
  images.rows = static_cast<std::size_t>(header.sizes[1]);
  images.cols = static_cast<std::size_t>(header.sizes[2]);
  images.pixels.resize(bytes.size());
  std::transform(bytes.begin(), bytes.end(), images.pixels.begin(),
                 [](unsigned char b) { return scale[b]; });
  return images;
}

std::vector<std::int32_t> load_idx_labels(const std::filesystem::path& path) {
  GzipStream in(path);
  const IdxHeader header = read_header(in, IdxKind::labels);
  const std::vector<unsigned char> bytes = read_payload(in, header, IdxKind::labels);
  return {bytes.begin(), bytes.end()};
}

LabelledImages load_labelled_images(const std::filesystem::path& images_path,
                                    const std::filesystem::path& labels_path, std::size_t classes) {
  if (classes == 0) {
    throw std::invalid_argument("load_labelled_images(" + images_path.string() + ", " +
                                labels_path.string() + "): classes must be at least 1");
  }
  LabelledImages result;
  result.images = load_idx_images(images_path);
  result.labels = load_idx_labels(labels_path);
  result.classes = classes;
  if (result.labels.size() != result.images.count) {
    fail(Kind::count_mismatch, labels_path.string(),
         "count mismatch: " + std::to_string(result.labels.size()) + " labels, but " +
             images_path.string() + " has " + std::to_string(result.images.count) + " images");
  }
  const auto bad = std::find_if(result.labels.begin(), result.labels.end(), [classes](auto label) {
    return static_cast<std::size_t>(label) >= classes;
  });
  if (bad != result.labels.end()) {
    fail(Kind::label_out_of_range, labels_path.string(),
         "label out of range: label " + std::to_string(*bad) + " at index " +
             std::to_string(bad - result.labels.begin()) + " is not below the " +
             std::to_string(classes) + " classes");
  }
  return result;
}

FashionMnist load_fashion_mnist(const std::filesystem::path& dir) {
  static constexpr std::array<std::string_view, 4> files{
      "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz"};
  // All four before reading any: a missing one is reported at once, with where to get it.
  for (const auto file : files) {
    const std::filesystem::path path = dir / file;
    std::error_code error;
    if (!std::filesystem::exists(path, error) && !error) {
      fail(Kind::not_found, path.string(),
           "not found: the Fashion-MNIST files come with Debian's dataset-fashion-mnist package "
           "(apt-get install dataset-fashion-mnist puts them in " +
               std::string(fashion_mnist_default_dir) + ")");
    }
  }
  static constexpr std::size_t classes = 10;
  FashionMnist result;
  result.train = load_labelled_images(dir / files[0], dir / files[1], classes);
  result.test = load_labelled_images(dir / files[2], dir / files[3], classes);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Epoch order

std::uint64_t SplitMix64::bounded(std::uint64_t r) {
  if (r == 0) throw std::invalid_argument("SplitMix64::bounded(0): the range must not be empty");
  __extension__ using Uint128 = unsigned __int128;  // g++ and clang; -Wpedantic otherwise warns
  std::uint64_t x = next();
  Uint128 m = static_cast<Uint128>(x) * r;
  auto low = static_cast<std::uint64_t>(m);
  if (low < r) {
    const std::uint64_t threshold = (0 - r) % r;  // 2^64 mod r
    while (low < threshold) {
      x = next();
      m = static_cast<Uint128>(x) * r;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64U);
}

std::vector<std::uint32_t> shuffled_order(std::size_t n, SplitMix64& rng) {
  if (static_cast<std::uint64_t>(n) > (std::uint64_t{1} << 32U)) {
    throw std::invalid_argument("shuffled_order(" + std::to_string(n) +
                                "): at most 2^32 items (uint32 indices)");
  }
  std::vector<std::uint32_t> order(n);
  for (std::size_t k = 0; k < n; ++k) order[k] = static_cast<std::uint32_t>(k);
  for (std::size_t i = n; i-- > 1;) {
    const auto j = static_cast<std::size_t>(rng.bounded(i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

}  // namespace nnfuse::data
