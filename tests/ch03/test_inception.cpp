// Chapter 03: the channel concatenation (naive against block copies), the Inception blocks'
// shapes, names, costs and errors, and GoogLeNet for CIFAR.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chapters/03_inception/concat_naive.hpp"
#include "chapters/03_inception/googlenet_cifar.hpp"
#include "chapters/03_inception/inception.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/concat.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using Catch::Matchers::Contains;
using test::same_values;

namespace {

InceptionOptions inception_3a() {  // the paper's Table 1, inception (3a)
  return InceptionOptions(192).ch1x1(64).ch3x3red(96).ch3x3(128).ch5x5red(16).ch5x5(32).pool_proj(
      32);
}

}  // namespace

TEST_CASE("concat_channels joins m parts along C, split_channels cuts dy back, naive == fast",
          "[concat]") {
  const Tensor a = test::random_tensor({2, 3, 5, 7}, 1), b = test::random_tensor({2, 1, 5, 7}, 2),
               c = test::random_tensor({2, 4, 5, 7}, 3);
  const Tensor y = concat_channels({&a, &b, &c});
  REQUIRE(shape_of(y) == Shape{2, 8, 5, 7});
  CHECK(y(1, 2, 4, 6) == a(1, 2, 4, 6));
  CHECK(y(1, 3, 0, 0) == b(1, 0, 0, 0));
  CHECK(y(0, 4, 2, 1) == c(0, 0, 2, 1));
  CHECK(y(1, 7, 3, 5) == c(1, 3, 3, 5));
  CHECK(same_values(y, concat_channels_naive({&a, &b, &c})));
  const std::vector<Tensor> parts = split_channels(y, {3, 1, 4});  // undoes the concat exactly
  REQUIRE(parts.size() == 3);
  CHECK(same_values(parts[0], a));
  CHECK(same_values(parts[1], b));
  CHECK(same_values(parts[2], c));
  const std::vector<Tensor> naive = split_channels_naive(y, {3, 1, 4});
  for (std::size_t i = 0; i < 3; ++i) CHECK(same_values(naive[i], parts[i]));
  CHECK(same_values(concat_channels({&a}), a));  // one part: a copy
}

TEST_CASE("concat_channels and split_channels refuse what cannot be joined or cut", "[concat]") {
  const Tensor a = zeros({2, 3, 4, 5});
  const Tensor wrong_h = zeros({2, 3, 3, 5}), wrong_n = zeros({1, 3, 4, 5});
  CHECK_THROWS_WITH(concat_channels({}), Contains("no tensors to join"));
  CHECK_THROWS_WITH(concat_channels({&a, nullptr}), Contains("part 1 is null"));
  CHECK_THROWS_WITH(concat_channels({&a, &a, &wrong_h}),
                    Contains("part 2 has shape (2, 3, 3, 5)") && Contains("equal N, H and W"));
  CHECK_THROWS_WITH(concat_channels_naive({&a, &wrong_n}), Contains("part 1 has shape"));
  CHECK_THROWS_WITH(split_channels(a, {1, 1}), Contains("add up to 2, expected dy's 3"));
  CHECK_THROWS_WITH(split_channels(a, {3, 0}), Contains("0 channels"));
  CHECK_THROWS_WITH(split_channels(a, {}), Contains("add up to 0"));
  CHECK_THROWS_WITH(split_channels_naive(a, {2, 2}), Contains("add up to 4"));
}

