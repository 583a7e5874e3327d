// Checks chapter 03's exercises against the framework itself: Conv2d's and MaxPool2d's output
// shapes, Inception / InceptionNaive's own parameter and FLOP counts (what `convbook info`
// prints), and three Conv2d 1x1 layers joined by concat_channels.
#include <catch2/catch.hpp>
#include <vector>

#include "chapters/03_inception/inception.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/concat.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/random.hpp"
#include "exercise.hpp"
#include "support/exercise_check.hpp"

using namespace convbook;
using exercise::allclose_ratio;
using exercise::as_tensor;
using exercise::random_vector;

TEST_CASE("03.1 a branch's output side, and the padding that keeps it", "[exercise]") {
  for (std::size_t H : {1, 5, 7, 28}) {
    for (std::size_t kernel : {1, 3, 5}) {
      for (std::size_t stride : {1, 2}) {
        for (std::size_t padding = 0; padding <= kernel / 2; ++padding) {
          if (H + 2 * padding < kernel) continue;
          INFO("H=" << H << " kernel=" << kernel << " stride=" << stride << " padding=" << padding);
          const Conv2d conv(Conv2dOptions(1, 1, kernel).stride(stride).padding(padding));
          const Shape s = conv.output_shape({1, 1, H, H + 1});
          CHECK(ex03::output_side(H, kernel, stride, padding) == s[2]);
          CHECK(ex03::output_side(H + 1, kernel, stride, padding) == s[3]);
          CHECK(ex03::output_side(H, kernel, stride, padding) ==
                MaxPool2d(kernel, stride, padding).geometry().output_size(H));
        }
      }
    }
  }
  for (std::size_t kernel : {1, 3, 5, 7}) {
    INFO("kernel=" << kernel);
    const std::size_t p = ex03::same_padding(kernel);
    for (std::size_t H : {kernel, std::size_t(9), std::size_t(28)}) {
      CHECK(ex03::output_side(H, kernel, 1, p) == H);
    }
  }
}

TEST_CASE("03.2 the cost of an Inception block with and without reductions", "[exercise]") {
  struct Case {
    std::size_t C, H, W;
    ex03::InceptionWidths w;
  };
  for (const Case& c : std::vector<Case>{{192, 28, 28, {64, 96, 128, 16, 32, 32}},    // (3a)
                                         {256, 28, 28, {128, 128, 192, 32, 96, 64}},  // (3b)
                                         {6, 7, 5, {3, 4, 5, 2, 3, 2}}}) {
    const InceptionOptions o = InceptionOptions(c.C)
                                   .ch1x1(c.w.ch1x1)
                                   .ch3x3red(c.w.ch3x3red)
                                   .ch3x3(c.w.ch3x3)
                                   .ch5x5red(c.w.ch5x5red)
                                   .ch5x5(c.w.ch5x5)
                                   .pool_proj(c.w.pool_proj);
    manual_seed(1);
    Inception reduced(o);
    InceptionNaive naive(o);
    for (bool reductions : {true, false}) {
      Module& block = reductions ? static_cast<Module&>(reduced) : naive;
      INFO(block.repr() << " at " << c.H << "x" << c.W);
      block.eval();
      block.forward(zeros({1, c.C, c.H, c.W}));
      const ex03::Cost yours = ex03::inception_cost(c.C, c.H, c.W, c.w, reductions);
      CHECK(yours.params == block.num_parameters());
      CHECK(yours.flops == Approx(block.flops()));
    }
  }
}

TEST_CASE("03.3 three 1x1 convolutions on the same x, as one product", "[exercise]") {
  const std::size_t N = 2, C = 5, H = 4, W = 3;
  const std::vector<std::size_t> Ks = {3, 4, 1};
  const std::vector<float> x = random_vector(N * C * H * W, 1);
  const std::vector<float> dy = random_vector(N * 8 * H * W, 2);
  manual_seed(3);
  std::vector<std::vector<float>> weights;
  std::vector<Tensor> outputs;
  const Tensor xt = as_tensor(x, {N, C, H, W});
  const std::vector<Tensor> dparts = split_channels(as_tensor(dy, {N, 8, H, W}), Ks);
  Tensor dx = zeros({N, C, H, W});
  for (std::size_t i = 0; i < Ks.size(); ++i) {
    Conv2d conv(Conv2dOptions(C, Ks[i], 1).bias(false));  // the library's branch
    weights.emplace_back(conv.weight.value.begin(), conv.weight.value.end());
    outputs.push_back(conv.forward(xt));
    dx += conv.backward(dparts[i]);
  }
  const Tensor y = concat_channels({&outputs[0], &outputs[1], &outputs[2]});
  CHECK(allclose_ratio(ex03::fused_pointwise_forward(x, N, C, H, W, weights), y) <= 1.0);
  CHECK(allclose_ratio(ex03::fused_pointwise_backward_input(dy, N, C, H, W, weights), dx) <= 1.0);
}
