// Input<K> inside a nested Sequential ("enc.0"): only the network's first layer is an Input.
#include <nnfuse/dsl.hpp>
using namespace nnfuse;  // NOLINT(google-build-using-namespace)
using Net = Sequential<Input<4>, Sequential<Name<"enc">, Input<4>, Dense<2, Name<"fc">>>>;
constexpr std::size_t width = graph<Net>::out_width;
