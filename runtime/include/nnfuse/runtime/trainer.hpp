// nnfuse::Trainer<Compiled, Optimizer>: trains a network with the training kernels generated for
// it (nnfuse_add_network(... LOSS nnfuse::CrossEntropy | nnfuse::MSE), schedules naive and
// manual), with nnfuse::Sgd (torch.optim.SGD) or nnfuse::Adam (torch.optim.Adam). The trainer
// owns the one master copy of the weights, in the packed layout its variant's kernels read (the
// variant this CPU selects, unless asked for another); the gradients and the optimizer's state
// (SGD's momentum, Adam's two moments) live in that layout too, so the optimizer is one
// elementwise kernel and the padding stays zero. `step(session, inputs, targets)` runs every node's
// training forward (which keeps each node's pre-activation z where its derivative needs it), the
// loss fused into the last node's backward, every node's backward in reverse (the activation's
// derivative fused in, dX skipped for the first node) and the optimizer, and returns the batch's
// mean loss before the update. Buffers are sized for the largest batch seen: a warmed step
// allocates nothing. Results are bit-identical from run to run at any thread count (every reduction
// has a fixed order). `model()` is a snapshot (a Model packed from the current weights);
// `save(path)` writes the weights as a safetensors file with PyTorch's state_dict names,
// atomically; `save_state` / `load_state` keep the optimizer's state (and its hyperparameters and
// step count) across runs. The hyperparameters are read at every step, so a learning-rate schedule
// is `trainer.optimizer().lr = ...` between steps.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <HalideRuntime.h>

#include <nnfuse/dsl/graph.hpp>
#include <nnfuse/dsl/loss.hpp>
#include <nnfuse/runtime/kernel.hpp>
#include <nnfuse/runtime/model.hpp>
#include <nnfuse/runtime/session.hpp>
#include <nnfuse/runtime/statistics.hpp>
#include <nnfuse/weights/safetensors.hpp>

namespace nnfuse {

// torch.optim.SGD's hyperparameters (dampening 0, no Nesterov); set at run time. Its state is
// one buffer per parameter, saved under torch's name.
struct Sgd {
  float lr = 0.01F;
  float momentum = 0.0F;
  float weight_decay = 0.0F;

  static constexpr std::string_view name = "sgd";
  static constexpr std::array<std::string_view, 1> state_tensors{"momentum_buffer"};
  template <class Self>
  static auto hyperparameters(Self& self) {
    return std::array{std::pair{"lr", &self.lr}, std::pair{"momentum", &self.momentum},
                      std::pair{"weight_decay", &self.weight_decay}};
  }
  // The first hyperparameter torch.optim.SGD would refuse (each must be finite and >= 0), or null.
  [[nodiscard]] const char* invalid() const noexcept;
};

// torch.optim.Adam's hyperparameters (not AMSGrad); set at run time. Its state is the two
// moments per parameter, under torch's names, and the step count t.
struct Adam {
  float lr = 1e-3F;
  float beta1 = 0.9F;
  float beta2 = 0.999F;
  float eps = 1e-8F;
  float weight_decay = 0.0F;

  static constexpr std::string_view name = "adam";
  static constexpr std::array<std::string_view, 2> state_tensors{"exp_avg", "exp_avg_sq"};
  template <class Self>
  static auto hyperparameters(Self& self) {
    return std::array{std::pair{"lr", &self.lr}, std::pair{"beta1", &self.beta1},
                      std::pair{"beta2", &self.beta2}, std::pair{"eps", &self.eps},
                      std::pair{"weight_decay", &self.weight_decay}};
  }
  // The first hyperparameter torch.optim.Adam would refuse (finite and >= 0, betas < 1), or null.
  [[nodiscard]] const char* invalid() const noexcept;
  // Step t's scalars for the generated kernel (t >= 1), computed in double as torch does.
  [[nodiscard]] AdamStep at_step(std::int64_t t) const noexcept;
};

template <class T>
concept Optimizer = std::is_same_v<T, Sgd> || std::is_same_v<T, Adam>;

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

// A metadata value of a state file: `key` parsed in full as a float / integer, else an error
// naming the file and the key.
float metadata_float(const SafetensorsFile& file, const std::filesystem::path& path,
                     const std::string& key);
std::int64_t metadata_integer(const SafetensorsFile& file, const std::filesystem::path& path,
                              const std::string& key);
}  // namespace detail

