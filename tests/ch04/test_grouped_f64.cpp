// Chapter 04: the backward of a grouped convolution against central differences, and the
// slice identity in double, where the two sides must agree to rounding (1e-12). The layers are
// linear in x and in the weights, so the finite differences are exact up to rounding; the
// element-wise relative error (support/check.hpp) of the few gradient elements near zero is
// rounding noise of up to 2e-7 (measured: the stride-2 case's dx), so the tolerance is 1e-6.
// A gradient routed to the wrong group misses by order 1.
#include <catch2/catch.hpp>

#include "chapters/04_grouped/grouped_models.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/sequential.hpp"
#include "grouped_slices.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

TEST_CASE("Grouped Conv2d backward matches finite differences (double)", "[grouped][gradcheck]") {
  struct Case {
    Conv2dOptions options;
    Shape input;
  };
  const std::vector<Case> cases = {
      {Conv2dOptions(4, 6, 3).padding(1).groups(2), {2, 4, 5, 4}},
      {Conv2dOptions(6, 3, {3, 2}).stride(2).padding({1, 0}).groups(3), {2, 6, 7, 6}},
      {Conv2dOptions(4, 8, 5).padding(2).groups(2), {1, 4, 6, 6}},
      {Conv2dOptions(8, 8, 3).padding(1).groups(8).bias(false), {2, 8, 4, 4}},
  };
  std::uint64_t seed = 3;
  for (const Case& c : cases) {
    for (ConvAlgo algo : {ConvAlgo::Auto, ConvAlgo::Naive}) {
      Conv2d conv(c.options);
      conv.set_algorithm(algo);
      if (c.options.bias()) conv.bias.value = test::random_tensor(shape_of(conv.bias.value), seed++);
      const test::GradCheckResult r =
          test::gradcheck(conv, test::random_tensor(c.input, seed++), 1e-5);
      INFO(conv.repr() << " on " << to_string(c.input) << ", " << to_string(algo));
      INFO("dx error " << r.input << ", worst parameter " << r.worst_parameter << " "
                       << r.parameters);
      CHECK(r.input < 1e-6);
      CHECK(r.parameters < 1e-6);
    }
  }
}

TEST_CASE("Grouped conv + BN block backward matches finite differences (double)",
          "[grouped][gradcheck]") {
  manual_seed(5);
  Sequential block;
  block.emplace<Conv2d>(Conv2dOptions(4, 8, 3).padding(1).bias(false));
  block.emplace<BatchNorm2d>(8);
  block.emplace<Conv2d>(Conv2dOptions(8, 8, 3).padding(1).groups(4).bias(false));
  block.emplace<BatchNorm2d>(8);
  const test::GradCheckResult r = test::gradcheck(block, test::random_tensor({3, 4, 5, 5}, 9), 1e-5);
  INFO("dx error " << r.input << ", worst parameter " << r.worst_parameter << " " << r.parameters);
  // BN makes the loss non-linear: per-element relative error on tiny gradients is FD noise.
  CHECK(r.input < 1e-5);
  CHECK(r.parameters < 1e-5);
}

TEST_CASE("Grouped Conv2d equals G slices to rounding (double)", "[grouped]") {
  Conv2d conv(Conv2dOptions(12, 8, 3).padding(1).groups(4));
  conv.weight.value = test::random_tensor(shape_of(conv.weight.value), 1);
  conv.bias.value = test::random_tensor(shape_of(conv.bias.value), 2);
  const Tensor x = test::random_tensor({2, 12, 6, 5}, 3);
  const Tensor y = conv.forward(x);
  const Tensor dy = test::random_tensor(shape_of(y), 4);
  conv.zero_grad();
  const Tensor dx = conv.backward(dy);
  const test::ConvResult ref = test::grouped_as_slices(conv, x, dy);
  CHECK(test::scaled_error(y, ref.y) < 1e-12);
  CHECK(test::scaled_error(dx, ref.dx) < 1e-12);
  CHECK(test::scaled_error(conv.weight.grad, ref.dw) < 1e-12);
  CHECK(test::scaled_error(conv.bias.grad, ref.db) < 1e-12);
}
