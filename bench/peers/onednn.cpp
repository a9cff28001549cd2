// oneDNN peer: an inner_product_forward primitive (weights [N][K], PyTorch's layout, as oneDNN
// calls it "oi") with its bias and the activation as an eltwise post-op, so it runs fused like
// nnfuse's kernels. The weights are reordered once, untimed, into the layout the primitive
// prefers (format_tag::any): the fair comparison with nnfuse's packed weights. oneDNN here is
// built on OpenMP, so --threads sets OpenMP's thread count.
#include <memory>
#include <span>
#include <stdexcept>
#include <unordered_map>

#include <dnnl.hpp>
#include <omp.h>

#include "peer.hpp"

namespace nnfuse_bench {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

bool supports(Activation /*act*/) {
  return true;
}  // every activation is an eltwise post-op

struct OneDnnCall : PeerCall {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::inner_product_forward primitive;
  std::unordered_map<int, dnnl::memory> args;
};

std::unique_ptr<PeerCall> make(const Problem& p, Activation act, std::span<float> output) {
  auto op = std::make_unique<OneDnnCall>();
  const auto batch = static_cast<dnnl::memory::dim>(p.batch);
  const auto k = static_cast<dnnl::memory::dim>(p.k);
  const auto n = static_cast<dnnl::memory::dim>(p.n);
  const dnnl::memory::desc src_md({batch, k}, dt::f32, tag::ab);
  const dnnl::memory::desc weights_any({n, k}, dt::f32, tag::any);
  const dnnl::memory::desc bias_md({n}, dt::f32, tag::a);
  const dnnl::memory::desc dst_md({batch, n}, dt::f32, tag::ab);

  dnnl::post_ops post_ops;
  switch (act) {
    case Activation::none:
      break;
    case Activation::relu:
      post_ops.append_eltwise(1.0F, dnnl::algorithm::eltwise_relu, 0, 0);
      break;
    case Activation::leaky_relu:
      post_ops.append_eltwise(1.0F, dnnl::algorithm::eltwise_relu, leaky_relu_slope, 0);
      break;
    case Activation::sigmoid:
      post_ops.append_eltwise(1.0F, dnnl::algorithm::eltwise_logistic, 0, 0);
      break;
    case Activation::tanh:
      post_ops.append_eltwise(1.0F, dnnl::algorithm::eltwise_tanh, 0, 0);
      break;
    case Activation::elu:
      post_ops.append_eltwise(1.0F, dnnl::algorithm::eltwise_elu, elu_alpha, 0);
      break;
    case Activation::gelu:
      post_ops.append_eltwise(1.0F, dnnl::algorithm::eltwise_gelu_erf, 0, 0);
      break;
    case Activation::silu:
      post_ops.append_eltwise(1.0F, dnnl::algorithm::eltwise_swish, 1.0F, 0);  // x·σ(1·x)
      break;
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(post_ops);
  const dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, src_md,
                                               weights_any, bias_md, dst_md);
  const dnnl::inner_product_forward::primitive_desc pd(desc, attr, op->engine);
  op->primitive = dnnl::inner_product_forward(pd);

  // oneDNN's memory objects take non-const pointers; it only reads sources and weights.
  auto* input = const_cast<float*>(p.input.data());      // NOLINT(*-const-cast)
  auto* weight = const_cast<float*>(p.weight().data());  // NOLINT(*-const-cast)
  auto* bias = const_cast<float*>(p.bias().data());      // NOLINT(*-const-cast)
  dnnl::memory user_weights({{n, k}, dt::f32, tag::ab}, op->engine, weight);
  dnnl::memory weights(pd.weights_desc(), op->engine);
  dnnl::reorder(user_weights, weights).execute(op->stream, user_weights, weights);
  op->stream.wait();
  op->args = {{DNNL_ARG_SRC, dnnl::memory(src_md, op->engine, input)},
              {DNNL_ARG_WEIGHTS, weights},
              {DNNL_ARG_BIAS, dnnl::memory(bias_md, op->engine, bias)},
              {DNNL_ARG_DST, dnnl::memory(dst_md, op->engine, output.data())}};
  op->call = [raw = op.get()] {
    raw->primitive.execute(raw->stream, raw->args);
    raw->stream.wait();
  };
  return op;
}

void set_threads(int threads) {
  omp_set_num_threads(threads);
}

void register_all(const Options& /*options*/) {
  add_peer_benchmarks("onednn", &supports, &make);
}

}  // namespace
}  // namespace nnfuse_bench

int main(int argc, char** argv) {
  return nnfuse_bench::run_main(argc, argv, "onednn", &nnfuse_bench::set_threads,
                                &nnfuse_bench::register_all);
}
