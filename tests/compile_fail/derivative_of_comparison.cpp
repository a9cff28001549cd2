// Only real-valued expressions have derivatives.
#include <nnfuse/dsl.hpp>
using namespace nnfuse;
constexpr auto bad = derivative(x > lit<0>);
