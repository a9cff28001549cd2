// nnfuse's DSL in one include: expressions (`x`, `lit`, `param`, operators and functions),
// their evaluation, printing and derivatives, the activation catalog and the `Act` wrapper, and
// networks as types: the layers, `graph<Net>` with its fused nodes, `reference_forward` and
// `summary`. Header-only, plain C++20 and Boost.Hana; nothing here knows Halide.
#pragma once

#include "nnfuse/dsl/act.hpp"
#include "nnfuse/dsl/activations.hpp"
#include "nnfuse/dsl/derivative.hpp"
#include "nnfuse/dsl/eval.hpp"
#include "nnfuse/dsl/expr.hpp"
#include "nnfuse/dsl/float.hpp"
#include "nnfuse/dsl/graph.hpp"
#include "nnfuse/dsl/layers.hpp"
#include "nnfuse/dsl/loss.hpp"
#include "nnfuse/dsl/reference.hpp"
#include "nnfuse/dsl/summary.hpp"
#include "nnfuse/dsl/to_string.hpp"
#include "nnfuse/dsl/vjp.hpp"
