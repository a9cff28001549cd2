// The AArch64 harness of tests/cross: a program of a cross-built consumer (consumer/), whose
// nnfuse_add_network generated nnfuse_test::ResidualNet's kernels for arm-64-linux on the host;
// linked with the shared Halide runtime for that architecture and nnfuse's runtime compiled by
// g++-aarch64-linux-gnu, run under qemu-aarch64.
//
// For every schedule and batch 1, 3 and 17 it runs
//   - the whole-network kernel through nnfuse::Model and a Session (Halide's allocations come
//     from the Session's arena; a second, warmed call must take nothing from the heap), and
//   - the per-node kernels chained by hand with a null user context (Halide's allocations come
//     from the heap through the same halide_malloc),
// and compares both with nnfuse::reference_forward: |a - b| <= 1e-5 * max(1, |b|). It needs
// neither nlohmann-json nor the weights library (parameters come from a generator, not a file),
// prints one line per schedule and batch and exits 1 on a mismatch, 2 on an error. It also runs
// the runtime's FMA chains (NEON here) and prints nnfuse::describe for `manual` at batch 17.
#if !defined(__aarch64__)
#error "tests/cross/consumer/harness.cpp is built with aarch64-linux-gnu-g++ only"
#endif

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <HalideRuntime.h>
#include <boost/hana/for_each.hpp>
#include <boost/hana/range.hpp>

#include <nnfuse/dsl/reference.hpp>
#include <nnfuse/generated/cross_residual.hpp>
#include <nnfuse/runtime/describe.hpp>
#include <nnfuse/runtime/model.hpp>
#include <nnfuse/runtime/peak.hpp>
#include <nnfuse/runtime/session.hpp>

#include "reference_check.hpp"  // tests/support

namespace {

// The network through its per-node kernels: tensor 0 is the input, tensor t the output of node
// t - 1, each node reading its input (and residual) tensor as the whole-network kernel does.
template <class Compiled>
std::vector<float> forward_by_nodes(const nnfuse::Model<Compiled>& model,
                                    std::span<const float> input, std::size_t batch) {
  namespace hana = boost::hana;
  using Net = typename Compiled::network;
  using G = nnfuse::graph<Net>;
  std::vector<std::vector<float>> tensors(G::node_count + 1);
  tensors[0].assign(input.begin(), input.end());
  const auto packed = model.packed();
  nnfuse::detail::VectorBuffer weights(packed.data(), packed.size());
  hana::for_each(hana::make_range(hana::size_c<0>, hana::size_c<G::node_count>), [&](auto n) {
    constexpr std::size_t index = decltype(n)::value;
    using Node = nnfuse::FusedNode<Net, index>;
    std::vector<float>& out = tensors[index + 1];
    out.assign(batch * Node::out_width, 0.0F);
    nnfuse::detail::RowsBuffer in(tensors[Node::input_tensor].data(), Node::in_width, batch);
    nnfuse::detail::RowsBuffer residual(tensors[Node::residual_source].data(), Node::out_width,
                                        batch);
    nnfuse::detail::RowsBuffer result(out.data(), Node::out_width, batch);
    const int code = Compiled::nodes[index](nullptr, &in.buffer,
                                            Node::adds_residual ? &residual.buffer : nullptr,
                                            &weights.buffer, &result.buffer);
    if (code != 0) nnfuse::detail::throw_kernel_error(Compiled::node_names[index], code);
  });
  return tensors.back();
}

// One line per batch size; true when every output matched the reference.
template <class Compiled>
bool check_schedule() {
  using Net = typename Compiled::network;
  using G = nnfuse::graph<Net>;
  const auto params = nnfuse_test::random_parameters<Net>(1);
  const auto model = nnfuse::Model<Compiled>::from_parameters(params);
  nnfuse::Session session;
  bool ok = true;
  for (const std::size_t batch : {std::size_t{1}, std::size_t{3}, std::size_t{17}}) {
    const auto input = nnfuse_test::random_floats(batch * G::in_width, 2, 3.0F);
    const std::vector<double> expected =
        nnfuse::reference_forward<Net>(params, std::span<const float>(input), batch);

    std::vector<float> output(batch * G::out_width, std::nanf(""));
    model.forward(session, input, output);  // sizes the arena for this batch
    std::fill(output.begin(), output.end(), std::nanf(""));
    model.forward(session, input, output);  // warmed: served from the arena
    const double forward_error = nnfuse_test::max_relative_error(output, expected);
    const std::size_t fallbacks = session.heap_fallbacks();
    const double node_error =
        nnfuse_test::max_relative_error(forward_by_nodes(model, input, batch), expected);

    const bool line_ok = forward_error <= nnfuse_test::default_tolerance &&
                         node_error <= nnfuse_test::default_tolerance && fallbacks == 0;
    ok = ok && line_ok;
    std::printf(
        "%s::%-6s variant %s  batch %2zu  [%zu x %zu]  forward max err %.2e  nodes max err "
        "%.2e  arena %zu B  heap fallbacks %zu  %s\n",
        std::string(Compiled::name).c_str(), std::string(Compiled::schedule).c_str(),
        std::string(Compiled::selected_variant()).c_str(), batch, batch, G::out_width,
        forward_error, node_error, session.arena_bytes(), fallbacks, line_ok ? "ok" : "MISMATCH");
  }
  return ok;
}

}  // namespace

int main() {
  try {
    std::printf("nnfuse cross harness (AArch64): %zu fused nodes, |a - b| <= %.0e * max(1, |b|)\n",
                nnfuse::graph<nnfuse_test::ResidualNet>::node_count,
                nnfuse_test::default_tolerance);
    bool ok = check_schedule<nnfuse::generated::cross_residual::naive>();
    ok = check_schedule<nnfuse::generated::cross_residual::manual>() && ok;
    const nnfuse::FmaChains chains = nnfuse::fma_chains();
    const float chained = chains.run(4096);
    const bool chains_ok = chains.isa == "neon" && std::isfinite(chained);
    std::printf("FMA chains: %.*s, %.0f flops per step, %s\n", static_cast<int>(chains.isa.size()),
                chains.isa.data(), chains.flops_per_step, chains_ok ? "ok" : "MISMATCH");
    ok = ok && chains_ok;
    std::printf(
        "%s", nnfuse::describe<nnfuse::generated::cross_residual::manual>(17).to_string().c_str());
    std::printf("%s\n", ok ? "all outputs match the reference" : "MISMATCH");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nnfuse cross harness: %s\n", e.what());
    return 2;
  }
}
