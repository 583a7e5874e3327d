// Inference under NoGradGuard: BatchNorm folded into the conv before it (conv_bn.hpp) must give
// the eval forward's numbers up to float rounding, for the kernel alone and for whole ResNets
// built of BasicBlocks and Bottlenecks.
#include <catch2/catch.hpp>

#include "chapters/10_resnet/resnet.hpp"
#include "convbook/conv/conv_bn.hpp"
#include "convbook/error.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using Catch::Matchers::Contains;
using convbook::test::allclose_ratio;
using convbook::test::random_tensor;

namespace {
// Running statistics away from PyTorch's (0, 1) start, affine terms away from (1, 0).
void give_batchnorms_statistics(Module& m, const Shape& input) {
  test::randomize_batchnorms(m, 3);
  m.train();
  for (std::uint64_t seed = 0; seed < 3; ++seed) m.forward(random_tensor(input, 100 + seed));
  m.eval();
}
}  // namespace

TEST_CASE("conv_bn_inference equals bn(conv(x)) in eval, with and without bias and ReLU",
          "[ch10][inference]") {
  for (const bool bias : {false, true}) {
    for (const bool relu : {false, true}) {
      manual_seed(7);
      Conv2d conv(Conv2dOptions(6, 8, 3).padding(1).stride(bias ? 2 : 1).bias(bias));
      BatchNorm2d bn(8);
      const Shape input = {3, 6, 9, 11};
      bn.train();
      bn.forward(conv.forward(random_tensor(input, 1)));  // running statistics != (0, 1)
      test::randomize_batchnorms(bn, 2);
      bn.eval();
      const Tensor x = random_tensor(input, 4);
      Tensor expected = bn.forward(conv.forward(x));
      if (relu) expected = xt::maximum(expected, Scalar(0));
      const NoGradGuard no_grad;
      const Tensor folded = conv_bn_inference(conv, bn, x, relu);
      CAPTURE(bias, relu);
      CHECK(allclose_ratio(folded, expected, 1e-5, 1e-6) <= 1);
    }
  }
}

TEST_CASE("conv_bn_inference rejects a BatchNorm over other channels and a bad input",
          "[ch10][inference][errors]") {
  Conv2d conv(Conv2dOptions(4, 8, 3).padding(1));
  BatchNorm2d bn(6);
  CHECK_THROWS_WITH(conv_bn_inference(conv, bn, random_tensor({1, 4, 5, 5}, 1), false),
                    Contains("BatchNorm2d over 6 channels") && Contains("8 out_channels"));
  BatchNorm2d bn8(8);
  CHECK_THROWS_AS(conv_bn_inference(conv, bn8, random_tensor({1, 3, 5, 5}, 1), false), Error);
}

TEST_CASE("ResNets under NoGradGuard (BN folded) give the eval forward's logits",
          "[ch10][inference]") {
  struct Case {
    const char* name;
    ModulePtr model;
    Shape input;
  };
  manual_seed(11);
  Case cases[] = {{"resnet20 (option A)", cifar_resnet(20, CifarShortcut::A, 10), {4, 3, 32, 32}},
                  {"resnet20_b (option B)", cifar_resnet(20, CifarShortcut::B, 10), {4, 3, 32, 32}},
                  {"resnet50 (Bottleneck)", torchvision_resnet("resnet50", 10), {2, 3, 64, 64}}};
  for (Case& c : cases) {
    CAPTURE(c.name);
    give_batchnorms_statistics(*c.model, c.input);
    const Tensor x = random_tensor(c.input, 5);
    const Tensor expected = c.model->forward(x);  // eval, gradients on: the unfused layers
    Tensor folded;
    {
      const NoGradGuard no_grad;
      folded = c.model->forward(x);
    }
    CHECK(allclose_ratio(folded, expected, 1e-4, 1e-5) <= 1);
  }
}
