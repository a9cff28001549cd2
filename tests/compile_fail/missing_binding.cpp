// PReLU reads the parameter "alpha": evaluating it without a binding is rejected.
#include <nnfuse/dsl.hpp>
float bad() {
  return nnfuse::eval(nnfuse::prelu, 1.0F);
}
