// nnfuse_ulp_sweep: the accuracy of every activation's generated float32 kernel, measured over
// float32 inputs, per target variant this CPU can run (avx512, avx2, baseline in an x86-64
// build), like XNNPACK's eval/ programs.
//
//   nnfuse_ulp_sweep [--stride S] [--only NAME] [--threads T] [--no-special]
//
// Inputs: every S-th float32 bit pattern (S = 1: all 2^32), plus, unless --no-special, every
// input near the forms' switch points and a dense sample of the subnormals. Error: |y - ref| in
// ULPs of the correctly rounded float32 result (2^-149 below FLT_MIN), ref the float64
// evaluation of the same DSL expression (far below 0.5 float32 ULP everywhere measured); the
// worst input of each row is evaluated again with MPFR where tests/reference has the function.
// Special values are checked exactly: NaN where the reference is NaN and only there, ±inf and
// ±0 bit for bit. Prints one Markdown table; exits 1 if a row exceeds its stated bound (the
// bounds below, which docs/ARCHITECTURE.md quotes) or an exact value is wrong.
#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nnfuse/dsl/eval.hpp>
#include <nnfuse/runtime/model.hpp>

#include "eval_networks.hpp"
#include "mpfr_reference.hpp"
#include "ulp.hpp"
#include "ulp_bounds.hpp"

namespace {

using nnfuse::reference::ulp_error;

struct Options {
  std::uint64_t stride = 1;
  std::string only;
  unsigned threads = std::max(1U, std::thread::hardware_concurrency());
  bool special = true;
};

// The float32 inputs of a run, as ranges of bit patterns.
struct Range {
  std::uint64_t first;
  std::uint64_t last;  // exclusive
  std::uint64_t step;
};

std::vector<Range> input_ranges(const Options& options) {
  std::vector<Range> ranges{{0, std::uint64_t{1} << 32, options.stride}};
  if (!options.special || options.stride == 1) return ranges;
  // The forms' switch points (math32.hpp, activations.hpp): ±2^16 ULPs around each, both signs.
  const float points[] = {0.0F,     0.346573591F, 0.55F,   0.674489750F, 0.693147181F,
                          3.0F,     6.0F,         9.1F,    14.2F,        14.28F,
                          14.5664F, 17.5F,        20.0F,   40.0F,        69.3147F,
                          87.3365F, 88.7228F,     103.97F, 170.0F,       1000.0F};
  for (const float p : points) {
    for (const float signed_point : {p, -p}) {
      const auto bits = static_cast<std::int64_t>(std::bit_cast<std::uint32_t>(signed_point));
      const std::int64_t lo = std::max<std::int64_t>(bits - 65536, 0);
      const std::int64_t hi = std::min<std::int64_t>(
          bits + 65536, std::int64_t{std::numeric_limits<std::uint32_t>::max()});
      ranges.push_back({static_cast<std::uint64_t>(lo), static_cast<std::uint64_t>(hi), 1});
    }
  }
  // Subnormals of both signs.
  ranges.push_back({1, 0x00800000, 61});
  ranges.push_back({0x80000001, 0x80800000, 61});
  return ranges;
}

// One variant's findings over some of the inputs. `*_index` is the input's position in the
// run's order, so that merging the threads' findings gives the same table for any --threads.
// The run's inputs in order: the ranges concatenated, addressed by position.
class Inputs {
 public:
  explicit Inputs(std::vector<Range> ranges) : ranges_(std::move(ranges)) {
    for (const Range& r : ranges_) {
      starts_.push_back(size_);
      size_ += (r.last - r.first + r.step - 1) / r.step;
    }
  }
  [[nodiscard]] std::uint64_t size() const { return size_; }