TEST_CASE("Inception has the paper's widths, torchvision's parameter names and keeps H x W",
          "[inception]") {
  manual_seed(1);
  Inception block(
      InceptionOptions(6).ch1x1(3).ch3x3red(4).ch3x3(5).ch5x5red(2).ch5x5(3).pool_proj(2));
  CHECK(block.repr() ==
        "Inception(6, ch1x1=3, ch3x3red=4, ch3x3=5, ch5x5red=2, ch5x5=3, pool_proj=2)");
  CHECK(block.options().out_channels() == 13);
  CHECK(shape_of(block.forward(test::random_tensor({2, 6, 7, 5}, 1))) == Shape{2, 13, 7, 5});
  std::vector<std::string> names;
  block.visit_parameters([&](const std::string& name, Parameter& p) {
    if (!p.is_buffer) names.push_back(name);
  });
  CHECK(names == std::vector<std::string>{
                     "branch1.conv.weight", "branch1.bn.weight", "branch1.bn.bias",
                     "branch2.0.conv.weight", "branch2.0.bn.weight", "branch2.0.bn.bias",
                     "branch2.1.conv.weight", "branch2.1.bn.weight", "branch2.1.bn.bias",
                     "branch3.0.conv.weight", "branch3.0.bn.weight", "branch3.0.bn.bias",
                     "branch3.1.conv.weight", "branch3.1.bn.weight", "branch3.1.bn.bias",
                     "branch4.1.conv.weight", "branch4.1.bn.weight", "branch4.1.bn.bias"});
  CHECK(block.branch3[0].repr() == "BasicConv2d(6, 2, kernel_size=1)");
  CHECK(block.branch3[1].repr() == "BasicConv2d(2, 3, kernel_size=5)");
  CHECK(block.branch1.bn.eps() == Approx(1e-3));  // torchvision's BasicConv2d
}

TEST_CASE("Inception's backward is the sum of its branches' backward on their slices of dy",
          "[inception]") {
  // Forward the block, then each branch alone on the same x: the block's dx must be the sum
  // of the branches' dx for their channels of dy (the routing of ParallelConcat::backward).
  const InceptionOptions o =
      InceptionOptions(4).ch1x1(2).ch3x3red(3).ch3x3(3).ch5x5red(2).ch5x5(2).pool_proj(1);
  manual_seed(3);
  Inception block(o);
  manual_seed(3);
  Inception twin(o);  // the same weights, run branch by branch
  const Tensor x = test::random_tensor({2, 4, 6, 5}, 7);
  const Tensor dy = test::random_tensor({2, 8, 6, 5}, 8);
  const Tensor y = block.forward(x);
  const Tensor dx = block.backward(dy);
  std::vector<Module*> branches = {&twin.branch1, &twin.branch2, &twin.branch3, &twin.branch4};
  const std::vector<Tensor> dparts = split_channels(dy, {2, 3, 2, 1});
  std::vector<Tensor> outputs;
  Tensor expected = zeros(shape_of(x));
  for (std::size_t i = 0; i < 4; ++i) {
    outputs.push_back(branches[i]->forward(x));
    expected += branches[i]->backward(dparts[i]);
  }
  CHECK(same_values(y, concat_channels({&outputs[0], &outputs[1], &outputs[2], &outputs[3]})));
  CHECK(test::scaled_error(dx, expected) < 1e-6);
}

TEST_CASE("InceptionNaive concatenates the pooled input as it is", "[inception]") {
  manual_seed(1);
  InceptionNaive block(InceptionOptions(5).ch1x1(3).ch3x3(4).ch5x5(2));
  CHECK(block.repr() == "InceptionNaive(5, ch1x1=3, ch3x3=4, ch5x5=2)");
  const Tensor x = test::random_tensor({2, 5, 6, 4}, 1);
  const Tensor y = block.forward(x);
  REQUIRE(shape_of(y) == Shape{2, 14, 6, 4});
  // channel 9 + c is the 3x3 max around each pixel of channel c: here the corner (0, 0)
  const double corner = std::max({x(1, 2, 0, 0), x(1, 2, 0, 1), x(1, 2, 1, 0), x(1, 2, 1, 1)});
  CHECK(y(1, 9 + 2, 0, 0) == Approx(corner));
  CHECK(block.num_parameters() == (5 * 3 + 2 * 3) + (5 * 9 * 4 + 2 * 4) + (5 * 25 * 2 + 2 * 2));
}

