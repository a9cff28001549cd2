// How a graph rule fails: `check<ok, Diagnostic>` is true, or instantiates Diagnostic (one of
// the helpers in layers.hpp), whose static_assert names the rule. A variable template rather
// than a bare static_assert, so that the helper, with the names and widths it carries, is
// instantiated only when the rule is broken.
#pragma once

namespace nnfuse::detail::graph {

// Instantiates Diagnostic, whose static_assert reports the rule, and is false.
template <class Diagnostic>
constexpr bool report() {
  (void)sizeof(Diagnostic);
  return false;
}

// True when Ok; otherwise reports Diagnostic. Naming Diagnostic as a template argument does not
// instantiate it, so an unbroken rule costs nothing.
template <bool Ok, class Diagnostic>
inline constexpr bool check = true;
template <class Diagnostic>
inline constexpr bool check<false, Diagnostic> = report<Diagnostic>();

}  // namespace nnfuse::detail::graph
