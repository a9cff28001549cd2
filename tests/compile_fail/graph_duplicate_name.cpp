// Two Dense layers named "fc" give two tensors named "fc.weight".
#include <nnfuse/dsl.hpp>
using namespace nnfuse;  // NOLINT(google-build-using-namespace)
using Net = Sequential<Input<4>, Dense<8, Name<"fc">>, ReLU, Dense<2, Name<"fc">>>;
constexpr std::size_t count = graph<Net>::parameter_count;
