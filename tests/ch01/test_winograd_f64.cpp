// Chapter 01, in double: Winograd F(2x2, 3x3) and F(4x4, 3x3) equal the naive convolution to
// ~1e-12, forward and backward-data. In exact arithmetic the two are the same sums (Lavin &
// Gray's algebra is an identity, not an approximation); in double the only differences are
// rounding, ~1e-16 times the growth of the transforms (entries up to 8 and 1/24 for F(4, 3)).
// An error of 1e-12 therefore means the matrices are right (changing one entry of A^T fails it).
// Then the backward (dx, dw, db) against central differences of the Winograd forward itself.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "convbook/conv/conv_naive.hpp"
#include "convbook/conv/winograd.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;

using test::scaled_error;

namespace {

std::vector<double> random_vector(std::size_t n, Rng& rng) {
  std::vector<double> v(n);
  for (auto& e : v) e = rng.normal();
  return v;
}

}  // namespace

TEST_CASE("Winograd in double equals naive to 1e-12 (the algebra is exact)", "[conv][winograd]") {
  struct Case {
    int N, C, K, H, W, pad_h, pad_w, G;
  };
  const Case cases[] = {
      {2, 3, 5, 7, 5, 1, 1, 1},  {1, 1, 1, 1, 1, 1, 1, 1},  {1, 2, 4, 3, 3, 0, 0, 1},
      {1, 6, 9, 9, 11, 2, 2, 3}, {1, 4, 6, 9, 11, 0, 2, 2}, {1, 20, 17, 8, 8, 1, 1, 1},
      {1, 3, 3, 5, 7, 3, 3, 3},  {2, 8, 8, 13, 6, 2, 0, 4},
      // 16 channels per group in and out: the channels-in-the-lanes kernels (a row of 17
      // pixels is one 16-pixel run plus one; padding 3 makes backward-data crop; 2 groups)
      {1, 16, 32, 5, 17, 3, 1, 1}, {2, 32, 32, 6, 7, 1, 2, 2},
  };
  Rng rng(11);
  for (int m : {2, 4}) {
    for (const Case& c : cases) {
      ConvGeometry g;
      g.N = c.N, g.C = c.C, g.K = c.K, g.H = c.H, g.W = c.W, g.R = g.S = 3;
      g.pad_h = c.pad_h, g.pad_w = c.pad_w, g.G = c.G;
      INFO("m=" << m << " C=" << c.C << " K=" << c.K << " HxW=" << c.H << "x" << c.W
                << " pad=" << c.pad_h << "," << c.pad_w << " G=" << c.G);
      const std::size_t x_size = std::size_t(g.N) * g.C * g.H * g.W;
      const std::size_t y_size = std::size_t(g.N) * g.K * g.P() * g.Q();
      const auto x = random_vector(x_size, rng);
      const auto w = random_vector(std::size_t(g.K) * (g.C / g.G) * 9, rng);
      const auto b = random_vector(g.K, rng), dy = random_vector(y_size, rng);
      std::vector<double> y_naive(y_size), y_fast(y_size), workspace;
      conv2d_forward_naive(g, x.data(), w.data(), b.data(), y_naive.data());
      conv2d_forward_winograd(g, m, x.data(), w.data(), b.data(), y_fast.data(), workspace);
      CHECK(scaled_error(y_fast, y_naive) < 1e-12);

      std::vector<double> dx_naive(x_size), dx_fast(x_size);
      conv2d_backward_naive<double>(g, x.data(), w.data(), dy.data(), dx_naive.data(), nullptr,
                                    nullptr);
      conv2d_backward_winograd<double>(g, m, x.data(), w.data(), dy.data(), dx_fast.data(), nullptr,
                                       nullptr, workspace);
      CHECK(scaled_error(dx_fast, dx_naive) < 1e-12);

      // dw: Winograd's adjoint transforms from 16 channels per group (the 20 -> 17 case), im2col
      // below; exact algebra either way.
      const std::size_t w_size = w.size();
      std::vector<double> dw_naive(w_size, 0.0), dw_fast(w_size, 0.0);
      conv2d_backward_naive<double>(g, x.data(), w.data(), dy.data(), nullptr, dw_naive.data(),
                                    nullptr);
      conv2d_backward_winograd<double>(g, m, x.data(), w.data(), dy.data(), nullptr, dw_fast.data(),
                                       nullptr, workspace);
      CHECK(scaled_error(dw_fast, dw_naive) < 1e-12);
    }
  }
}