  // Writes the inputs from position `first` on into `out` (as many as fit); returns how many.
  [[nodiscard]] std::size_t fill(std::uint64_t first, std::span<float> out) const {
    std::size_t r = static_cast<std::size_t>(
        std::upper_bound(starts_.begin(), starts_.end(), first) - starts_.begin() - 1);
    std::uint64_t bits = ranges_[r].first + (first - starts_[r]) * ranges_[r].step;
    std::size_t n = 0;
    while (n < out.size() && r < ranges_.size()) {
      if (bits >= ranges_[r].last) {
        if (++r < ranges_.size()) bits = ranges_[r].first;
        continue;
      }
      out[n++] = std::bit_cast<float>(static_cast<std::uint32_t>(bits));
      bits += ranges_[r].step;
    }
    return n;
  }

 private:
  std::vector<Range> ranges_;
  std::vector<std::uint64_t> starts_;
  std::uint64_t size_ = 0;
};

struct Stats {
  double max_ulp = 0;
  float max_at = 0;
  std::uint64_t max_index = 0;
  double max_ulp_normal = 0;  // where the correctly rounded result is a normal float or 0
  float max_normal_at = 0;
  std::uint64_t max_normal_index = 0;
  std::uint64_t exact_failures = 0;
  float first_failure_at = 0;
  float first_failure_got = 0;
  double first_failure_expected = 0;
  std::uint64_t first_failure_index = 0;
  std::uint64_t inputs = 0;

