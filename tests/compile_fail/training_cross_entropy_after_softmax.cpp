// CrossEntropy applies its own log-softmax: a network ending in Softmax ("head.1") is refused.
#include <nnfuse/dsl.hpp>
using namespace nnfuse;  // NOLINT(google-build-using-namespace)
using Net = Sequential<Input<4>, Sequential<Name<"head">, Dense<8, Name<"fc">>, Softmax>>;
constexpr bool checked = training<Net, CrossEntropy>::checked;
