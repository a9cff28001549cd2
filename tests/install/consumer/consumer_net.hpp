// The consumer's own network spec, written as a user of an installed nnfuse would.
#pragma once

#include <nnfuse/dsl.hpp>

namespace consumer {

using namespace nnfuse;  // NOLINT(google-build-using-namespace): specs read like torch code

using Net = Sequential<Input<5>, Dense<4, Name<"fc1">>, GELU, Dense<3, Name<"fc2">>, LogSoftmax>;

}  // namespace consumer
