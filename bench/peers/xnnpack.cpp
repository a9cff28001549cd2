// XNNPACK peer: xnn_create_fully_connected_nc_f32 (weights [N][K], PyTorch's layout, which is
// XNNPACK's default) with the bias; ReLU is its output clamp [0, +inf), sigmoid, ELU and leaky
// ReLU a second operator over the output. Debian's XNNPACK (2022-02) has no float tanh or GELU
// operator: those rows have no XNNPACK entry. Operators are created and set up once, untimed;
// --threads=N runs them on a pthreadpool of N threads (none for 1: the caller's thread).
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <pthreadpool.h>
#include <xnnpack.h>

#include "peer.hpp"

namespace nnfuse_bench {
namespace {

// The process's pool (set once by --threads; null runs on the caller's thread).
pthreadpool_t& pool() {
  static pthreadpool_t threads = nullptr;
  return threads;
}

void ok(xnn_status status, const char* what) {
  if (status != xnn_status_success) {
    throw std::runtime_error(std::string("XNNPACK: ") + what + " failed with status " +
                             std::to_string(static_cast<int>(status)));
  }
}

bool supports(Activation act) {
  return act != Activation::tanh && act != Activation::gelu && act != Activation::silu;
}

struct Operator {
  xnn_operator_t op = nullptr;
  Operator() = default;
  Operator(const Operator&) = delete;
  Operator& operator=(const Operator&) = delete;
  Operator(Operator&&) = delete;
  Operator& operator=(Operator&&) = delete;
  ~Operator() {
    if (op != nullptr) xnn_delete_operator(op);
  }
};

struct XnnCall : PeerCall {
  Operator fully_connected;
  Operator activation;                // null for none and ReLU
  std::vector<float> pre_activation;  // the fully connected output the activation reads
};

std::unique_ptr<PeerCall> make(const Problem& p, Activation act, std::span<float> output) {
  auto op = std::make_unique<XnnCall>();
  constexpr float inf = std::numeric_limits<float>::infinity();
  const float low = act == Activation::relu ? 0.0F : -inf;
  const bool second = act != Activation::none && act != Activation::relu;
  float* fc_out = output.data();
  if (second) {
    op->pre_activation.resize(output.size());
    fc_out = op->pre_activation.data();
  }
  ok(xnn_create_fully_connected_nc_f32(p.k, p.n, p.k, p.n, p.weight().data(), p.bias().data(), low,
                                       inf, 0, &op->fully_connected.op),
     "xnn_create_fully_connected_nc_f32");
  ok(xnn_setup_fully_connected_nc_f32(op->fully_connected.op, p.batch, p.input.data(), fc_out,
                                      pool()),
     "xnn_setup_fully_connected_nc_f32");
  switch (act) {
    case Activation::sigmoid:
      ok(xnn_create_sigmoid_nc_f32(p.n, p.n, p.n, 0, &op->activation.op), "xnn_create_sigmoid");
      ok(xnn_setup_sigmoid_nc_f32(op->activation.op, p.batch, fc_out, output.data(), pool()),
         "xnn_setup_sigmoid");
      break;
    case Activation::elu:
      ok(xnn_create_elu_nc_f32(p.n, p.n, p.n, elu_alpha, 0, &op->activation.op), "xnn_create_elu");
      ok(xnn_setup_elu_nc_f32(op->activation.op, p.batch, fc_out, output.data(), pool()),
         "xnn_setup_elu");
      break;
    case Activation::leaky_relu:
      ok(xnn_create_leaky_relu_nc_f32(p.n, p.n, p.n, leaky_relu_slope, 0, &op->activation.op),
         "xnn_create_leaky_relu");
      ok(xnn_setup_leaky_relu_nc_f32(op->activation.op, p.batch, fc_out, output.data(), pool()),
         "xnn_setup_leaky_relu");
      break;
    case Activation::tanh:
    case Activation::gelu:
    case Activation::silu:
      throw std::logic_error("XNNPACK has no " + std::string(to_string(act)) + " operator");
    case Activation::none:
    case Activation::relu:
      break;
  }
  op->call = [raw = op.get()] {
    ok(xnn_run_operator(raw->fully_connected.op, pool()), "xnn_run_operator");
    if (raw->activation.op != nullptr) ok(xnn_run_operator(raw->activation.op, pool()), "xnn_run");
  };
  return op;
}

void set_threads(int threads) {
  ok(xnn_initialize(nullptr), "xnn_initialize");
  if (threads > 1) {
    pool() = pthreadpool_create(static_cast<std::size_t>(threads));
    if (pool() == nullptr) throw std::runtime_error("pthreadpool_create failed");
  }
}

void register_all(const Options& /*options*/) {
  add_peer_benchmarks("xnnpack", &supports, &make);
}

}  // namespace
}  // namespace nnfuse_bench

int main(int argc, char** argv) {
  return nnfuse_bench::run_main(argc, argv, "xnnpack", &nnfuse_bench::set_threads,
                                &nnfuse_bench::register_all);
}