TEST_CASE("The reductions of fig. 2b cut inception (3a)'s cost", "[inception][cost]") {
  manual_seed(1);
  Inception reduced(inception_3a());
  InceptionNaive naive(inception_3a());
  reduced.eval();
  naive.eval();
  const Tensor x = zeros({1, 192, 28, 28});
  CHECK(shape_of(reduced.forward(x)) == Shape{1, 256, 28, 28});
  CHECK(shape_of(naive.forward(x)) == Shape{1, 416, 28, 28});  // 64 + 128 + 32 + 192
  // Weights: 1x1 192->64; 192->96, 3x3 96->128; 192->16, 5x5 16->32; pool proj 192->32,
  // plus BN's gamma and beta per conv output channel.
  const std::size_t w_reduced =
      192 * 64 + 192 * 96 + 96 * 9 * 128 + 192 * 16 + 16 * 25 * 32 + 192 * 32;
  const std::size_t bn_reduced = 2 * (64 + 96 + 128 + 16 + 32 + 32);
  CHECK(reduced.num_parameters() == w_reduced + bn_reduced);
  const std::size_t w_naive = 192 * 64 + 192 * 9 * 128 + 192 * 25 * 32;
  CHECK(naive.num_parameters() == w_naive + 2 * (64 + 128 + 32));
  // FLOPs: 2 per multiply-add (every weight meets 28 x 28 pixels) + 2 per BN output value.
  const double px = 28 * 28;
  CHECK(reduced.flops() == Approx(2 * px * w_reduced + 2 * px * (bn_reduced / 2)));
  CHECK(naive.flops() == Approx(2 * px * w_naive + 2 * px * (64 + 128 + 32)));
  CHECK(naive.flops() / reduced.flops() == Approx(2.37).margin(0.01));  // 607.3M / 256.7M
}

TEST_CASE("Bad Inception options and inputs are refused with the reason", "[inception]") {
  CHECK_THROWS_WITH(Inception(inception_3a().ch5x5red(0)),
                    Contains("ch5x5red=0, expected at least 1"));
  CHECK_THROWS_WITH(
      Inception(InceptionOptions(8).ch1x1(1).ch3x3red(1).ch3x3(1).ch5x5red(1).ch5x5(1)),
      Contains("pool_proj=0"));
  CHECK_THROWS_WITH(Inception(InceptionOptions(0)), Contains("in_channels=0"));
  CHECK_THROWS_WITH(InceptionNaive(InceptionOptions(4).ch1x1(1).ch3x3(2)),
                    Contains("ch5x5=0") && Contains("fig. 2a"));
  CHECK_NOTHROW(InceptionNaive(InceptionOptions(4).ch1x1(1).ch3x3(2).ch5x5(1)));  // no reductions
  CHECK_THROWS_WITH(BasicConv2d(3, 4, 2), Contains("odd kernel size"));
  manual_seed(1);
  Inception block(
      InceptionOptions(4).ch1x1(1).ch3x3red(1).ch3x3(1).ch5x5red(1).ch5x5(1).pool_proj(1));
  CHECK_THROWS_WITH(block.backward(zeros({1, 4, 3, 3})), Contains("backward got dy"));
  CHECK_THROWS_WITH(block.forward(zeros({1, 3, 5, 5})),
                    Contains("has 3 channels, expected 4") && Contains("Inception(4,"));
  block.forward(zeros({2, 4, 5, 5}));
  CHECK_THROWS_WITH(block.backward(zeros({2, 4, 5, 4})),
                    Contains("expected the last forward output's shape (2, 4, 5, 5)"));
}

TEST_CASE("googlenet_cifar maps 32x32 images to class scores with torchvision's names",
          "[googlenet]") {
  manual_seed(1);
  ModulePtr net = googlenet_cifar(10);
  const Tensor y = net->forward(test::random_tensor({2, 3, 32, 32}, 1));
  CHECK(shape_of(y) == Shape{2, 10, 1, 1});
  const Tensor dx = net->backward(test::random_tensor({2, 10, 1, 1}, 2));
  CHECK(shape_of(dx) == Shape{2, 3, 32, 32});
  bool found = false;
  net->visit_parameters([&](const std::string& name, Parameter&) {
    found = found || name == "inception4b.branch3.1.conv.weight";
  });
  CHECK(found);
  CHECK_THROWS_WITH(googlenet_cifar(0), Contains("num_classes=0"));
}
