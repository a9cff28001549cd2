// Builds the Halide pipelines of a network spec and compiles them ahead of time: for every
// requested schedule, one function for the whole network (all fused nodes in one pipeline)
// and one per fused node, each for every requested target, plus the packing function that
// turns PyTorch's parameter block into the layout that schedule reads. The generated
// program (cmake/nnfuse_generator.cpp.in, instantiated by nnfuse_add_network) calls
// `generate<Network>` with the command line; everything about the network comes from the
// type through nnfuse::graph / nnfuse::FusedNode, nothing is special-cased per activation.
//
// Naming grammar (docs/ARCHITECTURE.md): <net>__<kernel>__<schedule>[__<variant>], where
// <kernel> is `forward` or the fused node's name (`fc1_relu`), and <variant> names a target of
// a multi-target build (`avx512`, `avx2`, `baseline`, ...).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <Halide.h>
#include <boost/hana/for_each.hpp>
#include <boost/hana/range.hpp>

#include <nnfuse/dsl.hpp>
#include <nnfuse/generators/lower.hpp>

namespace nnfuse::generators {

// Panel width of the `manual` schedule's packed weights: 16 floats, one AVX-512 vector, two
// AVX2 or four NEON vectors, so one layout serves every target of a multi-target build.
inline constexpr std::size_t manual_panel = 16;

// Columns of one tile of the tuned schedules: up to four panels. Weights and vectors are
// zero-padded to a whole number of tiles, so a tile never reads past its tensor.
inline constexpr std::size_t tile_columns(std::size_t n) {
  const std::size_t panels = (n + manual_panel - 1) / manual_panel;
  return std::min<std::size_t>(panels, 4) * manual_panel;
}
inline constexpr std::size_t packed_alignment_floats = 16;

// The schedules a network can be built with (docs/ARCHITECTURE.md, "Schedules"):
//   naive          the algorithm as written: root nodes, nothing vectorized
//   manual         hand-written per-layer plan: register-tiled micro-kernel, tall/short batch
//   fused          manual's nodes, all computed per batch chunk (whole-network fusion)
//   mullapudi2016, adams2019, li2018   Halide's autoschedulers, from the spec's shapes and a
//                  declared typical batch
enum class Schedule { naive, manual, fused, mullapudi2016, adams2019, li2018 };

struct ScheduleName {
  Schedule schedule;
  std::string_view name;
  std::string_view autoscheduler;  // Halide's name for it; empty for a hand-written schedule
};

inline constexpr std::array<ScheduleName, 6> schedule_names{{
    {Schedule::naive, "naive", ""},
    {Schedule::manual, "manual", ""},
    {Schedule::fused, "fused", ""},
    {Schedule::mullapudi2016, "mullapudi2016", "Mullapudi2016"},
    {Schedule::adams2019, "adams2019", "Adams2019"},
    {Schedule::li2018, "li2018", "Li2018"},
}};

inline const ScheduleName& schedule_name(Schedule s) {
  for (const auto& n : schedule_names) {
    if (n.schedule == s) return n;
  }
  throw std::logic_error("nnfuse generator: a schedule without a name");
}

inline std::string to_string(Schedule s) {
  return std::string(schedule_name(s).name);
}

inline Schedule parse_schedule(const std::string& name) {
  std::string known;
  for (const auto& n : schedule_names) {
    if (n.name == name) return n.schedule;
    known += (known.empty() ? "" : ", ") + std::string(n.name);
  }
  throw std::invalid_argument("nnfuse generator: unknown schedule '" + name + "' (known: " + known +
                              ")");
}

// The hand-tuned schedules, which share the micro-kernel.
inline bool is_tuned(Schedule s) {
  return s == Schedule::manual || s == Schedule::fused;
}

// Where each tensor of the parameter block lives in a schedule's packed buffer.
struct PackedTensor {
  std::string name;
  std::size_t torch_offset;  // floats, in the PyTorch-layout parameter block
  std::size_t rows;          // N
  std::size_t cols;          // K, 0 for a vector
  std::size_t offset;        // floats, in the packed buffer
  std::size_t padded_rows;   // N rounded up to the panel width (weights of `manual`)
  bool panels;               // [N/P][K][P] instead of [N][K]
  bool transposed = false;   // [K][padded N] (the autoschedulers' layout) instead of [N][K]
};

struct PackedLayout {
  std::vector<PackedTensor> tensors;
  std::size_t floats = 0;

