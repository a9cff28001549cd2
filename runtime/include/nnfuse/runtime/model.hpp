// nnfuse::Model<Compiled>: a network's generated kernels with their immutable packed weights.
// `Compiled` is a schedule struct of a generated header (nnfuse::generated::<net>::manual);
// it names the network type, the packing function and the kernels. A Model loads a PyTorch
// state_dict saved as safetensors (tensor names as nn.Module gives them), packs the weights
// once into the layout the variant this CPU runs reads, and is then read-only: threads may
// share it, each with its own Session. `forward(session, input, output)` runs any batch size
// >= 1 (input [batch, in_width], output [batch, out_width], row-major float32) and checks every
// argument. The Model owns the packed weights: one copy for the selected variant, and, only when
// `forward_variant` asks for a variant whose micro-kernel reads another layout, a copy packed for
// it on that first call; `parameters()` unpacks them back into PyTorch's layout.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <HalideRuntime.h>

#include <nnfuse/dsl/graph.hpp>
#include <nnfuse/runtime/kernel.hpp>
#include <nnfuse/runtime/session.hpp>
#include <nnfuse/weights/safetensors.hpp>

namespace nnfuse {

namespace detail {
// A 2-D halide_buffer_t over rows of `width` floats (dimension 0 is the feature).
struct RowsBuffer {
  halide_dimension_t dims[2];  // NOLINT(*-avoid-c-arrays): Halide's ABI
  halide_buffer_t buffer{};

  RowsBuffer(const float* data, std::size_t width, std::size_t rows);
};

struct VectorBuffer {
  halide_dimension_t dim;
  halide_buffer_t buffer{};
  VectorBuffer(const float* data, std::size_t size);
};

[[noreturn]] void throw_kernel_error(std::string_view kernel, int code,
                                     std::string_view message = {});

struct AlignedFloats {
  struct Free {
    void operator()(float* p) const noexcept;
  };
  std::unique_ptr<float, Free> data;
  std::size_t size = 0;
  explicit AlignedFloats(std::size_t count);
};
// Fused node i's name in the spec's words (`fc1_relu`): its kernel name
// `<net>__<node>__<schedule>` without the network and the schedule.
template <class Compiled>
std::string_view node_label(std::size_t i) {
  const std::string_view function = Compiled::node_names[i];
  const std::size_t prefix = Compiled::name.size() + 2;
  return function.substr(prefix, function.size() - prefix - 2 - Compiled::schedule.size());
}
}  // namespace detail

template <class Compiled>
requires(Compiled::has_statistics) class Statistics;

namespace detail {
// Whether Stats is Statistics<Compiled> (which exists only for a schedule with statistics
// kernels); a trait, so that a constraint never names Statistics<Compiled> for one without.
template <class Stats, class Compiled>
inline constexpr bool is_statistics_for = false;
template <class Compiled>
inline constexpr bool is_statistics_for<Statistics<Compiled>, Compiled> = true;
}  // namespace detail

template <class Compiled>
class Model {
 public:
  using network = typename Compiled::network;
  static constexpr std::size_t in_width = graph<network>::in_width;
  static constexpr std::size_t out_width = graph<network>::out_width;

  // The tensors this model reads, as the loader expects them.
  static std::vector<TensorSpec> expected_tensors() {
    std::vector<TensorSpec> specs;
    for (const ParameterInfo& p : graph<network>::parameters) {
      TensorSpec spec{std::string(p.name), {static_cast<std::int64_t>(p.shape[0])}};
      if (p.rank == 2) spec.shape.push_back(static_cast<std::int64_t>(p.shape[1]));
      specs.push_back(std::move(spec));
    }
    return specs;
  }

  // Loads `path` (safetensors, PyTorch state_dict names); throws nnfuse::WeightsError naming
  // the file and tensor on any problem.
  explicit Model(const std::filesystem::path& path, const LoadOptions& options = {})
      : Model(load(SafetensorsFile::open(path), options)) {}

  // From a parameter block laid out as graph<network>::parameters says.
  static Model from_parameters(std::span<const float> parameters) {
    if (parameters.size() * sizeof(float) != graph<network>::parameter_bytes) {
      throw std::invalid_argument("nnfuse::Model<" + std::string(Compiled::name) +
                                  ">: the parameter block has " +
                                  std::to_string(parameters.size()) + " floats, expected " +
                                  std::to_string(graph<network>::parameter_bytes / sizeof(float)));
    }
    return Model(parameters);
  }

