// for_each_schedule<Schedules>(f): calls f(Schedule{}) for every schedule struct of a generated
// network's `schedules` tuple, so a test covers whatever schedules the build made.
#pragma once

#include <tuple>

namespace nnfuse_test {

template <class Schedules, class F>
void for_each_schedule(F&& f) {
  std::apply([&](auto... schedule) { (f(schedule), ...); }, Schedules{});
}

}  // namespace nnfuse_test
