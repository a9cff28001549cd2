// select's first argument must be a comparison, not a real value.
#include <nnfuse/dsl.hpp>
using namespace nnfuse;
constexpr auto bad = select(x, x, lit<0>);
