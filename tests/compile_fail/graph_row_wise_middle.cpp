// A Softmax ("head.1") followed by a ReLU: the row epilogue must end its fused node.
#include <nnfuse/dsl.hpp>
using namespace nnfuse;  // NOLINT(google-build-using-namespace)
using Net = Sequential<Input<4>, Sequential<Name<"head">, Dense<8, Name<"fc">>, Softmax>, ReLU>;
constexpr std::size_t nodes = graph<Net>::node_count;
