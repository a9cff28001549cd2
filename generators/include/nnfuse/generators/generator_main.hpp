// The command line of a network's generator program:
//   <generator> --output-dir DIR --schedules naive,manual --targets T1,T2 --variants V1,V2
// It writes DIR/<name>.hpp, DIR/<name>_kernels.cpp and one object per kernel and target, and
// exits non-zero with a message naming the bad argument on misuse.
#pragma once

#include <cstdio>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

#include <nnfuse/generators/network.hpp>

namespace nnfuse::generators {

inline std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, ',');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

template <class Net>
int generator_main(int argc, char** argv, const char* name, const char* spec,
                   const char* network_type) {
  try {
    GeneratorOptions options{name, spec, network_type, "", {}, {}, {}};
    for (int i = 1; i < argc; ++i) {
      const std::string flag = argv[i];
      if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
      const std::string value = argv[++i];
      if (flag == "--output-dir") {
        options.output_dir = value;
      } else if (flag == "--schedules") {
        for (const auto& s : split_list(value)) options.schedules.push_back(parse_schedule(s));
      } else if (flag == "--targets") {
        options.targets = split_list(value);
      } else if (flag == "--variants") {
        options.variant_names = split_list(value);
      } else {
        throw std::invalid_argument("unknown option " + flag);
      }
    }
    if (options.output_dir.empty() || options.schedules.empty() || options.targets.empty()) {
      throw std::invalid_argument("--output-dir, --schedules and --targets are required");
    }
    if (options.variant_names.size() != options.targets.size()) {
      throw std::invalid_argument("--variants must name every target");
    }
    for (const auto& t : options.targets) {
      if (!Halide::Target::validate_target_string(t)) {
        throw std::invalid_argument("not a Halide target: " + t);
      }
    }
    generate<Net>(options);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s generator: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace nnfuse::generators
