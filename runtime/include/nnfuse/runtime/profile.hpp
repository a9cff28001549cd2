// nnfuse::profile(model, session, input): how long each fused node of a network takes, by the
// spec's names. It runs the network node by node through the per-node kernels the generated
// header lists (Compiled::nodes, the selected variant, the Model's packed weights), `repetitions`
// times after one warm-up pass, and reports per node (`fc1_relu`, `fc2`) the median time of a
// call, its share of the nodes' sum, its FLOPs (graph<Net>::node_flops), GFLOP/s and its share
// of this CPU's FMA peak (nnfuse::fma_peak_gflops, measured once per process) on the threads the
// node runs on (Halide's pool when nnfuse::describe says its tiles go parallel, else one). The
// node-by-node sum may exceed a whole-network forward, which keeps hidden tensors in cache and
// makes one call. It allocates its buffers: a profiling tool, not a serving path.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nnfuse/dsl/graph.hpp>
#include <nnfuse/runtime/describe.hpp>
#include <nnfuse/runtime/model.hpp>
#include <nnfuse/runtime/peak.hpp>
#include <nnfuse/runtime/session.hpp>

namespace nnfuse {

struct NodeProfile {
  std::string name;          // the fused node's kernel name (`fc1_relu`)
  double seconds = 0;        // median time of one call
  double share = 0;          // of the nodes' summed medians
  double flops = 0;          // per call
  double gflops = 0;         // flops / seconds / 1e9
  int threads = 1;           // it runs on: Halide's pool when its tiles go parallel
  double peak_fraction = 0;  // gflops / the FMA peak of `threads` threads
};

struct Profile {
  std::size_t batch = 0;
  std::vector<NodeProfile> nodes;
  double seconds = 0;  // the nodes' medians summed

  double peak_gflops_one_thread = 0;  // nnfuse::fma_peak_gflops(1)
  double peak_gflops_pool = 0;        // on Halide's pool (nnfuse::pool_threads())

  [[nodiscard]] std::string to_string() const {
    std::string text = "node                    time (us)   share   GFLOP/s  threads  of peak\n";
    char line[160];  // NOLINT(*-avoid-c-arrays)
    for (const NodeProfile& n : nodes) {
      std::snprintf(line, sizeof line, "%-22s %10.2f %6.1f %% %9.1f %8d  %5.1f %%\n",
                    n.name.c_str(), n.seconds * 1e6, 100.0 * n.share, n.gflops, n.threads,
                    100.0 * n.peak_fraction);
      text += line;
    }
    std::snprintf(
        line, sizeof line,
        "%-22s %10.2f  (batch %zu; FMA peak %.1f GFLOP/s on 1 thread, %.1f on the pool)\n",
        "all nodes", seconds * 1e6, batch, peak_gflops_one_thread, peak_gflops_pool);
    return text + line;
  }
};

namespace detail {
// This CPU's FMA peak on one thread and on Halide's pool, measured on the first call.
inline const std::pair<double, double>& fma_peaks() {
  static const std::pair<double, double> peaks{fma_peak_gflops(1), fma_peak_gflops(pool_threads())};
  return peaks;
}
}  // namespace detail

template <class Compiled>
Profile profile(const Model<Compiled>& model, Session& session, std::span<const float> input,
                int repetitions = 20) {
  using G = graph<typename Compiled::network>;
  constexpr std::size_t node_count = G::node_count;
  if (input.empty() || input.size() % G::in_width != 0) {
    throw std::invalid_argument("nnfuse::profile<" + std::string(Compiled::name) +
                                ">: the input has " + std::to_string(input.size()) +
                                " floats, not a positive multiple of the input width " +
                                std::to_string(G::in_width));
  }
  if (repetitions < 1) {
    throw std::invalid_argument("nnfuse::profile<" + std::string(Compiled::name) +
                                ">: repetitions must be at least 1");
  }
  const std::size_t batch = input.size() / G::in_width;
  std::vector<detail::AlignedFloats> outputs;
  outputs.reserve(node_count);
  for (std::size_t i = 0; i < node_count; ++i) outputs.emplace_back(G::nodes[i].out_width * batch);
  auto tensor = [&](std::size_t t) -> const float* {
    return t == 0 ? input.data() : outputs[t - 1].data.get();
  };
  const std::span<const float> packed = model.packed();
  detail::VectorBuffer weights(packed.data(), packed.size());
  std::vector<std::vector<double>> times(node_count);
  for (int rep = -1; rep < repetitions; ++rep) {  // rep -1 warms the arena and the caches
    for (std::size_t i = 0; i < node_count; ++i) {
      const auto& node = G::nodes[i];
      detail::RowsBuffer in(tensor(node.input_tensor), node.in_width, batch);
      detail::RowsBuffer residual(tensor(node.residual_source), node.out_width, batch);
      detail::RowsBuffer out(outputs[i].data.get(), node.out_width, batch);
      const Session::Call call = session.begin_call();
      const auto start = std::chrono::steady_clock::now();
      const int code = Compiled::nodes[i](call.user_context(), &in.buffer, &residual.buffer,
                                          &weights.buffer, &out.buffer);
      const auto end = std::chrono::steady_clock::now();
      if (code != 0)
        detail::throw_kernel_error(Compiled::node_names[i], code, session.last_error());
      if (rep >= 0) times[i].push_back(std::chrono::duration<double>(end - start).count());
    }
  }
  Profile result;
  result.batch = batch;
  const auto& [one_thread, pool] = detail::fma_peaks();
  result.peak_gflops_one_thread = one_thread;
  result.peak_gflops_pool = pool;
  const CallPlan plan = describe<Compiled>(batch, CallPath::node_by_node);
  for (std::size_t i = 0; i < node_count; ++i) {
    std::vector<double>& t = times[i];
    std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t.size() / 2), t.end());
    NodeProfile n;
    n.name = std::string(detail::node_label<Compiled>(i));
    n.seconds = t[t.size() / 2];
    n.flops = static_cast<double>(G::node_flops(i, batch));
    n.gflops = n.seconds > 0 ? n.flops / n.seconds * 1e-9 : 0;
    n.threads = plan.nodes[i].parallel ? pool_threads() : 1;
    n.peak_fraction = n.gflops / (n.threads > 1 ? pool : one_thread);
    result.seconds += n.seconds;
    result.nodes.push_back(std::move(n));
  }
  for (NodeProfile& n : result.nodes) n.share = result.seconds > 0 ? n.seconds / result.seconds : 0;
  return result;
}

}  // namespace nnfuse
