// Chapter 11: the three ResNeXt forms compute one function (float), ResNeXt-29's sizes and
// parameter counts against the paper, and bad configurations.
//
// Equivalence in float32: forms (a) and (b) run G small convolutions where (c) runs one
// grouped one, and (a) sums G partial 1x1 products where (b) and (c) sum them inside one GEMM;
// the same numbers added in another order, then through two or three training-mode BatchNorms
// whose 1/sigma amplifies rounding. Measured worst scaled error 7e-7; the bound is 1e-4,
// a misrouted path or a BN slice off by one channel misses by O(1). The double test
// (test_resnext_f64.cpp) holds the same mapping to 1e-10.
#include <catch2/catch.hpp>
#include <string>

#include "chapters/11_resnext/resnext29.hpp"
#include "chapters/11_resnext/resnext_forms.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/sequential.hpp"
#include "form_checks.hpp"
#include "support/check.hpp"

using namespace convbook;
using Catch::Matchers::Contains;

TEST_CASE("forms (a), (b) and (c) of the ResNeXt block compute the same y, dx and gradients",
          "[resnext][forms]") {
  // Identity shortcut, 4 paths of 3; and a strided, projected block, 3 paths of 2, odd sizes.
  const ResNeXtBlockOptions identity{8, 8, 4, 3, 1};
  const ResNeXtBlockOptions strided{6, 16, 3, 2, 2};
  for (const auto& o : {identity, strided}) {
    test::check_form_equivalence<ResNeXtBlockA>(o, 2, 7, 1e-4);
    test::check_form_equivalence<ResNeXtBlockB>(o, 2, 7, 1e-4);
  }
}

TEST_CASE("the three forms have the same parameters and FLOPs", "[resnext][forms]") {
  const ResNeXtBlockOptions o{256, 256, 32, 4};
  const Tensor x = test::random_tensor({1, 256, 8, 8}, 1);
  std::size_t params[3];
  double flops[3];
  const ResNeXtForm forms[3] = {ResNeXtForm::A, ResNeXtForm::B, ResNeXtForm::C};
  for (int i = 0; i < 3; ++i) {
    ModulePtr block = resnext_block(forms[i], o);
    block->forward(x);
    params[i] = block->num_parameters();
    flops[i] = block->flops();
  }
  // 32 x (256*4 + 9*4*4 + 4*256) conv weights + BN 2*(128 + 128 + 256) = 70,144 + 1,024.
  CHECK(params[2] == 71168);
  CHECK(params[0] == params[2]);
  CHECK(params[1] == params[2]);
  CHECK(flops[0] == Approx(flops[2]));
  CHECK(flops[1] == Approx(flops[2]));
}

TEST_CASE("ResNeXt-29 has the paper's parameter counts and CIFAR shapes", "[resnext][resnext29]") {
  // Xie et al. 2017, Table 7: 34.4M (8x64d) and 68.1M (16x64d); with 10 classes.
  CHECK(resnext29({8, 64, 4, 10})->num_parameters() == 34426698);
  CHECK(resnext29({16, 64, 4, 10})->num_parameters() == 68155210);
  CHECK(resnext29({4, 16, 4, 10})->num_parameters() == 3172426);
  CHECK(resnext29({4, 16, 1, 10})->num_parameters() == 1109962);
  CHECK(ResNeXt29Options{8, 64}.name() == "resnext29_8x64d");
  CHECK(ResNeXt29Options{4, 16, 1}.name() == "resnext29_4x16d_w1");

  auto net = resnext29({4, 16, 1, 10});
  auto& seq = dynamic_cast<Sequential&>(*net);
  const Tensor y = net->forward(test::random_tensor({2, 3, 32, 32}, 2));
  CHECK(shape_of(y) == Shape{2, 10, 1, 1});
  // Stage outputs 64, 128, 256; the grouped 3x3 of every stage has 4 groups of 16, 32, 64.
  std::size_t s = 0;
  for (const char* name : {"layer1", "layer2", "layer3"}) {
    INFO(name);
    std::size_t found = 0;
    seq.visit_parameters([&](const std::string& n, Parameter& p) {
      if (n == std::string(name) + ".0.conv2.weight") {
        CHECK(p.shape == std::vector<std::size_t>{64u << s, 16u << s, 3, 3});
        ++found;
      }
      if (n == std::string(name) + ".2.bn3.weight") {
        CHECK(p.shape == std::vector<std::size_t>{64u << s});
        ++found;
      }
    });
    CHECK(found == 2);
    ++s;
  }
}

TEST_CASE("bad ResNeXt configurations throw, naming what was wrong and what was expected",
          "[resnext][errors]") {
  CHECK_THROWS_WITH(ResNeXtBlockA({8, 8, 0, 4}), Contains("cardinality=0, expected at least 1"));
  CHECK_THROWS_WITH(ResNeXtBlockB({8, 8, 2, 0}),
                    Contains("bottleneck_width=0, expected at least 1"));
  CHECK_THROWS_WITH(resnext_bottleneck({8, 10, 2, 2}),
                    Contains("out_channels=10 is not a multiple of Bottleneck::expansion=4"));
  CHECK_THROWS_WITH(resnext_bottleneck({8, 12, 2, 2}), Contains("is not a multiple of planes=3"));
  CHECK_THROWS_WITH(resnext29({8, 64, 0}), Contains("widen_factor=0, expected at least 1"));
  CHECK_THROWS_WITH(resnext29({8, 64, 4, 0}), Contains("num_classes=0"));
  // w = 3: planes 48, and 64 d = 320 is no multiple of it (d = 5).
  CHECK_THROWS_WITH(resnext29({4, 5, 3}), Contains("is not a multiple of stage 1's planes=48"));
  CHECK_THROWS_WITH(resnext29({4, 16, 1, 10, 6}),
                    Contains("stem_channels * widen_factor=6 is not a multiple of 4"));
  // A grouped block and a paths block of other sizes cannot be mapped onto each other.
  auto c = resnext_bottleneck({8, 8, 4, 2});
  ResNeXtBlockA a({8, 8, 2, 4});  // same width 8, but 2 paths of 4
  CHECK_THROWS_WITH(grouped_to_paths(*c, a), Contains("has groups=4 and width=8, expected"));
  ResNeXtBlockB b({8, 8, 4, 2, 2});  // same paths, but strided
  CHECK_THROWS_AS(grouped_to_paths(*c, b), Error);
  // A path sum fed the wrong channels says so.
  ResNeXtBlockA ok({8, 8, 4, 2});
  CHECK_THROWS_WITH(ok.forward(test::random_tensor({1, 6, 4, 4}, 1)), Contains("channels"));
  CHECK_THROWS_WITH(ok.paths.backward(test::random_tensor({1, 8, 4, 4}, 1)),
                    Contains("expected the last forward output's shape"));
}
