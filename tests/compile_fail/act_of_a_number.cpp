// Act wraps DSL expressions only.
#include <nnfuse/dsl.hpp>
using Bad = nnfuse::Act<3, "three">;
constexpr bool bad = Bad::row_wise;
