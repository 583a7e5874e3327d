// Chapter 02: the hand-written backward of the NiN block and of the per-pixel 1x1 kernels
// against central differences and against chapter 01's seven loops, in double.
//
// The block has ReLUs, so L = sum(y * g) is only piecewise linear: a small step (eps = 1e-5)
// keeps finite differences off the kinks for N(0, 1) data. The error is measured per tensor,
// against the tensor's largest gradient (scaled_gradcheck): cs231n's per-element error failed
// on a BatchNorm shift whose true gradient is 0 (analytic 2e-15, finite differences 7e-10 of
// rounding, 0.07 "relative"). Tolerance 1e-7; a wrongly routed gradient misses by order 1.
#include <catch2/catch.hpp>
#include <vector>

#include "chapters/02_pointwise/channel_mixing.hpp"
#include "chapters/02_pointwise/nin.hpp"
#include "convbook/conv/conv_naive.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

namespace {

constexpr double kEps = 1e-5;
constexpr double kTolerance = 1e-7;

void check_block(const NiNBlockOptions& options, const Shape& input) {
  manual_seed(21);
  NiNBlock block(options);
  // non-zero biases, so that a bias gradient routed to the wrong channel shows
  block.visit_parameters([](const std::string& name, Parameter& p) {
    if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0)
      p.value = test::random_tensor(shape_of(p.value), 7);
  });
  const test::GradCheckResult r =
      test::scaled_gradcheck(block, test::random_tensor(input, 8), kEps);
  INFO(block.repr() << " on " << to_string(input));
  INFO("dx error " << r.input << ", worst parameter " << r.worst_parameter << " " << r.parameters);
  CHECK(r.input < kTolerance);
  CHECK(r.parameters < kTolerance);
}

}  // namespace

TEST_CASE("NiNBlock backward matches finite differences (double)", "[nin][gradcheck]") {
  check_block(NiNBlockOptions(3, 4, 3).padding(1).mid_channels(5), {2, 3, 7, 5});
  check_block(NiNBlockOptions(3, 4, 3).stride(2).padding(1), {2, 3, 7, 5});
  check_block(NiNBlockOptions(2, 3, {3, 2}).padding({1, 0}).batch_norm(true), {3, 2, 5, 4});
  check_block(NiNBlockOptions(4, 3, 1).mid_channels(6).batch_norm(true).final_activation(false),
              {2, 4, 3, 5});
}

TEST_CASE("The per-pixel 1x1 loops equal the seven loops in double", "[nin][pointwise]") {
  // conv1x1_*_naive is a 1x1, stride-1, unpadded conv2d_*_naive: they must agree to rounding.
  const int N = 2, C = 5, H = 3, W = 7, K = 4;
  ConvGeometry g;
  g.N = N, g.C = C, g.H = H, g.W = W, g.K = K, g.R = 1, g.S = 1;
  const Tensor x = test::random_tensor({N, C, H, W}, 1), w = test::random_tensor({K, C, 1, 1}, 2);
  const Tensor b = test::random_tensor({K, 1, 1, 1}, 3), dy = test::random_tensor({N, K, H, W}, 4);
  Tensor y1 = zeros({N, K, H, W}), y2 = zeros({N, K, H, W});
  conv1x1_forward_naive(x.data(), w.data(), b.data(), y1.data(), N, C, H, W, K);
  conv2d_forward_naive(g, x.data(), w.data(), b.data(), y2.data());
  CHECK(test::rel_error(y1, y2) < 1e-12);

  Tensor dx1 = zeros({N, C, H, W}), dx2 = zeros({N, C, H, W});
  Tensor dw1 = zeros({K, C, 1, 1}), dw2 = zeros({K, C, 1, 1});
  Tensor db1 = zeros({K, 1, 1, 1}), db2 = zeros({K, 1, 1, 1});
  conv1x1_backward_naive(x.data(), w.data(), dy.data(), dx1.data(), dw1.data(), db1.data(), N, C, H,
                         W, K);
  conv2d_backward_naive(g, x.data(), w.data(), dy.data(), dx2.data(), dw2.data(), db2.data());
  CHECK(test::rel_error(dx1, dx2) < 1e-12);
  CHECK(test::rel_error(dw1, dw2) < 1e-12);
  CHECK(test::rel_error(db1, db2) < 1e-12);
}
