// The residual block "block1" maps width 8 to 6, so x + Block(x) is undefined.
#include <nnfuse/dsl.hpp>
using namespace nnfuse;  // NOLINT(google-build-using-namespace)
using Net = Sequential<
    Input<4>, Dense<8, Name<"fc1">>,
    Residual<Sequential<Name<"block1">, Dense<8, Name<"fc">>, ReLU, Dense<6, Name<"proj">>>>>;
constexpr std::size_t width = graph<Net>::out_width;
