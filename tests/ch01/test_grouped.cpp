// Chapter 01: the grouped kernel (a kernel per group, few channels per group) equals the
// seven-loop reference (oracle 2) on a grid of odd configurations, forward, dx, dw and db; and
// it refuses the layers it cannot compute.
//
// Tolerance: the kernel adds the same products in another order (taps in another order, dw's
// sums lane by lane and added at the end), so it differs from naive by float rounding, ~1e-7
// per addition relative to the largest partial sum. As in test_direct.cpp we measure the error
// relative to the reference's largest value and accept 1e-5.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "convbook/conv/grouped.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using Catch::Matchers::Contains;

namespace {

using T = float;
constexpr double kTolerance = 1e-5;

#include "grouped_checks.hpp"

}  // namespace

TEST_CASE("grouped refuses the layers it cannot compute", "[conv][grouped]") {
  const Pair one = {1, 1};
  CHECK(grouped_supports(geometry(2, {32, 4, 4}, {7, 5}, {3, 3}, one, {2, 2})));
  CHECK(grouped_supports(geometry(2, {1, 16, 16}, {7, 5}, {5, 5}, one, one)));
  CHECK(grouped_supports(geometry(2, {4, 1, 1}, {7, 5}, {3, 3}, one, one)));  // depthwise too
  CHECK_FALSE(grouped_supports(geometry(2, {2, 33, 4}, {7, 5}, {3, 3}, one, one)));
  CHECK_FALSE(grouped_supports(geometry(2, {2, 4, 33}, {7, 5}, {3, 3}, one, one)));
  ConvGeometry strided = geometry(2, {32, 4, 4}, {7, 5}, {3, 3}, one, one);
  strided.stride_w = 2;
  CHECK_FALSE(grouped_supports(strided));

  // Called anyway, the kernels say what they found instead of computing garbage.
  std::vector<T> buffer(2 * 128 * 7 * 5), ws;
  T* b = buffer.data();
  CHECK_THROWS_WITH(conv2d_forward_grouped(strided, b, b, b, b, ws),
                    Contains("in_channels=128, out_channels=128, groups=32, stride (1, 2); "
                             "expected stride 1 and at most 32"));
  const ConvGeometry wide = geometry(1, {1, 33, 8}, {5, 5}, {3, 3}, one, one);
  CHECK_THROWS_WITH(conv2d_backward_grouped(wide, b, b, b, b, b, b, ws),
                    Contains("conv2d_backward_grouped: in_channels=33, out_channels=8, groups=1"));
}

TEST_CASE("grouped's workspace stays within its stated size and stops growing", "[conv][grouped]") {
  // ResNeXt-like groups, and a dense 5x5 layer of 32 channels whose weight gradient goes to
  // im2col's GEMM (its per-tap sums would not fit in L2), which brings its own workspace.
  for (const ConvGeometry& g : {geometry(4, {8, 4, 4}, {13, 21}, {3, 3}, {1, 1}, {1, 1}),
                                geometry(2, {1, 32, 32}, {9, 17}, {5, 5}, {2, 2}, {1, 1})}) {
    const int Cg = g.C / g.G;
    const std::vector<T> x = random_vector(std::size_t(g.N) * g.C * g.H * g.W, 1);
    const std::vector<T> w = random_vector(std::size_t(g.K) * Cg * g.R * g.S, 2);
    std::vector<T> y(std::size_t(g.N) * g.K * g.P() * g.Q()), dx(x.size()), dw(w.size()),
        db(g.K);
    std::vector<T> ws;
    conv2d_forward_grouped(g, x.data(), w.data(), w.data(), y.data(), ws);
    conv2d_backward_grouped(g, x.data(), w.data(), y.data(), dx.data(), dw.data(), db.data(), ws);
    const std::size_t warm = ws.size();
    CHECK(warm > 0);
    CHECK(warm <= conv2d_grouped_workspace_size(g));
    conv2d_forward_grouped(g, x.data(), w.data(), w.data(), y.data(), ws);
    conv2d_backward_grouped(g, x.data(), w.data(), y.data(), dx.data(), dw.data(), db.data(), ws);
    CHECK(ws.size() == warm);
  }
}
