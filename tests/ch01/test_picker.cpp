// Chapter 01: Conv2d's algorithm picker. Auto's choice per shape, every forced algorithm ==
// naive through the Conv2d module (forward, dx, dweight, dbias), the errors of forcing an
// algorithm on a layer it cannot compute, and the names of the algorithms.
//
// Tolerances: tests/support/conv_checks.hpp (1e-5 of the largest value, 1e-4 for Winograd).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"
#include "support/conv_checks.hpp"

using namespace convbook;
using Catch::Matchers::Contains;
using test::check_matches_naive;
using test::random_tensor;
using test::scaled_error;

namespace {

/// What Auto runs for this layer on this input.
ConvAlgo auto_choice(const Conv2dOptions& options, const Shape& input) {
  Conv2d conv(options);
  conv.forward(random_tensor(input, 1));
  REQUIRE(conv.algorithm() == ConvAlgo::Auto);
  return conv.chosen_algorithm();
}

}  // namespace

TEST_CASE("Auto picks the kernel made for each shape", "[conv][picker]") {
  // The CIFAR ResNet shapes of `convbook bench conv`, at batch 2.
  CHECK(auto_choice(Conv2dOptions(64, 256, 1), {2, 64, 8, 8}) == ConvAlgo::Pointwise);
  CHECK(auto_choice(Conv2dOptions(256, 64, 1).stride(2), {2, 256, 8, 8}) == ConvAlgo::Pointwise);
  CHECK(auto_choice(Conv2dOptions(64, 64, 3).padding(1).groups(64), {2, 64, 16, 16}) ==
        ConvAlgo::Depthwise);
  // Stride 1 with at most 16 channels per group in and out: the stem, ResNeXt's 4 per group,
  // dense layers of 16 channels.
  CHECK(auto_choice(Conv2dOptions(3, 16, 3).padding(1), {2, 3, 32, 32}) == ConvAlgo::Grouped);
  CHECK(auto_choice(Conv2dOptions(8, 6, 5).padding(2).groups(2), {2, 8, 9, 9}) ==
        ConvAlgo::Grouped);
  CHECK(auto_choice(Conv2dOptions(128, 128, 3).padding(1).groups(32), {2, 128, 16, 16}) ==
        ConvAlgo::Grouped);  // C/G = 4
  CHECK(auto_choice(Conv2dOptions(16, 16, 3).padding(1), {2, 16, 32, 32}) == ConvAlgo::Grouped);
  CHECK(auto_choice(Conv2dOptions(64, 64, 3).padding(1).groups(8), {2, 64, 8, 8}) ==
        ConvAlgo::Grouped);  // 8 channels per group
  CHECK(auto_choice(Conv2dOptions(16, 16, 1).padding(1), {2, 16, 5, 5}) == ConvAlgo::Grouped);
  // A strided stem: few input channels per group, but not stride 1.
  CHECK(auto_choice(Conv2dOptions(3, 16, 3).stride(2).padding(1), {2, 3, 32, 32}) ==
        ConvAlgo::Direct);
  CHECK(auto_choice(Conv2dOptions(32, 32, 3).padding(1), {2, 32, 16, 16}) == ConvAlgo::Winograd4);
  CHECK(auto_choice(Conv2dOptions(64, 64, 3).padding(1), {2, 64, 8, 8}) == ConvAlgo::Winograd4);
  // Too few channels for Winograd's transforms to pay off (threshold 32 per group, in and out):
  // grouped's register block with rows of a whole vector, im2col with shorter rows.
  CHECK(auto_choice(Conv2dOptions(32, 16, 3).padding(1), {2, 32, 16, 16}) == ConvAlgo::Grouped);
  CHECK(auto_choice(Conv2dOptions(32, 16, 3).padding(1), {2, 32, 8, 8}) == ConvAlgo::Im2col);
  CHECK(auto_choice(Conv2dOptions(64, 64, 3).padding(1).groups(2), {2, 64, 8, 8}) ==
        ConvAlgo::Winograd4);  // 32 channels per group
  // Dilated and 5x5 at stride 1 with up to 32 channels per group and rows of a whole vector:
  // grouped; strided, wider, or short rows: im2col.
  CHECK(auto_choice(Conv2dOptions(32, 32, 3).padding(2).dilation(2), {2, 32, 16, 16}) ==
        ConvAlgo::Grouped);
  CHECK(auto_choice(Conv2dOptions(32, 32, 5).padding(2), {2, 32, 16, 16}) == ConvAlgo::Grouped);
  CHECK(auto_choice(Conv2dOptions(64, 64, 5).padding(2), {2, 64, 16, 16}) == ConvAlgo::Im2col);
  CHECK(auto_choice(Conv2dOptions(16, 32, 3).stride(2).padding(1), {2, 16, 32, 32}) ==
        ConvAlgo::Im2col);
  CHECK(auto_choice(Conv2dOptions(32, 32, 1).padding(1), {2, 32, 5, 5}) == ConvAlgo::Im2col);

  Conv2d fresh(Conv2dOptions(3, 4, 3));
  CHECK(fresh.algorithm() == ConvAlgo::Auto);
  CHECK(fresh.chosen_algorithm() == ConvAlgo::Auto);  // nothing chosen before a forward
}