  // The larger error wins; of equal ones, the earlier input (as one thread would have found).
  void merge(const Stats& o) {
    if (o.max_ulp > max_ulp || (o.max_ulp == max_ulp && o.max_index < max_index)) {
      max_ulp = o.max_ulp;
      max_at = o.max_at;
      max_index = o.max_index;
    }
    if (o.max_ulp_normal > max_ulp_normal ||
        (o.max_ulp_normal == max_ulp_normal && o.max_normal_index < max_normal_index)) {
      max_ulp_normal = o.max_ulp_normal;
      max_normal_at = o.max_normal_at;
      max_normal_index = o.max_normal_index;
    }
    if (o.exact_failures > 0 &&
        (exact_failures == 0 || o.first_failure_index < first_failure_index)) {
      first_failure_at = o.first_failure_at;
      first_failure_got = o.first_failure_got;
      first_failure_expected = o.first_failure_expected;
      first_failure_index = o.first_failure_index;
    }
    exact_failures += o.exact_failures;
    inputs += o.inputs;
  }
};

void account(Stats& s, std::uint64_t index, float x, float y, double ref) {
  ++s.inputs;
  const bool ref_nan = std::isnan(ref);
  const float rounded = nnfuse::reference::round_to_float(ref);
  bool exact_ok = true;
  if (ref_nan || std::isnan(y)) {
    exact_ok = ref_nan && std::isnan(y);
  } else if (std::isinf(x) || x == 0.0F || std::isinf(rounded)) {
    // The limits at ±inf, the signed zeros at ±0 and overflow are exact, bit for bit.
    exact_ok = std::bit_cast<std::uint32_t>(y) == std::bit_cast<std::uint32_t>(rounded);
  }
  if (!exact_ok) {
    if (s.exact_failures++ == 0) {
      s.first_failure_index = index;
      s.first_failure_at = x;
      s.first_failure_got = y;
      s.first_failure_expected = ref;
    }
    return;
  }
  if (ref_nan || std::isinf(ref)) return;
  const double e = ulp_error(y, ref);
  if (e > s.max_ulp) {
    s.max_ulp = e;
    s.max_at = x;
    s.max_index = index;
  }
  if (std::fabs(ref) >= static_cast<double>(std::numeric_limits<float>::min()) || ref == 0.0) {
    if (e > s.max_ulp_normal) {
      s.max_ulp_normal = e;
      s.max_normal_at = x;
      s.max_normal_index = index;
    }
  }
}

// One row of the table: a network, the value of its parameter, the float64 reference, the
// stated bound and the name of its MPFR reference (empty if none).
struct Case {
  std::string label;
  std::function<void(std::size_t variant, nnfuse::Session&, std::span<const float>,
                     std::span<float>)>
      run;
  std::size_t first_variant;
  std::span<const std::string_view> variants;
  std::function<double(double)> reference;
  double bound;
  std::function<double(double)> mpfr_value;  // empty where tests/reference has no such function
};

template <class Compiled>
Case make_case(std::string label, std::vector<float> parameters,
               std::function<double(double)> reference, double bound,
               std::function<double(double)> mpfr_value = {}) {
  auto model = std::make_shared<nnfuse::Model<Compiled>>(
      nnfuse::Model<Compiled>::from_parameters(parameters));
  return Case{std::move(label),
              [model](std::size_t v, nnfuse::Session& session, std::span<const float> in,
                      std::span<float> out) { model->forward_variant(v, session, in, out); },
              Compiled::selected_variant_index(),
              Compiled::variants,
              std::move(reference),
              bound,
              std::move(mpfr_value)};
}

template <class Act>
std::function<double(double)> reference_of() {
  return [](double x) { return nnfuse::eval(Act::expression, x); };
}

// Every row and its stated bound (tests/support/ulp_bounds.hpp); user expressions have none.
std::vector<Case> all_cases() {
  namespace g = nnfuse::generated;
  constexpr std::size_t width = nnfuse_eval::width;
  auto bound = [](std::string_view kind) { return nnfuse_test::fast_ulp_bound(kind); };
  constexpr double no_bound = std::numeric_limits<double>::infinity();
  auto mpfr = [](std::string_view name) {
    return [name](double x) { return nnfuse::reference::activation(name, x); };
  };
  std::vector<Case> cases;
  cases.push_back(make_case<g::eval_relu::naive>("relu", {}, reference_of<nnfuse::ReLU>(),
                                                 bound("relu"), mpfr("relu")));
  cases.push_back(make_case<g::eval_leaky_relu::naive>("leaky_relu (0.01)", {},
                                                       reference_of<nnfuse::LeakyReLU<>>(),
                                                       bound("leaky_relu"), mpfr("leaky_relu")));
  cases.push_back(make_case<g::eval_leaky_relu_0_2::naive>(
      "leaky_relu (0.2)", {}, reference_of<nnfuse::LeakyReLU<0.2F>>(), bound("leaky_relu")));
  for (const float alpha : {0.0F, 0.25F, -0.1F, 1.5F}) {
    cases.push_back(make_case<g::eval_prelu::naive>(
        "prelu (" + std::to_string(alpha).substr(0, 5) + ")", std::vector<float>(width, alpha),
        [alpha](double x) {
          return nnfuse::eval(nnfuse::prelu, x, nnfuse::bind<"alpha">(static_cast<double>(alpha)));
        },
        bound("prelu"),
        [alpha](double x) { return nnfuse::reference::prelu(x, static_cast<double>(alpha)); }));
  }
  cases.push_back(make_case<g::eval_elu::naive>("elu (1)", {}, reference_of<nnfuse::ELU<>>(),
                                                bound("elu"), mpfr("elu")));
  cases.push_back(make_case<g::eval_elu_0_5::naive>(
      "elu (0.5)", {}, reference_of<nnfuse::ELU<0.5>>(), bound("elu")));
  cases.push_back(make_case<g::eval_selu::naive>("selu", {}, reference_of<nnfuse::SELU>(),
                                                 bound("selu"), mpfr("selu")));
  cases.push_back(make_case<g::eval_sigmoid::naive>("sigmoid", {}, reference_of<nnfuse::Sigmoid>(),
                                                    bound("sigmoid"), mpfr("sigmoid")));
  cases.push_back(make_case<g::eval_tanh::naive>("tanh", {}, reference_of<nnfuse::Tanh>(),
                                                 bound("tanh"), mpfr("tanh")));
  cases.push_back(make_case<g::eval_gelu::naive>("gelu", {}, reference_of<nnfuse::GELU>(),
                                                 bound("gelu"), mpfr("gelu")));
  cases.push_back(make_case<g::eval_gelu_tanh::naive>(
      "gelu_tanh", {}, reference_of<nnfuse::GELUTanh>(), bound("gelu_tanh"), mpfr("gelu_tanh")));
  cases.push_back(make_case<g::eval_silu::naive>("silu", {}, reference_of<nnfuse::SiLU>(),
                                                 bound("silu"), mpfr("silu")));
  cases.push_back(make_case<g::eval_mish::naive>("mish", {}, reference_of<nnfuse::Mish>(),
                                                 bound("mish"), mpfr("mish")));
  cases.push_back(make_case<g::eval_softplus::naive>("softplus (1, 20)", {},
                                                     reference_of<nnfuse::Softplus<>>(),
                                                     bound("softplus"), mpfr("softplus")));
  cases.push_back(make_case<g::eval_hardsigmoid::naive>("hardsigmoid", {},
                                                        reference_of<nnfuse::Hardsigmoid>(),
                                                        bound("hardsigmoid"), mpfr("hardsigmoid")));
  cases.push_back(make_case<g::eval_hardswish::naive>(
      "hardswish", {}, reference_of<nnfuse::Hardswish>(), bound("hardswish"), mpfr("hardswish")));
  cases.push_back(make_case<g::eval_relu6::naive>("relu6", {}, reference_of<nnfuse::ReLU6>(),
                                                  bound("relu6"), mpfr("relu6")));
  cases.push_back(make_case<g::eval_x_tanh_softplus::naive>(
      "user: x·tanh(softplus(x))", {}, reference_of<nnfuse_eval::TanhSoftplus>(), no_bound));
  cases.push_back(make_case<g::eval_quick_gelu::naive>(
      "user: x·σ(1.702x)", {}, reference_of<nnfuse_eval::QuickGELU>(), no_bound));
  return cases;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + " needs a value");
      return argv[++i];
    };
    auto number = [&](std::string_view what) {
      const std::string v = value();
      std::size_t used = 0;
      unsigned long long n = 0;
      if (!v.empty() && std::isdigit(static_cast<unsigned char>(v[0])) != 0) {
        n = std::stoull(v, &used);
      }
      if (used != v.size() || n == 0) {
        throw std::invalid_argument(std::string(what) + " must be a positive integer, not '" + v +
                                    "'");
      }
      return n;
    };
    if (flag == "--stride") {
      o.stride = number("--stride");
    } else if (flag == "--only") {
      o.only = value();
    } else if (flag == "--threads") {
      o.threads = static_cast<unsigned>(number("--threads"));
    } else if (flag == "--no-special") {
      o.special = false;
    } else {
      throw std::invalid_argument("unknown option " + std::string(flag) +
                                  " (known: --stride S, --only NAME, --threads T, --no-special)");
    }
  }
  return o;
}

