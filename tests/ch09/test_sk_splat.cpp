// Chapter 09: SelectiveKernel and SplitAttention as specifications, in float.
// - the select kernels: stacking is undone by unstacking, the attention of every channel is a
//   distribution over the splits (softmax) or a gate in (0, 1) (sigmoid, radix 1);
// - radix 1 is an SE gate per cardinal group, computed here independently with plain loops;
// - naive vs optimized: every convolution forced to the seven-loop reference gives the same
//   output and gradients as the picked fast kernels (float, scaled error < 1e-4);
// - bad configurations throw convbook::Error naming the option.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "chapters/09_attention/selective_kernel.hpp"
#include "chapters/09_attention/sk_models.hpp"
#include "chapters/09_attention/sk_select.hpp"
#include "chapters/09_attention/split_attention.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using Catch::Matchers::Contains;

namespace {

// Every Conv2d below m runs `algo`.
void force_conv_algo(Module& m, ConvAlgo algo) {
  for (const auto& [name, child] : m.children()) {
    if (auto* conv = dynamic_cast<Conv2d*>(child)) conv->set_algorithm(algo);
    force_conv_algo(*child, algo);
  }
}

// For each image and channel, the R attention weights a[n][r C + c] sum to 1.
void check_distribution(const Tensor& a, std::size_t R) {
  const std::size_t N = a.shape()[0], C = a.shape()[1] / R;
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t c = 0; c < C; ++c) {
      double total = 0;
      for (std::size_t r = 0; r < R; ++r) {
        const double w = a.data()[(n * R + r) * C + c];
        CHECK(w > 0);
        CHECK(w < 1);
        total += w;
      }
      CHECK(total == Approx(1.0).epsilon(1e-6));
    }
  }
}

// Output and dx of a freshly seeded block with the convolutions on `algo`.
template <typename Make>
std::pair<Tensor, Tensor> run_with(Make make, ConvAlgo algo, const Tensor& x) {
  manual_seed(3);
  auto block = make();
  force_conv_algo(*block, algo);
  const Tensor y = block->forward(x);
  return {y, block->backward(test::random_tensor(shape_of(y), 4))};
}

}  // namespace

TEST_CASE("unstack_splits undoes stack_splits and sum_splits adds the splits", "[sk][select]") {
  const Tensor a = test::random_tensor({2, 3, 4, 5}, 1), b = test::random_tensor({2, 3, 4, 5}, 2);
  const Tensor u = stack_splits({a, b});
  REQUIRE(shape_of(u) == Shape{2, 6, 4, 5});
  CHECK(u(1, 4, 2, 3) == b(1, 1, 2, 3));  // split 1, channel 1 sits at channel 1 * 3 + 1
  const std::vector<Tensor> back = unstack_splits(u, 2);
  CHECK(back[0] == a);
  CHECK(back[1] == b);
  CHECK(test::scaled_error(sum_splits(u, 2), Tensor(a + b)) < 1e-7);
  CHECK_THROWS_WITH(unstack_splits(u, 4), Contains("4 splits cannot cut"));
  CHECK_THROWS_WITH(stack_splits({a, test::random_tensor({2, 3, 4, 4}, 3)}),
                    Contains("split 1 has shape"));
}

TEST_CASE("SK selects with a softmax across branches for every channel", "[sk]") {
  manual_seed(1);
  SelectiveKernel sk(SelectiveKernelOptions(8, 12).branches(3).groups(4).min_dim(4));
  const Tensor y = sk.forward(test::random_tensor({3, 8, 9, 7}, 2));
  CHECK(shape_of(y) == Shape{3, 12, 9, 7});
  REQUIRE(shape_of(sk.attention()) == Shape{3, 36, 1, 1});
  check_distribution(sk.attention(), 3);
  // The softmax ignores a constant added to all M logits of a channel, so the logit gradients
  // of every channel sum to 0: with M = 2 the two selection biases get opposite gradients.
  SelectiveKernel pair(SelectiveKernelOptions(8, 12).groups(4).min_dim(4));
  const Tensor y2 = pair.forward(test::random_tensor({3, 8, 9, 7}, 3));
  pair.zero_grad();
  pair.backward(test::random_tensor(shape_of(y2), 4));
  const Tensor& db0 = dynamic_cast<Conv2d&>(pair.fcs[0]).bias.grad;
  const Tensor& db1 = dynamic_cast<Conv2d&>(pair.fcs[1]).bias.grad;
  CHECK(test::scaled_error(db0, Tensor(-db1)) < 1e-5);
  double largest = 0;  // not trivially zero
  for (Scalar v : db0) largest = std::max(largest, double(std::abs(v)));
  CHECK(largest > 1e-3);
  SelectiveKernel strided(SelectiveKernelOptions(8, 4).groups(4).stride(2));
  CHECK(shape_of(strided.forward(test::random_tensor({2, 8, 9, 7}, 2))) == Shape{2, 4, 5, 4});
}

