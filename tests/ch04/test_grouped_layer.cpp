// Chapter 04: a grouped Conv2d is G dense convolutions on channel slices (forward, dx, dw, db),
// and equals the dense convolution whose weight is block-diagonal. Checked for every algorithm
// that supports the shape (Auto, naive, im2col, the grouped kernel, ...), in float: both sides
// sum in different orders, so the error is measured at the reference's scale (scaled_error).
#include <catch2/catch.hpp>

#include "chapters/04_grouped/grouped_models.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "grouped_slices.hpp"
#include "support/check.hpp"

using namespace convbook;

namespace {

constexpr double kTolerance = 1e-5;

struct Case {
  Conv2dOptions options;
  Shape input;
};

std::vector<Case> cases() {
  return {
      {Conv2dOptions(8, 8, 3).padding(1).groups(2), {2, 8, 6, 5}},
      {Conv2dOptions(12, 6, 3).padding(1).groups(3).bias(false), {1, 12, 7, 7}},
      {Conv2dOptions(8, 16, {3, 2}).stride(2).padding({1, 0}).groups(4), {2, 8, 9, 6}},
      {Conv2dOptions(6, 6, 3).padding(2).dilation(2).groups(6), {2, 6, 8, 8}},  // depthwise
      {Conv2dOptions(32, 32, 3).padding(1).groups(32).bias(false), {2, 32, 5, 5}},
      {Conv2dOptions(64, 64, 3).padding(1).groups(8).bias(false), {2, 64, 8, 8}},
      {Conv2dOptions(4, 8, 5).padding(2).groups(2), {1, 4, 7, 7}},  // AlexNet's layout, small
  };
}

}  // namespace

TEST_CASE("A grouped Conv2d equals G dense Conv2d on channel slices", "[grouped]") {
  std::uint64_t seed = 1;
  for (const Case& c : cases()) {
    for (ConvAlgo algo : all_conv_algos()) {
      Conv2d conv(c.options);
      conv.weight.value = test::random_tensor(shape_of(conv.weight.value), seed++);
      if (c.options.bias()) conv.bias.value = test::random_tensor(shape_of(conv.bias.value), seed++);
      const Tensor x = test::random_tensor(c.input, seed++);
      const Shape out = conv.output_shape(c.input);
      const Tensor dy = test::random_tensor(out, seed++);
      ConvGeometry g;  // only to ask whether the algorithm supports the shape
      g.N = int(c.input[0]), g.C = int(c.input[1]), g.H = int(c.input[2]), g.W = int(c.input[3]);
      g.K = int(c.options.out_channels()), g.R = int(c.options.kernel_size().h),
      g.S = int(c.options.kernel_size().w), g.stride_h = int(c.options.stride().h),
      g.stride_w = int(c.options.stride().w), g.pad_h = int(c.options.padding().h),
      g.pad_w = int(c.options.padding().w), g.dil_h = int(c.options.dilation().h),
      g.dil_w = int(c.options.dilation().w), g.G = int(c.options.groups());
      if (!conv_algo_supports(algo, g)) continue;
      conv.set_algorithm(algo);
      INFO(conv.repr() << " on " << to_string(c.input) << ", algorithm " << to_string(algo));
      const Tensor y = conv.forward(x);
      conv.zero_grad();
      const Tensor dx = conv.backward(dy);
      const test::ConvResult ref = test::grouped_as_slices(conv, x, dy);
      CHECK(test::scaled_error(y, ref.y) < kTolerance);
      CHECK(test::scaled_error(dx, ref.dx) < kTolerance);
      CHECK(test::scaled_error(conv.weight.grad, ref.dw) < kTolerance);
      if (c.options.bias()) CHECK(test::scaled_error(conv.bias.grad, ref.db) < kTolerance);
    }
  }
}

TEST_CASE("A grouped Conv2d equals the dense Conv2d with a block-diagonal weight", "[grouped]") {
  std::uint64_t seed = 100;
  for (const Case& c : cases()) {
    Conv2dOptions grouped_options = c.options;
    Conv2d grouped(grouped_options.bias(false));
    grouped.weight.value = test::random_tensor(shape_of(grouped.weight.value), seed++);
    Conv2dOptions dense_options = grouped_options;
    Conv2d dense(dense_options.groups(1));
    const std::size_t C = c.options.in_channels(), G = c.options.groups();
    dense.weight.value = test::block_diagonal_weight(grouped.weight.value, C, G);
    const Tensor x = test::random_tensor(c.input, seed++);
    const Tensor dy = test::random_tensor(grouped.output_shape(c.input), seed++);
    INFO(grouped.repr() << " on " << to_string(c.input));
    CHECK(test::scaled_error(grouped.forward(x), dense.forward(x)) < kTolerance);
    grouped.zero_grad();
    dense.zero_grad();
    CHECK(test::scaled_error(grouped.backward(dy), dense.backward(dy)) < kTolerance);
    // The dense layer's dw is the full (K, C) one; the grouped dw is its diagonal blocks, and
    // block_diagonal_weight extracts exactly those positions.
    const Tensor grouped_dw_dense = test::block_diagonal_weight(grouped.weight.grad, C, G);
    // zero the off-diagonal blocks of the dense gradient before comparing
    Tensor dense_dw = dense.weight.grad;
    const Shape s = shape_of(dense_dw);
    const std::size_t K = s[0], RS = s[2] * s[3], Cg = C / G, Kg = K / G;
    for (std::size_t k = 0; k < K; ++k) {
      for (std::size_t ci = 0; ci < C; ++ci) {
        if (ci / Cg != k / Kg) std::fill_n(dense_dw.data() + (k * C + ci) * RS, RS, Scalar(0));
      }
    }
    CHECK(test::scaled_error(grouped_dw_dense, dense_dw) < kTolerance);
  }
}

TEST_CASE("Grouped layers and models refuse bad configurations", "[grouped][errors]") {
  CHECK_THROWS_WITH(Conv2d(Conv2dOptions(6, 8, 3).groups(4)),
                    Catch::Contains("groups") && Catch::Contains("6"));
  CHECK_THROWS_WITH(grouped_conv3x3_stack(128, 3), Catch::Contains("groups"));
  CHECK_THROWS_WITH(grouped_conv3x3_stack(0, 1), Catch::Contains("channels=0"));
  CHECK_THROWS_WITH(alexnet_conv2(5), Catch::Contains("groups"));
  CHECK_THROWS_WITH(grouped_cnn(10, 3), Catch::Contains("groups=3") &&
                                            Catch::Contains("divisor of 32"));
  CHECK_THROWS_WITH(grouped_cnn(0, 8), Catch::Contains("num_classes=0"));
}

TEST_CASE("grouped_cnn: shapes and the cost of grouping", "[grouped][model]") {
  auto dense = grouped_cnn(10, 1);
  auto grouped = grouped_cnn(10, 8);
  const Tensor x = test::random_tensor({2, 3, 32, 32}, 7);
  CHECK(shape_of(grouped->forward(x)) == Shape{2, 10, 1, 1});
  dense->forward(x);
  // Only the three middle convolutions change: 9 C^2 weights become 9 C^2 / 8.
  const std::size_t middle = 9 * (32 * 32 + 64 * 64 + 128 * 128);
  CHECK(dense->num_parameters() - grouped->num_parameters() == middle - middle / 8);
  CHECK(grouped->flops() < dense->flops());
}
