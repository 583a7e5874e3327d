// Chapter 06: the separable blocks in float. What each factorization computes (a flattened
// block is a dense convolution with an outer-product kernel; a spatially separable pair is one
// with W[k,c,r,s] = sum_m h[k,m,s] v[m,c,r]), rectangular kernels (R != S) in every algorithm
// and in the picker, state_dict names, shapes, costs, and bad options.
//
// Tolerance: 1e-5 relative to the largest reference value, as for the fast kernels (float sums
// in another order); a wrong tap or channel scores O(1).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "chapters/00_framework/small_cnn.hpp"
#include "chapters/06_separable/mobilenet_cifar.hpp"
#include "chapters/06_separable/rank1.hpp"
#include "chapters/06_separable/separable_blocks.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"
#include "support/conv_checks.hpp"

using namespace convbook;
using Catch::Matchers::Contains;
using test::random_tensor;
using test::scaled_error;

namespace {

std::vector<std::string> names_of(Module& m) {
  std::vector<std::string> names;
  m.visit_parameters([&](const std::string& n, Parameter&) { names.push_back(n); });
  return names;
}

// The dense convolution of `options`' geometry (padding (R/2, S/2), the block's stride) with
// weight `w`, applied to x.
Tensor dense_conv(const SeparableOptions& o, const Tensor& w, const Tensor& x) {
  const Shape s = shape_of(w);
  Conv2d conv(Conv2dOptions(s[1], s[0], {s[2], s[3]})
                  .stride(o.stride())
                  .padding({s[2] / 2, s[3] / 2})
                  .bias(false));
  conv.weight.value = w;
  return conv.forward(x);
}

}  // namespace

//! [flattened-equals-dense]
TEST_CASE("a flattened block is a dense convolution whose kernel is an outer product",
          "[ch06][flattened]") {
  for (const SeparableOptions& o :
       {SeparableOptions(5, 4).kernel_size({3, 5}), SeparableOptions(3, 6).stride(2),
        SeparableOptions(2, 3).kernel_size({5, 1}).stride(2)}) {
    manual_seed(3);
    Flattened block(o);
    const Tensor x = random_tensor({2, o.in_channels(), 9, 7}, 1);
    // the three 1-D layers, before the BN
    const Tensor h = block.horizontal.forward(block.vertical.forward(block.lateral.forward(x)));
    const Tensor w = flattened_kernel(block.lateral.weight.value, block.vertical.weight.value,
                                      block.horizontal.weight.value);
    INFO(block.repr());
    CHECK(shape_of(w) ==
          Shape{o.out_channels(), o.in_channels(), o.kernel_size().h, o.kernel_size().w});
    CHECK(scaled_error(h, dense_conv(o, w, x)) < 1e-5);
  }
}
//! [flattened-equals-dense]

TEST_CASE("a spatially separable pair is a dense convolution of limited rank", "[ch06][spatial]") {
  const SeparableOptions o =
      SeparableOptions(3, 4).mid_channels(2).kernel_size({3, 5}).middle_bn_relu(false);
  manual_seed(4);
  SpatiallySeparable block(o);
  const Tensor x = random_tensor({2, 3, 8, 9}, 2);
  const Tensor h = block.horizontal.forward(block.vertical.forward(x));
  // W[k, c, r, s] = sum_m h[k, m, 0, s] v[m, c, r, 0]
  const Tensor& v = block.vertical.weight.value;
  const Tensor& hz = block.horizontal.weight.value;
  Tensor w = zeros({4, 3, 3, 5});
  for (std::size_t k = 0; k < 4; ++k)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t r = 0; r < 3; ++r)
        for (std::size_t s = 0; s < 5; ++s)
          for (std::size_t m = 0; m < 2; ++m) w(k, c, r, s) += hz(k, m, 0, s) * v(m, c, r, 0);
  CHECK(scaled_error(h, dense_conv(o, w, x)) < 1e-5);
  // One channel through one middle channel: each 3x5 slice is v h^T, of rank 1.
  manual_seed(5);
  SpatiallySeparable single(SeparableOptions(1, 1).kernel_size({3, 5}).middle_bn_relu(false));
  Conv2d probe(Conv2dOptions(1, 1, {3, 5}).bias(false));
  Tensor one = zeros({1, 1, 1, 1});
  one(0, 0, 0, 0) = 1;  // no channel mixing: the kernel is vertical x horizontal alone
  probe.weight.value =
      flattened_kernel(one, single.vertical.weight.value, single.horizontal.weight.value);
  CHECK(kernel_rank1_energies(probe)[0] == Approx(1.0));
}