TEST_CASE("Winograd backward matches central differences of its own forward", "[conv][winograd]") {
  // Oracle 1: L = sum(y * dy) with y = winograd forward; dL/dx, dL/dw and dL/db from
  // conv2d_backward_winograd against (L(v + eps) - L(v - eps)) / 2 eps for every input. L is
  // linear in each variable, so the central difference is exact up to rounding: cs231n's
  // relative error of ~1e-7 or better is expected in double.
  ConvGeometry g;
  g.N = 2, g.C = 4, g.K = 6, g.H = 7, g.W = 5, g.R = g.S = 3, g.pad_h = 1, g.pad_w = 2, g.G = 2;
  Rng rng(21);
  const std::size_t y_size = std::size_t(g.N) * g.K * g.P() * g.Q();
  auto x = random_vector(std::size_t(g.N) * g.C * g.H * g.W, rng);
  auto w = random_vector(std::size_t(g.K) * (g.C / g.G) * 9, rng);
  auto b = random_vector(g.K, rng);
  const auto dy = random_vector(y_size, rng);
  auto rel_error = [](const std::vector<double>& a, const std::vector<double>& n) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      worst =
          std::max(worst, std::abs(a[i] - n[i]) / std::max(1e-8, std::abs(a[i]) + std::abs(n[i])));
    return worst;
  };
  for (int m : {2, 4}) {
    INFO("m=" << m);
    std::vector<double> workspace, y(y_size);
    auto loss = [&] {
      conv2d_forward_winograd(g, m, x.data(), w.data(), b.data(), y.data(), workspace);
      double l = 0;
      for (std::size_t i = 0; i < y_size; ++i) l += y[i] * dy[i];
      return l;
    };
    auto numeric = [&](std::vector<double>& v) {
      std::vector<double> grad(v.size());
      for (std::size_t i = 0; i < v.size(); ++i) {
        const double saved = v[i], eps = 1e-6;
        v[i] = saved + eps;
        const double plus = loss();
        v[i] = saved - eps;
        const double minus = loss();
        v[i] = saved;
        grad[i] = (plus - minus) / (2 * eps);
      }
      return grad;
    };
    std::vector<double> dx(x.size()), dw(w.size(), 0.0), db(b.size(), 0.0);
    conv2d_backward_winograd(g, m, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(),
                             workspace);
    CHECK(rel_error(dx, numeric(x)) < 1e-7);
    CHECK(rel_error(dw, numeric(w)) < 1e-7);
    CHECK(rel_error(db, numeric(b)) < 1e-7);
  }
}

TEST_CASE("Winograd weight gradient matches central differences of its own forward",
          "[conv][winograd]") {
  // Oracle 1 for the adjoint-transform path of dw, which needs at least 16 channels per group
  // (the test above has 2): L = sum(y * dy), linear in w, so the central difference is exact up
  // to rounding. 16 -> 16 channels on a 5x4 image with padding 1, 2 images.
  ConvGeometry g;
  g.N = 2, g.C = 16, g.K = 16, g.H = 5, g.W = 4, g.R = g.S = 3, g.pad_h = g.pad_w = 1;
  Rng rng(23);
  const std::size_t y_size = std::size_t(g.N) * g.K * g.P() * g.Q();
  const auto x = random_vector(std::size_t(g.N) * g.C * g.H * g.W, rng);
  auto w = random_vector(std::size_t(g.K) * g.C * 9, rng);
  const auto dy = random_vector(y_size, rng);
  for (int m : {2, 4}) {
    INFO("m=" << m);
    std::vector<double> workspace, y(y_size);
    auto loss = [&] {
      conv2d_forward_winograd(g, m, x.data(), w.data(), static_cast<const double*>(nullptr),
                              y.data(), workspace);
      double l = 0;
      for (std::size_t i = 0; i < y_size; ++i) l += y[i] * dy[i];
      return l;
    };
    std::vector<double> dw(w.size(), 0.0);
    conv2d_backward_winograd<double>(g, m, x.data(), w.data(), dy.data(), nullptr, dw.data(),
                                     nullptr, workspace);
    std::vector<double> numeric(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double saved = w[i], eps = 1e-6;
      w[i] = saved + eps;
      const double plus = loss();
      w[i] = saved - eps;
      const double minus = loss();
      w[i] = saved;
      numeric[i] = (plus - minus) / (2 * eps);
    }
    // Relative to the largest gradient, as in the float tests: L sums 640 products, and on a
    // dw element that cancels to near 0 the element-wise relative error measures the rounding
    // of L (~1e-16 |L| / eps), not the gradient (2e-5 seen on such an element).
    CHECK(scaled_error(dw, numeric) < 1e-7);
  }
}
