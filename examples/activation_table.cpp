// The main job's first table: every activation of the catalog evaluated on a few inputs
// (the scalar reference, float32), with its derivative and its definition in the DSL, plus
// the row-wise Softmax/LogSoftmax on one row and PReLU with a per-channel alpha.
#include <cstdio>
#include <exception>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <boost/hana/for_each.hpp>

#include <nnfuse/dsl.hpp>

namespace {

constexpr float inputs[] = {-std::numeric_limits<float>::infinity(),
                            -100.0F,
                            -3.0F,
                            -1.0F,
                            -1e-7F,
                            0.0F,
                            0.5F,
                            3.0F,
                            100.0F};

void print_header() {
  std::printf("%-12s %-3s", "activation", "");
  for (float v : inputs) std::printf(" %12g", v);
  std::printf("\n");
}

template <class F>
void print_row(const char* name, const char* what, F f) {
  std::printf("%-12s %-3s", name, what);
  for (float v : inputs) std::printf(" %12.6g", f(v));
  std::printf("\n");
}

}  // namespace

int main() try {
  std::printf(
      "nnfuse activation catalog: f(x) and f'(x), float32 (computed in double, rounded "
      "once)\n\n");
  print_header();
  boost::hana::for_each(nnfuse::elementwise_catalog, [](auto layer) {
    using Layer = typename decltype(layer)::type;
    const std::string name(Layer::kind);
    print_row(name.c_str(), "f", [](float v) { return nnfuse::eval(Layer::expression, v); });
    print_row("", "f'",
              [](float v) { return nnfuse::eval(nnfuse::derivative(Layer::expression), v); });
  });
  print_row("prelu a=.25", "f",
            [](float v) { return nnfuse::eval(nnfuse::prelu, v, nnfuse::bind<"alpha">(0.25)); });

  std::printf("\ndefinitions:\n");
  boost::hana::for_each(nnfuse::elementwise_catalog, [](auto layer) {
    using Layer = typename decltype(layer)::type;
    std::printf("  %-12s = %s\n", std::string(Layer::kind).c_str(),
                nnfuse::to_string(Layer::expression).c_str());
  });
  std::printf("  %-12s = %s\n", "prelu", nnfuse::to_string(nnfuse::prelu).c_str());

  const std::vector<float> row = {1.0F, 2.0F, 3.0F, -1.0F};
  std::vector<float> out(row.size());
  std::printf("\nrow-wise on [1, 2, 3, -1]:\n");
  boost::hana::for_each(nnfuse::row_wise_catalog, [&](auto layer) {
    using Layer = typename decltype(layer)::type;
    nnfuse::eval_row(Layer::expression, row, out);
    std::printf("  %-12s", std::string(Layer::kind).c_str());
    for (float v : out) std::printf(" %10.6g", v);
    std::printf("    = %s\n", nnfuse::to_string(Layer::expression).c_str());
  });
  const std::vector<float> alpha = {0.1F, 0.2F, 0.3F, 0.4F};
  nnfuse::eval_row(nnfuse::prelu, std::vector<float>{-1.0F, -1.0F, 2.0F, -1.0F}, out,
                   nnfuse::bind<"alpha">(std::span<const float>(alpha)));
  std::printf("  %-12s", "prelu");
  for (float v : out) std::printf(" %10.6g", v);
  std::printf("    on [-1, -1, 2, -1], alpha per channel [0.1, 0.2, 0.3, 0.4]\n");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "activation_table: %s\n", e.what());
  return 1;
}