template <class Compiled, Optimizer Opt = Sgd>
class Trainer {
  static_assert(Compiled::trains,
                "nnfuse::Trainer: this schedule has no training kernels; build the network with "
                "nnfuse_add_network(... LOSS nnfuse::CrossEntropy | nnfuse::MSE) and a schedule "
                "other than fused");

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
  explicit Trainer(const std::filesystem::path& weights, Opt optimizer = {},
                   std::size_t variant = Compiled::selected_variant_index())
      : Trainer(Model<Compiled>(weights).parameters(), optimizer, variant) {}
  explicit Trainer(const Model<Compiled>& model, Opt optimizer = {},
                   std::size_t variant = Compiled::selected_variant_index())
      : Trainer(model.parameters(), optimizer, variant) {}
  // From a parameter block laid out as graph<network>::parameters says.
  static Trainer from_parameters(std::span<const float> parameters, Opt optimizer = {},
                                 std::size_t variant = Compiled::selected_variant_index()) {
    if (parameters.size() * sizeof(float) != G::parameter_bytes) {
      throw std::invalid_argument(name("from_parameters") + ": the parameter block has " +
                                  std::to_string(parameters.size()) + " floats, expected " +
                                  std::to_string(G::parameter_bytes / sizeof(float)));
    }
    return Trainer(std::vector<float>(parameters.begin(), parameters.end()), optimizer, variant);
  }

  // The target variant this trainer runs (an index into Compiled::variants).
  [[nodiscard]] std::size_t variant() const noexcept { return variant_; }

  // The hyperparameters, read at every step (change them between steps for a schedule).
  [[nodiscard]] Opt& optimizer() noexcept { return optimizer_; }
  [[nodiscard]] const Opt& optimizer() const noexcept { return optimizer_; }
  // Optimizer steps taken (Adam's t), including those of a loaded state.
  [[nodiscard]] std::int64_t steps() const noexcept { return steps_; }

  // One optimizer step on a batch (inputs [batch, in_width]); returns the mean loss before the
  // update.
  float step(Session& session, std::span<const float> inputs, Targets targets) {
    return step_with(session, inputs, targets, static_cast<std::nullptr_t*>(nullptr));
  }
  // The same through the statistics kernels (nnfuse_add_network(... STATISTICS)): the same
  // outputs and gradients, bit for bit, and each activation layer's counts of the batch added to
  // `statistics` (statistics.hpp), at the weights before the update.
  template <class Stats>
  requires(detail::is_statistics_for<Stats, Compiled>) float step(Session& session,
                                                                  std::span<const float> inputs,
                                                                  Targets targets,
                                                                  Stats& statistics) {
    return step_with(session, inputs, targets, &statistics);
  }

  // The loss and every parameter's gradient at the current weights, without an update (read
  // them with gradient_parameters()); with `input_gradient` ([batch, in_width]), dLoss/dinput
  // too.
  float gradients(Session& session, std::span<const float> inputs, Targets targets,
                  std::span<float> input_gradient = {}) {
    return gradients_with(session, inputs, targets, input_gradient,
                          static_cast<std::nullptr_t*>(nullptr));
  }

