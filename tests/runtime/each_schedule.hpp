// for_each_schedule<Schedules>(f): calls f(Schedule{}) for every schedule struct of a generated
// network's `schedules` tuple, so a test covers whatever schedules the build made.
#pragma once

#include <cstddef>
#include <tuple>

#include <nnfuse/dsl/layers.hpp>

namespace nnfuse_test {

// The activation of a one-activation network Sequential<Input<W>, A>.
template <class Net>
struct activation_of;
template <std::size_t W, class A>
struct activation_of<nnfuse::Sequential<nnfuse::Input<W>, A>> {
  using type = A;
};

template <class Schedules, class F>
void for_each_schedule(F&& f) {
  std::apply([&](auto... schedule) { (f(schedule), ...); }, Schedules{});
}

// for_each_network_schedule<Networks>(f): the same over a tuple of networks' `schedules` tuples.
template <class Networks, class F>
void for_each_network_schedule(F&& f) {
  std::apply([&](auto... schedules) { (for_each_schedule<decltype(schedules)>(f), ...); },
             Networks{});
}

}  // namespace nnfuse_test
