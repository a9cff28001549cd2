// A comparison is a truth value: adding it to a number is rejected.
#include <nnfuse/dsl.hpp>
using namespace nnfuse;
constexpr auto bad = (x > lit<0>)+x;
