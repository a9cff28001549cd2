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

#include <array>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
inline constexpr std::size_t packed_alignment_floats = 16;

enum class Schedule { naive, manual };

inline std::string to_string(Schedule s) {
  return s == Schedule::naive ? "naive" : "manual";
}

inline Schedule parse_schedule(const std::string& name) {
  if (name == "naive") return Schedule::naive;
  if (name == "manual") return Schedule::manual;
  throw std::invalid_argument("nnfuse generator: unknown schedule '" + name +
                              "' (known: naive, manual)");
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
    if (schedule == Schedule::manual && p.rank == 2) {
      t.panels = true;
      t.padded_rows = (t.rows + manual_panel - 1) / manual_panel * manual_panel;
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
    if (!t.panels) {
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

// Builds fused node I reading `input` (x(k, b)) and, when it adds a residual, `residual`.
template <class Net, std::size_t I>
Halide::Func build_node(const Halide::Func& input, const Halide::Func& residual,
                        const Halide::ImageParam& packed, const PackedLayout& layout,
                        Schedule schedule, std::vector<Halide::Func>& row_funcs) {
  using Node = FusedNode<Net, I>;
  Halide::Var n("n");
  Halide::Var b("b");
  Halide::Func z("z" + std::to_string(I));
  std::optional<Halide::Func> accumulator;  // one row of X·Wᵀ, computed per row of the output
  if constexpr (Node::has_matmul) {
    const PackedTensor& w = layout.at(Node::parameter_names[0]);
    Halide::RDom r(0, static_cast<int>(Node::in_width), "k");
    Halide::Expr weight;
    if (w.panels) {
      const auto panel = static_cast<int>(manual_panel);
      weight = packed(static_cast<int>(w.offset) + (n / panel) * static_cast<int>(w.cols) * panel +
                      r.x * panel + n % panel);
    } else {
      weight = packed(static_cast<int>(w.offset) + n * static_cast<int>(w.cols) + r.x);
    }
    Halide::Func acc("acc" + std::to_string(I));
    acc(n, b) = 0.0F;
    acc(n, b) += input(r.x, b) * weight;
    Halide::Expr value = acc(n, b);
    if constexpr (Node::has_bias) {
      value += packed(static_cast<int>(layout.at(Node::parameter_names[1]).offset) + n);
    }
    z(n, b) = value;
    accumulator = acc;
    if (schedule == Schedule::manual) {
      const int lanes = static_cast<int>(manual_panel);
      acc.vectorize(n, lanes, Halide::TailStrategy::GuardWithIf);
      acc.update().reorder(n, r.x, b).vectorize(n, lanes, Halide::TailStrategy::GuardWithIf);
    }
  } else {
    z(n, b) = input(n, b);
  }

  auto param = [&](std::string_view name) -> Halide::Expr {
    if (name == residual_parameter.view()) return Halide::cast<double>(residual(n, b));
    return Halide::cast<double>(packed(static_cast<int>(layout.at(name).offset) + n));
  };
  Halide::Func y("y" + std::to_string(I));
  y(n, b) = Halide::cast<float>(
      lower(Node::epilogue, LowerContext{Halide::cast<double>(z(n, b)), param, {}}));
  if (accumulator) accumulator->compute_at(y, b);
  if constexpr (!Node::has_row_epilogue) {
    return y;
  } else {
    Halide::RDom r(0, static_cast<int>(Node::out_width), "j");
    auto context_at = [&](const Halide::Expr& at, std::vector<Halide::Expr> values) {
      return LowerContext{Halide::cast<double>(y(at, b)), param, std::move(values)};
    };
    auto reductions = row_reduction_funcs(Node::row_epilogue, b, r, context_at);
    std::vector<Halide::Expr> values;
    for (auto& f : reductions) values.push_back(f(b));
    Halide::Func out("row" + std::to_string(I));
    out(n, b) = Halide::cast<float>(lower(Node::row_epilogue, context_at(n, values)));
    y.compute_root();
    for (auto& f : reductions) row_funcs.push_back(f);
    return out;
  }
}

// A node's output: vectorized along n, parallel over rows. ShiftInwards (the last vector
// overlaps the one before) instead of GuardWithIf: Halide 14 left the stores of a
// GuardWithIf-split intermediate unpredicated, writing past the row (caught by valgrind).
inline void schedule_output(Halide::Func& f, Schedule schedule, std::size_t width) {
  if (schedule != Schedule::manual) return;
  Halide::Var n = f.args()[0];
  Halide::Var b = f.args()[1];
  int lanes = static_cast<int>(manual_panel);
  while (lanes > 1 && static_cast<std::size_t>(lanes) > width) lanes /= 2;
  if (lanes > 1) f.vectorize(n, lanes, Halide::TailStrategy::ShiftInwards);
  f.parallel(b);
}

}  // namespace detail

struct GeneratorOptions {
  std::string name;         // the network's name (`mnist_mlp`)
  std::string spec_header;  // for the provenance comment and the generated header's #include
  std::string network_type;
  std::string output_dir;  // where objects, the header and the C++ source go
  std::vector<Schedule> schedules;
  // Halide target strings; several make a multi-target build, the last one the baseline.
  std::vector<std::string> targets;
  std::vector<std::string> variant_names;  // one per target: `avx512`, `baseline`, ...
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

inline void compile_variants(Halide::Pipeline pipeline, const std::vector<Halide::Argument>& args,
                             const std::string& fn, const GeneratorOptions& options,
                             std::vector<std::string>& objects) {
  for (std::size_t t = 0; t < options.targets.size(); ++t) {
    // No runtime in the kernels: one shared runtime serves every library (Halide #4894).
    const Halide::Target target = Halide::Target(options.targets[t])
                                      .with_feature(Halide::Target::NoRuntime)
                                      .with_feature(Halide::Target::UserContext);
    const std::string variant_fn = fn + "__" + options.variant_names[t];
    const std::string file = options.output_dir + "/" + variant_fn + ".o";
    pipeline.compile_to_object(file, args, variant_fn, target);
    if (std::getenv("NNFUSE_EMIT_STMT") != nullptr) {  // for reading what a schedule became
      pipeline.compile_to_lowered_stmt(options.output_dir + "/" + variant_fn + ".stmt", args,
                                       Halide::StmtOutputFormat::Text, target);
    }
    objects.push_back(file);
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

// Writes <output_dir>/nnfuse/generated/<name>.hpp, <name>_kernels.cpp and one object per kernel and
// target; prints the object files, one per line, for the build system.
template <class Net>
std::vector<std::string> generate(const GeneratorOptions& options) {
  using G = graph<Net>;
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
    {
      Halide::ImageParam input(Halide::Float(32), 2, "input");
      Halide::ImageParam packed(Halide::Float(32), 1, "packed");
      std::vector<Halide::Func> tensors{Halide::Func(input)};
      std::vector<std::size_t> widths{G::in_width};
      std::vector<Halide::Func> row_funcs;
      boost::hana::for_each(
          boost::hana::make_range(boost::hana::size_c<0>, boost::hana::size_c<G::node_count>),
          [&](auto i) {
            constexpr std::size_t I = decltype(i)::value;
            using Node = FusedNode<Net, I>;
            const Halide::Func residual =
                Node::adds_residual ? tensors[Node::residual_source] : tensors[0];
            tensors.push_back(detail::build_node<Net, I>(tensors[Node::input_tensor], residual,
                                                         packed, layout, schedule, row_funcs));
            widths.push_back(Node::out_width);
          });
      Halide::Func forward = tensors.back();
      for (std::size_t t = 1; t + 1 < tensors.size(); ++t) {
        tensors[t].compute_root();
        detail::schedule_output(tensors[t], schedule, widths[t]);
      }
      for (auto& f : row_funcs) f.compute_root();
      detail::schedule_output(forward, schedule, G::out_width);
      detail::constrain(input, static_cast<int>(G::in_width));
      packed.dim(0).set_bounds(0, static_cast<int>(layout.floats));
      detail::constrain(forward.output_buffer(), static_cast<int>(G::out_width));
      detail::compile_variants(Halide::Pipeline(forward), {input, packed},
                               prefix + "forward__" + sname, options, objects);
    }

    // One function per fused node, reading its input (and residual) from buffers.
    boost::hana::for_each(
        boost::hana::make_range(boost::hana::size_c<0>, boost::hana::size_c<G::node_count>),
        [&](auto i) {
          constexpr std::size_t I = decltype(i)::value;
          using Node = FusedNode<Net, I>;
          Halide::ImageParam input(Halide::Float(32), 2, "input");
          Halide::ImageParam residual(Halide::Float(32), 2, "residual");
          Halide::ImageParam packed(Halide::Float(32), 1, "packed");
          std::vector<Halide::Func> row_funcs;
          Halide::Func out = detail::build_node<Net, I>(Halide::Func(input), Halide::Func(residual),
                                                        packed, layout, schedule, row_funcs);
          for (auto& f : row_funcs) f.compute_root();
          detail::schedule_output(out, schedule, Node::out_width);
          detail::constrain(input, static_cast<int>(Node::in_width));
          packed.dim(0).set_bounds(0, static_cast<int>(layout.floats));
          detail::constrain(out.output_buffer(), static_cast<int>(Node::out_width));
          std::vector<Halide::Argument> args{input};
          if (Node::adds_residual) {
            detail::constrain(residual, static_cast<int>(Node::out_width));
            args.push_back(residual);
          }
          args.push_back(packed);
          const std::string fn = prefix + node_name<Net, I>() + "__" + sname;
          detail::compile_variants(Halide::Pipeline(out), args, fn, options, objects);
          node_kernels.push_back({fn, Node::adds_residual});
        });

    // Declarations, dispatchers and the schedule's struct.
    auto declare = [&](const std::string& fn, bool residual) {
      for (const auto& v : options.variant_names) {
        decls << "int " << fn << "__" << v << "(void* user_context, halide_buffer_t* input, "
              << (residual ? "halide_buffer_t* residual, " : "")
              << "halide_buffer_t* packed, halide_buffer_t* output);\n";
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
            << (schedule == Schedule::manual ? "in panels of 16 rows ([N/16][K][16])"
                                             : "as PyTorch stores them ([N][K])")
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
         << "#include <array>\n#include <cstddef>\n#include <span>\n#include <string_view>\n#include <tuple>\n\n"
         << "#include <nnfuse/runtime/kernel.hpp>\n#include <nnfuse/runtime/model.hpp>\n#include \""
         << options.spec_header << "\"\n\n"
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
