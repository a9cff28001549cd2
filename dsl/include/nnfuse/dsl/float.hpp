// Compile-time values that live in template arguments: `Float`, a real constant stored as the
// bits of a double, and `FixedString`, a name. Both are structural class types, so they work
// as non-type template parameters on g++ 12 *and* clang 14 (which rejects `template <float>`
// and `template <double>`). `Float` converts implicitly from float, double and integer
// literals, so `LeakyReLU<0.2f>` and `lit<1>` read naturally; a float literal converts
// exactly, so `Float{0.01f}` is the float32 slope PyTorch uses, and a double literal keeps
// all 53 bits for constants such as SELU's scale.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace nnfuse {

struct Float {
  std::uint64_t bits;  // public: a structural type needs public members

  // Implicit by design (`LeakyReLU<0.2f>`, `lit<1>`). One constructor per literal type: clang 14
  // accepts a template argument only through an exact-match constructor, no promotion first.
  // NOLINTBEGIN(google-explicit-constructor)
  constexpr Float(double v) noexcept : bits(std::bit_cast<std::uint64_t>(v)) {}
  constexpr Float(float v) noexcept : Float(static_cast<double>(v)) {}
  constexpr Float(int v) noexcept : Float(static_cast<double>(v)) {}
  // NOLINTEND(google-explicit-constructor)

  [[nodiscard]] constexpr double value() const noexcept { return std::bit_cast<double>(bits); }

  friend constexpr bool operator==(Float, Float) = default;
};

template <std::size_t N>
struct FixedString {
  char chars[N]{};  // NOLINT(*-avoid-c-arrays): deduced from a string literal

  // NOLINTNEXTLINE(google-explicit-constructor,*-avoid-c-arrays)
  constexpr FixedString(const char (&text)[N]) noexcept { std::copy_n(text, N, chars); }

  [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
  [[nodiscard]] static constexpr std::size_t size() noexcept { return N - 1; }

  template <std::size_t M>
  friend constexpr bool operator==(const FixedString& a, const FixedString<M>& b) noexcept {
    return a.view() == b.view();
  }
};

template <std::size_t N>
FixedString(const char (&)[N]) -> FixedString<N>;  // NOLINT(*-avoid-c-arrays)

// A name as a pack of characters. Diagnostics carry names in this form too: clang 14 prints a
// FixedString template argument as character codes, but a char pack as 'f', 'c', '1'.
template <char... Cs>
struct Chars {};

namespace detail {
template <FixedString S, std::size_t... I>
constexpr auto chars_of(std::index_sequence<I...> /*indices*/) -> Chars<S.chars[I]...>;
}  // namespace detail

template <FixedString S>
using chars_of = decltype(detail::chars_of<S>(std::make_index_sequence<S.size()>{}));

}  // namespace nnfuse