TEST_CASE("every algorithm equals naive on layers it supports", "[conv][picker]") {
  // Odd sizes on purpose: 9x7 images, channel counts that are not multiples of a SIMD width.
  SECTION("im2col") {
    check_matches_naive(ConvAlgo::Im2col, Conv2dOptions(6, 4, 3).stride(2).padding(1).groups(2),
                        {2, 6, 9, 7});
    check_matches_naive(ConvAlgo::Im2col, Conv2dOptions(3, 5, {3, 2}).padding({2, 1}).dilation(2),
                        {1, 3, 7, 9});
  }
  for (ConvAlgo algo : {ConvAlgo::Winograd2, ConvAlgo::Winograd4}) {
    SECTION(to_string(algo)) {
      check_matches_naive(algo, Conv2dOptions(5, 7, 3).padding(1), {2, 5, 9, 7});
      check_matches_naive(algo, Conv2dOptions(3, 4, 3).bias(false), {1, 3, 8, 11});
      check_matches_naive(algo, Conv2dOptions(4, 6, 3).padding(2).groups(2), {2, 4, 6, 5});
    }
  }
  SECTION("direct") {
    check_matches_naive(ConvAlgo::Direct, Conv2dOptions(3, 5, 3).stride(2).padding(1),
                        {2, 3, 9, 7});
    check_matches_naive(ConvAlgo::Direct, Conv2dOptions(2, 3, 5).padding(2).dilation(1),
                        {1, 2, 7, 5});
    check_matches_naive(ConvAlgo::Direct, Conv2dOptions(8, 6, 3).padding(1).groups(2),
                        {2, 8, 5, 7});  // C/G = 4
  }
  SECTION("depthwise") {
    check_matches_naive(ConvAlgo::Depthwise, Conv2dOptions(6, 6, 3).padding(1).groups(6),
                        {2, 6, 7, 5});
    check_matches_naive(ConvAlgo::Depthwise, Conv2dOptions(5, 5, 3).stride(2).padding(1).groups(5),
                        {1, 5, 9, 9});
  }
  SECTION("pointwise") {
    check_matches_naive(ConvAlgo::Pointwise, Conv2dOptions(6, 10, 1), {2, 6, 5, 7});
    check_matches_naive(ConvAlgo::Pointwise, Conv2dOptions(6, 4, 1).stride(2).groups(2),
                        {2, 6, 7, 9});
  }
  SECTION("grouped") {
    check_matches_naive(ConvAlgo::Grouped, Conv2dOptions(8, 12, 3).padding(1).groups(4),
                        {2, 8, 9, 7});  // Cg = 2, Kg = 3
    check_matches_naive(ConvAlgo::Grouped, Conv2dOptions(32, 32, 3).padding(1).groups(8),
                        {3, 32, 5, 19});  // ResNeXt's 4 channels per group, rows of 19
    check_matches_naive(
        ConvAlgo::Grouped,
        Conv2dOptions(6, 9, {5, 3}).padding({2, 0}).dilation(2).groups(3).bias(false),
        {1, 6, 11, 8});
    check_matches_naive(ConvAlgo::Grouped, Conv2dOptions(32, 30, 5).padding(2), {2, 32, 9, 17});
  }
  SECTION("auto") {
    check_matches_naive(ConvAlgo::Auto, Conv2dOptions(32, 32, 3).padding(1), {2, 32, 7, 9});
    check_matches_naive(ConvAlgo::Auto, Conv2dOptions(3, 8, 3).padding(1), {2, 3, 9, 7});
  }
}

