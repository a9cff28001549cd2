// Eigen peer: Y = X · Wᵀ with row-major Matrix<float, Dynamic, Dynamic, RowMajor> maps over the
// same buffers (W [N][K], PyTorch's layout), then bias and activation as Eigen array
// expressions (vectorized by Eigen: max, select, exp, tanh, and erf from its SpecialFunctions
// module). Compiled with -march=native; --threads sets Eigen's OpenMP thread count.
#include <memory>
#include <span>

#include <Eigen/Core>
#include <omp.h>
#include <unsupported/Eigen/SpecialFunctions>

#include "peer.hpp"

namespace nnfuse_bench {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMajor>;
using Map = Eigen::Map<RowMajor>;

bool supports(Activation /*act*/) {
  return true;
}

std::unique_ptr<PeerCall> make(const Problem& p, Activation act, std::span<float> output) {
  auto op = std::make_unique<PeerCall>();
  const auto batch = static_cast<Eigen::Index>(p.batch);
  const auto k = static_cast<Eigen::Index>(p.k);
  const auto n = static_cast<Eigen::Index>(p.n);
  const ConstMap x(p.input.data(), batch, k);
  const ConstMap w(p.weight().data(), n, k);
  const Eigen::Map<const Eigen::RowVectorXf> bias(p.bias().data(), n);
  Map y(output.data(), batch, n);
  op->call = [=]() mutable {
    y.noalias() = x * w.transpose();
    y.rowwise() += bias;
    auto a = y.array();
    switch (act) {
      case Activation::none:
        break;
      case Activation::relu:
        a = a.max(0.0F);
        break;
      case Activation::leaky_relu:
        a = (a > 0.0F).select(a, a * leaky_relu_slope);
        break;
      case Activation::sigmoid:
        a = a.logistic();
        break;
      case Activation::tanh:
        a = a.tanh();
        break;
      case Activation::elu:
        a = (a > 0.0F).select(a, elu_alpha * (a.exp() - 1.0F));
        break;
      case Activation::gelu:
        a = 0.5F * a * (1.0F + (a * 0.70710678118654752F).erf());
        break;
      case Activation::silu:
        a = a * a.logistic();
        break;
    }
  };
  return op;
}

void set_threads(int threads) {
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
}

void register_all(const Options& /*options*/) {
  add_peer_benchmarks("eigen", &supports, &make);
}

}  // namespace
}  // namespace nnfuse_bench

int main(int argc, char** argv) {
  return nnfuse_bench::run_main(argc, argv, "eigen", &nnfuse_bench::set_threads,
                                &nnfuse_bench::register_all);
}
