// Softmax reduces over a row: a scalar eval has no row to reduce.
#include <nnfuse/dsl.hpp>
float bad() {
  return nnfuse::eval(nnfuse::softmax, 1.0F);
}
