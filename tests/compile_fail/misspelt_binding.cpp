// A binding whose name the expression does not read is a typo, not silently ignored.
#include <nnfuse/dsl.hpp>
float bad() {
  return nnfuse::eval(nnfuse::prelu, 1.0F, nnfuse::bind<"alpah">(0.25));
}