  const PackedTensor& at(std::string_view name) const {
    for (const auto& t : tensors) {
      if (t.name == name) return t;
    }
    throw std::logic_error("nnfuse generator: no tensor '" + std::string(name) + "'");
  }
};

template <class Net>
PackedLayout packed_layout(Schedule schedule) {
  PackedLayout layout;
  for (const ParameterInfo& p : graph<Net>::parameters) {
    PackedTensor t{std::string(p.name),
                   p.offset_bytes / sizeof(float),
                   p.shape[0],
                   p.shape[1],
                   0,
                   p.shape[0],
                   false};
    if (schedule != Schedule::naive) {
      // Whole tiles: the micro-kernel's tiles and vector loads never leave the tensor. The
      // autoschedulers get [K][N], where any split of n is a dense vector load (given panels,
      // their n/16, n%16 indexing became gathers: measured 600 us for the seed network at
      // B = 32, slower than naive).
      t.panels = p.rank == 2 && is_tuned(schedule);
      t.transposed = p.rank == 2 && !is_tuned(schedule);
      const std::size_t tile = tile_columns(t.rows);
      t.padded_rows = (t.rows + tile - 1) / tile * tile;
    }
    layout.floats = (layout.floats + packed_alignment_floats - 1) / packed_alignment_floats *
                    packed_alignment_floats;
    t.offset = layout.floats;
    layout.floats += t.padded_rows * std::max<std::size_t>(t.cols, 1);
    layout.tensors.push_back(t);
  }
  return layout;
}

// C++ source of the packing function for `layout` (plain loops, run once at load time).
inline std::string pack_function_source(const PackedLayout& layout, const std::string& name) {
  std::ostringstream s;
  s << "void " << name << "(const float* torch, float* packed) noexcept {\n";
  s << "  std::fill(packed, packed + " << layout.floats << ", 0.0F);\n";
  for (const auto& t : layout.tensors) {
    if (t.transposed) {
      s << "  // " << t.name << ": [" << t.rows << "][" << t.cols << "] -> [" << t.cols << "]["
        << t.padded_rows << "], padding columns zero\n";
      s << "  for (std::size_t n = 0; n < " << t.rows << "; ++n) {\n"
        << "    for (std::size_t k = 0; k < " << t.cols << "; ++k) {\n"
        << "      packed[" << t.offset << " + k * " << t.padded_rows << " + n] = torch["
        << t.torch_offset << " + n * " << t.cols << " + k];\n    }\n  }\n";
    } else if (!t.panels) {
      s << "  std::copy_n(torch + " << t.torch_offset << ", "
        << t.rows * std::max<std::size_t>(t.cols, 1) << ", packed + " << t.offset << ");  // "
        << t.name << "\n";
    } else {
      s << "  // " << t.name << ": [" << t.rows << "][" << t.cols << "] -> panels ["
        << t.padded_rows / manual_panel << "][" << t.cols << "][" << manual_panel
        << "], padding rows zero\n";
      s << "  for (std::size_t n = 0; n < " << t.rows << "; ++n) {\n"
        << "    for (std::size_t k = 0; k < " << t.cols << "; ++k) {\n"
        << "      packed[" << t.offset << " + (n / " << manual_panel << ") * "
        << t.cols * manual_panel << " + k * " << manual_panel << " + n % " << manual_panel
        << "] = torch[" << t.torch_offset << " + n * " << t.cols << " + k];\n    }\n  }\n";
    }
  }
  s << "}\n";
  return s.str();
}

// The kernel name of fused node I: its layers' names and kinds, e.g. `fc1_relu`.
template <class Net, std::size_t I>
std::string node_name() {
  using G = graph<Net>;
  std::string name;
  for (std::size_t i = G::nodes[I].first; i < G::nodes[I].last; ++i) {
    const LayerInfo& l = G::layers[i];
    std::string part =
        l.kind == nnfuse::detail::graph::OpKind::dense ? std::string(l.name) : std::string(l.type);
    // Letters and digits only, one '_' between words: "+ residual" -> "residual".
    std::string word;
    for (char c : part) {
      if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
        word += c;
      } else if (!word.empty() && word.back() != '_') {
        word += '_';
      }
    }
    while (!word.empty() && word.back() == '_') word.pop_back();
    part = word;
    name += (name.empty() ? "" : "_") + part;
  }
  return name;
}

