// nnfuse::Trainer<Compiled>: trains a network with the training kernels generated for it
// (nnfuse_add_network(... LOSS nnfuse::CrossEntropy | nnfuse::MSE), schedules naive and manual).
// The trainer owns the one master copy of the weights, in the packed layout its variant's kernels
// read (the variant this CPU selects, unless asked for another); the gradients and SGD's momentum
// live in that layout too, so the optimizer is one elementwise kernel over three buffers and the
// padding stays zero. `step(session, inputs, targets)` runs every node's training forward (which
// keeps each node's pre-activation z where its derivative needs it), the loss fused into the last
// node's backward, every node's backward in reverse (the activation's derivative fused in, dX
// skipped for the first node) and SGD, and returns the batch's mean loss before the update. Buffers
// are sized for the largest batch seen: a warmed step allocates nothing. Results are bit-identical
// from run to run at any thread count (every reduction has a fixed order). `model()` is a snapshot
// (a Model packed from the current weights); `save(path)` writes the weights as a safetensors file
// with PyTorch's state_dict names, atomically; `save_state` / `load_state` keep SGD's momentum
// across runs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <HalideRuntime.h>

#include <nnfuse/dsl/graph.hpp>
#include <nnfuse/dsl/loss.hpp>
#include <nnfuse/runtime/kernel.hpp>
#include <nnfuse/runtime/model.hpp>
#include <nnfuse/runtime/session.hpp>
#include <nnfuse/weights/safetensors.hpp>

namespace nnfuse {

// torch.optim.SGD's hyperparameters (dampening 0, no Nesterov); set at run time.
struct Sgd {
  float lr = 0.01F;
  float momentum = 0.0F;
  float weight_decay = 0.0F;
};

namespace detail {
// A 1-D int32 halide_buffer_t (CrossEntropy's labels).
struct LabelsBuffer {
  halide_dimension_t dim;
  halide_buffer_t buffer{};
  LabelsBuffer(const std::int32_t* data, std::size_t size);
};

// A float as the shortest decimal that reads back to the same float ("%.9g").
std::string exact_decimal(float value);

// The state_dict-named tensors of a parameter block, for the safetensors writer.
std::vector<TensorToSave> tensors_to_save(std::span<const ParameterInfo> parameters,
                                          std::span<const float> block,
                                          const std::string& suffix = {});
}  // namespace detail

template <class Compiled>
class Trainer {
  static_assert(Compiled::trains,
                "nnfuse::Trainer: this schedule has no training kernels; build the network with "
                "nnfuse_add_network(... LOSS nnfuse::CrossEntropy | nnfuse::MSE) and the naive "
                "or manual schedule");

 public:
  using network = typename Compiled::network;
  using loss = typename Compiled::loss;
  using G = graph<network>;
  static constexpr std::size_t in_width = G::in_width;
  static constexpr std::size_t out_width = G::out_width;
  static constexpr std::size_t node_count = G::node_count;
  // CrossEntropy: one class index per row; MSE: a target row as wide as the output.
  using Targets = std::conditional_t<loss::integer_labels, std::span<const std::int32_t>,
                                     std::span<const float>>;

  // From a safetensors file with PyTorch's state_dict names, or a Model's current weights. The
  // trainer runs one target variant (an index into Compiled::variants): by default the one this
  // CPU selects; an earlier one needs features this CPU lacks and is refused.
  explicit Trainer(const std::filesystem::path& weights, Sgd sgd = {},
                   std::size_t variant = Compiled::selected_variant_index())
      : Trainer(Model<Compiled>(weights).parameters(), sgd, variant) {}
  explicit Trainer(const Model<Compiled>& model, Sgd sgd = {},
                   std::size_t variant = Compiled::selected_variant_index())
      : Trainer(model.parameters(), sgd, variant) {}
  // From a parameter block laid out as graph<network>::parameters says.
  static Trainer from_parameters(std::span<const float> parameters, Sgd sgd = {},
                                 std::size_t variant = Compiled::selected_variant_index()) {
    if (parameters.size() * sizeof(float) != G::parameter_bytes) {
      throw std::invalid_argument(name("from_parameters") + ": the parameter block has " +
                                  std::to_string(parameters.size()) + " floats, expected " +
                                  std::to_string(G::parameter_bytes / sizeof(float)));
    }
    return Trainer(std::vector<float>(parameters.begin(), parameters.end()), sgd, variant);
  }

  // The target variant this trainer runs (an index into Compiled::variants).
  [[nodiscard]] std::size_t variant() const noexcept { return variant_; }

  [[nodiscard]] Sgd& optimizer() noexcept { return sgd_; }
  [[nodiscard]] const Sgd& optimizer() const noexcept { return sgd_; }

