// A type that is no layer (here a float) inside a network: rejected, naming the type.
#include <nnfuse/dsl.hpp>
using namespace nnfuse;  // NOLINT(google-build-using-namespace)
using Net = Sequential<Input<4>, Dense<8, Name<"fc1">>, float, Dense<2, Name<"fc2">>>;
constexpr std::size_t width = graph<Net>::out_width;
