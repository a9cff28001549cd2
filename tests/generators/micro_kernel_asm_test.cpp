// The micro-kernel as each target's code generator emits it, including targets this machine
// cannot run: the seed network's first layer (784 -> 128 ReLU, `manual`) is compiled to
// assembly for x86-64 AVX-512, AVX2 and arm-64, and the inner loop of its tallest row plan (the
// k loop of one K-block) must issue rows x panel / lanes FMAs, one broadcast X element per row
// and panel / lanes weight loads per k, with no stack access (no spilled accumulator); the
// shorter row plans' loops as many FMAs per broadcast as they have panels, unspilled too. When
// llvm-mca-14 is installed, the loop's predicted throughput on CPUs of each ISA is printed, as
// FMAs per cycle against the two FMA pipes.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <Halide.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nnfuse/dsl.hpp>
#include <nnfuse/generators/network.hpp>
#include <nnfuse/generators/targets.hpp>

namespace {

using Seed = nnfuse::Sequential<nnfuse::Input<784>, nnfuse::Dense<128, nnfuse::Name<"fc1">>,
                                nnfuse::ReLU, nnfuse::Dense<10, nnfuse::Name<"fc2">>>;

// The instructions of one innermost loop, from its header label to the branch back to it.
struct Loop {
  std::string label;
  std::vector<std::string> instructions;
};

bool is_instruction(const std::string& line) {
  const auto first = line.find_first_not_of(" \t");
  if (first == std::string::npos) return false;
  const char c = line[first];
  return c != '.' && c != '#' && c != '/' && line.find(':') == std::string::npos;
}

// The innermost loops whose header block LLVM named after `loop_name` (Halide's loop names,
// e.g. `for acc_block0.s1.kb0$x`, or `acc_block0$1` where Halide renamed it), from the header
// label to the branch back to it, without comments.
std::vector<Loop> inner_loops(const std::string& text, const std::regex& loop_name) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::vector<Loop> loops;
  const std::regex label_line(R"(^(\.?\w+):\s*(#|//)\s*(.*)$)");
  const std::regex branch(R"(^\s*(j[a-z]+|b\.[a-z]+|b|cbnz|cbz)\s+(.*\s)?([.\w]+)\s*$)");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_match(lines[i], m, label_line) || !std::regex_search(m[3].str(), loop_name)) {
      continue;
    }
    // The header comment follows the label, after any "Parent Loop" lines.
    bool innermost = false;
    for (std::size_t j = i + 1; j < lines.size() && !is_instruction(lines[j]); ++j) {
      innermost = innermost || lines[j].find("Inner Loop Header") != std::string::npos;
    }
    if (!innermost) continue;
    Loop loop{m[1].str(), {}};
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
      if (!is_instruction(lines[j])) continue;
      std::string instruction = lines[j];
      instruction = instruction.substr(0, std::min(instruction.find('#'), instruction.find("//")));
      loop.instructions.push_back(instruction);
      std::smatch b;
      if (std::regex_match(instruction, b, branch) && b[3].str() == loop.label) break;
    }
    loops.push_back(std::move(loop));
  }
  return loops;
}

struct Counts {
  int fmas = 0;
  int broadcasts = 0;    // X elements, one per row and k
  int weight_loads = 0;  // full vectors of the packed panel
  int stack_access = 0;  // a spill or reload
};

struct Isa {
  const char* target;
  bool arm;
  int fmas_per_k;  // rows x panel / lanes of the tallest plan
  int rows;
  int vectors;
  std::vector<const char*> mca_cpus;
};

