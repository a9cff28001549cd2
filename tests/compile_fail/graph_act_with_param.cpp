// An activation layer whose expression reads param<"gain">: activations carry no tensors.
#include <nnfuse/dsl.hpp>
using namespace nnfuse;  // NOLINT(google-build-using-namespace)
inline constexpr auto gained = x * param<"gain">;
using Gained = Act<gained, "gained">;
using Net = Sequential<Input<4>, Sequential<Name<"blk">, Dense<4, Name<"fc">>, Gained>>;
constexpr std::size_t width = graph<Net>::out_width;
