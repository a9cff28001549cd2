// The schedule table: every schedule a network can be built with and everything the rest of
// nnfuse asks about one (its autoscheduler, the weight layout it reads, whether it runs the
// micro-kernel, needs a small-batch fallback, may run in place), one row each in schedules.def.
// The generators dispatch on it (schedules.hpp), nnfuse_add_network reads the same rows at
// configure time, and the generated structs carry the flags the runtime checks.
#pragma once

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nnfuse::generators {

// How a schedule's packed buffer holds the weights of a Dense layer.
enum class WeightLayout {
  torch,       // [N][K], as PyTorch stores them
  panels,      // [N/P][K][P], N padded to whole tiles: the micro-kernel's contiguous panels, P
               // columns wide on each target (targets.hpp: 32 on AVX-512, 16 elsewhere)
  transposed,  // [K][N], N padded: any split of n is a dense vector load (the autoschedulers')
};

enum class Schedule {
// An X-macro over schedules.def, the one list of schedules (see there).
// NOLINTBEGIN(cppcoreguidelines-macro-usage, bugprone-macro-parentheses)
#define NNFUSE_SCHEDULE(name, autoscheduler, weights, micro_kernel, fallback, in_place) name,
#include <nnfuse/generators/schedules.def>
#undef NNFUSE_SCHEDULE
  // NOLINTEND(cppcoreguidelines-macro-usage, bugprone-macro-parentheses)
};

struct ScheduleInfo {
  Schedule schedule;
  std::string_view name;
  std::string_view autoscheduler;  // Halide's plugin name; empty for a hand-written schedule
  WeightLayout weights;
  bool micro_kernel;          // runs the register-tiled micro-kernel and its row plans
  bool small_batch_fallback;  // below the typical batch the entry point runs `manual`'s plan
  bool in_place;              // an elementwise network may run in place
};

inline constexpr std::array schedule_table{
// An X-macro over schedules.def, the one list of schedules (see there).
// NOLINTBEGIN(cppcoreguidelines-macro-usage, bugprone-macro-parentheses)
#define NNFUSE_SCHEDULE(name, autoscheduler, weights, micro_kernel, fallback, in_place) \
  ScheduleInfo{Schedule::name,    #name,         autoscheduler, WeightLayout::weights,  \
               micro_kernel != 0, fallback != 0, in_place != 0},
#include <nnfuse/generators/schedules.def>
#undef NNFUSE_SCHEDULE
    // NOLINTEND(cppcoreguidelines-macro-usage, bugprone-macro-parentheses)
};

inline const ScheduleInfo& info(Schedule s) {
  for (const auto& row : schedule_table) {
    if (row.schedule == s) return row;
  }
  throw std::logic_error("nnfuse generator: a schedule missing from schedules.def");
}

inline std::string to_string(Schedule s) {
  return std::string(info(s).name);
}

inline bool is_autoscheduled(Schedule s) {
  return !info(s).autoscheduler.empty();
}

inline Schedule parse_schedule(const std::string& name) {
  std::string known;
  for (const auto& row : schedule_table) {
    if (row.name == name) return row.schedule;
    known += (known.empty() ? "" : ", ") + std::string(row.name);
  }
  throw std::invalid_argument("nnfuse generator: unknown schedule '" + name + "' (known: " + known +
                              ")");
}

// What a generated struct's comment says of the weights.
inline std::string_view describe(WeightLayout layout) {
  switch (layout) {
    case WeightLayout::torch:
      return "as PyTorch stores them ([N][K])";
    case WeightLayout::panels:
      return "in panels ([N/P][K][P], P per target: variant_layouts)";
    case WeightLayout::transposed:
      return "transposed ([K][N], N padded)";
  }
  return "";
}

}  // namespace nnfuse::generators