TEST_CASE("rectangular kernels (R != S) in every algorithm that supports them", "[ch06][rect]") {
  // 1x3, 3x1, 1x7 and 5x1, dense, grouped and depthwise, stride 1 and 2, odd image sizes.
  struct Case {
    Conv2dOptions options;
    Shape input;
  };
  const std::vector<Case> cases = {
      {Conv2dOptions(5, 7, {1, 3}).padding({0, 1}), {2, 5, 9, 11}},
      {Conv2dOptions(5, 7, {3, 1}).padding({1, 0}), {2, 5, 9, 11}},
      {Conv2dOptions(33, 34, {1, 3}).padding({0, 1}).bias(false), {1, 33, 7, 9}},
      {Conv2dOptions(3, 6, {1, 7}).stride(2).padding({0, 3}), {2, 3, 9, 13}},
      {Conv2dOptions(8, 8, {5, 1}).padding({2, 0}).groups(4), {2, 8, 11, 7}},
      {Conv2dOptions(7, 7, {3, 1}).padding({1, 0}).groups(7), {2, 7, 9, 5}},
      {Conv2dOptions(7, 7, {1, 3}).stride({1, 2}).padding({0, 1}).groups(7), {2, 7, 9, 11}},
      {Conv2dOptions(6, 6, {1, 5}).stride(2).padding({0, 2}).groups(6).bias(false), {1, 6, 7, 13}},
  };
  std::multiset<ConvAlgo> tested;
  for (const Case& c : cases) {
    const ConvGeometry g = test::geometry_of(c.options, c.input);
    for (ConvAlgo algo : all_conv_algos()) {
      if (algo == ConvAlgo::Naive || !conv_algo_supports(algo, g)) continue;
      test::check_matches_naive(algo, c.options, c.input);
      tested.insert(algo);
    }
  }
  for (ConvAlgo algo : {ConvAlgo::Im2col, ConvAlgo::Direct, ConvAlgo::Depthwise, ConvAlgo::Grouped,
                        ConvAlgo::Auto}) {
    INFO(to_string(algo));
    CHECK(tested.count(algo) >= 2);
  }
  // Winograd's transforms are for 3x3 only: it never claims a rectangular kernel.
  CHECK(tested.count(ConvAlgo::Winograd2) == 0);
  CHECK(tested.count(ConvAlgo::Winograd4) == 0);
}

TEST_CASE("the picker sends rectangular kernels to the kernels made for them", "[ch06][rect]") {
  auto chosen = [](const Conv2dOptions& o, const Shape& in) {
    Conv2d conv(o);
    conv.forward(random_tensor(in, 1));
    return conv.chosen_algorithm();
  };
  // depthwise 1x3 and 3x1 (the flattened block's filters) -> the SIMD depthwise kernel
  CHECK(chosen(Conv2dOptions(64, 64, {3, 1}).padding({1, 0}).groups(64), {2, 64, 16, 16}) ==
        ConvAlgo::Depthwise);
  CHECK(chosen(Conv2dOptions(64, 64, {1, 3}).stride({1, 2}).padding({0, 1}).groups(64),
               {2, 64, 16, 16}) == ConvAlgo::Depthwise);
  // a dense 1x3 with many channels: no Winograd (3x3 only), so im2col
  CHECK(chosen(Conv2dOptions(64, 64, {1, 3}).padding({0, 1}), {2, 64, 16, 16}) == ConvAlgo::Im2col);
  CHECK(chosen(Conv2dOptions(16, 16, {3, 1}).padding({1, 0}), {2, 16, 8, 8}) == ConvAlgo::Grouped);
  for (ConvAlgo algo : {ConvAlgo::Winograd2, ConvAlgo::Winograd4}) {
    Conv2d conv(Conv2dOptions(8, 8, {1, 3}).padding({0, 1}));
    conv.set_algorithm(algo);
    CHECK_THROWS_WITH(conv.forward(random_tensor({1, 8, 5, 5}, 1)), Contains("3x3"));
  }
}

