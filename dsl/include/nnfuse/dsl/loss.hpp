// Losses a network is trained with, as types: `CrossEntropy` (F.cross_entropy: log-softmax of
// the network's output and the negative log-likelihood of integer labels, mean over the batch)
// and `MSE` (F.mse_loss, mean over every element). A generator fuses the loss into the last
// node's backward kernel (nnfuse_add_network(... LOSS nnfuse::CrossEntropy)). `training<Net,
// Loss>` checks the rules that training adds to the graph's: CrossEntropy applies its own
// log-softmax, so a network that already ends in Softmax or LogSoftmax is refused, naming the
// layer. MSE trains through a Softmax with its vector-Jacobian product (vjp.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "nnfuse/dsl/detail/check.hpp"
#include "nnfuse/dsl/expr.hpp"
#include "nnfuse/dsl/float.hpp"
#include "nnfuse/dsl/graph.hpp"

namespace nnfuse {

struct CrossEntropy {
  static constexpr std::string_view name = "cross_entropy";
  static constexpr bool integer_labels = true;  // one class index per row
};

struct MSE {
  static constexpr std::string_view name = "mse";
  static constexpr bool integer_labels = false;  // a target row as wide as the output
};

// No loss: a network built for inference only.
struct NoLoss {
  static constexpr std::string_view name = "none";
  static constexpr bool integer_labels = false;
};

template <class L>
concept TrainingLoss = std::is_same_v<L, CrossEntropy> || std::is_same_v<L, MSE>;

template <FixedString Layer, class LayerChars = chars_of<Layer>>
struct cross_entropy_after_row_wise_activation {
  static_assert(always_false<LayerChars>,
                "nnfuse training: CrossEntropy applies log-softmax to the network's output itself "
                "(as F.cross_entropy): end the network with its last Dense, not with Softmax or "
                "LogSoftmax");
};

// A network and the loss it is trained with; instantiating it checks the training rules.
template <class Net, TrainingLoss Loss>
struct training {
  using network = Net;
  using loss = Loss;

 private:
  using G = graph<Net>;
  static constexpr std::size_t last = G::layers.size() - 1;
  static constexpr bool ends_in_row_wise = G::layers[last].kind == detail::graph::OpKind::row_wise;
  static_assert(detail::graph::check<!(std::is_same_v<Loss, CrossEntropy> && ends_in_row_wise),
                                     cross_entropy_after_row_wise_activation<detail::graph::path_at<
                                         std::remove_cv_t<decltype(G::ops)>, last>()>>);

 public:
  static constexpr bool checked = true;
};

}  // namespace nnfuse
