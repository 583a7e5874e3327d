// Chapter 01: the kernels that skip im2col, each equal to the seven-loop reference (oracle 2)
// on a grid of odd configurations: pointwise (1x1 as a GEMM), direct (few input channels per
// group) and depthwise (one filter per channel), forward, dx, dw and db.
//
// Tolerance: the fast kernels add the same products in another order (the GEMM's blocks, or
// vector lanes summed at the end), so they differ from naive by float rounding, ~1e-7 per
// addition relative to the largest partial sum. As in test_conv.cpp we measure the error
// relative to the reference's largest value (elementwise relative error blows up on outputs
// that cancel to ~0) and accept 1e-5.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "convbook/conv/direct.hpp"
#include "convbook/conv/pointwise.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using Catch::Matchers::Contains;

namespace {

using T = float;
constexpr double kTolerance = 1e-5;

#include "direct_checks.hpp"

}  // namespace

TEST_CASE("the special kernels refuse the layers they cannot compute", "[conv]") {
  const Pair one = {1, 1}, none = {0, 0};
  // pointwise: a 1x1 kernel without padding only
  CHECK(pointwise_supports(geometry(2, 8, 4, 1, {7, 5}, one, {2, 3}, none, {2, 2})));
  CHECK(pointwise_supports(geometry(2, 8, 4, 4, {7, 5}, one, one, none, one)));
  CHECK_FALSE(pointwise_supports(geometry(2, 8, 4, 1, {7, 5}, {3, 3}, one, none, one)));
  CHECK_FALSE(pointwise_supports(geometry(2, 8, 4, 1, {7, 5}, {1, 3}, one, none, one)));
  CHECK_FALSE(pointwise_supports(geometry(2, 8, 4, 1, {7, 5}, one, one, {1, 1}, one)));
  CHECK_FALSE(pointwise_supports(geometry(2, 8, 4, 1, {7, 5}, one, one, {0, 1}, one)));
  // direct: at most 4 input channels per group
  CHECK(direct_supports(geometry(2, 3, 16, 1, {7, 5}, {3, 3}, {2, 2}, one, {2, 2})));
  CHECK(direct_supports(geometry(2, 8, 4, 2, {7, 5}, {3, 3}, one, one, one)));
  CHECK(direct_supports(geometry(2, 64, 64, 64, {7, 5}, {3, 3}, one, one, one)));
  CHECK_FALSE(direct_supports(geometry(2, 5, 16, 1, {7, 5}, {3, 3}, one, one, one)));
  CHECK_FALSE(direct_supports(geometry(2, 16, 16, 2, {7, 5}, {3, 3}, one, one, one)));
  // depthwise: groups == in-channels == out-channels
  CHECK(depthwise_supports(geometry(2, 64, 64, 64, {7, 5}, {3, 3}, {2, 2}, one, {2, 2})));
  CHECK_FALSE(depthwise_supports(geometry(2, 64, 128, 64, {7, 5}, {3, 3}, one, one, one)));
  CHECK_FALSE(depthwise_supports(geometry(2, 64, 64, 32, {7, 5}, {3, 3}, one, one, one)));
  CHECK_FALSE(depthwise_supports(geometry(2, 3, 16, 1, {7, 5}, {3, 3}, one, one, one)));

  // Called anyway, the kernels say what they found instead of computing garbage.
  const ConvGeometry dense = geometry(1, 8, 8, 1, {5, 5}, {3, 3}, one, one, one);
  std::vector<T> buffer(8 * 8 * 5 * 5), ws;
  T* b = buffer.data();
  CHECK_THROWS_WITH(conv2d_forward_pointwise(dense, b, b, b, b, ws),
                    Contains("kernel 3x3 with padding (1, 1); expected a 1x1 kernel"));
  CHECK_THROWS_WITH(conv2d_backward_pointwise(dense, b, b, b, b, b, b, ws),
                    Contains("conv2d_backward_pointwise"));
  CHECK_THROWS_WITH(conv2d_forward_direct(dense, b, b, b, b, ws),
                    Contains("in_channels=8 with groups=1; expected at most 4"));
  CHECK_THROWS_WITH(conv2d_backward_direct(dense, b, b, b, b, b, b, ws),
                    Contains("conv2d_backward_direct"));
  CHECK_THROWS_WITH(conv2d_forward_depthwise(dense, b, b, b, b, ws),
                    Contains("in_channels=8, out_channels=8, groups=1; expected all three equal"));
  CHECK_THROWS_WITH(conv2d_backward_depthwise(dense, b, b, b, b, b, b, ws),
                    Contains("conv2d_backward_depthwise"));
}
