// Chapter 12: WRN-n-k as a specification: the exact parameter counts of the authors' code,
// state_dict names and shapes, which blocks get a convdim shortcut, output shapes, dropout only
// in training, and the errors a bad configuration gets.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "chapters/12_wide_resnet/wide_resnet.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using Catch::Matchers::Contains;

TEST_CASE("WRN-n-k have the authors' exact parameter counts", "[wide-resnet][params]") {
  // sum of the numel of the parameters of the authors' functional PyTorch code
  // (pytorch/resnet.py, 10 classes), as tests/tools/make_ch12_fixtures.py prints them. The paper
  // rounds: WRN-16-4 2.7M, WRN-16-8 11.0M, WRN-22-8 17.2M, WRN-28-10 36.5M, WRN-40-4 8.9M.
  const std::vector<std::tuple<std::size_t, std::size_t, std::size_t>> expected = {
      {10, 1, 77850},    {16, 4, 2748890},   {16, 8, 10961370},
      {22, 8, 17158106}, {28, 10, 36479194}, {40, 4, 8949210},
  };
  for (const auto& [depth, width, params] : expected) {
    INFO("WRN-" << depth << "-" << width);
    CHECK(wide_resnet(depth, width)->num_parameters() == params);
  }
  CHECK(wide_resnet(16, 4, 0.3)->num_parameters() == 2748890);  // dropout has no weights
}

TEST_CASE("WRN-16-4's state_dict: names, shapes, shortcuts", "[wide-resnet][names]") {
  std::map<std::string, std::vector<std::size_t>> shapes;
  wide_resnet(16, 4)->visit_parameters(
      [&](const std::string& name, Parameter& p) { shapes[name] = p.shape; });
  using S = std::vector<std::size_t>;
  CHECK(shapes.at("conv0.weight") == S{16, 3, 3, 3});
  CHECK(shapes.at("group0.block0.bn0.weight") == S{16});  // pre-activation of conv0's output
  CHECK(shapes.at("group0.block0.conv0.weight") == S{64, 16, 3, 3});
  CHECK(shapes.at("group0.block0.convdim.weight") == S{64, 16, 1, 1});  // 16 -> 16k at k = 4
  CHECK(shapes.at("group0.block1.conv1.weight") == S{64, 64, 3, 3});
  CHECK(shapes.count("group0.block1.convdim.weight") == 0);  // same shape: identity
  CHECK(shapes.at("group1.block0.convdim.weight") == S{128, 64, 1, 1});
  CHECK(shapes.at("group2.block1.bn1.running_var") == S{256});
  CHECK(shapes.at("bn.weight") == S{256});
  CHECK(shapes.at("fc.weight") == S{10, 256});
  CHECK(shapes.count("group0.block0.conv0.bias") == 0);  // no conv has a bias
  // At k = 1 the first block keeps 16 channels at stride 1: no convdim, as in the authors' code.
  std::size_t convdims = 0;
  wide_resnet(10, 1)->visit_parameters([&](const std::string& name, Parameter&) {
    convdims += name.find("convdim") != std::string::npos;
  });
  CHECK(convdims == 2);
}

TEST_CASE("WRN maps 32x32 images to logits, the groups work at 32, 16 and 8",
          "[wide-resnet][shapes]") {
  manual_seed(1);
  ModulePtr net = wide_resnet(10, 2, 0.0, 7);
  auto& seq = dynamic_cast<Sequential&>(*net);
  Tensor x = test::random_tensor({2, 3, 32, 32}, 2);
  x = seq[0].forward(x);
  CHECK(shape_of(x) == Shape{2, 16, 32, 32});
  const std::size_t sides[3] = {32, 16, 8};
  for (std::size_t g = 0; g < 3; ++g) {
    x = seq[1 + g].forward(x);
    CHECK(shape_of(x) == Shape{2, 32u << g, sides[g], sides[g]});
  }
  CHECK(shape_of(net->forward(test::random_tensor({2, 3, 32, 32}, 2))) == Shape{2, 7, 1, 1});
}

TEST_CASE("WideBasic: dropout acts in training only, and the block keeps no ReLU after the sum",
          "[wide-resnet][dropout]") {
  manual_seed(3);
  WideBasic block(4, 4, 1, 0.5);
  const Tensor x = test::random_tensor({2, 4, 6, 6}, 4);
  block.eval();
  const Tensor a = block.forward(x);
  const Tensor b = block.forward(x);
  CHECK(test::same_values(a, b));  // eval: no mask, running statistics
  bool negative = false;           // pre-activation: y = F(x) + x may be negative
  for (const Scalar v : a) negative = negative || v < 0;
  CHECK(negative);
  block.train();
  const Tensor c = block.forward(x);
  const Tensor d = block.forward(x);
  CHECK_FALSE(test::same_values(c, d));  // two masks
  CHECK(block.repr() == "WideBasic(4, 4, stride=1, dropout=0.5, shortcut=identity)");
  CHECK(WideBasic(4, 8, 2).repr() == "WideBasic(4, 8, stride=2, dropout=0.0, shortcut=convdim)");
}

TEST_CASE("Bad WRN configurations throw, naming what was wrong and what was expected",
          "[wide-resnet][errors]") {
  CHECK_THROWS_WITH(wide_resnet(18, 4), Contains("depth=18") && Contains("6n+4"));
  CHECK_THROWS_WITH(wide_resnet(4, 4), Contains("depth=4") && Contains("n >= 1"));
  CHECK_THROWS_WITH(wide_resnet(16, 0), Contains("width=0") && Contains("at least 1"));
  CHECK_THROWS_WITH(wide_resnet(16, 4, 1.0), Contains("dropout=1.0") && Contains("[0, 1)"));
  CHECK_THROWS_WITH(wide_resnet(16, 4, -0.1), Contains("dropout=-0.1") && Contains("[0, 1)"));
  CHECK_THROWS_WITH(wide_resnet(16, 4, 0.3, 0), Contains("num_classes must be at least 1"));
  CHECK_THROWS_WITH(wide_resnet(16, 4, 0.3, 10, 0), Contains("base must be at least 1"));
  CHECK_THROWS_WITH(WideBasic(0, 4), Contains("WideBasic(0, 4") && Contains("at least 1"));
  CHECK_THROWS_WITH(WideBasic(4, 4, 1, 1.5), Contains("dropout=1.5") && Contains("[0, 1)"));
  WideBasic block(4, 8, 2);
  CHECK_THROWS_WITH(block.backward(zeros({1, 8, 2, 2})), Contains("expected the last forward"));
  block.forward(test::random_tensor({2, 4, 6, 6}, 5));
  CHECK_THROWS_WITH(block.backward(zeros({2, 8, 6, 6})),
                    Contains("(2, 8, 6, 6)") && Contains("(2, 8, 3, 3)"));
}
