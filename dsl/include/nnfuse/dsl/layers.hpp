// Networks as types: the layers a spec is written in. A network is `Sequential<Input<K>,
// layers...>` built from `Dense<N, options...>` (options `Name<"fc1">`, `NoBias`), any `Act<e,
// "kind">` (act.hpp; elementwise, or row-wise like Softmax), `PReLU<Name<"act1">>` (the `prelu`
// expression with a per-channel tensor), nested `Sequential<[Name<"block">,] ...>` and
// `Residual<Block>` (y = x + Block(x)). Layers are empty tags; graph.hpp computes everything
// about a network from its type. A spec that breaks a rule fails to compile with a fixed message
// naming the rule and a helper type carrying the layer names and widths: those helpers are here,
// next to the layers, because their names are what a user reads in the compiler's error.
#pragma once

#include <cstddef>

#include "nnfuse/dsl/expr.hpp"
#include "nnfuse/dsl/float.hpp"

namespace nnfuse {

// ---- layers -------------------------------------------------------------------------------

// A layer's instance name: the key of its tensors in the state_dict (`fc1.weight`).
template <FixedString S>
struct Name {
  static constexpr auto value = S;
};

// Dense option: no bias tensor (torch.nn.Linear(bias=False)).
struct NoBias {};

// The network's input row of K features; only as the first layer of the outermost Sequential.
template <std::size_t K>
struct Input {
  static constexpr std::size_t width = K;
};

// y = x·Wᵀ + b, W of shape [N, K] (K inferred from the layer before), b of shape [N].
template <std::size_t N, class... Options>
struct Dense {};

// torch.nn.PReLU(num_parameters=N): one learned slope per channel, state_dict key `<name>.weight`.
template <class... Options>
struct PReLU {};

// Layers applied in order; nestable. A leading Name<...> prefixes the children's names.
template <class... Children>
struct Sequential {};

// y = x + Block(x). Transparent for naming: the block's tensors are named as if the block stood
// in the Residual's place (torch has no module for the skip connection, so a checkpoint of
// `nn.Sequential(..., Block, ...)` with the add in forward() maps with no renaming).
template <class Block>
struct Residual {};

// The parameter a residual add reads in a fused node's epilogue: the row of the residual input.
// Tensor names always contain a '.', so this name never collides with one.
inline constexpr FixedString residual_parameter = "residual";

// ---- diagnostics --------------------------------------------------------------------------
// g++ 12 prints only literal static_assert messages, so the names and widths travel in the
// template arguments of these helpers. Names appear twice: as FixedString (g++ prints "fc2")
// and as chars_of (clang 14 prints a FixedString as character codes, a Chars as 'f', 'c', '2').

template <class Net, FixedString FirstLayer, class FirstLayerChars = chars_of<FirstLayer>>
struct network_must_start_with_input {
  static_assert(always_false<Net, FirstLayerChars>,
                "nnfuse graph: a network is Sequential<Input<K>, layers...> (optionally "
                "Sequential<Name<...>, Input<K>, ...>): its first layer must be Input<K>");
};

template <FixedString Layer, class LayerChars = chars_of<Layer>>
struct input_must_be_the_first_layer_of_the_network {
  static_assert(always_false<LayerChars>,
                "nnfuse graph: Input<K> may appear only as the first layer of the network");
};

template <FixedString Layer, class LayerChars = chars_of<Layer>>
struct dense_needs_at_least_one_output {
  static_assert(always_false<LayerChars>,
                "nnfuse graph: Dense<N>: N, the number of outputs, must be at least 1");
};

template <FixedString Layer, std::size_t InWidth, std::size_t OutWidth,
          class LayerChars = chars_of<Layer>>
struct residual_block_changes_width {
  static_assert(always_false<LayerChars>,
                "nnfuse graph: Residual<Block> computes x + Block(x), so Block's output width "
                "must equal its input width");
};

template <FixedString Tensor, class TensorChars = chars_of<Tensor>>
struct duplicate_parameter_name {
  static_assert(always_false<TensorChars>,
                "nnfuse graph: two parameters have the same state_dict name; give the layers "
                "distinct Name<...>s");
};

template <FixedString Layer, class LayerChars = chars_of<Layer>>
struct row_wise_activation_not_last {
  static_assert(always_false<LayerChars>,
                "nnfuse graph: a row-wise activation (Softmax, LogSoftmax) must be the last layer "
                "of its chain: only a Dense, or the end of the network, may follow it");
};

template <FixedString Layer, FixedString Parameter, class LayerChars = chars_of<Layer>,
          class ParameterChars = chars_of<Parameter>>
struct activation_reads_a_parameter {
  static_assert(always_false<LayerChars, ParameterChars>,
                "nnfuse graph: an activation layer Act<e, kind> may not read a parameter "
                "(param<...>): a learned per-channel parameter is a layer of its own, like "
                "PReLU<Name<...>>");
};

template <class Layer>
struct not_a_layer {
  static_assert(always_false<Layer>,
                "nnfuse graph: not a layer; layers are Dense, Act<...> (ReLU, Softmax, ...), "
                "PReLU, Sequential and Residual");
};

}  // namespace nnfuse