TEST_CASE("split attention weighs the radix splits by an r-softmax and radix 1 by a sigmoid gate",
          "[splat]") {
  manual_seed(1);
  SplitAttention r4(SplitAttentionOptions(8, 12, 3).padding(1).radix(4).cardinality(2));
  CHECK(shape_of(r4.forward(test::random_tensor({2, 8, 6, 5}, 2))) == Shape{2, 12, 6, 5});
  check_distribution(r4.attention(), 4);
  SplitAttention r1(SplitAttentionOptions(8, 12, 3).padding(1).radix(1).cardinality(2));
  r1.forward(test::random_tensor({2, 8, 6, 5}, 2));
  for (Scalar w : r1.attention()) {
    CHECK(w > 0);
    CHECK(w < 1);
  }
}

// The notes' observation, checked numerically: with radix 1, SplAtConv2d is the convolution
// U = ReLU(BN0(conv(x))) followed, in each cardinal group g separately, by a squeeze-and-
// excitation gate: V_g = U_g * sigmoid(W2_g ReLU(BN1_g(W1_g mean_hw(U_g) + b1_g)) + b2_g).
// The gate below is written from the SE paper with plain loops, one group at a time, reading
// only group g's slices of the weights; it must equal the block's output (float, 1e-5).
TEST_CASE("split attention with radix 1 equals an SE gate per cardinal group", "[splat][se]") {
  manual_seed(5);
  const std::size_t G = 3, K = 12, I = 6, Kg = K / G, Ig = I / G, N = 4, P = 5, Q = 6;
  SplitAttention block(
      SplitAttentionOptions(6, K, 3).padding(1).radix(1).cardinality(G).min_inter_channels(I));
  Rng rng(6);  // BN1 with gamma != 1 and beta != 0
  for (auto& v : block.bn1.weight.value) v = Scalar(rng.uniform(0.5, 1.5));
  for (auto& v : block.bn1.bias.value) v = Scalar(0.5 * rng.normal());
  const Tensor x = test::random_tensor({N, 6, P, Q}, 7);
  const Tensor v = block.forward(x);
  const Tensor u = block.relu.forward(block.bn0.forward(block.conv.forward(x)));  // same U

  const Scalar* w1 = block.fc1.weight.value.data();  // (I, Kg, 1, 1): group g rows [g Ig, ...)
  const Scalar* w2 = block.fc2.weight.value.data();  // (K, Ig, 1, 1): group g rows [g Kg, ...)
  Tensor expected = zeros({N, K, P, Q});
  for (std::size_t g = 0; g < G; ++g) {
    // squeeze: the mean of each of group g's channels, then its hidden layer, for every image
    std::vector<std::vector<double>> hidden(N, std::vector<double>(Ig));
    for (std::size_t n = 0; n < N; ++n) {
      std::vector<double> s(Kg, 0.0);
      for (std::size_t k = 0; k < Kg; ++k) {
        for (std::size_t i = 0; i < P * Q; ++i) s[k] += u.data()[(n * K + g * Kg + k) * P * Q + i];
        s[k] /= double(P * Q);
      }
      for (std::size_t h = 0; h < Ig; ++h) {
        double acc = block.fc1.bias.value.data()[g * Ig + h];
        for (std::size_t k = 0; k < Kg; ++k) acc += w1[(g * Ig + h) * Kg + k] * s[k];
        hidden[n][h] = acc;
      }
    }
    // BN1 over the batch (training mode, biased variance), then ReLU
    for (std::size_t h = 0; h < Ig; ++h) {
      double mean = 0, var = 0;
      for (std::size_t n = 0; n < N; ++n) mean += hidden[n][h] / double(N);
      for (std::size_t n = 0; n < N; ++n) var += std::pow(hidden[n][h] - mean, 2) / double(N);
      const double gamma = block.bn1.weight.value.data()[g * Ig + h];
      const double beta = block.bn1.bias.value.data()[g * Ig + h];
      for (std::size_t n = 0; n < N; ++n) {
        hidden[n][h] = std::max(0.0, gamma * (hidden[n][h] - mean) / std::sqrt(var + 1e-5) + beta);
      }
    }
    // excite: one sigmoid gate per channel of group g, applied to the whole map
    for (std::size_t n = 0; n < N; ++n) {
      for (std::size_t k = 0; k < Kg; ++k) {
        double e = block.fc2.bias.value.data()[g * Kg + k];
        for (std::size_t h = 0; h < Ig; ++h) e += w2[(g * Kg + k) * Ig + h] * hidden[n][h];
        const double gate = 1.0 / (1.0 + std::exp(-e));
        for (std::size_t i = 0; i < P * Q; ++i) {
          const std::size_t at = (n * K + g * Kg + k) * P * Q + i;
          expected.data()[at] = Scalar(gate * u.data()[at]);
        }
      }
    }
  }
  CHECK(test::scaled_error(v, expected) < 1e-5);
}

