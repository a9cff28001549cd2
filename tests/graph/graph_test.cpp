// Networks as types: widths, PyTorch state_dict names (named, numbered, nested, residual),
// fusion into FusedNodes, the parameter table, FLOPs, the double reference forward against
// values computed by hand, and the summary text. Most checks are static_asserts, because every
// one of these is a compile-time value; the tests run the rest.
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <nnfuse/dsl.hpp>

namespace {

using namespace nnfuse;  // NOLINT(google-build-using-namespace): the DSL is written bare

using Seed = Sequential<Input<784>, Dense<128, Name<"fc1">>, ReLU, Dense<10, Name<"fc2">>>;

// A block type reused under two names: legal, its tensors are prefixed by each name.
template <FixedString BlockName>
using Block = Sequential<Name<BlockName>, Dense<16, Name<"fc">>, GELU>;

// Input -> fc -> PReLU "act" -> x + ELU(block.fc(x)) -> out (no bias) -> Softmax.
using ResNet = Sequential<Input<2>, Dense<2, Name<"fc">>, PReLU<Name<"act">>,
                          Residual<Sequential<Name<"block">, Dense<2, Name<"fc">>, ELU<>>>,
                          Dense<2, Name<"out">, NoBias>, Softmax>;

// A parameter block for Net with the named tensors filled (others zero).
template <class Net>
std::vector<float> parameter_block(
    const std::vector<std::pair<std::string_view, std::vector<float>>>& tensors) {
  using G = graph<Net>;
  std::vector<float> block(G::parameter_bytes / sizeof(float), 0.0F);
  for (const auto& [name, values] : tensors) {
    const std::size_t i = G::parameter_index(name);
    if (i == G::parameters.size() || values.size() != G::parameters[i].count) {
      throw std::invalid_argument("bad tensor " + std::string(name));
    }
    std::copy(values.begin(), values.end(),
              block.begin() + static_cast<std::ptrdiff_t>(G::parameters[i].offset_bytes / 4));
  }
  return block;
}

// ---- shapes -------------------------------------------------------------------------------

static_assert(graph<Seed>::in_width == 784);
static_assert(graph<Seed>::out_width == 10);
static_assert(graph<Seed>::layers.size() == 3);
static_assert(graph<Seed>::layers[0].in_width == 784 && graph<Seed>::layers[0].out_width == 128);
static_assert(graph<Seed>::layers[1].in_width == 128 && graph<Seed>::layers[1].out_width == 128);
static_assert(graph<Seed>::layers[2].in_width == 128 && graph<Seed>::layers[2].out_width == 10);
static_assert(graph<ResNet>::in_width == 2 && graph<ResNet>::out_width == 2);

using Deep = Sequential<Input<8>, Block<"b1">, Residual<Block<"b2">>, Dense<3, Name<"head">>>;
static_assert(graph<Deep>::out_width == 3);

TEST(GraphNames, SeedNetworkMatchesTorchStateDict) {
  using G = graph<Seed>;
  ASSERT_EQ(G::parameters.size(), 4U);
  EXPECT_EQ(G::parameters[0].name, "fc1.weight");
  EXPECT_EQ(G::parameters[0].shape, (std::array<std::size_t, 2>{128, 784}));
  EXPECT_EQ(G::parameters[0].rank, 2U);
  EXPECT_EQ(G::parameters[1].name, "fc1.bias");
  EXPECT_EQ(G::parameters[1].shape[0], 128U);
  EXPECT_EQ(G::parameters[1].rank, 1U);
  EXPECT_EQ(G::parameters[2].name, "fc2.weight");
  EXPECT_EQ(G::parameters[2].shape, (std::array<std::size_t, 2>{10, 128}));
  EXPECT_EQ(G::parameters[3].name, "fc2.bias");
  EXPECT_EQ(G::parameters[3].shape[0], 10U);
}

TEST(GraphNames, UnnamedChildrenAreNumberedAsNnSequential) {
  // nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)): 0.weight, 0.bias, 2.weight, ...
  using G = graph<Sequential<Input<4>, Dense<3>, ReLU, Dense<2>>>;
  ASSERT_EQ(G::parameters.size(), 4U);
  EXPECT_EQ(G::parameters[0].name, "0.weight");
  EXPECT_EQ(G::parameters[1].name, "0.bias");
  EXPECT_EQ(G::parameters[2].name, "2.weight");
  EXPECT_EQ(G::parameters[3].name, "2.bias");
  EXPECT_EQ(G::layers[1].name, "1");
}

TEST(GraphNames, NestedSequentialsPrefixTheirChildren) {
  using Net = Sequential<Input<4>, Sequential<Name<"block1">, Dense<4, Name<"fc">>, ReLU>,
                         Sequential<Dense<4>, Tanh, Sequential<Dense<2, NoBias>>>>;
  using G = graph<Net>;
  ASSERT_EQ(G::parameters.size(), 5U);
  EXPECT_EQ(G::parameters[0].name, "block1.fc.weight");
  EXPECT_EQ(G::parameters[1].name, "block1.fc.bias");
  EXPECT_EQ(G::parameters[2].name, "1.0.weight");
  EXPECT_EQ(G::parameters[3].name, "1.0.bias");
  EXPECT_EQ(G::parameters[4].name, "1.2.0.weight");
  EXPECT_EQ(G::layers[1].name, "block1.1");
}

TEST(GraphNames, ResidualIsTransparentAndBlocksAreReusable) {
  using Net = Sequential<Input<4>, Dense<4>, Residual<Sequential<Dense<4>, ReLU>>,
                         Residual<Dense<4, Name<"skip">>>>;
  using G = graph<Net>;
  ASSERT_EQ(G::parameters.size(), 6U);
  EXPECT_EQ(G::parameters[0].name, "0.weight");
  EXPECT_EQ(G::parameters[2].name, "1.0.weight");
  EXPECT_EQ(G::parameters[3].name, "1.0.bias");
  EXPECT_EQ(G::parameters[4].name, "skip.weight");
  EXPECT_EQ(G::parameters[5].name, "skip.bias");

  using D = graph<Deep>;
  ASSERT_EQ(D::parameters.size(), 6U);
  EXPECT_EQ(D::parameters[0].name, "b1.fc.weight");
  EXPECT_EQ(D::parameters[2].name, "b2.fc.weight");
  EXPECT_EQ(D::parameters[4].name, "head.weight");
}

TEST(GraphNames, ResidualNetworkWithPReLU) {
  using G = graph<ResNet>;
  ASSERT_EQ(G::parameters.size(), 6U);
  const std::vector<std::string_view> expected{"fc.weight",       "fc.bias",       "act.weight",
                                               "block.fc.weight", "block.fc.bias", "out.weight"};
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(G::parameters[i].name, expected[i]);
  EXPECT_EQ(G::parameters[2].shape[0], 2U);
  EXPECT_EQ(G::parameters[2].rank, 1U);
}

// ---- parameter table ----------------------------------------------------------------------

TEST(GraphParameters, OffsetsAre64ByteAlignedInOneBlock) {
  using G = graph<Seed>;
  EXPECT_EQ(G::parameters[0].offset_bytes, 0U);
  EXPECT_EQ(G::parameters[1].offset_bytes, 128U * 784U * 4U);  // 401408, a multiple of 64
  EXPECT_EQ(G::parameters[2].offset_bytes, 401408U + 512U);
  EXPECT_EQ(G::parameters[3].offset_bytes, 401920U + 5120U);
  EXPECT_EQ(G::parameter_count, 101770U);  // torchinfo: 100480 + 1290
  EXPECT_EQ(G::parameter_bytes, 407040U + 40U);

  using R = graph<ResNet>;  // fc.weight 4 floats = 16 bytes, padded to 64, ...
  EXPECT_EQ(R::parameters[1].offset_bytes, 64U);
  EXPECT_EQ(R::parameters[2].offset_bytes, 128U);
  EXPECT_EQ(R::parameters[5].offset_bytes, 320U);
  EXPECT_EQ(R::parameter_count, 4U + 2U + 2U + 4U + 2U + 4U);
  EXPECT_EQ(R::parameter_bytes, 336U);
  for (const ParameterInfo& p : R::parameters) EXPECT_EQ(p.offset_bytes % 64, 0U);
}

// ---- fusion -------------------------------------------------------------------------------

TEST(GraphFusion, SeedNetworkIsTwoKernels) {
  using G = graph<Seed>;
  static_assert(G::node_count == 2);
  using N0 = FusedNode<Seed, 0>;
  using N1 = FusedNode<Seed, 1>;
  static_assert(N0::in_width == 784 && N0::out_width == 128 && N0::has_matmul && N0::has_bias);
  static_assert(!N0::adds_residual && !N0::has_row_epilogue && N0::input_tensor == 0);
  static_assert(N1::in_width == 128 && N1::out_width == 10 && N1::input_tensor == 1);
  static_assert(std::is_same_v<N1::row_epilogue_type, X>);
  EXPECT_EQ(to_string(N0::epilogue), "max(x, 0)");
  EXPECT_EQ(to_string(N1::epilogue), "x");
  EXPECT_EQ(N0::parameter_names, (std::array<std::string_view, 2>{"fc1.weight", "fc1.bias"}));
  EXPECT_EQ(N1::parameter_names, (std::array<std::string_view, 2>{"fc2.weight", "fc2.bias"}));
}

TEST(GraphFusion, ResidualNetwork) {
  static_assert(graph<ResNet>::node_count == 3);
  using N0 = FusedNode<ResNet, 0>;
  using N1 = FusedNode<ResNet, 1>;
  using N2 = FusedNode<ResNet, 2>;
  EXPECT_EQ(to_string(N0::epilogue),
            "select(x > 0, x, select(x == -inf && act.weight == 0, 0, act.weight * x))");
  EXPECT_EQ(N0::parameter_names,
            (std::array<std::string_view, 3>{"fc.weight", "fc.bias", "act.weight"}));
  static_assert(N1::adds_residual && N1::residual_source == 1 && N1::input_tensor == 1);
  EXPECT_EQ(to_string(N1::epilogue), "select(x > 0, x, expm1(x)) + residual");
  static_assert(N2::has_matmul && !N2::has_bias && N2::has_row_epilogue);
  EXPECT_EQ(to_string(N2::epilogue), "x");
  EXPECT_EQ(to_string(N2::row_epilogue), to_string(softmax));
  EXPECT_EQ(N2::parameter_names, (std::array<std::string_view, 1>{"out.weight"}));
}

TEST(GraphFusion, ChainsComposeAndKeepPReLUParametersApart) {
  using Net = Sequential<Input<3>, Dense<3, Name<"fc">>, PReLU<Name<"a1">>, LeakyReLU<0.5>,
                         PReLU<Name<"a2">>, LogSoftmax>;
  static_assert(graph<Net>::node_count == 1);
  using N = FusedNode<Net, 0>;
  // Each layer's form substituted into the next: PReLU(a1), LeakyReLU(0.5), PReLU(a2).
  const std::string a1 = "select(x > 0, x, select(x == -inf && a1.weight == 0, 0, a1.weight * x))";
  const std::string leaky = "select(" + a1 + " > 0, " + a1 + ", " + a1 + " * 0.5)";
  EXPECT_EQ(to_string(N::epilogue), "select(" + leaky + " > 0, " + leaky + ", select(" + leaky +
                                        " == -inf && a2.weight == 0, 0, a2.weight * " + leaky +
                                        "))");
  EXPECT_EQ(N::parameter_names,
            (std::array<std::string_view, 4>{"fc.weight", "fc.bias", "a1.weight", "a2.weight"}));
  EXPECT_EQ(to_string(N::row_epilogue), to_string(log_softmax));
}

TEST(GraphFusion, NodesWithoutMatmulAndActivationsAfterAResidual) {
  // ReLU right after Input has no Dense to join; the ReLU after the residual joins its node.
  using Net = Sequential<Input<4>, ReLU, Residual<Dense<4, Name<"fc">>>, ReLU, Dense<2>, Softmax>;
  using G = graph<Net>;
  static_assert(G::node_count == 3);
  using N0 = FusedNode<Net, 0>;
  using N1 = FusedNode<Net, 1>;
  static_assert(!N0::has_matmul && N0::in_width == 4 && N0::out_width == 4);
  static_assert(N1::has_matmul && N1::adds_residual && N1::residual_source == 1);
  EXPECT_EQ(to_string(N0::epilogue), "max(x, 0)");
  EXPECT_EQ(to_string(N1::epilogue), "max(x + residual, 0)");
  // A Softmax may be followed by a Dense (it ends its node).
  using Two = Sequential<Input<4>, Dense<4>, Softmax, Dense<2>, Softmax>;
  static_assert(graph<Two>::node_count == 2);
}

TEST(GraphFusion, NestedResidualsAddOneResidualPerNode) {
  using Net = Sequential<Input<4>, Residual<Sequential<Dense<4>, Residual<Dense<4>>>>>;
  using G = graph<Net>;
  static_assert(G::node_count == 3);
  static_assert(FusedNode<Net, 1>::adds_residual && FusedNode<Net, 1>::residual_source == 1);
  static_assert(!FusedNode<Net, 2>::has_matmul && FusedNode<Net, 2>::residual_source == 0);
  EXPECT_EQ(to_string(FusedNode<Net, 2>::epilogue), "x + residual");
}

// ---- FLOPs --------------------------------------------------------------------------------

TEST(GraphFlops, MatmulBiasAndEpilogueOperations) {
  using G = graph<Seed>;
  // fc1: 2·B·784·128 + B·128; relu: B·128 (one max); fc2: 2·B·128·10 + B·10.
  static_assert(FusedNode<Seed, 0>::flops(1) == 200704 + 128 + 128);
  static_assert(FusedNode<Seed, 1>::flops(1) == 2560 + 10);
  static_assert(G::flops(1) == 203530);
  static_assert(G::flops(32) == 32 * 203530);
  // ResNet at B = 2: fc 2·2·2·2 + 2·2, PReLU 7 ops (>, ==, &&, ==, *, two selects: its limit
  // at -inf), ELU 3, residual add 1, out 2·2·2·2 (no bias), Softmax 12 distinct ops (row_max,
  // -, exp, row_sum, /, and the one-+inf test: two ==, select, row_sum, ==, &&, select).
  using R = graph<ResNet>;
  EXPECT_EQ(R::node_flops(0, 2), 16U + 4U + 28U);
  EXPECT_EQ(R::node_flops(1, 2), 16U + 4U + 12U + 4U);
  EXPECT_EQ(R::node_flops(2, 2), 16U + 48U);
  EXPECT_EQ(R::flops(2), 48U + 36U + 64U);
}

// ---- reference forward --------------------------------------------------------------------

TEST(GraphReference, SmallMlpByHand) {
  using Net = Sequential<Input<2>, Dense<2, Name<"fc1">>, ReLU, Dense<1, Name<"fc2">>>;
  const auto params = parameter_block<Net>({{"fc1.weight", {1, -1, 0.5, 2}},
                                            {"fc1.bias", {0, -1}},
                                            {"fc2.weight", {2, -1}},
                                            {"fc2.bias", {0.5}}});
  const std::vector<double> input{3, 1, -1, 2};
  // Row 0: z = [3 - 1, 1.5 + 2 - 1] = [2, 2.5], relu, 2·2 - 2.5 + 0.5 = 2.
  // Row 1: z = [-1 - 2, -0.5 + 4 - 1] = [-3, 2.5], relu [0, 2.5], -2.5 + 0.5 = -2.
  const auto y = reference_forward<Net>(params, std::span<const double>(input), 2);
  ASSERT_EQ(y.size(), 2U);
  EXPECT_DOUBLE_EQ(y[0], 2.0);
  EXPECT_DOUBLE_EQ(y[1], -2.0);
}

TEST(GraphReference, SeedNetworkWithStructuredWeights) {
  // fc1 copies the first 128 inputs and subtracts 0.5; fc2 copies the first 10 channels:
  // y_c = max(x_c - 0.5, 0) with x_i = 0.1·i.
  std::vector<float> w1(128 * 784, 0.0F);
  for (std::size_t j = 0; j < 128; ++j) w1[j * 784 + j] = 1.0F;
  std::vector<float> w2(10 * 128, 0.0F);
  for (std::size_t c = 0; c < 10; ++c) w2[c * 128 + c] = 1.0F;
  const auto params = parameter_block<Seed>({{"fc1.weight", w1},
                                             {"fc1.bias", std::vector<float>(128, -0.5F)},
                                             {"fc2.weight", w2},
                                             {"fc2.bias", std::vector<float>(10, 0.0F)}});
  std::vector<double> input(784);
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = 0.1 * static_cast<double>(i);
  const auto y = reference_forward<Seed>(params, std::span<const double>(input), 1);
  ASSERT_EQ(y.size(), 10U);
  for (std::size_t c = 0; c < 10; ++c) {
    EXPECT_NEAR(y[c], std::max(0.1 * static_cast<double>(c) - 0.5, 0.0), 1e-15) << c;
  }
}

TEST(GraphReference, ResidualNetworkWithPReLUEluSoftmax) {
  const auto params = parameter_block<ResNet>({{"fc.weight", {1, 0, 0, 1}},
                                               {"fc.bias", {0, 0}},
                                               {"act.weight", {0.25, 0.5}},
                                               {"block.fc.weight", {1, 0, 0, 1}},
                                               {"block.fc.bias", {-1, 0}},
                                               {"out.weight", {1, 0, 0, 2}}});
  const std::vector<float> input{2, -2, -4, 2};
  const auto y = reference_forward<ResNet>(params, std::span<const float>(input), 2);
  ASSERT_EQ(y.size(), 4U);
  // Row 0: fc [2, -2], PReLU [2, -1], block z [1, -1], ELU [1, expm1(-1)], + [2, -1]
  //   = [3, expm1(-1) - 1], out [3, 2·(expm1(-1) - 1)], Softmax.
  const double a0 = 3.0;
  const double b0 = 2.0 * (std::expm1(-1.0) - 1.0);
  EXPECT_NEAR(y[0], 1.0 / (1.0 + std::exp(b0 - a0)), 1e-15);
  EXPECT_NEAR(y[1], 1.0 / (1.0 + std::exp(a0 - b0)), 1e-15);
  // Row 1: fc [-4, 2], PReLU [-1, 2], block z [-2, 2], ELU [expm1(-2), 2], + [-1, 2]
  //   = [expm1(-2) - 1, 4], out [expm1(-2) - 1, 8], Softmax.
  const double a1 = std::expm1(-2.0) - 1.0;
  const double b1 = 8.0;
  EXPECT_NEAR(y[2], 1.0 / (1.0 + std::exp(b1 - a1)), 1e-15);
  EXPECT_NEAR(y[3], 1.0 / (1.0 + std::exp(a1 - b1)), 1e-15);
}

TEST(GraphReference, NestedResidualsAndActivationAfterInput) {
  // y = relu(x) + (W relu(x) + relu(x)) with W = 2·I: y = 4·relu(x).
  using Net = Sequential<Input<2>, ReLU, Residual<Residual<Dense<2, NoBias>>>>;
  const auto params = parameter_block<Net>({{"1.weight", {2, 0, 0, 2}}});
  const std::vector<double> input{1.5, -3};
  const auto y = reference_forward<Net>(params, std::span<const double>(input), 1);
  EXPECT_DOUBLE_EQ(y[0], 6.0);
  EXPECT_DOUBLE_EQ(y[1], 0.0);
}

TEST(GraphReference, RejectsWrongSizes) {
  const std::vector<float> small(3);
  const std::vector<double> input(784);
  EXPECT_THROW(reference_forward<Seed>(small, std::span<const double>(input), 1),
               std::invalid_argument);
  const std::vector<float> params(graph<Seed>::parameter_bytes / 4);
  EXPECT_THROW(reference_forward<Seed>(params, std::span<const double>(input), 2),
               std::invalid_argument);
}

// ---- summary ------------------------------------------------------------------------------

TEST(GraphSummary, SeedNetwork) {
  EXPECT_EQ(summary<Seed>(1),
            "Layer  Type           Output     Params  Kernel   FLOPs (batch 1)\n"
            "-----------------------------------------------------------------\n"
            "input  Input             784\n"
            "fc1    Dense             128     100480       0            200832\n"
            "1      relu              128          0       0               128\n"
            "fc2    Dense              10       1290       1              2570\n"
            "-----------------------------------------------------------------\n"
            "kernel 0: 784 -> 128, x*W^T + b, epilogue max(x, 0), FLOPs 200960\n"
            "kernel 1: 128 -> 10, x*W^T + b, epilogue x, FLOPs 2570\n"
            "Total params: 101770 (407080 bytes, 64-byte aligned tensors)\n"
            "Fused kernels: 2\n"
            "Total FLOPs (batch 1): 203530\n");
}

TEST(GraphSummary, ResidualNetwork) {
  EXPECT_EQ(summary<ResNet>(2),
            "Layer     Type           Output     Params  Kernel   FLOPs (batch 2)\n"
            "--------------------------------------------------------------------\n"
            "input     Input               2\n"
            "fc        Dense               2          6       0                20\n"
            "act       PReLU               2          2       0                28\n"
            "block.fc  Dense               2          6       1                20\n"
            "block.1   elu                 2          0       1                12\n"
            "block     + residual          2          0       1                 4\n"
            "out       Dense               2          4       2                16\n"
            "4         softmax             2          0       2                48\n"
            "--------------------------------------------------------------------\n"
            "kernel 0: 2 -> 2, x*W^T + b, epilogue select(x > 0, x, select(x == -inf && "
            "act.weight == 0, 0, act.weight * x)), FLOPs 48\n"
            "kernel 1: 2 -> 2, x*W^T + b, epilogue select(x > 0, x, expm1(x)) + residual, "
            "residual = tensor 1, FLOPs 36\n"
            "kernel 2: 2 -> 2, x*W^T, epilogue x, row epilogue select(row_max(x) == inf && "
            "row_sum(select(x == inf, 1, 0)) == 1, select(x == inf, 1, 0), exp(x - row_max(x)) / "
            "row_sum(exp(x - row_max(x)))), FLOPs 64\n"
            "Total params: 18 (336 bytes, 64-byte aligned tensors)\n"
            "Fused kernels: 3\n"
            "Total FLOPs (batch 2): 148\n");
}

}  // namespace