  // One SGD step on a batch (inputs [batch, in_width]); returns the mean loss before the update.
  float step(Session& session, std::span<const float> inputs, Targets targets) {
    const float loss = gradients(session, inputs, targets);
    detail::VectorBuffer weights(weights_.data.get(), weights_.size);
    detail::VectorBuffer gradient(gradient_.data.get(), gradient_.size);
    detail::VectorBuffer velocity(velocity_.data.get(), velocity_.size);
    const Session::Call call = session.begin_call();
    check(session, "sgd",
          Compiled::sgd(call.user_context(), variant_, sgd_.lr, sgd_.momentum, sgd_.weight_decay,
                        &weights.buffer, &gradient.buffer, &velocity.buffer));
    return loss;
  }

  // The loss and every parameter's gradient at the current weights, without an update (read
  // them with gradient_parameters()); with `input_gradient` ([batch, in_width]), dLoss/dinput
  // too.
  float gradients(Session& session, std::span<const float> inputs, Targets targets,
                  std::span<float> input_gradient = {}) {
    const std::size_t batch = check_arguments(inputs, targets, input_gradient);
    reserve(batch);
    forward_pass(session, inputs, batch);
    return backward_pass(session, inputs, targets, input_gradient, batch);
  }

  // The weights and the last gradients, in PyTorch's layout (graph<network>::parameters).
  [[nodiscard]] std::vector<float> parameters() const { return unpacked(weights_); }
  [[nodiscard]] std::vector<float> gradient_parameters() const { return unpacked(gradient_); }
  [[nodiscard]] std::vector<float> momentum_parameters() const { return unpacked(velocity_); }

  // A snapshot: a Model packed from the current weights (later steps do not change it).
  [[nodiscard]] Model<Compiled> model() const {
    return Model<Compiled>::from_parameters(parameters());
  }

  // The weights as safetensors with PyTorch's state_dict names, written atomically.
  void save(const std::filesystem::path& path) const {
    const std::vector<float> block = parameters();
    save_safetensors(path, detail::tensors_to_save(G::parameters, block),
                     {{"nnfuse.network", std::string(Compiled::name)}});
  }

  // SGD's state (the momentum buffers, as `<tensor>.momentum_buffer`, and the
  // hyperparameters), so a run can resume where it stopped; load_state checks every tensor.
  void save_state(const std::filesystem::path& path) const {
    const std::vector<float> block = momentum_parameters();
    save_safetensors(path, detail::tensors_to_save(G::parameters, block, ".momentum_buffer"),
                     {{"nnfuse.network", std::string(Compiled::name)},
                      {"lr", detail::exact_decimal(sgd_.lr)},
                      {"momentum", detail::exact_decimal(sgd_.momentum)},
                      {"weight_decay", detail::exact_decimal(sgd_.weight_decay)}});
  }
  void load_state(const std::filesystem::path& path) {
    const SafetensorsFile file = SafetensorsFile::open(path);
    std::vector<TensorSpec> specs = Model<Compiled>::expected_tensors();
    std::vector<std::size_t> offsets;
    offsets.reserve(specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
      specs[i].name += ".momentum_buffer";
      offsets.push_back(G::parameters[i].offset_bytes / sizeof(float));
    }
    std::vector<float> block(G::parameter_bytes / sizeof(float), 0.0F);
    load_float32(file, specs, block, offsets, {});
    Compiled::pack(layout_, block.data(), velocity_.data.get());
    const auto& metadata = file.metadata();
    auto read = [&](const char* key, float& value) {
      if (auto it = metadata.find(key); it != metadata.end()) value = std::stof(it->second);
    };
    read("lr", sgd_.lr);
    read("momentum", sgd_.momentum);
    read("weight_decay", sgd_.weight_decay);
  }

  // Floats kept per row for backward beyond each node's output (its pre-activation z).
  static constexpr std::size_t kept_floats_per_row() {
    std::size_t floats = 0;
    for (std::size_t i = 0; i < node_count; ++i) {
      if (Compiled::keeps_pre_activation[i]) floats += G::nodes[i].out_width;
    }
    return floats;
  }

 private:
  Trainer(std::vector<float> parameters, Sgd sgd, std::size_t variant)
      : sgd_(sgd),
        variant_(checked_variant(variant)),
        layout_(Compiled::variant_layouts[variant_]),
        weights_(Compiled::layout_floats[layout_]),
        gradient_(Compiled::layout_floats[layout_]),
        velocity_(Compiled::layout_floats[layout_]) {
    Compiled::pack(layout_, parameters.data(), weights_.data.get());
    std::fill_n(gradient_.data.get(), gradient_.size, 0.0F);
    std::fill_n(velocity_.data.get(), velocity_.size, 0.0F);
  }

