// A readable text form of any nnfuse expression: `select(x > 0, x, 0.01 * x)`. Infix
// operators get parentheses only where precedence needs them; literals print in the
// shortest form that reads back to the same value (as a float when the value is a float).
// Used in kernel provenance comments, error messages, docs and the activation table.
#pragma once

#include <charconv>
#include <string>

#include "nnfuse/dsl/expr.hpp"

namespace nnfuse {
namespace detail {

inline void append_number(std::string& out, double v) {
  char buffer[32];  // NOLINT(*-avoid-c-arrays): std::to_chars writes into a char range
  const auto as_float = static_cast<float>(v);
  const auto result = static_cast<double>(as_float) == v
                          ? std::to_chars(std::begin(buffer), std::end(buffer), as_float)
                          : std::to_chars(std::begin(buffer), std::end(buffer), v);
  out.append(std::begin(buffer), result.ptr);
}

constexpr int atom_precedence = 10;

inline void print(X /*e*/, std::string& out, int /*context*/) {
  out += 'x';
}

template <Float V>
void print(Lit<V> /*e*/, std::string& out, int context) {
  const bool parenthesize = V.value() < 0 && context > 5;  // `x * (-1)`, not `x * -1`
  if (parenthesize) out += '(';
  append_number(out, V.value());
  if (parenthesize) out += ')';
}

template <FixedString N>
void print(Param<N> /*e*/, std::string& out, int /*context*/) {
  out += N.view();
}

// `context` is the precedence the surrounding operator demands of this operand.
template <class Op, class... A>
void print(Node<Op, A...> /*e*/, std::string& out, int context) {
  if constexpr (Op::notation == Notation::call) {
    out += Op::symbol;
    out += '(';
    bool first = true;
    ((out += first ? "" : ", ", first = false, print(A{}, out, 0)), ...);
    out += ')';
  } else {
    const bool parenthesize = Op::precedence < context;
    if (parenthesize) out += '(';
    if constexpr (Op::notation == Notation::prefix) {
      out += Op::symbol;
      print(A{}..., out, Op::precedence);
    } else {
      // Left-associative: the right operand needs parentheses at equal precedence.
      [&]<class L, class R>(L, R) {
        print(L{}, out, Op::precedence);
        out += ' ';
        out += Op::symbol;
        out += ' ';
        print(R{}, out, Op::precedence + 1);
      }(A{}...);
    }
    if (parenthesize) out += ')';
  }
}

}  // namespace detail

template <Expr E>
std::string to_string(E e) {
  std::string out;
  detail::print(e, out, 0);
  return out;
}

}  // namespace nnfuse
