// The vector-Jacobian product of a row-wise expression, which backward through Softmax or
// LogSoftmax needs and `derivative` (the Jacobian's diagonal) does not give. For y = e(x) over a
// row, e's element i a function of x_i and of the row sums R = row_sum(a(x)), and an incoming
// gradient g:
//   (gᵀ J)_k = g_k · ∂e/∂x (x_k) + Σ_R (Σ_i g_i · ∂e/∂R (x_i)) · ∂a/∂x (x_k)
// with every reduction held constant in the partial derivatives. row_max contributes nothing: it
// is a stabilising shift, under which the catalog's row-wise forms are invariant (derivative.hpp).
// Softmax gives y ⊙ (g − ⟨g, y⟩) and LogSoftmax g − softmax · Σ g, from their ordinary
// definitions. `vjp_terms(e)` is the symbolic form a generator lowers; `eval_vjp_row` evaluates it
// in double, the reference the tests compare with central differences.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/hana/filter.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/transform.hpp>

#include "nnfuse/dsl/derivative.hpp"
#include "nnfuse/dsl/eval.hpp"
#include "nnfuse/dsl/expr.hpp"

namespace nnfuse {

// ∂e/∂x at each element, the row reductions held constant.
template <Expr E>
constexpr auto held_derivative(E e) {
  return detail::Rules::d(e, detail::HeldX{});
}

namespace detail {
template <class R>
struct reduction_parts;
template <class Op, class A>
struct reduction_parts<Node<Op, A>> {
  static constexpr bool is_sum = std::is_same_v<Op, op::RowSum>;
  using inner = A;
};
}  // namespace detail

// One hana::pair (∂e/∂R, ∂a/∂x) per row sum R = row_sum(a) of e on which e depends, in
// row_reductions_of order.
template <Expr E>
constexpr auto vjp_terms(E e) {
  constexpr auto sums = boost::hana::filter(row_reductions_of(e), [](auto r) {
    using R = typename decltype(r)::type;
    using P = detail::reduction_parts<R>;
    if constexpr (P::is_sum) {
      using Outer = decltype(detail::Rules::d(E{}, detail::Reduction<R>{}));
      using Inner = decltype(held_derivative(typename P::inner{}));
      return boost::hana::bool_c < !detail::simplify::is_zero<Outer> &&
             !detail::simplify::is_zero < Inner >>
          ;
    } else {
      return boost::hana::false_c;
    }
  });
  return boost::hana::transform(sums, [](auto r) {
    using R = typename decltype(r)::type;
    return boost::hana::make_pair(detail::Rules::d(E{}, detail::Reduction<R>{}),
                                  held_derivative(typename detail::reduction_parts<R>::inner{}));
  });
}

// out = gᵀ J of e at the row `in`, in double (the reference of the generated kernels).
template <Expr E>
void eval_vjp_row(E e, std::span<const double> in, std::span<const double> g,
                  std::span<double> out) {
  if (g.size() != in.size() || out.size() != in.size()) {
    throw std::invalid_argument("nnfuse::eval_vjp_row: the row has " + std::to_string(in.size()) +
                                " elements, g " + std::to_string(g.size()) + ", out " +
                                std::to_string(out.size()));
  }
  std::vector<double> values(in.size());
  eval_row(held_derivative(e), in, values);
  for (std::size_t k = 0; k < in.size(); ++k) out[k] = g[k] * values[k];
  boost::hana::for_each(vjp_terms(e), [&](auto term) {
    eval_row(boost::hana::first(term), in, values);
    double weight = 0.0;
    for (std::size_t i = 0; i < in.size(); ++i) weight += g[i] * values[i];
    eval_row(boost::hana::second(term), in, values);
    for (std::size_t k = 0; k < in.size(); ++k) out[k] += weight * values[k];
  });
}

}  // namespace nnfuse
