// Writes the one Halide runtime every generated library links (Halide #4894: several AOT
// libraries each with their own runtime clash). Usage: nnfuse_runtime_generator <target> <out.a>
#include <cstdio>
#include <exception>
#include <string>

#include <Halide.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <halide target> <output.a>\n", argv[0]);
    return 2;
  }
  try {
    const std::string object = std::string(argv[2]) + ".o";
    const Halide::Target target = Halide::Target(argv[1]).with_feature(Halide::Target::UserContext);
    Halide::compile_standalone_runtime(object, target);
    Halide::create_static_library({object}, target, argv[2]);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nnfuse_runtime_generator: %s\n", e.what());
    return 1;
  }
}