 private:
  template <class Stats>
  float step_with(Session& session, std::span<const float> inputs, Targets targets,
                  Stats* statistics) {
    if (const char* bad = optimizer_.invalid()) {
      throw std::invalid_argument(name("step") + ": " + std::string(Opt::name) +
                                  " hyperparameter " + bad + " is out of range");
    }
    const float loss = gradients_with(session, inputs, targets, {}, statistics);
    detail::VectorBuffer weights(weights_.data.get(), weights_.size);
    detail::VectorBuffer gradient(gradient_.data.get(), gradient_.size);
    detail::VectorBuffer first(state_[0].data.get(), state_[0].size);
    const Session::Call call = session.begin_call();
    ++steps_;
    if constexpr (std::is_same_v<Opt, Sgd>) {
      check(
          session, "sgd",
          Compiled::sgd(call.user_context(), variant_, optimizer_.lr, optimizer_.momentum,
                        optimizer_.weight_decay, &weights.buffer, &gradient.buffer, &first.buffer));
    } else {
      detail::VectorBuffer second(state_[1].data.get(), state_[1].size);
      check(session, "adam",
            Compiled::adam(call.user_context(), variant_, optimizer_.at_step(steps_),
                           &weights.buffer, &gradient.buffer, &first.buffer, &second.buffer));
    }
    return loss;
  }

  template <class Stats>
  float gradients_with(Session& session, std::span<const float> inputs, Targets targets,
                       std::span<float> input_gradient, Stats* statistics) {
    const std::size_t batch = check_arguments(inputs, targets, input_gradient);
    reserve(batch);
    forward_pass(session, inputs, batch, statistics);
    return backward_pass(session, inputs, targets, input_gradient, batch);
  }

 public:
  // The weights and the last gradients, in PyTorch's layout (graph<network>::parameters).
  [[nodiscard]] std::vector<float> parameters() const { return unpacked(weights_); }
  [[nodiscard]] std::vector<float> gradient_parameters() const { return unpacked(gradient_); }
  // The optimizer's state tensor `k` (Opt::state_tensors[k]: SGD's momentum buffer, Adam's
  // exp_avg and exp_avg_sq), in PyTorch's layout.
  [[nodiscard]] std::vector<float> optimizer_state(std::size_t k) const {
    if (k >= state_count) {
      throw std::out_of_range(name("optimizer_state") + ": " + std::string(Opt::name) + " has " +
                              std::to_string(state_count) + " state tensors, not " +
                              std::to_string(k + 1));
    }
    return unpacked(state_[k]);
  }

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

