// Dense<0> has no outputs: rejected, naming the layer "fc2".
#include <nnfuse/dsl.hpp>
using namespace nnfuse;  // NOLINT(google-build-using-namespace)
using Net = Sequential<Input<4>, Dense<8, Name<"fc1">>, ReLU, Dense<0, Name<"fc2">>>;
constexpr std::size_t width = graph<Net>::out_width;