  // The packed weights the selected variant reads (Compiled::selected_layout()).
  [[nodiscard]] std::span<const float> packed() const noexcept {
    return {packed_.data.get(), packed_.size};
  }

  // The parameter block in PyTorch's layout (graph<network>::parameters), unpacked.
  [[nodiscard]] std::vector<float> parameters() const {
    std::vector<float> block(graph<network>::parameter_bytes / sizeof(float), 0.0F);
    Compiled::unpack(Compiled::selected_layout(), packed_.data.get(), block.data());
    return block;
  }

  // output[b] = network(input[b]) for every row b; batch = input.size() / in_width. Runs the
  // target variant this CPU supports best (Compiled::selected_variant()).
  void forward(Session& session, std::span<const float> input, std::span<float> output) const {
    run(session, input, output, packed_, &Compiled::forward);
  }

  // The same through the statistics kernels (nnfuse_add_network(... STATISTICS); include
  // <nnfuse/runtime/statistics.hpp>): node by node on the selected variant, each activation
  // layer's counts of these rows added to `statistics`; the output is forward()'s bit for bit
  // (`naive`: within 2 ULP, its whole-network kernel evaluates the epilogue on z unstored).
  template <class Stats>
  requires(detail::is_statistics_for<Stats, Compiled>) void forward(Session& session,
                                                                    std::span<const float> input,
                                                                    std::span<float> output,
                                                                    Stats& statistics) const {
    const std::size_t batch = check(input, output);
    statistics.reserve(batch);
    detail::VectorBuffer weights(packed_.data.get(), packed_.size);
    constexpr std::size_t nodes = graph<network>::node_count;
    auto tensor = [&](std::size_t t) -> const float* {
      return t == 0 ? input.data() : statistics.output(t - 1);
    };
    for (std::size_t i = 0; i < nodes; ++i) {
      const auto& node = graph<network>::nodes[i];
      detail::RowsBuffer in(tensor(node.input_tensor), node.in_width, batch);
      detail::RowsBuffer residual(tensor(node.residual_source), node.out_width, batch);
      float* y = i + 1 == nodes ? output.data() : statistics.output(i);
      const Session::Call call = session.begin_call();
      const int code = statistics.run_node(call.user_context(), Compiled::selected_variant_index(),
                                           i, &in.buffer, &residual.buffer, &weights.buffer,
                                           statistics.pre_activation(i), y, batch);
      if (code != 0) detail::throw_kernel_error(Compiled::name, code, session.last_error());
    }
  }

  // data[b] = network(data[b]) in place, for a network that is one elementwise node (an
  // activation with no Dense) built with a schedule that reads every element before writing it
  // (Compiled::in_place_safe, from the schedule's row in schedules.def: naive, manual). Other
  // networks read rows they have overwritten; `fused` recomputes the rows of its last chunk and
  // autoscheduled code may overlap its last vector with the one before, so they do not compile
  // here.
  void forward_in_place(Session& session, std::span<float> data) const
      requires(graph<network>::node_count == 1 && !FusedNode<network, 0>::has_matmul &&
               !FusedNode<network, 0>::has_row_epilogue && in_width == out_width &&
               Compiled::in_place_safe) {
    run(session, data, data, packed_, &Compiled::forward);
  }

  // The same through one target variant of a multi-target build (tests and benchmarks of
  // every variant); a variant this CPU cannot run is refused.
  void forward_variant(std::size_t variant, Session& session, std::span<const float> input,
                       std::span<float> output) const {
    if (variant >= Compiled::forward_variants.size() ||
        variant < Compiled::selected_variant_index()) {
      throw std::invalid_argument("nnfuse::Model<" + std::string(Compiled::name) +
                                  ">::forward_variant: variant " + std::to_string(variant) +
                                  " does not exist or needs CPU features this machine lacks");
    }
    const ForwardFn kernel = Compiled::forward_variants[variant];
    run(session, input, output, packed_for(Compiled::variant_layouts[variant]),
        [kernel](void* uc, halide_buffer_t* in, halide_buffer_t* /*residual*/,
                 halide_buffer_t* packed,
                 halide_buffer_t* out) { return kernel(uc, in, packed, out); });
  }