  static std::size_t checked_variant(std::size_t variant) {
    if (variant >= Compiled::variants.size() || variant < Compiled::selected_variant_index()) {
      throw std::invalid_argument(name("Trainer") + ": variant " + std::to_string(variant) +
                                  " does not exist or needs CPU features this machine lacks");
    }
    return variant;
  }
  static std::string name(const char* member) {
    return "nnfuse::Trainer<" + std::string(Compiled::name) + ">::" + member;
  }

  [[nodiscard]] std::vector<float> unpacked(const detail::AlignedFloats& packed) const {
    std::vector<float> block(G::parameter_bytes / sizeof(float), 0.0F);
    Compiled::unpack(layout_, packed.data.get(), block.data());
    return block;
  }

  static void check(Session& session, const char* kernel, int code) {
    if (code != 0) {
      detail::throw_kernel_error(std::string(Compiled::name) + " " + kernel, code,
                                 session.last_error());
    }
  }

  // Builds its messages only on failure: a valid step must not allocate.
  static std::size_t check_arguments(std::span<const float> inputs, Targets targets,
                                     std::span<float> input_gradient) {
    auto fail = [](const std::string& what) {
      throw std::invalid_argument(name("step") + ": " + what);
    };
    if (inputs.data() == nullptr || inputs.empty() || inputs.size() % in_width != 0) {
      fail("the input has " + std::to_string(inputs.size()) +
           " floats, not a positive multiple of the input width " + std::to_string(in_width));
    }
    const std::size_t batch = inputs.size() / in_width;
    if constexpr (loss::integer_labels) {
      if (targets.size() != batch) {
        fail("there are " + std::to_string(targets.size()) + " labels for a batch of " +
             std::to_string(batch));
      }
      for (std::size_t b = 0; b < batch; ++b) {
        if (targets[b] < 0 || static_cast<std::size_t>(targets[b]) >= out_width) {
          fail("label " + std::to_string(targets[b]) + " of row " + std::to_string(b) +
               " is not a class index in [0, " + std::to_string(out_width) + ")");
        }
      }
    } else if (targets.size() != batch * out_width) {
      fail("the target has " + std::to_string(targets.size()) + " floats, expected batch " +
           std::to_string(batch) + " x " + std::to_string(out_width));
    }
    if (!input_gradient.empty() && input_gradient.size() != inputs.size()) {
      fail("the input gradient has " + std::to_string(input_gradient.size()) +
           " floats, expected " + std::to_string(inputs.size()));
    }
    return batch;
  }

  // Row buffers for `batch` rows (grown only for a larger batch than any before).
  void reserve(std::size_t batch) {
    if (batch <= capacity_) return;
    for (std::size_t i = 0; i < node_count; ++i) {
      const std::size_t width = G::nodes[i].out_width;
      outputs_[i].emplace(width * batch);
      output_grads_[i].emplace(width * batch);
      if (Compiled::keeps_pre_activation[i]) pre_activations_[i].emplace(width * batch);
      if (G::nodes[i].adds_residual) residual_grads_[i].emplace(width * batch);
    }
    loss_rows_.emplace(batch);
    capacity_ = batch;
  }

  [[nodiscard]] const float* tensor(std::size_t t, std::span<const float> inputs) const {
    return t == 0 ? inputs.data() : outputs_[t - 1]->data.get();
  }

  void forward_pass(Session& session, std::span<const float> inputs, std::size_t batch) {
    detail::VectorBuffer packed(weights_.data.get(), weights_.size);
    for (std::size_t i = 0; i < node_count; ++i) {
      const auto& node = G::nodes[i];
      detail::RowsBuffer in(tensor(node.input_tensor, inputs), node.in_width, batch);
      detail::RowsBuffer residual(tensor(node.residual_source, inputs), node.out_width, batch);
      detail::RowsBuffer out(outputs_[i]->data.get(), node.out_width, batch);
      float* z = Compiled::keeps_pre_activation[i] ? pre_activations_[i]->data.get()
                                                   : outputs_[i]->data.get();
      detail::RowsBuffer pre(z, node.out_width, batch);
      const Session::Call call = session.begin_call();
      check(session, "training forward",
            Compiled::train_forward_nodes[i](call.user_context(), variant_, &in.buffer,
                                             &residual.buffer, &packed.buffer, &pre.buffer,
                                             &out.buffer));
    }
  }