TEST_CASE("naive and optimized convolutions give the same SK and split-attention blocks",
          "[sk][splat][naive]") {
  const Tensor x = test::random_tensor({2, 8, 9, 7}, 9);
  auto sk = [] {
    return std::make_unique<SelectiveKernel>(SelectiveKernelOptions(8, 16).groups(4).min_dim(8));
  };
  auto splat = [] {
    return std::make_unique<SplitAttention>(
        SplitAttentionOptions(8, 16, 3).padding(1).radix(2).cardinality(2));
  };
  for (int which = 0; which < 2; ++which) {
    INFO((which == 0 ? "SelectiveKernel" : "SplitAttention"));
    const auto [y_fast, dx_fast] =
        which == 0 ? run_with(sk, ConvAlgo::Auto, x) : run_with(splat, ConvAlgo::Auto, x);
    const auto [y_naive, dx_naive] =
        which == 0 ? run_with(sk, ConvAlgo::Naive, x) : run_with(splat, ConvAlgo::Naive, x);
    CHECK(test::scaled_error(y_fast, y_naive) < 1e-4);
    CHECK(test::scaled_error(dx_fast, dx_naive) < 1e-4);
  }
}

TEST_CASE("bad SK and split-attention configurations throw, naming the option", "[sk][splat]") {
  using SKO = SelectiveKernelOptions;
  CHECK_THROWS_WITH(SelectiveKernel(SKO(8, 8).branches(1)), Contains("branches=1"));
  CHECK_THROWS_WITH(SelectiveKernel(SKO(8, 12).groups(8)), Contains("groups=8"));
  CHECK_THROWS_WITH(SelectiveKernel(SKO(8, 8).groups(4).stride(0)), Contains("stride=0"));
  CHECK_THROWS_WITH(SelectiveKernel(SKO(0, 8)), Contains("channel counts"));
  using SAO = SplitAttentionOptions;
  CHECK_THROWS_WITH(SplitAttention(SAO(8, 8, 3).radix(0)), Contains("radix=0"));
  CHECK_THROWS_WITH(SplitAttention(SAO(6, 8, 3).radix(2).cardinality(2)),
                    Contains("must divide in_channels=6"));
  CHECK_THROWS_WITH(SplitAttention(SAO(8, 6, 3).radix(1).cardinality(4)),
                    Contains("cardinality must divide channels=6"));
  SelectiveKernel sk(SKO(8, 8).groups(4));
  CHECK_THROWS_WITH(sk.forward(zeros({2, 4, 5, 5})), Contains("expected 8"));
  CHECK_THROWS_WITH(sk.backward(zeros({2, 8, 5, 5})), Contains("backward got dy"));
  SplitAttention splat(SAO(8, 8, 3).padding(1));
  CHECK_THROWS_WITH(splat.forward(zeros({2, 3, 5, 5})), Contains("expected 8"));
  CHECK_THROWS_WITH(sk_cifar(0), Contains("num_classes=0"));
}

TEST_CASE("sk_cifar and splat_cifar map CIFAR images to class scores", "[sk][splat][model]") {
  manual_seed(8);
  const Tensor x = test::random_tensor({2, 3, 32, 32}, 10);
  for (auto make : {+[] { return sk_cifar(10); }, +[] { return splat_cifar(10, 2, 2); }}) {
    ModulePtr net = make();
    const Tensor y = net->forward(x);
    CHECK(shape_of(y) == Shape{2, 10, 1, 1});
    CHECK(shape_of(net->backward(test::random_tensor(shape_of(y), 11))) == shape_of(x));
  }
}