TEST_CASE("separable blocks: state_dict names, output shapes, repr", "[ch06][blocks]") {
  manual_seed(1);
  const Tensor x = random_tensor({2, 8, 9, 7}, 1);
  DepthwiseSeparable mobile(SeparableOptions(8, 16).stride(2));
  CHECK(names_of(mobile) == std::vector<std::string>{"depthwise.weight", "bn1.weight", "bn1.bias",
                                                     "bn1.running_mean", "bn1.running_var",
                                                     "bn1.num_batches_tracked", "pointwise.weight",
                                                     "bn2.weight", "bn2.bias", "bn2.running_mean",
                                                     "bn2.running_var", "bn2.num_batches_tracked"});
  CHECK(shape_of(mobile.forward(x)) == Shape{2, 16, 5, 4});
  CHECK(shape_of(mobile.depthwise.weight.value) == Shape{8, 1, 3, 3});
  CHECK(mobile.depthwise.chosen_algorithm() == ConvAlgo::Depthwise);
  CHECK(mobile.repr() == "DepthwiseSeparable(8, 16, kernel_size=(3, 3), stride=2)");

  DepthwiseSeparable xception(
      SeparableOptions(8, 16).order(SeparableOrder::PointwiseFirst).middle_bn_relu(false));
  CHECK(names_of(xception) ==
        std::vector<std::string>{"pointwise.weight", "depthwise.weight", "bn2.weight", "bn2.bias",
                                 "bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked"});
  CHECK(shape_of(xception.forward(x)) == Shape{2, 16, 9, 7});
  CHECK(shape_of(xception.depthwise.weight.value) == Shape{16, 1, 3, 3});  // after the 1x1
  CHECK(xception.repr() ==
        "DepthwiseSeparable(8, 16, kernel_size=(3, 3), stride=1, order=pointwise_first, "
        "middle_bn_relu=False)");

  SpatiallySeparable spatial(SeparableOptions(8, 16).kernel_size({3, 5}).stride(2));
  CHECK(shape_of(spatial.forward(x)) == Shape{2, 16, 5, 4});
  CHECK(shape_of(spatial.vertical.weight.value) == Shape{16, 8, 3, 1});
  CHECK(shape_of(spatial.horizontal.weight.value) == Shape{16, 16, 1, 5});

  Flattened flat(SeparableOptions(8, 16).stride(2));
  CHECK(names_of(flat) == std::vector<std::string>{"lateral.weight", "vertical.weight",
                                                   "horizontal.weight", "bn.weight", "bn.bias",
                                                   "bn.running_mean", "bn.running_var",
                                                   "bn.num_batches_tracked"});
  CHECK(shape_of(flat.forward(x)) == Shape{2, 16, 5, 4});
  CHECK(flat.vertical.chosen_algorithm() == ConvAlgo::Depthwise);
  CHECK(flat.horizontal.chosen_algorithm() == ConvAlgo::Depthwise);
}

