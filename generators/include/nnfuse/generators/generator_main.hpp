// The command line of a generator program, which may know several networks:
//   <generator> --network NAME --output-dir DIR --schedules naive,manual --targets T1,T2
//               --variants V1,V2 [--plugins P1.so,P2.so] [--typical-batch 32]
//               [--machine-params parallelism,llc_bytes,balance] [--log FILE]
//               [--emit-stmt 0|1] [--precision fast|exact] [--statistics 0|1]
// It writes DIR/nnfuse/generated/NAME.hpp, DIR/NAME_kernels.cpp and DIR/NAME_kernels.a, and
// exits non-zero with a message naming the bad argument on misuse. With --log, what Halide
// prints (its warnings, the autoschedulers' logs) goes to FILE instead of the terminal; a
// failure still reaches the terminal, with the end of that log.
#pragma once

#include <cstdio>
#include <deque>
#include <exception>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <nnfuse/generators/network.hpp>

namespace nnfuse::generators {

// Sends this process's standard error (where Halide writes) to a log file, and back. The file
// descriptor is redirected, not std::cerr, so C stdio and C++ streams both land in the log.
class StderrLog {
 public:
  StderrLog() = default;
  StderrLog(const StderrLog&) = delete;
  StderrLog& operator=(const StderrLog&) = delete;
  StderrLog(StderrLog&&) = delete;
  StderrLog& operator=(StderrLog&&) = delete;
  ~StderrLog() { restore(); }

  void open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot write the log file " + path);
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
    path_ = path;
  }

  // Back to the terminal; returns the log's last `lines` lines (empty without a log).
  std::string restore(std::size_t lines = 0) {
    if (saved_ < 0) return {};
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
    std::ifstream in(path_);
    std::deque<std::string> tail;
    for (std::string line; std::getline(in, line);) {
      tail.push_back(line);
      if (tail.size() > lines) tail.pop_front();
    }
    std::string text;
    for (const auto& line : tail) text += "  | " + line + "\n";
    return text;
  }

  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  int saved_ = -1;
  std::string path_;
};

inline std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, ',');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// One network a generator program can compile.
struct NetworkEntry {
  const char* name;
  const char* spec;
  const char* type;
  const char* loss;  // the loss's C++ type, or "" for inference only
  void (*generate)(const GeneratorOptions& options);
};

// The network's kernels; with a Loss (nnfuse_add_network(... LOSS <type>)), its training ones too.
template <class Net, class Loss = NoLoss>
void generate_network(const GeneratorOptions& options) {
  generate<Net, Loss>(options, options.loss_type);
}

inline int generator_main(int argc, char** argv, std::initializer_list<NetworkEntry> networks) {
  std::string program = argc > 0 ? argv[0] : "generator";
  StderrLog log;
  try {
    GeneratorOptions options{};
    std::string network;
    for (int i = 1; i < argc; ++i) {
      const std::string flag = argv[i];
      if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
      const std::string value = argv[++i];
      if (flag == "--network") {
        network = value;
      } else if (flag == "--output-dir") {
        options.output_dir = value;
      } else if (flag == "--schedules") {
        for (const auto& s : split_list(value)) options.schedules.push_back(parse_schedule(s));
      } else if (flag == "--precision") {
        options.precision = parse_precision(value);
      } else if (flag == "--targets") {
        options.targets = split_list(value);
      } else if (flag == "--variants") {
        options.variant_names = split_list(value);
      } else if (flag == "--plugins") {
        options.plugins = split_list(value);
      } else if (flag == "--typical-batch") {
        std::size_t used = 0;
        const int batch = std::stoi(value, &used);
        if (used != value.size() || batch < 1) {
          throw std::invalid_argument("--typical-batch must be a positive integer, not '" + value +
                                      "'");
        }
        options.typical_batch = batch;
      } else if (flag == "--machine-params") {
        options.machine_params = value;
      } else if (flag == "--log") {
        log.open(value);
      } else if (flag == "--emit-stmt") {
        if (value != "0" && value != "1") {
          throw std::invalid_argument("--emit-stmt must be 0 or 1, not '" + value + "'");
        }
        options.emit_stmt = value == "1";
      } else if (flag == "--statistics") {
        if (value != "0" && value != "1") {
          throw std::invalid_argument("--statistics must be 0 or 1, not '" + value + "'");
        }
        options.statistics = value == "1";
      } else {
        throw std::invalid_argument("unknown option " + flag);
      }
    }
    const NetworkEntry* entry = nullptr;
    std::string known;
    for (const NetworkEntry& e : networks) {
      if (e.name == network) entry = &e;
      known += std::string(known.empty() ? "" : ", ") + e.name;
    }
    if (entry == nullptr) {
      throw std::invalid_argument("--network '" + network + "' is not one of: " + known);
    }
    options.name = entry->name;
    options.spec_header = entry->spec;
    options.network_type = entry->type;
    options.loss_type = entry->loss;
    if (options.output_dir.empty() || options.schedules.empty() || options.targets.empty()) {
      throw std::invalid_argument("--output-dir, --schedules and --targets are required");
    }
    if (options.variant_names.size() != options.targets.size()) {
      throw std::invalid_argument("--variants must name every target");
    }
    for (auto& t : options.targets) {
      if (!Halide::Target::validate_target_string(t)) {
        throw std::invalid_argument("not a Halide target: " + t);
      }
      // `host` becomes the build machine's target string, so the provenance line, the
      // generated variant_targets and the .schedule.h banners say what code was made.
      t = Halide::Target(t).to_string();
    }
    entry->generate(options);
    return 0;
  } catch (const std::exception& e) {
    const std::string tail = log.restore(40);
    std::fprintf(stderr, "%s: %s\n", program.c_str(), e.what());
    if (!tail.empty()) {
      std::fprintf(stderr, "%s: the end of its log %s:\n%s", program.c_str(), log.path().c_str(),
                   tail.c_str());
    }
    return 1;
  }
}

}  // namespace nnfuse::generators
