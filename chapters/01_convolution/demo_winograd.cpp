// Chapter 01 demo: Winograd convolution. The 1-D F(2, 3) by hand, the numerical error of
// F(2x2, 3x3) and F(4x4, 3x3) in float, and their speed against im2col + GEMM.
//
//   ./build/ch01_demo_winograd
//
// Part 1 computes two outputs of a 3-tap filter with 4 multiplications instead of 6.
// Part 2 prints the max and mean absolute error of float im2col, F(2, 3) and F(4, 3) against
// the naive loops in double, for N(0, 1) inputs and Kaiming-normal weights (std sqrt(2 / 9C)).
// Part 3 times forward and forward+backward (dx, dw, db) of each algorithm and prints ms and
// GFLOP/s counted as the direct convolution's 2 N K P Q C R S per pass (so a faster algorithm
// shows as more GFLOP/s even though it does fewer operations).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

#include "convbook/conv/conv_naive.hpp"
#include "convbook/conv/im2col.hpp"
#include "convbook/conv/winograd.hpp"
#include "convbook/random.hpp"
#include "chapters/01_convolution/timing.hpp"

using namespace convbook;

namespace {

void worked_example() {
  std::printf("== 1. F(2, 3) in 1-D: two outputs of a 3-tap filter with 4 multiplications ==\n\n");
  const double d[4] = {1, 2, 3, 4};  // four inputs
  const double g[3] = {1, 2, 3};     // the filter
  std::printf("d = (%g, %g, %g, %g), g = (%g, %g, %g)\n\n", d[0], d[1], d[2], d[3], g[0], g[1],
              g[2]);
  const double y0 = d[0] * g[0] + d[1] * g[1] + d[2] * g[2];
  const double y1 = d[1] * g[0] + d[2] * g[1] + d[3] * g[2];
  std::printf("direct, 6 multiplications:\n");
  std::printf("  y0 = d0 g0 + d1 g1 + d2 g2 = %g\n  y1 = d1 g0 + d2 g1 + d3 g2 = %g\n\n", y0, y1);
  // The filter factors (g0 + g1 + g2) / 2 and (g0 - g1 + g2) / 2 are computed once per
  // filter and reused for every tile, so they do not count.
  const double m1 = (d[0] - d[2]) * g[0];
  const double m2 = (d[1] + d[2]) * ((g[0] + g[1] + g[2]) / 2);
  const double m3 = (d[2] - d[1]) * ((g[0] - g[1] + g[2]) / 2);
  const double m4 = (d[1] - d[3]) * g[2];
  std::printf("Winograd, 4 multiplications:\n");
  std::printf("  m1 = (d0 - d2) g0               = (%g) * %g = %g\n", d[0] - d[2], g[0], m1);
  std::printf("  m2 = (d1 + d2) (g0 + g1 + g2)/2 = (%g) * %g = %g\n", d[1] + d[2],
              (g[0] + g[1] + g[2]) / 2, m2);
  std::printf("  m3 = (d2 - d1) (g0 - g1 + g2)/2 = (%g) * %g = %g\n", d[2] - d[1],
              (g[0] - g[1] + g[2]) / 2, m3);
  std::printf("  m4 = (d1 - d3) g2               = (%g) * %g = %g\n", d[1] - d[3], g[2], m4);
  std::printf("  y0 = m1 + m2 + m3 = %g\n  y1 = m2 - m3 - m4 = %g\n\n", m1 + m2 + m3, m2 - m3 - m4);
}

struct Layer {
  int N, C, K, HW;
};

ConvGeometry geometry(const Layer& l) {
  ConvGeometry g;
  g.N = l.N, g.C = l.C, g.K = l.K, g.H = g.W = l.HW, g.R = g.S = 3, g.pad_h = g.pad_w = 1;
  return g;
}

void error_table() {
  std::printf("== 2. Numerical error in float against the naive loops in double ==\n\n");
  std::printf("x ~ N(0, 1), w ~ N(0, 2 / 9C) (Kaiming), padding 1, no bias.\n\n");
  std::printf("| layer | algorithm | max abs error | mean abs error | max |y| |\n");
  std::printf("|-------|-----------|--------------:|---------------:|--------:|\n");
  const Layer layers[] = {{4, 16, 16, 32}, {8, 64, 64, 8}, {4, 256, 256, 8}};
  for (const Layer& l : layers) {
    const ConvGeometry g = geometry(l);
    Rng rng(1);
    std::vector<float> x(std::size_t(g.N) * g.C * g.H * g.W), w(std::size_t(g.K) * g.C * 9);
    for (auto& v : x) v = float(rng.normal());
    for (auto& v : w) v = float(rng.normal() * std::sqrt(2.0 / (9 * g.C)));
    const std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end());
    const std::size_t y_size = std::size_t(g.N) * g.K * g.P() * g.Q();
    std::vector<double> ref(y_size);
    conv2d_forward_naive<double>(g, xd.data(), wd.data(), nullptr, ref.data());
    double scale = 0;
    for (double v : ref) scale = std::max(scale, std::abs(v));

    std::vector<float> y(y_size), workspace;
    for (int algo : {0, 2, 4}) {  // 0: im2col, else the Winograd tile size m
      if (algo == 0)
        conv2d_forward_im2col<float>(g, x.data(), w.data(), nullptr, y.data(), workspace);
      else
        conv2d_forward_winograd<float>(g, algo, x.data(), w.data(), nullptr, y.data(), workspace);
      double max_err = 0, sum_err = 0;
      for (std::size_t i = 0; i < y_size; ++i) {
        const double e = std::abs(double(y[i]) - ref[i]);
        max_err = std::max(max_err, e);
        sum_err += e;
      }
      std::printf("| %d->%d @%dx%d | %-9s | %13.2e | %14.2e | %7.2f |\n", g.C, g.K, g.H, g.W,
                  algo == 0   ? "im2col"
                  : algo == 2 ? "F(2x2,3x3)"
                              : "F(4x4,3x3)",
                  max_err, sum_err / double(y_size), scale);
    }
  }
  std::printf("\n");
}