namespace detail {

// The Funcs of one fused node, for the schedules to arrange.
struct NodeFuncs {
  Halide::Func out;          // the node's output
  Halide::Func elementwise;  // act(X·Wᵀ + b): `out`, or the input of a row-wise epilogue
  std::optional<Halide::Func> accumulator;  // X·Wᵀ, when the node has a matmul
  // The tuned schedules' second accumulator, for batches smaller than the micro-kernel's rows;
  // `tall` chooses between the two (see build_node).
  std::optional<Halide::Func> short_accumulator;
  Halide::Expr tall;
  Halide::Expr batch;                   // rows of this call
  std::optional<Halide::RDom> k;        // the accumulators' reduction over the input
  std::vector<Halide::Func> row_funcs;  // reductions of a row-wise epilogue (softmax)
  int in_width = 0;
  int out_width = 0;
};

// What a node's definition depends on besides the spec: the batch (the rows of the pipeline's
// input) and, for the tuned schedules, the micro-kernel's row count (0 for naive).
struct NodePlan {
  Halide::Expr batch;
  int tile_rows = 0;
  // batch >= tile_rows, passed in by the generated wrapper: Halide simplifies a specialization
  // with its condition only when that is a boolean parameter, and the two accumulators must be
  // simplified away from each other's plan.
  Halide::Param<bool> tall{"tall"};
};

// Builds fused node I reading `input` (x(k, b)) and, when it adds a residual, `residual`.
// With plan.tile_rows, X·Wᵀ has two definitions, one per micro-kernel plan, and the node reads
// select(plan.tall, tall one, short one): the schedule specializes on plan.tall and Halide
// drops the accumulator a specialization does not read, so each plan gets its own accumulator
// shape.
template <class Net, std::size_t I>
NodeFuncs build_node(const Halide::Func& input, const Halide::Func& residual,
                     const Halide::ImageParam& packed, const PackedLayout& layout,
                     const NodePlan& plan) {
  using Node = FusedNode<Net, I>;
  NodeFuncs funcs;
  funcs.batch = plan.batch;
  funcs.in_width = static_cast<int>(Node::in_width);
  funcs.out_width = static_cast<int>(Node::out_width);
  Halide::Var n("n");
  Halide::Var b("b");
  // z = X·Wᵀ + b as an expression, not a Func: the select between the accumulators must sit in
  // y's own definition for the specializations to simplify it.
  Halide::Expr z;
  if constexpr (Node::has_matmul) {
    const PackedTensor& w = layout.at(Node::parameter_names[0]);
    Halide::RDom r(0, static_cast<int>(Node::in_width), "k" + std::to_string(I));
    Halide::Expr weight;
    if (w.transposed) {
      weight = packed(static_cast<int>(w.offset) + r.x * static_cast<int>(w.padded_rows) + n);
    } else if (w.panels) {
      const auto panel = static_cast<int>(manual_panel);
      weight = packed(static_cast<int>(w.offset) + (n / panel) * static_cast<int>(w.cols) * panel +
                      r.x * panel + n % panel);
    } else {
      weight = packed(static_cast<int>(w.offset) + n * static_cast<int>(w.cols) + r.x);
    }
    auto accumulator = [&](const std::string& name) {
      Halide::Func acc(name + std::to_string(I));
      acc(n, b) = 0.0F;
      acc(n, b) += input(r.x, b) * weight;
      return acc;
    };
    const Halide::Func acc = accumulator("acc");
    Halide::Expr value = acc(n, b);
    if (plan.tile_rows > 0) {
      const Halide::Func short_acc = accumulator("acc_short");
      funcs.tall = plan.tall;
      funcs.short_accumulator = short_acc;
      value = Halide::select(funcs.tall, value, short_acc(n, b));
    }
    if constexpr (Node::has_bias) {
      value += packed(static_cast<int>(layout.at(Node::parameter_names[1]).offset) + n);
    }
    z = value;
    funcs.accumulator = acc;
    funcs.k = r;
  } else {
    z = input(n, b);
  }

  auto param = [&](std::string_view name) -> Halide::Expr {
    if (name == residual_parameter.view()) return Halide::cast<double>(residual(n, b));
    return Halide::cast<double>(packed(static_cast<int>(layout.at(name).offset) + n));
  };
  Halide::Func y("y" + std::to_string(I));
  y(n, b) =
      Halide::cast<float>(lower(Node::epilogue, LowerContext{Halide::cast<double>(z), param, {}}));
  funcs.elementwise = y;
  funcs.out = y;
  if constexpr (Node::has_row_epilogue) {
    Halide::RDom r(0, static_cast<int>(Node::out_width), "j" + std::to_string(I));
    auto context_at = [&](const Halide::Expr& at, std::vector<Halide::Expr> values) {
      return LowerContext{Halide::cast<double>(y(at, b)), param, std::move(values)};
    };
    funcs.row_funcs = row_reduction_funcs(Node::row_epilogue, b, r, context_at);
    std::vector<Halide::Expr> values;
    for (auto& f : funcs.row_funcs) values.push_back(f(b));
    Halide::Func out("row" + std::to_string(I));
    out(n, b) = Halide::cast<float>(lower(Node::row_epilogue, context_at(n, values)));
    funcs.out = out;
  }
  return funcs;
}

// The register tile of the `manual` schedule's micro-kernel on one target: one panel of
// weights (manual_panel columns, panel / lanes vector registers) times `rows` rows of X, every
// accumulator in a register, plus one register for the broadcast X element. On AVX2 (16 ymm)
// that is 16 x 6 (12 accumulators); on AVX-512 (32 zmm) 16 x 12; on NEON (32 q) 16 x 6.
struct MicroKernel {
  int lanes;  // floats per vector register
  int rows;   // rows of X per tile
};

inline MicroKernel micro_kernel(const Halide::Target& target) {
  const int lanes = std::max(1, target.natural_vector_size<float>());
  const int registers =
      target.arch == Halide::Target::X86 && !target.has_feature(Halide::Target::AVX512) ? 16 : 32;
  const int vectors_per_row = std::max(1, static_cast<int>(manual_panel) / lanes);
  const int rows = std::clamp((registers - vectors_per_row - 1) / vectors_per_row, 1, 12);
  return {lanes, rows};
}

inline NodePlan node_plan(Schedule schedule, const Halide::Target& target,
                          const Halide::ImageParam& input) {
  return {input.dim(1).extent(), is_tuned(schedule) ? micro_kernel(target).rows : 0};
}

// Floats per vector of an epilogue, which is evaluated in float64: one float register's worth
// (two double registers). Measured on AVX2 (2026-11-27): 16-wide epilogues spilled and ran
// GELU at 31 ns per element, slower than the unvectorized naive schedule.
inline int epilogue_lanes(const Halide::Target& target) {
  return std::max(1, target.natural_vector_size<float>());
}

// Below this many multiply-adds per call a second thread costs more than it brings: waking
// Halide's pool takes a few microseconds, the work of (32, 128, 10) is about one.
inline constexpr int parallel_threshold_macs = 1 << 18;

// The `manual` plan of a node with a matmul. A batch of at least `rows` rows is cut into
// tiles of one weight panel (16 columns) by `rows` rows; each tile accumulates X·Wᵀ over all of
// K in registers (k outermost, the rows unrolled, the panel's 16 columns one vector, two on
// AVX2): an outer product of 16 contiguous packed weights with one broadcast X element per
// row, every accumulator in a register. Bias and activation are applied to the tile while it is
// in registers/L1. Tiles run n outer, row tile inner, so a panel ([K][16], 50 KiB at K = 784)
// stays in L2 while every row tile passes over it.
// Fewer rows than that (B = 1 is a matrix-vector product) take the short plan: one row, up to
// four panels at once, so eight or more independent accumulators hide the FMA latency.
// Columns past N are guarded in an output (computed into padding in an intermediate); rows
// past the batch are shifted inwards. Every tile starts on a panel boundary, so weight loads
// are aligned vectors.
// Measured on this project's 2-core AVX2 machine (2026-11-27): a 64-column tall tile let LLVM
// spill an accumulator inside the k loop (forward 40 % slower than the node alone); one panel
// per tall tile keeps all twelve in registers. With ReLU, 1 thread (scripts/bench.sh, medians
// of 10, FMA peak 101 GFLOP/s): (32,784,128) 81 GFLOP/s = 79 % of peak (B = 32 computes 36 rows
// in 6-row tiles), (64,512,512) 87 = 84 %, (256,1024,1024) 85 = 82 %, (128,4096,4096) 74 = 72 %;
// the short plan at (1,784,128) 41 GFLOP/s, bound by L2 bandwidth (400 KiB of weights per row).
inline void schedule_dense(NodeFuncs& f, const Halide::Target& target, bool pipeline_output,
                           bool threads) {
  const MicroKernel mk = micro_kernel(target);
  const int panel = static_cast<int>(manual_panel);
  const int short_columns = static_cast<int>(tile_columns(static_cast<std::size_t>(f.out_width)));
  Halide::Func y = f.elementwise;
  const Halide::Var n = y.args()[0];
  const Halide::Var b = y.args()[1];
  const Halide::Var no("no");
  const Halide::Var ni("ni");
  const Halide::Var bo("bo");
  const Halide::Var bi("bi");
  const Halide::Var tile("tile");
  const Halide::Var nv("nv");
  const Halide::Var nl("nl");
  const Halide::Expr worth_threads =
      f.batch * (f.out_width * f.in_width) >= parallel_threshold_macs;
  // An intermediate is computed over whole tiles (its rows padded); an output buffer has the
  // exact width, so its last tile is guarded.
  const Halide::TailStrategy column_tail =
      pipeline_output ? Halide::TailStrategy::GuardWithIf : Halide::TailStrategy::RoundUp;

  auto plan = [&](Halide::Stage s, int columns, int rows, bool parallel) {
    s.split(n, no, ni, columns, column_tail)
        .split(b, bo, bi, rows,
               rows == 1 ? Halide::TailStrategy::RoundUp : Halide::TailStrategy::ShiftInwards)
        .reorder(ni, bi, bo, no)
        .fuse(bo, no, tile)
        .vectorize(ni, epilogue_lanes(target), column_tail);
    if (parallel) s.parallel(tile);
  };
  Halide::Stage tall = y.specialize(f.tall);  // `tall` is false in what follows it
  if (threads) {                              // not inside a fused chunk, which is itself one task
    plan(tall.specialize(worth_threads), panel, mk.rows, true);
    plan(y.specialize(!f.tall && worth_threads), short_columns, 1, true);
  }
  plan(tall, panel, mk.rows, false);
  plan(y, short_columns, 1, false);

  // The tall accumulator: one panel by `rows`, every element a register.
  Halide::Func acc = *f.accumulator;
  acc.compute_at(y, tile).bound_extent(acc.args()[0], panel).vectorize(acc.args()[0]);
  acc.update()
      .reorder(acc.args()[0], acc.args()[1], f.k->x)
      .vectorize(acc.args()[0])
      .unroll(acc.args()[1]);
  // The short one: up to four panels of one row (the packed weights are zero-padded to whole
  // tiles).
  Halide::Func acc_short = *f.short_accumulator;
  const Halide::Var sn = acc_short.args()[0];
  const Halide::Var sb = acc_short.args()[1];
  acc_short.compute_at(y, tile)
      .bound_extent(sn, short_columns)
      .split(sn, nv, nl, panel)
      .vectorize(nl)
      .unroll(nv);
  acc_short.update().split(sn, nv, nl, panel).reorder(nl, nv, sb, f.k->x).vectorize(nl).unroll(nv);
}

// Elementwise outputs (a node without matmul, a row-wise epilogue): vectorized along n,
// parallel over rows when large. An intermediate's last vector shifts inwards (overlaps the one
// before): Halide 14 left the stores of a GuardWithIf-split intermediate unpredicated, writing
// past the row (caught by valgrind). A pipeline output guards its last vector instead, so every
// element is read before it is written and an elementwise network can run in place
// (Model::forward_in_place).
inline void schedule_rows(Halide::Func& f, const Halide::Target& target, int width,
                          const Halide::Expr& batch, bool threads, bool pipeline_output) {
  const Halide::Var n = f.args()[0];
  const Halide::Var b = f.args()[1];
  int lanes = epilogue_lanes(target);
  while (lanes > 1 && lanes > width) lanes /= 2;
  if (lanes > 1) {
    f.vectorize(
        n, lanes,
        pipeline_output ? Halide::TailStrategy::GuardWithIf : Halide::TailStrategy::ShiftInwards);
  }
  if (threads) f.specialize(batch * width >= parallel_threshold_macs / 16).parallel(b);
}

// Where a node is computed and whether it may start threads of its own.
struct Placement {
  Halide::LoopLevel level = Halide::LoopLevel::root();  // for the node's intermediates
  bool pipeline_output = false;
  bool threads = true;
};

// Schedules node `f`; its output's own placement (root, or inside a fused chunk) is the
// caller's.
inline void schedule_node(NodeFuncs& f, Schedule schedule, const Halide::Target& target,
                          const Placement& where) {
  const Halide::Expr& batch = f.batch;
  const bool row_epilogue = f.out.name() != f.elementwise.name();
  if (!is_tuned(schedule)) {  // naive; the autoschedulers place everything themselves
    if (schedule != Schedule::naive) return;
    if (f.accumulator) f.accumulator->compute_at(f.elementwise, f.elementwise.args()[1]);
    if (row_epilogue) f.elementwise.compute_root();
    for (auto& r : f.row_funcs) r.compute_root();
    return;
  }
  if (f.accumulator) {
    schedule_dense(f, target, where.pipeline_output && !row_epilogue, where.threads);
  } else if (row_epilogue) {
    schedule_rows(f.elementwise, target, f.out_width, batch, where.threads, false);
  }
  if (row_epilogue) {
    f.elementwise.compute_at(where.level);
    for (auto& r : f.row_funcs) r.compute_at(where.level);
    schedule_rows(f.out, target, f.out_width, batch, where.threads, where.pipeline_output);
  } else if (!f.accumulator) {
    schedule_rows(f.out, target, f.out_width, batch, where.threads, where.pipeline_output);
  }
}

// Rows per chunk of the `fused` schedule: one micro-kernel tile. A chunk re-reads every
// layer's weights from L2 as a row tile of `manual` re-reads its panel, so larger chunks save
// nothing there, and the last chunk shifts inwards: measured on the seed network at B = 32,
// 24-row chunks computed 48 rows and took 104 us against manual's 80 us.
inline int fused_chunk_rows(const Halide::Target& target) {
  return micro_kernel(target).rows;
}

}  // namespace detail

