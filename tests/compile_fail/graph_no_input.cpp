// A network must start with Input<K>: here the first layer is the Dense "fc1".
#include <nnfuse/dsl.hpp>
using namespace nnfuse;  // NOLINT(google-build-using-namespace)
using Net = Sequential<Dense<4, Name<"fc1">>, ReLU>;
constexpr std::size_t width = graph<Net>::out_width;