Counts count(const Loop& loop, bool arm) {
  Counts c;
  for (const std::string& line : loop.instructions) {
    if (arm) {
      if (std::regex_search(line, std::regex(R"(^\s*fmla\s)"))) ++c.fmas;
      if (std::regex_search(line,
                            std::regex(R"(^\s*(ld1r|ldr\s+s\d+|ld1\s+\{\s*v\d+\.s\s*\}\[))"))) {
        ++c.broadcasts;
      }
      if (std::regex_search(line,
                            std::regex(R"(^\s*(ldr\s+q\d+|ldp\s+q\d+|ld1\s+\{\s*v\d+\.4s))"))) {
        c.weight_loads += line.find("ldp") != std::string::npos ? 2 : 1;
      }
      if (line.find("[sp") != std::string::npos) ++c.stack_access;
    } else {
      const bool fma = std::regex_search(line, std::regex(R"(^\s*vfmadd\d+ps\s)"));
      if (fma) ++c.fmas;
      if (std::regex_search(line, std::regex(R"(^\s*vbroadcastss\s)")) ||
          line.find("{1to") != std::string::npos) {
        ++c.broadcasts;
      }
      const bool vector_load = std::regex_search(line, std::regex(R"(^\s*vmov[au]ps\s+-?\w*\()"));
      const bool folded_load =
          fma && line.find('(') != std::string::npos && line.find("{1to") == std::string::npos;
      if (vector_load || folded_load) ++c.weight_loads;
      if (line.find("(%rsp)") != std::string::npos || line.find("(%rbp)") != std::string::npos) {
        ++c.stack_access;
      }
    }
  }
  return c;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// llvm-mca's estimate of cycles per iteration of `loop` on `cpu` (0 when it cannot tell).
double mca_cycles(const Loop& loop, bool arm, const std::string& cpu,
                  const std::filesystem::path& dir) {
  if (std::system("command -v llvm-mca-14 >/dev/null 2>&1") != 0) return 0;
  const std::filesystem::path in = dir / ("loop_" + cpu + ".s");
  const std::filesystem::path out = dir / ("loop_" + cpu + ".mca");
  {
    std::ofstream s(in);
    for (const std::string& line : loop.instructions) s << line << "\n";
  }
  const std::string command = std::string("llvm-mca-14 ") +
                              (arm ? "-mtriple=aarch64-linux-gnu" : "-mtriple=x86_64-linux-gnu") +
                              " -mcpu=" + cpu + " -iterations=200 " + in.string() + " > " +
                              out.string() + " 2>&1";
  if (std::system(command.c_str()) != 0) return 0;
  const std::string report = read_file(out);
  std::smatch m;
  if (!std::regex_search(report, m, std::regex(R"(Block RThroughput:\s*([0-9.]+))"))) return 0;
  return std::stod(m[1].str());
}

// Halide spells AVX-512 several ways; `avx512_skylake` and its successors do not set the base
// feature, and a target string naming only them once got the 16-register AVX2 tile (16 x 6).
TEST(MicroKernel, EverySpellingOfAvx512GetsItsTile) {
  for (const char* name :
       {"x86-64-linux-avx512", "x86-64-linux-avx512_skylake", "x86-64-linux-avx512_cannonlake",
        "x86-64-linux-avx-avx2-avx512-avx512_cannonlake-avx512_sapphirerapids-"
        "avx512_skylake-f16c-fma-sse41"}) {
    SCOPED_TRACE(name);
    const Halide::Target target(name);
    EXPECT_EQ(nnfuse::generators::vector_registers(target), 32);
    const auto mk = nnfuse::generators::micro_kernel(target);
    EXPECT_EQ(mk.panel, 32);
    EXPECT_EQ(mk.rows, 8);
  }
  const Halide::Target avx2("x86-64-linux-avx2-fma");
  EXPECT_EQ(nnfuse::generators::vector_registers(avx2), 16);
  EXPECT_EQ(nnfuse::generators::micro_kernel(avx2).rows, 6);
}

TEST(MicroKernelAsm, TallestPlanInnerLoopPerIsa) {
  using nnfuse::generators::Schedule;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("nnfuse_asm_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // AVX-512: 32 x 8 (2 zmm per row); AVX2: 16 x 6 (2 ymm); NEON: 16 x 6 (4 q).
  const std::array isas{
      Isa{"x86-64-linux-avx512", false, 16, 8, 2, {"skylake-avx512", "icelake-server"}},
      Isa{"x86-64-linux-avx2-fma", false, 12, 6, 2, {"haswell", "znver3"}},
      Isa{"arm-64-linux", true, 24, 6, 4, {"cortex-a72", "neoverse-n1"}},
  };
  for (const Isa& isa : isas) {
    SCOPED_TRACE(isa.target);
    const Halide::Target target = Halide::Target(isa.target)
                                      .with_feature(Halide::Target::NoRuntime)
                                      .with_feature(Halide::Target::UserContext);
    const auto rows = nnfuse::generators::micro_kernel(target).rows;
    ASSERT_EQ(rows, isa.rows);
    const auto layout = nnfuse::generators::packed_layout<Seed>(Schedule::manual, target);
    auto built = nnfuse::generators::detail::build_single_node<Seed, 0>(
        target, Schedule::manual, nnfuse::generators::Precision::fast, layout, 32);
    const std::filesystem::path file = dir / (std::string(isa.target) + ".s");
    built.pipeline.compile_to_assembly(file.string(), built.args, "fc1_relu", target);
    // The tallest plan's k loop over one K-block (its accumulator is `acc0`, the block's sum
    // `acc_block0`); with and without threads it is the same loop.
    const std::vector<Loop> loops =
        inner_loops(read_file(file), std::regex(R"(for acc_block0(\$\d+)?\.s1\.kb0\$x)"));
    ASSERT_FALSE(loops.empty());
    const Loop* tall = &loops.front();
    const Counts best = count(*tall, isa.arm);
    for (const Loop& loop : loops) {
      const Counts c = count(loop, isa.arm);
      EXPECT_EQ(c.fmas, best.fmas);
      EXPECT_EQ(c.stack_access, 0) << loop.label;
    }
    // LLVM may unroll the k loop: everything per k scales by the same factor.
    ASSERT_GT(best.fmas, 0);
    ASSERT_EQ(best.fmas % isa.fmas_per_k, 0) << best.fmas << " FMAs";
    const int unroll = best.fmas / isa.fmas_per_k;
    EXPECT_EQ(best.broadcasts, unroll * isa.rows) << "broadcasts";
    EXPECT_EQ(best.weight_loads, unroll * isa.vectors) << "weight loads";
    EXPECT_EQ(best.stack_access, 0) << "stack accesses (spills) in the loop";
    std::printf(
        "%s: tall k loop %s, unrolled x%d: %d FMAs, %d broadcasts, %d weight loads, %zu "
        "instructions\n",
        isa.target, tall->label.c_str(), unroll, best.fmas, best.broadcasts, best.weight_loads,
        tall->instructions.size());
    for (const char* cpu : isa.mca_cpus) {
      const double cycles = mca_cycles(*tall, isa.arm, cpu, dir);
      if (cycles > 0) {
        std::printf(
            "  llvm-mca-14 -mcpu=%s: %.2f cycles per iteration, %.2f FMAs per cycle "
            "(%.0f %% of 2 FMA pipes)\n",
            cpu, cycles, best.fmas / cycles, 100.0 * best.fmas / cycles / 2.0);
      } else {
        std::printf("  llvm-mca-14 -mcpu=%s: no estimate\n", cpu);
      }
    }
    // The shorter plans (half the rows, more panels): rows x panels x vectors FMAs per k,
    // one broadcast per row, and no spill either.
    const std::string text = read_file(file);
    const auto plans = nnfuse::generators::row_plans(target);
    for (std::size_t p = 1; p < plans.size(); ++p) {
      const std::string name = "acc_rows" + std::to_string(plans[p].rows) + "__block0";
      SCOPED_TRACE(name);
      const std::vector<Loop> plan_loops =
          inner_loops(text, std::regex("for " + name + R"((\$\d+)?\.s1\.kb0\$x)"));
      ASSERT_FALSE(plan_loops.empty());
      for (const Loop& loop : plan_loops) {
        const Counts c = count(loop, isa.arm);
        const int per_k =
            plans[p].rows * nnfuse::generators::plan_panels(plans[p], 4) * isa.vectors;
        ASSERT_GT(c.fmas, 0);
        EXPECT_EQ(c.fmas % per_k, 0) << c.fmas << " FMAs";
        EXPECT_EQ(c.broadcasts * per_k, c.fmas * plans[p].rows) << c.broadcasts << " broadcasts";
        EXPECT_EQ(c.stack_access, 0) << loop.label;
      }
      std::printf("  plan %d rows x %d panels (of 4): %zu loops\n", plans[p].rows,
                  nnfuse::generators::plan_panels(plans[p], 4), plan_loops.size());
    }
  }
  if (std::getenv("NNFUSE_KEEP_ASM") == nullptr) std::filesystem::remove_all(dir);
}

}  // namespace
