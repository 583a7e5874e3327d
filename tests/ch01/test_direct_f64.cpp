// Chapter 01: the kernels that skip im2col (pointwise, direct, depthwise) in double, against
// the seven-loop reference on the same grid as test_direct.cpp.
//
// Tolerance: in double the different order of the additions costs ~1e-16 per addition
// relative to the largest partial sum; the longest sums here (dw over N*P*Q, a few hundred
// terms) stay far below 1e-12 relative to the reference's largest value, which we require.
// A wrong index or a missed tap shows up as an error of order 1, in float as in double; what
// this program adds is that the double instantiation (xsimd::batch<double>, 8 lanes) is
// exercised and agrees to double precision, so it can serve gradient checks.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "convbook/conv/direct.hpp"
#include "convbook/conv/pointwise.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;

namespace {

using T = double;
constexpr double kTolerance = 1e-12;

#include "direct_checks.hpp"

}  // namespace

TEST_CASE("pointwise (1x1 as GEMM) equals naive in double", "[conv][pointwise]") {
  const std::vector<Pair> one = {{1, 1}}, no_pad = {{0, 0}};
  // Dilation does not matter for a single tap; it is accepted and must change nothing.
  CHECK(check_grid(Kernel::Pointwise, 5, 7, 1, one, no_pad, kDilations) == 80);
  CHECK(check_grid(Kernel::Pointwise, 6, 9, 3, one, no_pad, {{1, 1}}) == 40);  // groups
  CHECK(check_grid(Kernel::Pointwise, 4, 4, 4, one, no_pad, {{1, 1}}) == 40);  // depthwise 1x1
}

TEST_CASE("direct (few input channels per group) equals naive in double", "[conv][direct]") {
  const std::vector<Pair> kernels = {{3, 3}, {2, 3}, {1, 1}};
  // RGB stem; 11 output channels: a block of 8 computed together, then 3 one by one
  CHECK(check_grid(Kernel::Direct, 3, 11, 1, kernels, kPads, kDilations) == 860);
  CHECK(check_grid(Kernel::Direct, 4, 18, 2, {{3, 3}}, kPads, {{2, 1}, {1, 2}}) == 260);  // 8+1
  CHECK(check_grid(Kernel::Direct, 8, 2, 2, {{5, 5}}, {{2, 2}}, {{1, 1}}) == 40);         // Cg = 4
}

TEST_CASE("depthwise equals naive in double", "[conv][depthwise]") {
  const std::vector<Pair> kernels = {{3, 3}, {5, 3}, {1, 1}};
  CHECK(check_grid(Kernel::Depthwise, 5, 5, 5, kernels, kPads, kDilations) == 790);
  CHECK(check_grid(Kernel::Depthwise, 1, 1, 1, {{3, 3}}, kPads, {{1, 2}}) == 130);  // one channel
}

TEST_CASE("direct and depthwise equal naive on layers large enough to run in parallel (double)",
          "[conv][direct][depthwise]") {
  // The grids above are small enough that the kernels run them on one thread (starting a team
  // costs more than the work); these layers have enough work for every thread.
  std::vector<T> ws;
  for (const Pair& stride : {Pair{1, 1}, Pair{2, 2}}) {
    INFO("stride " << stride.first);
    const Pair one = {1, 1};
    check_matches_naive(Kernel::Direct, geometry(4, 3, 16, 1, {20, 37}, {3, 3}, stride, one, one),
                        true, ws);
    check_matches_naive(Kernel::Depthwise,
                        geometry(6, 32, 32, 32, {20, 37}, {3, 3}, stride, one, one), true, ws);
  }
}
