// Chapter 06: the separable blocks' hand-written backward passes against central finite
// differences of L = sum(y * g), in double, through each block's own forward and backward.
//
// The blocks run with BatchNorm in training mode (gamma and beta randomized so no affine term
// hides) and ReLUs, so, as in chapter 05, each gradient tensor is measured at its own scale
// (check.hpp's scaled_gradcheck: max |analytic - numeric| / max |numeric|) with eps = 1e-5;
// a correct backward scores 6e-11 to 7e-9 here (measured) and we require < 1e-7. A layer left out
// of the backward chain, or the two orders mixed up, scores O(1).
#include <catch2/catch.hpp>
#include <string>

#include "chapters/06_separable/separable_blocks.hpp"
#include "convbook/random.hpp"
#include "support/block_gradcheck.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

TEST_CASE("DepthwiseSeparable backward matches finite differences (double)", "[ch06][gradcheck]") {
  manual_seed(1);
  DepthwiseSeparable mobile(SeparableOptions(3, 5));
  test::check_block_gradients(mobile, {2, 3, 5, 7});
  DepthwiseSeparable strided(SeparableOptions(4, 6).stride(2).kernel_size({3, 5}));
  test::check_block_gradients(strided, {3, 4, 7, 6});
  DepthwiseSeparable xception(
      SeparableOptions(3, 5).order(SeparableOrder::PointwiseFirst).middle_bn_relu(false));
  test::check_block_gradients(xception, {2, 3, 6, 5});
  DepthwiseSeparable pw_first_bn(
      SeparableOptions(4, 3).order(SeparableOrder::PointwiseFirst).stride(2));
  test::check_block_gradients(pw_first_bn, {2, 4, 7, 7});
}

TEST_CASE("SpatiallySeparable backward matches finite differences (double)", "[ch06][gradcheck]") {
  manual_seed(2);
  SpatiallySeparable with_middle(SeparableOptions(3, 4).mid_channels(5));
  test::check_block_gradients(with_middle, {2, 3, 6, 7});
  SpatiallySeparable pure(
      SeparableOptions(2, 3).kernel_size({5, 3}).stride(2).middle_bn_relu(false));
  test::check_block_gradients(pure, {3, 2, 9, 8});
}

TEST_CASE("Flattened backward matches finite differences (double)", "[ch06][gradcheck]") {
  manual_seed(3);
  Flattened flat(SeparableOptions(3, 4));
  test::check_block_gradients(flat, {2, 3, 5, 6});
  Flattened strided(SeparableOptions(2, 5).kernel_size({3, 5}).stride(2));
  test::check_block_gradients(strided, {3, 2, 8, 9});
}
