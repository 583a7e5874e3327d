// Chapter 07: double gradient checks of dilated stacks through their own forward/backward,
// against central differences of L = sum(y * g). Every algorithm that supports the layers is
// forced in turn, so each kernel's dilated backward is checked, not only the one Auto picks.
//
// Each gradient tensor is measured at its own scale, max |analytic - numeric| / max |numeric|
// (check.hpp's scaled_error), as chapter 05 does: in a depthwise stack some input pixels get
// gradients of ~1e-9, and the element-wise relative error of those is finite-difference noise
// (4.6e-4 for a correct backward). The convolution stacks have no ReLU: L is then linear in x
// and in each single weight, so central differences are exact for any step and we take
// eps = 1e-2, far from rounding noise (with ReLUs, eps = 1e-5 crossed a kink and scored 4e-3,
// eps = 1e-6 left noise of 9e-8). The conv-BN-ReLU stack runs in eval mode (BN is a
// per-channel affine map) with eps = 1e-6. Measured: < 1e-10 for the conv stacks, 9e-10 for
// the BN stack; we require < 1e-7. A wrong tap index scores O(1).
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "chapters/07_dilated/dilated_net.hpp"
#include "chapters/07_dilated/receptive_field.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

namespace {

constexpr double kTolerance = 1e-7;

// Dilations 1, 2, 3 (and a stride-2 dilated layer) with few channels, so the direct and
// grouped kernels accept the stride-1 layers; `groups` = channels makes it depthwise.
std::unique_ptr<Sequential> conv_stack(std::size_t channels, std::size_t groups, ConvAlgo algo) {
  auto net = std::make_unique<Sequential>();
  const std::size_t dil[] = {1, 2, 3};
  for (std::size_t d : dil) {
    auto& c = net->emplace<Conv2d>(
        Conv2dOptions(channels, channels, 3).padding(d).dilation(d).groups(groups));
    c.bias.value = test::random_tensor(shape_of(c.bias.value), 30 + d);
    const ConvGeometry probe = [&] {
      ConvGeometry g;
      g.C = g.K = int(channels), g.G = int(groups), g.H = g.W = 9, g.R = g.S = 3;
      g.pad_h = g.pad_w = g.dil_h = g.dil_w = int(d);
      return g;
    }();
    c.set_algorithm(conv_algo_supports(algo, probe) ? algo : ConvAlgo::Naive);
  }
  auto& last = net->emplace<Conv2d>(
      Conv2dOptions(channels, channels, 3).stride(2).padding(2).dilation(2).groups(groups));
  last.bias.value = test::random_tensor(shape_of(last.bias.value), 40);
  return net;
}

}  // namespace

TEST_CASE("dilated conv stacks: backward == finite differences, every algorithm", "[ch07][f64]") {
  for (ConvAlgo algo : {ConvAlgo::Naive, ConvAlgo::Im2col, ConvAlgo::Direct, ConvAlgo::Grouped}) {
    INFO(to_string(algo));
    manual_seed(3);
    auto net = conv_stack(3, 1, algo);
    const auto r = test::scaled_gradcheck(*net, test::random_tensor({2, 3, 9, 11}, 8), 1e-2);
    INFO("worst parameter " << r.worst_parameter);
    CHECK(r.input < kTolerance);
    CHECK(r.parameters < kTolerance);
  }
  for (ConvAlgo algo : {ConvAlgo::Depthwise, ConvAlgo::Im2col}) {
    INFO("depthwise, " << to_string(algo));
    manual_seed(4);
    auto net = conv_stack(4, 4, algo);
    const auto r = test::scaled_gradcheck(*net, test::random_tensor({2, 4, 11, 9}, 9), 1e-2);
    INFO("worst parameter " << r.worst_parameter);
    CHECK(r.input < kTolerance);
    CHECK(r.parameters < kTolerance);
  }
}

TEST_CASE("dilated_stack (conv-BN-ReLU, d 1 2 5) in eval mode", "[ch07][f64]") {
  manual_seed(5);
  auto stack = dilated_stack(2, 3, {1, 2, 5});
  Rng rng(6);
  stack->visit_parameters([&](const std::string&, Parameter& p) {
    for (auto& v : p.value) v = p.is_buffer ? rng.uniform(0.5, 1.5) : v + 0.3 * rng.normal();
  });
  stack->eval();
  const auto r = test::scaled_gradcheck(*stack, test::random_tensor({2, 2, 13, 12}, 10), 1e-6);
  INFO("worst parameter " << r.worst_parameter);
  CHECK(r.input < kTolerance);
  CHECK(r.parameters < kTolerance);
}

TEST_CASE("the receptive-field map is exact in double too", "[ch07][f64]") {
  const Tensor map = receptive_field_map(rf_stack(3, {1, 2, 5}), 21);
  CHECK(measure_receptive_field(map).holes == 0);
  CHECK(measure_receptive_field(map).extent == 17);
}