TEST_CASE("layers share one workspace arena that stops growing once warm", "[conv][picker]") {
  Conv2d big(Conv2dOptions(8, 8, 5).padding(2)), small(Conv2dOptions(4, 4, 3).padding(1));
  big.set_algorithm(ConvAlgo::Im2col);
  small.set_algorithm(ConvAlgo::Im2col);
  const Tensor xb = random_tensor({2, 8, 9, 9}, 1), xs = random_tensor({2, 4, 5, 5}, 2);
  auto step = [&] {
    big.backward(big.forward(xb));
    small.backward(small.forward(xs));
  };
  step();
  const std::size_t warm = conv_workspace_arena().capacity();
  CHECK(warm > 0);
  step();
  CHECK(conv_workspace_arena().capacity() == warm);
}

TEST_CASE("forcing an algorithm on a layer it cannot compute fails at forward", "[conv][picker]") {
  Conv2d five(Conv2dOptions(32, 32, 5).padding(2));
  five.set_algorithm(ConvAlgo::Winograd4);
  CHECK_THROWS_WITH(five.forward(random_tensor({1, 32, 6, 6}, 1)),
                    Contains("Conv2d: algorithm winograd4 needs a 3x3 stride-1 dilation-1 kernel, "
                             "got 5x5 stride (1, 1)"));

  Conv2d strided(Conv2dOptions(4, 4, 3).stride(2));
  strided.set_algorithm(ConvAlgo::Winograd2);
  CHECK_THROWS_WITH(strided.forward(random_tensor({1, 4, 7, 7}, 1)),
                    Contains("winograd2 needs a 3x3 stride-1") && Contains("stride (2, 2)"));

  Conv2d dense(Conv2dOptions(8, 8, 3).padding(1));
  dense.set_algorithm(ConvAlgo::Depthwise);
  CHECK_THROWS_WITH(dense.forward(random_tensor({1, 8, 5, 5}, 1)),
                    Contains("depthwise needs a depthwise layer") && Contains("groups 1"));
  dense.set_algorithm(ConvAlgo::Pointwise);
  CHECK_THROWS_WITH(dense.forward(random_tensor({1, 8, 5, 5}, 1)),
                    Contains("pointwise needs a 1x1 kernel") && Contains("got 3x3"));
  dense.set_algorithm(ConvAlgo::Direct);
  CHECK_THROWS_WITH(dense.forward(random_tensor({1, 8, 5, 5}, 1)),
                    Contains("direct needs at most 4 input channels") && Contains("C=8"));
  strided.set_algorithm(ConvAlgo::Grouped);
  CHECK_THROWS_WITH(strided.forward(random_tensor({1, 4, 7, 7}, 1)),
                    Contains("grouped needs stride 1 and at most 32 input and 32 output channels "
                             "per group") &&
                        Contains("stride (2, 2)"));
  Conv2d wide(Conv2dOptions(64, 66, 3).padding(1).groups(2));
  wide.set_algorithm(ConvAlgo::Grouped);
  CHECK_THROWS_WITH(wide.forward(random_tensor({1, 64, 5, 5}, 1)),
                    Contains("grouped needs") && Contains("groups 2, C=64 K=66"));
}

TEST_CASE("algorithm names round-trip and a bad name lists the valid ones", "[conv][picker]") {
  REQUIRE(all_conv_algos().size() == 9);
  for (ConvAlgo algo : all_conv_algos()) CHECK(parse_conv_algo(to_string(algo)) == algo);
  CHECK(to_string(ConvAlgo::Winograd4) == "winograd4");
  CHECK(parse_conv_algo("im2col") == ConvAlgo::Im2col);
  CHECK_THROWS_WITH(parse_conv_algo("fast"),
                    Contains("'fast' is unknown") &&
                        Contains("auto, naive, im2col, winograd2, winograd4, direct, depthwise, "
                                 "pointwise, grouped"));
  CHECK_THROWS_AS(parse_conv_algo("Winograd4"), Error);  // names are lower case
}
