// Checks chapter 02's exercises against the framework itself: a 1x1 Conv2d, NiNBlock's own
// num_parameters() and flops(), and AdaptiveAvgPool2d's backward, on random data and odd
// sizes. Both sides compute in float in different orders, so we accept
// |yours - library| <= 1e-5 + 1e-4 |library|.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "chapters/02_pointwise/nin.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/random.hpp"
#include "exercise.hpp"
#include "support/exercise_check.hpp"

using namespace convbook;
using convbook::exercise::allclose_ratio;
using convbook::exercise::as_tensor;
using convbook::exercise::random_vector;

namespace {}  // namespace

TEST_CASE("02.1 conv1x1_as_matmul agrees with a 1x1 Conv2d", "[exercise]") {
  struct Case {
    std::size_t N, C, H, W, K;
  };
  std::uint64_t seed = 1;
  for (const Case& c :
       {Case{1, 1, 1, 1, 1}, Case{2, 5, 7, 3, 4}, Case{1, 16, 8, 8, 4}, Case{3, 3, 5, 5, 17}}) {
    INFO("N=" << c.N << " C=" << c.C << " H=" << c.H << " W=" << c.W << " K=" << c.K);
    const std::vector<float> x = random_vector(c.N * c.C * c.H * c.W, seed++);
    const std::vector<float> w = random_vector(c.K * c.C, seed++);
    const std::vector<float> b = random_vector(c.K, seed++);
    Conv2d conv(Conv2dOptions(c.C, c.K, 1));
    conv.weight.value = as_tensor(w, {c.K, c.C, 1, 1});
    conv.bias.value = as_tensor(b, {c.K, 1, 1, 1});
    const Tensor expected = conv.forward(as_tensor(x, {c.N, c.C, c.H, c.W}));
    CHECK(allclose_ratio(ex02::conv1x1_as_matmul(x, w, b, c.N, c.C, c.H, c.W, c.K), expected) <= 1);
  }
}

TEST_CASE("02.2 nin_block_cost agrees with NiNBlock's own count", "[exercise]") {
  struct Case {
    NiNBlockOptions options;
    std::size_t H, W;
  };
  const std::vector<Case> cases = {
      {NiNBlockOptions(96, 192, 5).padding(2), 16, 16},                 // Lin et al.'s second block
      {NiNBlockOptions(3, 32, 3).padding(1).batch_norm(true), 32, 32},  // nin_cifar's first
      {NiNBlockOptions(64, 10, 3).padding(1).mid_channels(128).batch_norm(true).final_activation(
           false),
       8, 8},                                                           // nin_cifar's head
      {NiNBlockOptions(5, 7, {3, 2}).stride(2).padding({1, 0}), 9, 6},  // odd everything
  };
  for (const Case& c : cases) {
    NiNBlock block(c.options);
    block.forward(zeros({1, c.options.in_channels(), c.H, c.W}));
    INFO(block.repr() << " on " << c.H << "x" << c.W);
    const ex02::Cost yours = ex02::nin_block_cost(c.options, c.H, c.W);
    CHECK(yours.params == block.num_parameters());
    CHECK(yours.flops == Approx(block.flops()).epsilon(1e-12));
  }
}

TEST_CASE("02.3 global_avg_pool_backward agrees with AdaptiveAvgPool2d", "[exercise]") {
  std::uint64_t seed = 50;
  for (const Shape& s : {Shape{1, 1, 1, 1}, Shape{2, 3, 7, 5}, Shape{4, 10, 8, 8}}) {
    INFO(to_string(s));
    AdaptiveAvgPool2d pool(1);
    pool.forward(zeros(s));
    const std::vector<float> dy = random_vector(s[0] * s[1], seed++);
    const Tensor expected = pool.backward(as_tensor(dy, {s[0], s[1], 1, 1}));
    CHECK(allclose_ratio(ex02::global_avg_pool_backward(dy, s[0], s[1], s[2], s[3]), expected) <=
          1);
  }
}
