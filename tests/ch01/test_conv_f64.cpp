// Chapter 01: Conv2d's hand-written backward against central differences, in double, for both
// algorithms over a grid of options.
//
// The loss L = sum(y * g) is linear in x and in each parameter, so central differences have
// no truncation error: a large step (eps = 1e-3) keeps the rounding error near 1e-13 and we
// can ask for a relative error below 1e-8 on every element.
#include <catch2/catch.hpp>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

namespace {

constexpr double kEps = 1e-3;
constexpr double kTolerance = 1e-8;

/// Gradient check of one layer with a random (non-zero) bias, in the given algorithm.
void check_gradients(const Conv2dOptions& options, const Shape& input, ConvAlgo algo) {
  manual_seed(11);
  Conv2d conv(options);
  conv.set_algorithm(algo);
  if (options.bias()) conv.bias.value = test::random_tensor(shape_of(conv.bias.value), 4);
  const test::GradCheckResult r = test::gradcheck(conv, test::random_tensor(input, 5), kEps);
  INFO(conv.repr() << " on " << to_string(input)
                   << (algo == ConvAlgo::Naive ? " (naive)" : " (im2col)"));
  INFO("dx error " << r.input << ", worst parameter " << r.worst_parameter << " " << r.parameters);
  CHECK(r.input < kTolerance);
  CHECK(r.parameters < kTolerance);
}

}  // namespace

TEST_CASE("Conv2d backward matches finite differences (double)", "[conv][gradcheck]") {
  struct Case {
    Conv2dOptions options;
    Shape input;
  };
  const std::vector<Case> cases = {
      {Conv2dOptions(3, 4, 3).padding(1), {2, 3, 7, 5}},
      {Conv2dOptions(3, 4, 3).stride(2).padding(1).bias(false), {2, 3, 7, 5}},
      {Conv2dOptions(2, 3, {2, 3}).stride({2, 1}).padding({1, 0}), {1, 2, 6, 7}},
      {Conv2dOptions(3, 2, 3).padding(2).dilation(2), {1, 3, 6, 5}},
      {Conv2dOptions(6, 3, 3).padding(1).groups(3), {1, 6, 5, 4}},
      {Conv2dOptions(4, 4, 3).stride(3).groups(4).bias(false), {2, 4, 7, 7}},  // skips pixels
      {Conv2dOptions(6, 4, {3, 2}).stride({2, 3}).padding({2, 1}).dilation({2, 1}).groups(2),
       {1, 6, 9, 8}},
      {Conv2dOptions(5, 3, 1), {2, 5, 3, 3}},
  };
  for (const Case& c : cases) {
    check_gradients(c.options, c.input, ConvAlgo::Naive);
    check_gradients(c.options, c.input, ConvAlgo::Im2col);
  }
}

TEST_CASE("Conv2d backward accumulates parameter gradients", "[conv]") {
  // Module contract: backward adds into grad, so two backward passes give twice the gradient.
  for (ConvAlgo algo : {ConvAlgo::Naive, ConvAlgo::Im2col}) {
    manual_seed(3);
    Conv2d conv(Conv2dOptions(2, 3, 3).padding(1));
    conv.set_algorithm(algo);
    const Tensor x = test::random_tensor({1, 2, 4, 5}, 1);
    const Tensor dy = test::random_tensor({1, 3, 4, 5}, 2);
    conv.forward(x);
    conv.backward(dy);
    const Tensor once_w = conv.weight.grad, once_b = conv.bias.grad;
    conv.forward(x);
    conv.backward(dy);
    CHECK(test::rel_error(conv.weight.grad, Tensor(2.0 * once_w)) < 1e-14);
    CHECK(test::rel_error(conv.bias.grad, Tensor(2.0 * once_b)) < 1e-14);
  }
}