void speed_table() {
  std::printf("== 3. Speed, %d OpenMP thread(s), best of 10 ==\n\n", omp_get_max_threads());
  std::printf(
      "GFLOP/s count the direct convolution's flops: 2 N K P Q C 9 per pass, three passes\n"
      "(y, dx, dw) for fwd+bwd.\n\n");
  std::printf("| layer | algorithm | fwd ms | fwd GFLOP/s | fwd+bwd ms | fwd+bwd GFLOP/s |\n");
  std::printf("|-------|-----------|-------:|------------:|-----------:|----------------:|\n");
  const Layer layers[] = {{32, 16, 16, 32}, {128, 64, 64, 8}};
  for (const Layer& l : layers) {
    const ConvGeometry g = geometry(l);
    Rng rng(2);
    const std::size_t x_size = std::size_t(g.N) * g.C * g.H * g.W;
    const std::size_t y_size = std::size_t(g.N) * g.K * g.P() * g.Q();
    std::vector<float> x(x_size), w(std::size_t(g.K) * g.C * 9), b(g.K), y(y_size), dy(y_size);
    for (auto* v : {&x, &w, &b, &dy})
      for (auto& e : *v) e = float(rng.normal());
    std::vector<float> dx(x_size), dw(w.size()), db(g.K), workspace;
    const double flops = 2.0 * g.N * g.K * g.P() * g.Q() * g.C * 9;
    for (int algo : {0, 2, 4}) {
      auto forward = [&] {
        if (algo == 0)
          conv2d_forward_im2col<float>(g, x.data(), w.data(), b.data(), y.data(), workspace);
        else
          conv2d_forward_winograd<float>(g, algo, x.data(), w.data(), b.data(), y.data(),
                                         workspace);
      };
      auto backward = [&] {
        if (algo == 0)
          conv2d_backward_im2col<float>(g, x.data(), w.data(), dy.data(), dx.data(), dw.data(),
                                        db.data(), workspace);
        else
          conv2d_backward_winograd<float>(g, algo, x.data(), w.data(), dy.data(), dx.data(),
                                          dw.data(), db.data(), workspace);
      };
      const double fwd = best_ms(10, forward);
      const double both = best_ms(10, [&] {
        forward();
        backward();
      });
      std::printf("| %d->%d @%dx%d N=%d | %-9s | %6.2f | %11.1f | %10.2f | %15.1f |\n", g.C, g.K,
                  g.H, g.W, g.N,
                  algo == 0   ? "im2col"
                  : algo == 2 ? "winograd2"
                              : "winograd4",
                  fwd, flops / fwd * 1e-6, both, 3 * flops / both * 1e-6);
    }
  }
  std::printf("\nwinograd2/4 fwd+bwd: dx and dw by Winograd (dw only with >= 16 channels per group in and out, as here), db a sum (see winograd.hpp).\n");
}

}  // namespace

int main() {
  worked_example();
  error_table();
  speed_table();
  return 0;
}
