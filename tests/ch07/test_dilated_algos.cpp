// Chapter 07: dilation in every algorithm of chapter 01. Each algorithm that supports a
// dilated layer must equal the naive seven loops through the Conv2d module (forward, dx,
// dweight, dbias) with dilation 2 and 3, on odd shapes; Winograd, which needs dilation 1, must
// refuse it by name.
//
// Tolerance as in tests/support/conv_checks.hpp: error relative to the largest reference value,
// 1e-5 (float rounding of sums in another order; a wrong tap index scores O(1)).
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "chapters/07_dilated/dilated_net.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"
#include "support/conv_checks.hpp"

using namespace convbook;
using Catch::Matchers::Contains;
using test::check_matches_naive;
using test::geometry_of;
using test::random_tensor;
using test::scaled_error;

TEST_CASE("every algorithm that supports dilation equals naive", "[ch07][dilation]") {
  // Odd sizes everywhere; dense, grouped, depthwise, few-channel and strided layers, so that
  // each specialized kernel gets layers it accepts.
  struct Case {
    Conv2dOptions options;
    Shape input;
  };
  std::multiset<ConvAlgo> tested;
  for (int d : {2, 3}) {
    const std::vector<Case> cases = {
        {Conv2dOptions(5, 7, 3).padding(d).dilation(d), {2, 5, 11, 13}},
        {Conv2dOptions(3, 5, 3).padding({d, 1}).dilation({d, 1}), {1, 3, 9, 7}},
        {Conv2dOptions(3, 6, 3).stride(2).padding(d).dilation(d), {2, 3, 13, 11}},
        {Conv2dOptions(6, 9, {3, 5}).padding({d, 2 * d}).dilation(d).groups(3), {2, 6, 9, 15}},
        {Conv2dOptions(7, 7, 3).padding(d).dilation(d).groups(7), {2, 7, 11, 9}},
        {Conv2dOptions(7, 7, 3).stride(2).padding(d).dilation({d, 1}).groups(7).bias(false),
         {1, 7, 13, 9}},
        {Conv2dOptions(4, 4, 5).padding(2).dilation(d), {1, 4, 15, 13}},
        {Conv2dOptions(33, 35, 3).padding(d).dilation(d), {1, 33, 9, 7}},
        {Conv2dOptions(5, 6, 1).dilation(d), {1, 5, 9, 7}},  // 1x1: dilation changes nothing
    };
    for (const Case& c : cases) {
      const ConvGeometry g = geometry_of(c.options, c.input);
      for (ConvAlgo algo : all_conv_algos()) {
        if (algo == ConvAlgo::Auto || algo == ConvAlgo::Naive) continue;
        if (!conv_algo_supports(algo, g)) continue;
        INFO("dilation " << d);
        check_matches_naive(algo, c.options, c.input);
        tested.insert(algo);
      }
    }
  }
  // Every kernel that supports dilation was exercised, with both dilations...
  for (ConvAlgo algo : {ConvAlgo::Im2col, ConvAlgo::Direct, ConvAlgo::Depthwise, ConvAlgo::Grouped,
                        ConvAlgo::Pointwise}) {
    INFO(to_string(algo));
    CHECK(tested.count(algo) >= 2);
  }
  // ... and Winograd never claimed a dilated layer.
  CHECK(tested.count(ConvAlgo::Winograd2) == 0);
  CHECK(tested.count(ConvAlgo::Winograd4) == 0);
}

TEST_CASE("Winograd refuses dilation by name", "[ch07][dilation]") {
  for (ConvAlgo algo : {ConvAlgo::Winograd2, ConvAlgo::Winograd4}) {
    Conv2d conv(Conv2dOptions(32, 32, 3).padding(2).dilation(2));
    conv.set_algorithm(algo);
    CHECK_THROWS_WITH(conv.forward(random_tensor({1, 32, 8, 8}, 1)),
                      Contains("dilation-1") && Contains(to_string(algo)));
  }
}

TEST_CASE("a dilated stack keeps the spatial size", "[ch07][dilation]") {
  auto stack = dilated_stack(3, 8, {1, 2, 5});
  const Tensor y = stack->forward(random_tensor({2, 3, 11, 9}, 4));
  CHECK(shape_of(y) == Shape{2, 8, 11, 9});
  CHECK(stack->size() == 9);  // conv, BN, ReLU per dilation
  CHECK_THROWS_WITH(dilated_stack(3, 8, {}), Contains("no dilations"));
  CHECK_THROWS_WITH(dilated_stack(3, 8, {1, 0}), Contains("dilation 0"));
  CHECK_THROWS_WITH(dilated_stack(0, 8, {1}), Contains("in_channels=0"));
}

TEST_CASE("dilated_cifar: state_dict names and output shape", "[ch07][dilation]") {
  ModulePtr net = dilated_cifar(10);
  std::vector<std::string> names;
  net->visit_parameters([&](const std::string& n, Parameter&) { names.push_back(n); });
  // the dilated stack is child 4; its second conv is 4.3
  CHECK(std::find(names.begin(), names.end(), "4.3.weight") != names.end());
  CHECK(std::find(names.begin(), names.end(), "11.weight") != names.end());  // the Linear
  net->eval();
  CHECK(shape_of(net->forward(random_tensor({2, 3, 32, 32}, 5))) == Shape{2, 10, 1, 1});
  CHECK_THROWS_WITH(dilated_cifar(0), Contains("num_classes=0"));
}
