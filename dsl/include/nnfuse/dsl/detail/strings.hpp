// Compile-time strings for state_dict names: FixedStrings concatenated and an index in decimal
// (`block1` + `.` + `0`). A name is a template argument of the flat operations, so it is built
// as a FixedString value at compile time, never as a std::string.
#pragma once

#include <algorithm>
#include <cstddef>

#include "nnfuse/dsl/float.hpp"

namespace nnfuse::detail::graph {

// ---- compile-time strings -----------------------------------------------------------------

template <FixedString... S>
constexpr auto concat() {
  constexpr std::size_t n = (S.size() + ... + 0) + 1;
  char buf[n]{};  // NOLINT(*-avoid-c-arrays): FixedString is built from a char array
  std::size_t pos = 0;
  ((std::copy_n(S.chars, S.size(), buf + pos), pos += S.size()), ...);
  return FixedString<n>(buf);
}

template <std::size_t I>
constexpr auto index_string() {
  constexpr std::size_t digits = [] {
    std::size_t d = 1;
    for (std::size_t v = I; v >= 10; v /= 10) ++d;
    return d;
  }();
  char buf[digits + 1]{};  // NOLINT(*-avoid-c-arrays)
  std::size_t v = I;
  for (std::size_t k = digits; k-- > 0; v /= 10) buf[k] = static_cast<char>('0' + v % 10);
  return FixedString<digits + 1>(buf);
}

}  // namespace nnfuse::detail::graph