TEST_CASE("a depthwise-separable block costs (R S + K) / (K R S) of a dense convolution",
          "[ch06][blocks][cost]") {
  const std::size_t C = 64, K = 128, H = 16, W = 16;
  DepthwiseSeparable ds(SeparableOptions(C, K).middle_bn_relu(false));
  Conv2d dense(Conv2dOptions(C, K, 3).padding(1).bias(false));
  const Tensor x = random_tensor({1, C, H, W}, 1);
  ds.forward(x);
  dense.forward(x);
  const double conv_flops = ds.depthwise.flops() + ds.pointwise.flops();
  CHECK(ds.depthwise.num_parameters() + ds.pointwise.num_parameters() == C * 9 + C * K);
  CHECK(conv_flops == Approx(2.0 * H * W * (C * 9 + C * K)));
  CHECK(conv_flops / dense.flops() == Approx((9.0 + K) / (K * 9.0)));
}

TEST_CASE("mobilenet_cifar: names, shape, and the dense twin's cost", "[ch06][model]") {
  manual_seed(2);
  ModulePtr net = mobilenet_cifar(10), dense = mobilenet_cifar(10, false);
  const std::vector<std::string> names = names_of(*net);
  CHECK(names.front() == "conv1.weight");
  CHECK(std::count(names.begin(), names.end(), "blocks.4.pointwise.weight") == 1);
  CHECK(names.back() == "fc.bias");
  const Tensor x = random_tensor({2, 3, 32, 32}, 1);
  CHECK(shape_of(net->forward(x)) == Shape{2, 10, 1, 1});
  CHECK(shape_of(dense->forward(x)) == Shape{2, 10, 1, 1});
  CHECK(net->num_parameters() * 5 < dense->num_parameters());
  CHECK(net->flops() * 5 < dense->flops());
  CHECK_THROWS_WITH(mobilenet_cifar(0), Contains("num_classes=0"));
}

TEST_CASE("rank-1 replacement makes every slice separable; find_convolutions finds the 3x3s",
          "[ch06][rank1]") {
  manual_seed(3);
  ModulePtr cnn = small_cnn(10);
  const auto convs = find_convolutions(*cnn, 3, 3);
  REQUIRE(convs.size() == 6);
  CHECK(convs.front().first == "0");
  Conv2d& conv = *convs[2].second;
  const std::vector<double> before = kernel_rank1_energies(conv);
  CHECK(before.size() == 32 * 16);
  for (double e : before) CHECK((e >= 1.0 / 3 - 1e-12 && e <= 1.0 + 1e-12));
  double expected_removed = 0, norm2 = 0;
  for (Scalar v : conv.weight.value) norm2 += double(v) * double(v);
  for (std::size_t i = 0; i < before.size(); ++i) {
    double slice2 = 0;
    for (std::size_t j = 0; j < 9; ++j)
      slice2 += std::pow(double(conv.weight.value.data()[i * 9 + j]), 2);
    expected_removed += (1 - before[i]) * slice2;
  }
  CHECK(replace_kernels_by_rank1(conv) == Approx(expected_removed / norm2));
  for (double e : kernel_rank1_energies(conv)) CHECK(e == Approx(1.0).epsilon(1e-5));
  CHECK(find_convolutions(*cnn, 1, 1).empty());
}

TEST_CASE("separable blocks reject bad options and inputs by name", "[ch06][errors]") {
  CHECK_THROWS_WITH(DepthwiseSeparable(SeparableOptions(0, 4)),
                    Contains("DepthwiseSeparable(0, 4") && Contains("at least 1"));
  CHECK_THROWS_WITH(SpatiallySeparable(SeparableOptions(4, 4).kernel_size({3, 4})),
                    Contains("kernel sizes must be odd"));
  CHECK_THROWS_WITH(Flattened(SeparableOptions(4, 4).stride(3)),
                    Contains("stride=3, expected 1 or 2"));
  DepthwiseSeparable ds(SeparableOptions(4, 8));
  CHECK_THROWS_WITH(ds.forward(random_tensor({1, 5, 6, 6}, 1)),
                    Contains("has 5 channels, expected 4"));
  CHECK_THROWS_WITH(flattened_kernel(zeros({4, 3, 1, 1}), zeros({4, 1, 3, 1}), zeros({3, 1, 1, 3})),
                    Contains("expected (K, C, 1, 1), (K, 1, R, 1) and (K, 1, 1, S)"));
}
