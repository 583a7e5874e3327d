// Checks chapter 09's exercises against the framework itself: the gate kernels of
// attention_ops.hpp, rsoftmax.hpp, SqueezeExcitation / CBAM's own parameter and FLOP counts
// (what `convbook info` prints), and sk_select.hpp's weighted_sum_splits_backward.
#include <algorithm>
#include <catch2/catch.hpp>
#include <vector>

#include "chapters/09_attention/attention_ops.hpp"
#include "chapters/09_attention/cbam.hpp"
#include "chapters/09_attention/rsoftmax.hpp"
#include "chapters/09_attention/sk_select.hpp"
#include "chapters/09_attention/squeeze_excitation.hpp"
#include "exercise.hpp"
#include "support/exercise_check.hpp"

using namespace convbook;
using exercise::allclose_ratio;
using exercise::random_vector;

TEST_CASE("09.1 the backward of the gate's product, and SE's input gradient", "[exercise]") {
  const std::size_t N = 2, C = 5, L = 7;
  const auto x = random_vector(N * C * L, 1), s = random_vector(N * C, 2),
             dy = random_vector(N * C * L, 3), dz = random_vector(N * C, 4);
  const ex09::ProductGrads g = ex09::channel_product_backward(x, s, dy, N, C, L);
  std::vector<float> dx(N * C * L), ds(N * C);
  channel_scale_forward(dy.data(), s.data(), dx.data(), N, C, L);
  channel_scale_grad(x.data(), dy.data(), ds.data(), N, C, L);
  CHECK(allclose_ratio(g.dx, dx) <= 1.0);
  CHECK(allclose_ratio(g.ds, ds) <= 1.0);
  global_avg_pool_backward_add(dz.data(), dx.data(), N, C, L);
  CHECK(allclose_ratio(ex09::se_input_gradient(s, dy, dz, N, C, L), dx) <= 1.0);
}

TEST_CASE("09.2 r-softmax and its backward", "[exercise]") {
  for (std::size_t R : {1, 2, 4}) {
    const std::size_t N = 2, G = 3, J = 4, n = N * G * R * J;
    INFO("radix " << R);
    const auto x = random_vector(n, 5), dy = random_vector(n, 6);
    std::vector<float> y(n), dx(n);
    rsoftmax_forward(x.data(), y.data(), N, G, R, J);
    rsoftmax_backward(y.data(), dy.data(), dx.data(), N, G, R, J);
    CHECK(allclose_ratio(ex09::rsoftmax(x, N, G, R, J), y) <= 1.0);
    CHECK(allclose_ratio(ex09::rsoftmax_backward(y, dy, N, G, R, J), dx) <= 1.0);
  }
}

TEST_CASE("09.3 the backward of CBAM's channel pool", "[exercise]") {
  const std::size_t N = 2, C = 6, L = 9;
  const auto x = random_vector(N * C * L, 7), dout = random_vector(N * 2 * L, 8);
  std::vector<float> pooled(N * 2 * L), dx(N * C * L, 0.0f);
  std::vector<std::size_t> argmax(N * L);
  channel_max_mean_pool(x.data(), pooled.data(), argmax.data(), N, C, L);
  channel_max_mean_pool_backward_add(dout.data(), argmax.data(), dx.data(), N, C, L);
  CHECK(allclose_ratio(ex09::channel_pool_backward(x, dout, N, C, L), dx) <= 1.0);
}

namespace {
// A block's trainable parameters and FLOPs after a forward of one (C, H, W) image.
ex09::Cost measure(Module& m, std::size_t C, std::size_t H, std::size_t W) {
  m.forward(zeros({1, C, H, W}));
  return {m.num_parameters(), m.flops()};
}
}  // namespace

TEST_CASE("09.4 what SE and CBAM cost", "[exercise]") {
  struct Case {
    std::size_t C, r, k, H, W;
  };
  for (const Case& c : {Case{16, 4, 7, 32, 32}, Case{64, 16, 7, 8, 8}, Case{12, 3, 3, 5, 7}}) {
    INFO("C=" << c.C << " r=" << c.r << " k=" << c.k << " " << c.H << "x" << c.W);
    SqueezeExcitation se(c.C, c.r);
    const ex09::Cost se_lib = measure(se, c.C, c.H, c.W),
                     se_yours = ex09::se_cost(c.C, c.r, c.H, c.W);
    CHECK(se_yours.params == se_lib.params);
    CHECK(se_yours.flops == Approx(se_lib.flops));
    CBAM cbam(c.C, c.r, c.k);
    const ex09::Cost cb_lib = measure(cbam, c.C, c.H, c.W),
                     cb_yours = ex09::cbam_cost(c.C, c.r, c.k, c.H, c.W);
    CHECK(cb_yours.params == cb_lib.params);
    CHECK(cb_yours.flops == Approx(cb_lib.flops));
  }
}

TEST_CASE("09.5 the backward of the select (SK and split attention)", "[exercise]") {
  // Odd on purpose: 3 splits of 4 channels on a 3x5 map.
  const std::size_t N = 2, R = 3, C = 4, H = 3, W = 5, L = H * W;
  const auto u = random_vector(N * R * C * L, 9), a = random_vector(N * R * C, 10),
             dv = random_vector(N * C * L, 11);
  auto tensor = [](const std::vector<float>& v, const Shape& s) {
    Tensor t = zeros(s);
    std::copy(v.begin(), v.end(), t.data());
    return t;
  };
  Tensor du, da;
  weighted_sum_splits_backward(tensor(u, {N, R * C, H, W}), tensor(a, {N, R * C, 1, 1}),
                               tensor(dv, {N, C, H, W}), R, du, da);
  const ex09::SelectGrads g = ex09::select_backward(u, a, dv, N, R, C, L);
  CHECK(allclose_ratio(g.du, du) <= 1.0);
  CHECK(allclose_ratio(g.da, da) <= 1.0);
}