  // The optimizer's state, so a run can resume where it stopped: each state tensor as
  // `<tensor>.<state name>` (torch's names: momentum_buffer; exp_avg, exp_avg_sq), and as
  // metadata the optimizer, its hyperparameters and the step count. load_state checks every
  // tensor and refuses another optimizer's file.
  void save_state(const std::filesystem::path& path) const {
    std::array<std::vector<float>, state_count> blocks;
    std::vector<TensorToSave> tensors;
    for (std::size_t k = 0; k < state_count; ++k) {
      blocks[k] = optimizer_state(k);
      std::vector<TensorToSave> named = detail::tensors_to_save(
          G::parameters, blocks[k], "." + std::string(Opt::state_tensors[k]));
      tensors.insert(tensors.end(), named.begin(), named.end());
    }
    std::map<std::string, std::string> metadata{{"nnfuse.network", std::string(Compiled::name)},
                                                {"nnfuse.optimizer", std::string(Opt::name)},
                                                {"step", std::to_string(steps_)}};
    for (const auto& [key, value] : Opt::hyperparameters(optimizer_)) {
      metadata.emplace(key, detail::exact_decimal(*value));
    }
    save_safetensors(path, tensors, metadata);
  }
  void load_state(const std::filesystem::path& path) {
    const SafetensorsFile file = SafetensorsFile::open(path);
    const auto& metadata = file.metadata();
    const auto kind = metadata.find("nnfuse.optimizer");
    if (kind == metadata.end() || kind->second != Opt::name) {
      throw std::invalid_argument(
          name("load_state") + ": " + path.string() + " is not a " + std::string(Opt::name) +
          " state (its metadata nnfuse.optimizer is " +
          (kind == metadata.end() ? std::string("absent") : "\"" + kind->second + "\"") + ")");
    }
    Opt loaded = optimizer_;
    for (const auto& [key, value] : Opt::hyperparameters(loaded)) {
      *value = detail::metadata_float(file, path, key);
    }
    const std::int64_t steps = detail::metadata_integer(file, path, "step");
    if (steps < 0 || loaded.invalid() != nullptr) {
      throw std::invalid_argument(
          name("load_state") + ": " + path.string() + ": " +
          (steps < 0 ? std::string("the step count is negative")
                     : "hyperparameter " + std::string(loaded.invalid()) + " is out of range"));
    }
    // One load of every state tensor (so that each is required and nothing else is allowed),
    // state k's block at k * floats.
    constexpr std::size_t floats = G::parameter_bytes / sizeof(float);
    std::vector<TensorSpec> specs;
    std::vector<std::size_t> offsets;
    for (std::size_t k = 0; k < state_count; ++k) {
      std::vector<TensorSpec> tensors = Model<Compiled>::expected_tensors();
      for (std::size_t i = 0; i < tensors.size(); ++i) {
        tensors[i].name += "." + std::string(Opt::state_tensors[k]);
        specs.push_back(std::move(tensors[i]));
        offsets.push_back(k * floats + G::parameters[i].offset_bytes / sizeof(float));
      }
    }
    std::vector<float> blocks(state_count * floats, 0.0F);
    load_float32(file, specs, blocks, offsets, {});
    // Everything read and checked: only now does the trainer change.
    for (std::size_t k = 0; k < state_count; ++k) {
      Compiled::pack(layout_, blocks.data() + k * floats, state_[k].data.get());
    }
    optimizer_ = loaded;
    steps_ = steps;
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
  static constexpr std::size_t state_count = Opt::state_tensors.size();

  Trainer(std::vector<float> parameters, Opt optimizer, std::size_t variant)
      : optimizer_(optimizer),
        variant_(checked_variant(variant)),
        layout_(Compiled::variant_layouts[variant_]),
        weights_(Compiled::layout_floats[layout_]),
        gradient_(Compiled::layout_floats[layout_]),
        state_(zeroed_state(Compiled::layout_floats[layout_])) {
    Compiled::pack(layout_, parameters.data(), weights_.data.get());
    std::fill_n(gradient_.data.get(), gradient_.size, 0.0F);
  }

  static std::array<detail::AlignedFloats, state_count> zeroed_state(std::size_t floats) {
    auto zeroed = [floats](std::size_t /*k*/) {
      detail::AlignedFloats buffer(floats);
      std::fill_n(buffer.data.get(), buffer.size, 0.0F);
      return buffer;
    };
    return [&]<std::size_t... K>(std::index_sequence<K...>) {
      return std::array<detail::AlignedFloats, state_count>{zeroed(K)...};
    }
    (std::make_index_sequence<state_count>{});
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

  template <class Stats>
  void forward_pass(Session& session, std::span<const float> inputs, std::size_t batch,
                    Stats* statistics) {
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
      if constexpr (std::is_same_v<Stats, std::nullptr_t>) {
        check(session, "training forward",
              Compiled::train_forward_nodes[i](call.user_context(), variant_, &in.buffer,
                                               &residual.buffer, &packed.buffer, &pre.buffer,
                                               &out.buffer));
      } else {
        check(session, "statistics",
              statistics->run_node(call.user_context(), variant_, i, &in.buffer, &residual.buffer,
                                   &packed.buffer, z, outputs_[i]->data.get(), batch));
      }
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

  Opt optimizer_;
  std::int64_t steps_ = 0;
  std::size_t variant_ = 0;
  std::size_t layout_ = 0;  // the packed layout the variant's kernels read
  detail::AlignedFloats weights_;
  detail::AlignedFloats gradient_;
  std::array<detail::AlignedFloats, state_count> state_;
  std::size_t capacity_ = 0;
  std::array<std::optional<detail::AlignedFloats>, node_count> outputs_;
  std::array<std::optional<detail::AlignedFloats>, node_count> output_grads_;
  std::array<std::optional<detail::AlignedFloats>, node_count> pre_activations_;
  std::array<std::optional<detail::AlignedFloats>, node_count> residual_grads_;
  std::optional<detail::AlignedFloats> loss_rows_;
};

}  // namespace nnfuse