struct GeneratorOptions {
  std::string name;         // the network's name (`mnist_mlp`)
  std::string spec_header;  // the spec's file name: the generated header includes it through the
                            // include path (no absolute path is written)
  std::string network_type;
  std::string output_dir;  // where objects, the header and the C++ source go
  std::vector<Schedule> schedules;
  // Halide target strings; several make a multi-target build, the last one the baseline.
  std::vector<std::string> targets;
  std::vector<std::string> variant_names;  // one per target: `avx512`, `baseline`, ...
  // For the autoschedulers: the plugins to load, the batch size to plan for, and Halide's
  // machine parameters (parallelism, last-level cache bytes, load cost / arithmetic cost).
  std::vector<std::string> plugins;
  int typical_batch = 32;
  std::string machine_params = "2,33554432,40";
};

namespace detail {

// A C++ condition true when this CPU runs code for `target` (x86 features; other
// architectures have a single variant).
inline std::string cpu_supports(const Halide::Target& target) {
  std::vector<std::string> checks;
  auto need = [&](Halide::Target::Feature f, std::initializer_list<const char*> names) {
    if (target.has_feature(f)) {
      for (const char* n : names)
        checks.push_back(std::string("__builtin_cpu_supports(\"") + n + "\")");
    }
  };
  if (target.arch == Halide::Target::X86) {
    need(Halide::Target::SSE41, {"sse4.1"});
    need(Halide::Target::AVX, {"avx"});
    need(Halide::Target::AVX2, {"avx2"});
    need(Halide::Target::FMA, {"fma"});
    need(Halide::Target::F16C, {"f16c"});
    need(Halide::Target::AVX512, {"avx512f", "avx512cd"});
    need(Halide::Target::AVX512_Skylake,
         {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"});
    need(Halide::Target::AVX512_Cannonlake, {"avx512ifma", "avx512vbmi"});
  }
  if (checks.empty()) return "true";
  std::string all;
  for (const auto& c : checks) all += (all.empty() ? "" : " && ") + c;
  return all;
}

struct Kernel {
  std::string function;  // <net>__<kernel>__<schedule>
  bool reads_residual;
};

// A pipeline built and scheduled for one target, with its arguments in call order.
struct BuiltPipeline {
  Halide::Pipeline pipeline;
  std::vector<Halide::Argument> args;
};

// Estimates for the autoschedulers: the spec's widths and the typical batch.
inline void estimate(Halide::ImageParam& p, int width, int batch) {
  p.set_estimates({{0, width}, {0, batch}});
}
inline void estimate(Halide::OutputImageParam p, int width, int batch) {
  p.set_estimates({{0, width}, {0, batch}});
}

using PipelineBuilder = std::function<BuiltPipeline(const Halide::Target&, Schedule)>;

inline bool is_autoscheduled(Schedule s) {
  return !schedule_name(s).autoscheduler.empty();
}

inline void compile_one(BuiltPipeline built, const Halide::Target& target,
                        const std::string& function, const GeneratorOptions& options,
                        std::vector<std::string>& objects) {
  const std::string file = options.output_dir + "/" + function + ".o";
  built.pipeline.compile_to_object(file, built.args, function, target);
  if (std::getenv("NNFUSE_EMIT_STMT") != nullptr) {  // for reading what a schedule became
    built.pipeline.compile_to_lowered_stmt(options.output_dir + "/" + function + ".stmt",
                                           built.args, Halide::StmtOutputFormat::Text, target);
  }
  objects.push_back(file);
}

// Builds the pipeline once per target (schedules depend on the target's registers) and
// compiles each to the Halide function <fn>__<variant>__halide, which the C entry point
// <fn>__<variant> wraps (generate()). An autoscheduled pipeline is planned for the typical
// batch and may split rows by more than a smaller batch has, so it comes with a
// <fn>__<variant>__small__halide built with `manual`, which the entry point runs below the
// typical batch.
inline void compile_variants(const PipelineBuilder& build, const std::string& fn, Schedule schedule,
                             const GeneratorOptions& options, std::vector<std::string>& objects) {
  for (std::size_t t = 0; t < options.targets.size(); ++t) {
    // No runtime in the kernels: one shared runtime serves every library (Halide #4894).
    const Halide::Target target = Halide::Target(options.targets[t])
                                      .with_feature(Halide::Target::NoRuntime)
                                      .with_feature(Halide::Target::UserContext);
    const std::string variant_fn = fn + "__" + options.variant_names[t];
    BuiltPipeline built = build(target, schedule);
    if (is_autoscheduled(schedule)) {
      // The schedule the autoscheduler chose, as C++, next to the object (for reading, and
      // for checking in where a network ships).
      const Halide::AutoSchedulerResults results =
          built.pipeline.auto_schedule(std::string(schedule_name(schedule).autoscheduler), target,
                                       Halide::MachineParams(options.machine_params));
      std::ofstream(options.output_dir + "/" + variant_fn + ".schedule.h")
          << results.schedule_source;
      compile_one(build(target, Schedule::manual), target, variant_fn + "__small__halide", options,
                  objects);
    }
    compile_one(std::move(built), target, variant_fn + "__halide", options, objects);
  }
}

inline void constrain(Halide::ImageParam& p, int width) {
  p.dim(0).set_bounds(0, width);
  p.dim(1).set_min(0).set_stride(width);
}

inline void constrain(Halide::OutputImageParam p, int width) {
  p.dim(0).set_bounds(0, width);
  p.dim(1).set_min(0).set_stride(width);
}

}  // namespace detail

// Halide's load_plugin registers the autoscheduler again on every call; a generator program
// that makes several networks loads each plugin once.
inline void load_plugin_once(const std::string& path) {
  static std::vector<std::string> loaded;
  if (std::find(loaded.begin(), loaded.end(), path) != loaded.end()) return;
  Halide::load_plugin(path);
  loaded.push_back(path);
}

// Writes <output_dir>/nnfuse/generated/<name>.hpp, <name>_kernels.cpp and one object per kernel and
// target; prints the object files, one per line, for the build system.
template <class Net>
std::vector<std::string> generate(const GeneratorOptions& options) {
  using G = graph<Net>;
  for (const auto& plugin : options.plugins) load_plugin_once(plugin);
  std::vector<std::string> objects;
  std::ostringstream decls;    // extern "C" declarations of every variant function
  std::ostringstream structs;  // one struct per schedule
  std::ostringstream source;   // pack functions and dispatchers

  for (Schedule schedule : options.schedules) {
    const PackedLayout layout = packed_layout<Net>(schedule);
    const std::string sname = to_string(schedule);
    const std::string prefix = options.name + "__";
    std::vector<detail::Kernel> node_kernels;

    // The whole network in one pipeline: tensor 0 is the input, tensor t the output of node t-1.
    auto build_forward = [&](const Halide::Target& target, Schedule schedule) {
      Halide::ImageParam input(Halide::Float(32), 2, "input");
      Halide::ImageParam packed(Halide::Float(32), 1, "packed");
      std::vector<Halide::Func> tensors{Halide::Func(input)};
      std::vector<detail::NodeFuncs> nodes;
      detail::NodePlan plan = detail::node_plan(schedule, target, input);
      boost::hana::for_each(
          boost::hana::make_range(boost::hana::size_c<0>, boost::hana::size_c<G::node_count>),
          [&](auto i) {
            constexpr std::size_t I = decltype(i)::value;
            using Node = FusedNode<Net, I>;
            const Halide::Func residual =
                Node::adds_residual ? tensors[Node::residual_source] : tensors[0];
            nodes.push_back(detail::build_node<Net, I>(tensors[Node::input_tensor], residual,
                                                       packed, layout, plan));
            tensors.push_back(nodes.back().out);
          });
      Halide::Func forward = tensors.back();
      // A single node has nothing to fuse: `fused` then is `manual` (chunks of rows only
      // re-read the weights: measured 29 against 80 GFLOP/s on (128, 4096, 4096)).
      if (schedule == Schedule::fused && nodes.size() > 1) {
        // Whole-network fusion: a trivial output Func cut into chunks of rows, every node
        // computed per chunk, so hidden tensors stay in L1 between layers. A batch smaller than
        // a chunk is one chunk.
        const int chunk_rows = detail::fused_chunk_rows(target);
        Halide::Func result("result");
        const Halide::Var n("n");
        const Halide::Var b("b");
        const Halide::Var chunk("chunk");
        const Halide::Var rows("rows");
        result(n, b) = forward(n, b);
        int lanes = static_cast<int>(manual_panel);
        while (lanes > 1 && lanes > static_cast<int>(G::out_width)) lanes /= 2;
        if (lanes > 1) result.vectorize(n, lanes, Halide::TailStrategy::ShiftInwards);
        result.specialize(plan.batch >= chunk_rows)
            .split(b, chunk, rows, chunk_rows, Halide::TailStrategy::ShiftInwards)
            .parallel(chunk);
        result.split(b, chunk, rows, plan.batch, Halide::TailStrategy::RoundUp);  // one chunk
        const detail::Placement inside{Halide::LoopLevel(result, chunk), false, false};
        for (auto& node : nodes) {
          node.out.compute_at(result, chunk);
          detail::schedule_node(node, schedule, target, inside);
        }
        forward = result;
      } else {
        for (std::size_t t = 0; t < nodes.size(); ++t) {
          if (t + 1 < nodes.size() && detail::is_autoscheduled(schedule)) {
            continue;  // an autoscheduler places the nodes
          }
          if (t + 1 < nodes.size()) nodes[t].out.compute_root();
          detail::schedule_node(nodes[t], schedule, target,
                                {Halide::LoopLevel::root(), t + 1 == nodes.size(), true});
        }
      }
      detail::constrain(input, static_cast<int>(G::in_width));
      packed.dim(0).set_bounds(0, static_cast<int>(layout.floats));
      detail::constrain(forward.output_buffer(), static_cast<int>(G::out_width));
      detail::estimate(input, static_cast<int>(G::in_width), options.typical_batch);
      packed.set_estimates({{0, static_cast<int>(layout.floats)}});
      plan.tall.set_estimate(true);
      detail::estimate(forward.output_buffer(), static_cast<int>(G::out_width),
                       options.typical_batch);
      return detail::BuiltPipeline{Halide::Pipeline(forward), {plan.tall, input, packed}};
    };
    detail::compile_variants(build_forward, prefix + "forward__" + sname, schedule, options,
                             objects);

    // One function per fused node, reading its input (and residual) from buffers.
    boost::hana::for_each(
        boost::hana::make_range(boost::hana::size_c<0>, boost::hana::size_c<G::node_count>),
        [&](auto i) {
          constexpr std::size_t I = decltype(i)::value;
          using Node = FusedNode<Net, I>;
          auto build = [&](const Halide::Target& target, Schedule schedule) {
            Halide::ImageParam input(Halide::Float(32), 2, "input");
            Halide::ImageParam residual(Halide::Float(32), 2, "residual");
            Halide::ImageParam packed(Halide::Float(32), 1, "packed");
            detail::NodePlan plan = detail::node_plan(schedule, target, input);
            detail::NodeFuncs node = detail::build_node<Net, I>(
                Halide::Func(input), Halide::Func(residual), packed, layout, plan);
            detail::schedule_node(node, schedule, target, {Halide::LoopLevel::root(), true, true});
            detail::constrain(input, static_cast<int>(Node::in_width));
            packed.dim(0).set_bounds(0, static_cast<int>(layout.floats));
            detail::constrain(node.out.output_buffer(), static_cast<int>(Node::out_width));
            detail::estimate(input, static_cast<int>(Node::in_width), options.typical_batch);
            packed.set_estimates({{0, static_cast<int>(layout.floats)}});
            plan.tall.set_estimate(true);
            detail::estimate(node.out.output_buffer(), static_cast<int>(Node::out_width),
                             options.typical_batch);
            std::vector<Halide::Argument> args{plan.tall, input};
            if (Node::adds_residual) {
              detail::constrain(residual, static_cast<int>(Node::out_width));
              detail::estimate(residual, static_cast<int>(Node::out_width), options.typical_batch);
              args.push_back(residual);
            }
            args.push_back(packed);
            return detail::BuiltPipeline{Halide::Pipeline(node.out), args};
          };
          const std::string fn = prefix + node_name<Net, I>() + "__" + sname;
          detail::compile_variants(build, fn, schedule, options, objects);
          node_kernels.push_back({fn, Node::adds_residual});
        });

    // Declarations, the C entry points (which tell the Halide function whether the batch fills
    // the micro-kernel's rows), dispatchers and the schedule's struct.
    auto declare = [&](const std::string& fn, bool residual) {
      const std::string buffers = std::string("halide_buffer_t* input, ") +
                                  (residual ? "halide_buffer_t* residual, " : "") +
                                  "halide_buffer_t* packed, halide_buffer_t* output";
      const std::string pass =
          std::string("input, ") + (residual ? "residual, " : "") + "packed, output";
      for (std::size_t t = 0; t < options.variant_names.size(); ++t) {
        const std::string entry = fn + "__" + options.variant_names[t];
        const Halide::Target target(options.targets[t]);
        const bool small_fallback = detail::is_autoscheduled(schedule);
        const int rows =
            is_tuned(schedule) || small_fallback ? detail::micro_kernel(target).rows : 0;
        decls << "int " << entry << "(void* user_context, " << buffers << ");\n";
        source << "\nextern \"C\" int " << entry << "__halide(void* user_context, bool tall, "
               << buffers << ");\n";
        if (small_fallback) {
          source << "extern \"C\" int " << entry
                 << "__small__halide(void* user_context, bool tall, " << buffers << ");\n";
        }
        source << "extern \"C\" int " << entry << "(void* user_context, " << buffers << ") {\n"
               << "  const int rows = input != nullptr && input->dimensions == 2 ? "
                  "input->dim[1].extent : 0;\n"
               << "  const bool tall = rows >= " << rows << ";\n";
        if (small_fallback) {
          source << "  if (rows < " << options.typical_batch << ") return " << entry
                 << "__small__halide(user_context, tall, " << pass << ");\n";
        }
        source << "  return " << entry << "__halide(user_context, tall, " << pass << ");\n}\n";
      }
    };
    declare(prefix + "forward__" + sname, false);
    for (const auto& k : node_kernels) declare(k.function, k.reads_residual);

    const std::string ns = "nnfuse::generated::" + options.name;
    source << "\n// ---- schedule " << sname << "\n";
    source << pack_function_source(layout, ns + "::" + sname + "::pack");
    auto dispatcher = [&](const std::string& fn, const std::string& member, bool residual) {
      source << "int " << ns << "::" << sname << "::" << member
             << "(void* user_context, halide_buffer_t* input, halide_buffer_t* residual, "
                "halide_buffer_t* packed, halide_buffer_t* output) noexcept {\n"
             << "  (void)residual;\n  switch (selected_variant_index()) {\n";
      for (std::size_t v = 0; v < options.variant_names.size(); ++v) {
        source << "    case " << v << ": return " << fn << "__" << options.variant_names[v]
               << "(user_context, input, " << (residual ? "residual, " : "")
               << "packed, output);\n";
      }
      source << "    default: return -1;\n  }\n}\n";
    };
    dispatcher(prefix + "forward__" + sname, "forward", false);
    for (std::size_t k = 0; k < node_kernels.size(); ++k) {
      dispatcher(node_kernels[k].function, "node" + std::to_string(k),
                 node_kernels[k].reads_residual);
    }

    structs << "// Schedule `" << sname << "`: weights packed "
            << (is_tuned(schedule)            ? "in panels of 16 rows ([N/16][K][16])"
                : schedule == Schedule::naive ? "as PyTorch stores them ([N][K])"
                                              : "transposed ([K][N], N padded)")
            << ".\n";
    structs << "struct " << sname << " {\n"
            << "  using network = " << options.network_type << ";\n"
            << "  static constexpr std::string_view name = \"" << options.name << "\";\n"
            << "  static constexpr std::string_view schedule = \"" << sname << "\";\n"
            << "  static constexpr std::size_t packed_floats = " << layout.floats << ";\n"
            << "  static void pack(const float* torch, float* packed) noexcept;\n"
            << "  // Kernel functions share one signature; `residual` is ignored by kernels "
               "that read none.\n"
            << "  static int forward(void* user_context, halide_buffer_t* input, halide_buffer_t* "
               "residual, halide_buffer_t* packed, halide_buffer_t* output) noexcept;\n";
    for (std::size_t k = 0; k < node_kernels.size(); ++k) {
      structs << "  static int node" << k << "(void* user_context, halide_buffer_t* input, "
              << "halide_buffer_t* residual, halide_buffer_t* packed, halide_buffer_t* output) "
                 "noexcept;  // "
              << node_kernels[k].function << "\n";
    }
    structs << "  static constexpr std::array<nnfuse::KernelFn, " << node_kernels.size()
            << "> nodes{";
    for (std::size_t k = 0; k < node_kernels.size(); ++k)
      structs << (k ? ", " : "") << "&node" << k;
    structs << "};\n  static constexpr std::array<std::string_view, " << node_kernels.size()
            << "> node_names{";
    for (std::size_t k = 0; k < node_kernels.size(); ++k) {
      structs << (k ? ", " : "") << "\"" << node_kernels[k].function << "\"";
    }
    structs
        << "};\n  // The whole network per target variant (index into variant_names); a variant "
           "before\n  // selected_variant_index() needs CPU features this machine lacks.\n"
        << "  static constexpr std::array<nnfuse::ForwardFn, " << options.variant_names.size()
        << "> forward_variants{";
    for (std::size_t v = 0; v < options.variant_names.size(); ++v) {
      structs << (v ? ", " : "") << "&" << prefix << "forward__" << sname << "__"
              << options.variant_names[v];
    }
    structs
        << "};\n  static constexpr std::span<const std::string_view> variants = variant_names;\n"
        << "  static std::size_t selected_variant_index() noexcept { return "
        << "nnfuse::generated::" << options.name << "::selected_variant_index(); }\n"
        << "  static std::string_view selected_variant() noexcept { return "
           "variant_names[selected_variant_index()]; }\n"
        << "};\n\n";
  }

  // Variant selection, shared by the schedules: the first target this CPU can run.
  std::ostringstream select;
  select << "std::size_t nnfuse::generated::" << options.name
         << "::selected_variant_index() noexcept {\n"
         << "  static const std::size_t chosen = [] {\n";
  for (std::size_t t = 0; t + 1 < options.targets.size(); ++t) {
    select << "    if (" << detail::cpu_supports(Halide::Target(options.targets[t]))
           << ") return std::size_t{" << t << "};\n";
  }
  // The last target is the baseline, run when no other one is usable.
  select << "    return std::size_t{" << options.targets.size() - 1
         << "};\n  }();\n  return chosen;\n}\n";

  const std::string provenance =
      "// Auto-generated file. Do not edit!\n// Generated by nnfuse " NNFUSE_VERSION_STRING
      " (generators/include/nnfuse/generators/network.hpp) from\n//   spec:     " +
      options.spec_header + "\n//   network:  " + options.network_type + "\n//   targets: ";
  std::string targets_line;
  for (std::size_t t = 0; t < options.targets.size(); ++t) {
    targets_line += " " + options.variant_names[t] + "=" + options.targets[t];
  }

  std::filesystem::create_directories(options.output_dir + "/nnfuse/generated");
  std::ofstream header(options.output_dir + "/nnfuse/generated/" + options.name + ".hpp");
  header << provenance << targets_line << "\n#pragma once\n\n#include <HalideRuntime.h>\n\n"
         << "#include <array>\n#include <cstddef>\n#include <span>\n#include "
            "<string_view>\n#include <tuple>\n\n"
         << "#include <nnfuse/runtime/kernel.hpp>\n#include <nnfuse/runtime/model.hpp>\n"
         // <>, not "": a spec named like its network (mnist_mlp.hpp) would find this header
         << "#include <" << options.spec_header << ">  // the spec, on the include path\n\n"
         << "extern \"C\" {\n"
         << decls.str() << "}\n\n"
         << "namespace nnfuse::generated::" << options.name << " {\n\n"
         << "inline constexpr std::array<std::string_view, " << options.variant_names.size()
         << "> variant_names{";
  for (std::size_t t = 0; t < options.variant_names.size(); ++t) {
    header << (t ? ", " : "") << "\"" << options.variant_names[t] << "\"";
  }
  header << "};\n// The variant this CPU runs (index into variant_names), chosen once.\n"
         << "std::size_t selected_variant_index() noexcept;\n\n"
         << structs.str();
  // Every schedule built, in SCHEDULES order (benchmarks and tests iterate over it).
  header << "using schedules = std::tuple<";
  for (std::size_t s = 0; s < options.schedules.size(); ++s) {
    header << (s ? ", " : "") << to_string(options.schedules[s]);
  }
  header << ">;\n\n}  // namespace nnfuse::generated::" << options.name << "\n";

  std::ofstream cpp(options.output_dir + "/" + options.name + "_kernels.cpp");
  cpp << provenance << targets_line << "\n#include <nnfuse/generated/" << options.name
      << ".hpp>\n\n"
      << "#include <algorithm>\n#include <cstddef>\n"
      << select.str() << source.str();

  // All kernel objects in one archive, so the build needs no list of kernel names.
  Halide::create_static_library(objects, Halide::Target(options.targets.back()),
                                options.output_dir + "/" + options.name + "_kernels.a");
  return objects;
}

}  // namespace nnfuse::generators