 private:
  explicit Model(std::span<const float> parameters)
      : packed_(Compiled::layout_floats[Compiled::selected_layout()]),
        other_layouts_(std::make_unique<OtherLayouts>()) {
    Compiled::pack(Compiled::selected_layout(), parameters.data(), packed_.data.get());
  }

  // The packed copy `layout` is read from: the selected one, or one packed from it on first use
  // (under a lock: Models are shared between threads).
  [[nodiscard]] const detail::AlignedFloats& packed_for(std::size_t layout) const {
    if (layout == Compiled::selected_layout()) return packed_;
    const std::scoped_lock lock(other_layouts_->mutex);
    std::unique_ptr<detail::AlignedFloats>& copy = other_layouts_->copies[layout];
    if (!copy) {
      const std::vector<float> block = parameters();
      auto packed = std::make_unique<detail::AlignedFloats>(Compiled::layout_floats[layout]);
      Compiled::pack(layout, block.data(), packed->data.get());
      copy = std::move(packed);
    }
    return *copy;
  }

  template <class Kernel>
  void run(Session& session, std::span<const float> input, std::span<float> output,
           const detail::AlignedFloats& packed, Kernel kernel) const {
    const std::size_t batch = check(input, output);
    detail::RowsBuffer in(input.data(), in_width, batch);
    detail::RowsBuffer out(output.data(), out_width, batch);
    detail::VectorBuffer weights(packed.data.get(), packed.size);
    const Session::Call call = session.begin_call();
    const int code = kernel(call.user_context(), &in.buffer, nullptr, &weights.buffer, &out.buffer);
    if (code != 0) detail::throw_kernel_error(Compiled::name, code, session.last_error());
  }

  static std::vector<float> load(const SafetensorsFile& file, const LoadOptions& options) {
    const auto specs = expected_tensors();
    std::vector<std::size_t> offsets;
    offsets.reserve(specs.size());
    for (const ParameterInfo& p : graph<network>::parameters) {
      offsets.push_back(p.offset_bytes / sizeof(float));
    }
    std::vector<float> block(graph<network>::parameter_bytes / sizeof(float), 0.0F);
    load_float32(file, specs, block, offsets, options);
    return block;
  }

  Model(std::vector<float> block) : Model(std::span<const float>(block)) {}

  // Builds its messages only on failure: a valid call must not allocate.
  static std::size_t check(std::span<const float> input, std::span<float> output) {
    auto fail = [](const std::string& what) {
      throw std::invalid_argument("nnfuse::Model<" + std::string(Compiled::name) +
                                  ">::forward: " + what);
    };
    if (input.data() == nullptr || output.data() == nullptr) fail("null input or output");
    if (input.empty() || input.size() % in_width != 0) {
      fail("the input has " + std::to_string(input.size()) +
           " floats, not a positive multiple of the input width " + std::to_string(in_width));
    }
    const std::size_t batch = input.size() / in_width;
    if (output.size() != batch * out_width) {
      fail("the output has " + std::to_string(output.size()) + " floats, expected batch " +
           std::to_string(batch) + " x " + std::to_string(out_width) + " = " +
           std::to_string(batch * out_width));
    }
    // The kernels index every tensor in int32 (halide_buffer_t's extents are int32).
    constexpr std::size_t widest = [] {
      std::size_t w = in_width;
      for (const auto& node : graph<network>::nodes) w = std::max(w, node.out_width);
      return w;
    }();
    if (batch > static_cast<std::size_t>(INT32_MAX) / widest) {
      fail("a batch of " + std::to_string(batch) + " rows of up to " + std::to_string(widest) +
           " floats is 2^31 elements or more, the most one call takes");
    }
    return batch;
  }

  struct OtherLayouts {
    std::mutex mutex;
    std::array<std::unique_ptr<detail::AlignedFloats>, Compiled::layout_floats.size()> copies;
  };

  detail::AlignedFloats packed_;
  std::unique_ptr<OtherLayouts> other_layouts_;  // behind a pointer: a Model stays movable
};

}  // namespace nnfuse
