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
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

namespace {

constexpr double kEps = 1e-5;
constexpr double kTolerance = 1e-7;

void check_block(Module& block, const Shape& input) {
  test::randomize_batchnorms(block, 4);
  const test::GradCheckResult r =
      test::scaled_gradcheck(block, test::random_tensor(input, 5), kEps);
  INFO(block.repr() << " on " << to_string(input) << ": dx " << r.input << ", worst parameter "
                    << r.worst_parameter << " " << r.parameters);
  CHECK(r.input < kTolerance);
  CHECK(r.parameters < kTolerance);
}

}  // namespace

TEST_CASE("DepthwiseSeparable backward matches finite differences (double)", "[ch06][gradcheck]") {
  manual_seed(1);
  DepthwiseSeparable mobile(SeparableOptions(3, 5));
  check_block(mobile, {2, 3, 5, 7});
  DepthwiseSeparable strided(SeparableOptions(4, 6).stride(2).kernel_size({3, 5}));
  check_block(strided, {3, 4, 7, 6});
  DepthwiseSeparable xception(
      SeparableOptions(3, 5).order(SeparableOrder::PointwiseFirst).middle_bn_relu(false));
  check_block(xception, {2, 3, 6, 5});
  DepthwiseSeparable pw_first_bn(
      SeparableOptions(4, 3).order(SeparableOrder::PointwiseFirst).stride(2));
  check_block(pw_first_bn, {2, 4, 7, 7});
}

TEST_CASE("SpatiallySeparable backward matches finite differences (double)", "[ch06][gradcheck]") {
  manual_seed(2);
  SpatiallySeparable with_middle(SeparableOptions(3, 4).mid_channels(5));
  check_block(with_middle, {2, 3, 6, 7});
  SpatiallySeparable pure(
      SeparableOptions(2, 3).kernel_size({5, 3}).stride(2).middle_bn_relu(false));
  check_block(pure, {3, 2, 9, 8});
}

TEST_CASE("Flattened backward matches finite differences (double)", "[ch06][gradcheck]") {
  manual_seed(3);
  Flattened flat(SeparableOptions(3, 4));
  check_block(flat, {2, 3, 5, 6});
  Flattened strided(SeparableOptions(2, 5).kernel_size({3, 5}).stride(2));
  check_block(strided, {3, 2, 8, 9});
}
