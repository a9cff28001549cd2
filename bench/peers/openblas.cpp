// OpenBLAS peer: cblas_sgemm Y = X · Wᵀ (W [N][K] row-major, PyTorch's layout, read transposed;
// cblas_sgemv for a batch of 1, OpenBLAS's own matrix-vector path), then a separate bias and
// activation pass (activation.hpp). --threads sets OpenBLAS's thread count.
#include <memory>
#include <span>

#include <cblas.h>

#include "activation.hpp"
#include "peer.hpp"

namespace nnfuse_bench {
namespace {

bool supports(Activation /*act*/) {
  return true;
}

std::unique_ptr<PeerCall> make(const Problem& p, Activation act, std::span<float> output) {
  auto op = std::make_unique<PeerCall>();
  const auto batch = static_cast<blasint>(p.batch);
  const auto k = static_cast<blasint>(p.k);
  const auto n = static_cast<blasint>(p.n);
  const float* x = p.input.data();
  const float* w = p.weight().data();
  const std::span<const float> bias = p.bias();
  op->call = [=] {
    if (batch == 1) {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0F, w, k, x, 1, 0.0F, output.data(), 1);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, n, k, 1.0F, x, k, w, k, 0.0F,
                  output.data(), n);
    }
    bias_activation(output, bias, act);
  };
  return op;
}

void set_threads(int threads) {
  openblas_set_num_threads(threads);
}

void register_all(const Options& /*options*/) {
  add_peer_benchmarks("openblas", &supports, &make);
}

}  // namespace
}  // namespace nnfuse_bench

int main(int argc, char** argv) {
  return nnfuse_bench::run_main(argc, argv, "openblas", &nnfuse_bench::set_threads,
                                &nnfuse_bench::register_all);
}