std::string hex(float x) {
  char text[64];
  std::snprintf(text, sizeof text, "%a (%.9g)", static_cast<double>(x), static_cast<double>(x));
  return text;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options options = parse(argc, argv);
  // The program's threads split the inputs; Halide's pool inside each call would only contend.
  setenv("HL_NUM_THREADS", "1", 0);
  std::vector<Case> cases = all_cases();
  if (!options.only.empty()) {
    std::erase_if(cases, [&](const Case& c) { return c.label.rfind(options.only, 0) != 0; });
    if (cases.empty()) throw std::invalid_argument("--only " + options.only + " matches no row");
  }
  const Inputs inputs(input_ranges(options));
  constexpr std::size_t chunk = nnfuse_eval::width * 64;

  std::printf(
      "| activation | variant | max ULP | at x | max ULP, normal results | at x | bound "
      "| MPFR at the worst x | exact-value failures | inputs |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  bool ok = true;
  for (const Case& c : cases) {
    // Each thread takes every threads-th chunk of the inputs, with its own buffers and Session
    // (Halide's own pool stays out of it: HL_NUM_THREADS=1 is set above).
    std::vector<std::vector<Stats>> per_thread(options.threads,
                                               std::vector<Stats>(c.variants.size()));
    std::vector<std::exception_ptr> failures(options.threads);
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < options.threads; ++t) {
      workers.emplace_back([&, t] {
        try {
          std::vector<float> input(chunk);
          std::vector<float> output(chunk);
          std::vector<double> reference(chunk);
          nnfuse::Session session;
          std::vector<Stats>& stats = per_thread[t];
          for (std::uint64_t first = std::uint64_t{t} * chunk; first < inputs.size();
               first += std::uint64_t{options.threads} * chunk) {
            const std::size_t n = inputs.fill(first, input);
            const std::size_t padded =
                (n + nnfuse_eval::width - 1) / nnfuse_eval::width * nnfuse_eval::width;
            std::fill(input.begin() + static_cast<std::ptrdiff_t>(n),
                      input.begin() + static_cast<std::ptrdiff_t>(padded), 0.0F);
            for (std::size_t i = 0; i < n; ++i) reference[i] = c.reference(double{input[i]});
            for (std::size_t v = c.first_variant; v < c.variants.size(); ++v) {
              c.run(v, session, std::span<const float>(input.data(), padded),
                    std::span<float>(output.data(), padded));
              for (std::size_t i = 0; i < n; ++i) {
                account(stats[v], first + i, input[i], output[i], reference[i]);
              }
            }
          }
        } catch (...) {
          failures[t] = std::current_exception();
        }
      });
    }
    for (auto& w : workers) w.join();
    for (const auto& failure : failures) {
      if (failure) std::rethrow_exception(failure);
    }
    std::vector<Stats> stats(c.variants.size());
    for (const auto& found : per_thread) {
      for (std::size_t v = 0; v < stats.size(); ++v) stats[v].merge(found[v]);
    }
    nnfuse::Session session;
    for (std::size_t v = c.first_variant; v < c.variants.size(); ++v) {
      const Stats& s = stats[v];
      std::string mpfr = "—";
      if (c.mpfr_value && s.max_ulp > 0) {
        char text[32];
        std::snprintf(text, sizeof text, "%.3f", [&] {
          const float x = s.max_at;
          std::vector<float> one(nnfuse_eval::width, x);
          std::vector<float> y(nnfuse_eval::width);
          c.run(v, session, one, y);
          return ulp_error(y[0], c.mpfr_value(static_cast<double>(x)));
        }());
        mpfr = text;
      }
      const bool row_ok = s.max_ulp <= c.bound && s.exact_failures == 0;
      ok = ok && row_ok;
      char bound_text[32] = "—";
      if (std::isfinite(c.bound)) std::snprintf(bound_text, sizeof bound_text, "%g", c.bound);
      std::printf("| %s | %s | %.3f | %s | %.3f | %s | %s%s | %s | %llu | %llu |\n",
                  c.label.c_str(), std::string(c.variants[v]).c_str(), s.max_ulp,
                  hex(s.max_at).c_str(), s.max_ulp_normal, hex(s.max_normal_at).c_str(), bound_text,
                  row_ok ? "" : " EXCEEDED", mpfr.c_str(),
                  static_cast<unsigned long long>(s.exact_failures),
                  static_cast<unsigned long long>(s.inputs));
      if (s.exact_failures > 0) {
        std::printf(
            "|   first exact-value failure: x = %s gave %a, expected %a | | | | | | | | | |\n",
            hex(s.first_failure_at).c_str(), static_cast<double>(s.first_failure_got),
            s.first_failure_expected);
      }
      std::fflush(stdout);
    }
  }
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "nnfuse_ulp_sweep: %s\n", e.what());
  return 2;
}