  float backward_pass(Session& session, std::span<const float> inputs, Targets targets,
                      std::span<float> input_gradient, std::size_t batch) {
    detail::VectorBuffer packed(weights_.data.get(), weights_.size);
    detail::VectorBuffer gradient(gradient_.data.get(), gradient_.size);
    detail::VectorBuffer loss_rows(loss_rows_->data.get(), batch);
    std::optional<detail::LabelsBuffer> labels;
    std::optional<detail::RowsBuffer> target_rows;
    if constexpr (loss::integer_labels) {
      labels.emplace(targets.data(), batch);
    } else {
      target_rows.emplace(targets.data(), out_width, batch);
    }
    for (std::size_t i = node_count; i-- > 0;) {
      const auto& node = G::nodes[i];
      const bool last = i + 1 == node_count;
      detail::RowsBuffer out(outputs_[i]->data.get(), node.out_width, batch);
      detail::RowsBuffer dout(output_grads_[i]->data.get(), node.out_width, batch);
      // Every later node that reads this node's output as its residual adds its dRes.
      std::array<std::optional<detail::RowsBuffer>, node_count> dres_in;
      std::array<halide_buffer_t*, node_count> dres_list{};
      std::size_t readers = 0;
      for (std::size_t j = i + 1; j < node_count; ++j) {
        if (G::nodes[j].adds_residual && G::nodes[j].residual_source == i + 1) {
          dres_in[readers].emplace(residual_grads_[j]->data.get(), node.out_width, batch);
          dres_list[readers] = &dres_in[readers]->buffer;
          ++readers;
        }
      }
      const float* z = Compiled::keeps_pre_activation[i] ? pre_activations_[i]->data.get()
                                                         : outputs_[i]->data.get();
      detail::RowsBuffer pre(z, node.out_width, batch);
      detail::RowsBuffer residual(tensor(node.residual_source, inputs), node.out_width, batch);
      detail::RowsBuffer in(tensor(node.input_tensor, inputs), node.in_width, batch);
      const bool wants_dx = i > 0 || !input_gradient.empty();
      float* dx = i > 0 ? output_grads_[i - 1]->data.get() : input_gradient.data();
      detail::RowsBuffer dinput(dx, node.in_width, batch);
      float* dres = node.adds_residual ? residual_grads_[i]->data.get() : nullptr;
      detail::RowsBuffer dresidual(dres, node.out_width, batch);

      BackwardBuffers io;
      if (last) {
        io.target = labels ? &labels->buffer : &target_rows->buffer;
        io.output = &out.buffer;
        io.loss_rows = &loss_rows.buffer;
      } else {
        io.doutput = &dout.buffer;
      }
      io.dresidual = dres_list.data();
      io.pre_activation = &pre.buffer;
      io.residual = &residual.buffer;
      io.input = &in.buffer;
      io.packed = &packed.buffer;
      io.dinput = wants_dx ? &dinput.buffer : nullptr;
      io.dresidual_source = dres != nullptr ? &dresidual.buffer : nullptr;
      io.gradient = &gradient.buffer;
      const BackwardFn kernel =
          i == 0 && wants_dx ? &Compiled::backward_input0 : Compiled::backward_nodes[i];
      const Session::Call call = session.begin_call();
      check(session, "backward", kernel(call.user_context(), variant_, io));
    }
    // The network input's share of residual gradients (a residual over the first layers).
    if (!input_gradient.empty()) {
      for (std::size_t j = 0; j < node_count; ++j) {
        if (!G::nodes[j].adds_residual || G::nodes[j].residual_source != 0) continue;
        const float* dres = residual_grads_[j]->data.get();
        for (std::size_t e = 0; e < batch * in_width; ++e) input_gradient[e] += dres[e];
      }
    }
    // The mean: each row's loss is already divided by the batch; summed in order, in double.
    double total = 0.0;
    for (std::size_t b = 0; b < batch; ++b) total += loss_rows_->data.get()[b];
    return static_cast<float>(total);
  }

  Sgd sgd_;
  std::size_t variant_ = 0;
  std::size_t layout_ = 0;  // the packed layout the variant's kernels read
  detail::AlignedFloats weights_;
  detail::AlignedFloats gradient_;
  detail::AlignedFloats velocity_;
  std::size_t capacity_ = 0;
  std::array<std::optional<detail::AlignedFloats>, node_count> outputs_;
  std::array<std::optional<detail::AlignedFloats>, node_count> output_grads_;
  std::array<std::optional<detail::AlignedFloats>, node_count> pre_activations_;
  std::array<std::optional<detail::AlignedFloats>, node_count> residual_grads_;
  std::optional<detail::AlignedFloats> loss_rows_;
};

}  // namespace nnfuse
