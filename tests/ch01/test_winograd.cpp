// Chapter 01: Winograd F(2x2, 3x3) and F(4x4, 3x3) equal the naive convolution, forward and
// backward (dx, dw, db), on odd sizes, every padding 0..3 (also different for rows and
// columns), groups 1..3, with and without bias; and they refuse what they do not handle.
//
// Tolerance: Winograd does not add the same products in another order, it computes different
// products (of transformed tiles) whose float rounding errors the output transform scales up
// by the size of the matrices' entries. The error is measured relative to the largest value of
// the naive result (elementwise relative error would blow up on outputs that cancel to ~0).
// Measured on these configs, the worst is 5e-7 for F(2, 3) and 3e-6 for F(4, 3) (y and dx),
// 7e-7 and 3e-6 for dw (the weight gradient goes through the same transforms, transposed); we
// accept 2e-5 and 1e-4, a margin for other compilers and SIMD widths; changing one entry of
// a transform matrix fails these checks (tried with A^T of F(4, 3)).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "convbook/conv/conv_naive.hpp"
#include "convbook/conv/winograd.hpp"
#include "convbook/error.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using Catch::Matchers::Contains;

using test::scaled_error;

namespace {

std::vector<float> random_vector(std::size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& e : v) e = float(rng.normal());
  return v;
}

double tolerance(int m) {
  return m == 2 ? 2e-5 : 1e-4;
}

std::string describe(const ConvGeometry& g, int m, bool bias) {
  return "F(" + std::to_string(m) + ",3) N=" + std::to_string(g.N) + " C=" + std::to_string(g.C) +
         " K=" + std::to_string(g.K) + " HxW=" + std::to_string(g.H) + "x" + std::to_string(g.W) +
         " pad=" + std::to_string(g.pad_h) + "," + std::to_string(g.pad_w) +
         " G=" + std::to_string(g.G) + (bias ? " bias" : "");
}

/// Forward and backward of Winograd F(m, 3) against the naive loops on random data.
void check_winograd_matches_naive(const ConvGeometry& g, int m, bool with_bias,
                                  std::uint64_t seed) {
  INFO(describe(g, m, with_bias));
  Rng rng(seed);
  const std::size_t x_size = std::size_t(g.N) * g.C * g.H * g.W;
  const std::size_t w_size = std::size_t(g.K) * (g.C / g.G) * 9;
  const std::size_t y_size = std::size_t(g.N) * g.K * g.P() * g.Q();
  REQUIRE(y_size > 0);
  const auto x = random_vector(x_size, rng), w = random_vector(w_size, rng);
  const auto b = random_vector(g.K, rng), dy = random_vector(y_size, rng);
  const float* bias = with_bias ? b.data() : nullptr;

  std::vector<float> y_naive(y_size), y_fast(y_size, 1e30f), workspace;
  conv2d_forward_naive(g, x.data(), w.data(), bias, y_naive.data());
  conv2d_forward_winograd(g, m, x.data(), w.data(), bias, y_fast.data(), workspace);
  CHECK(scaled_error(y_fast, y_naive) < tolerance(m));

  // dw and db start non-zero: both kernels must add to them, not overwrite.
  std::vector<float> dx_naive(x_size), dx_fast(x_size, 1e30f);
  std::vector<float> dw_naive(w_size, 0.5f), dw_fast(w_size, 0.5f);
  std::vector<float> db_naive(g.K, -1.f), db_fast(g.K, -1.f);
  conv2d_backward_naive(g, x.data(), w.data(), dy.data(), dx_naive.data(), dw_naive.data(),
                        db_naive.data());
  conv2d_backward_winograd(g, m, x.data(), w.data(), dy.data(), dx_fast.data(), dw_fast.data(),
                           db_fast.data(), workspace);
  CHECK(scaled_error(dx_fast, dx_naive) < tolerance(m));
  CHECK(scaled_error(dw_fast, dw_naive) < tolerance(m));
  CHECK(scaled_error(db_fast, db_naive) < 1e-5);  // the same sum, reordered
}

ConvGeometry geometry(int N, int C, int K, int H, int W, int pad_h, int pad_w, int G) {
  ConvGeometry g;
  g.N = N;
  g.C = C;
  g.K = K;
  g.H = H;
  g.W = W;
  g.R = g.S = 3;
  g.pad_h = pad_h;
  g.pad_w = pad_w;
  g.G = G;
  return g;
}

}  // namespace

TEST_CASE("winograd_supports: 3x3, stride 1, dilation 1 only", "[conv][winograd]") {
  const ConvGeometry ok = geometry(1, 4, 4, 8, 8, 1, 1, 1);
  CHECK(winograd_supports(ok));
  ConvGeometry g = ok;
  g.stride_h = g.stride_w = 2;
  CHECK_FALSE(winograd_supports(g));
  g = ok;
  g.stride_w = 2;
  CHECK_FALSE(winograd_supports(g));
  g = ok;
  g.dil_h = g.dil_w = 2;
  CHECK_FALSE(winograd_supports(g));
  g = ok;
  g.R = g.S = 5;
  CHECK_FALSE(winograd_supports(g));
  g = ok;
  g.R = g.S = 1;
  CHECK_FALSE(winograd_supports(g));

  std::vector<float> buf(4 * 8 * 8 * 25), out(4 * 8 * 8), ws;
  g = ok;
  g.stride_h = g.stride_w = 2;
  CHECK_THROWS_WITH(
      conv2d_forward_winograd<float>(g, 2, buf.data(), buf.data(), nullptr, out.data(), ws),
      Contains("stride 2x2"));
  CHECK_THROWS_WITH(
      conv2d_forward_winograd<float>(ok, 3, buf.data(), buf.data(), nullptr, out.data(), ws),
      Contains("m=3") && Contains("expected 2 or 4"));
  CHECK_THROWS_AS(conv2d_backward_winograd<float>(ok, 6, buf.data(), buf.data(), out.data(),
                                                  buf.data(), buf.data(), nullptr, ws),
                  Error);
}

TEST_CASE("Winograd equals naive on hand-picked odd configurations", "[conv][winograd]") {
  struct Case {
    int N, C, K, H, W, pad_h, pad_w, G;
  };
  const Case cases[] = {
      {2, 3, 5, 7, 5, 1, 1, 1},    // odd image, partial tiles on both edges
      {1, 1, 1, 1, 1, 1, 1, 1},    // a single pixel: only the padding's ring around it
      {3, 2, 4, 3, 3, 0, 0, 1},    // one output, no padding
      {2, 6, 9, 9, 11, 2, 2, 3},   // padding 2 (output larger than input), 3 groups
      {1, 4, 6, 9, 11, 0, 2, 2},   // asymmetric padding
      {2, 20, 20, 7, 5, 2, 1, 1},  // the largest channel counts
      {1, 5, 1, 6, 8, 1, 0, 1},    // one output channel
      {1, 3, 3, 5, 7, 3, 3, 3},    // depthwise, padding 3 (backward-data pads by -1: a crop)
  };
  for (int m : {2, 4}) {
    for (const Case& c : cases) {
      for (bool bias : {false, true}) {
        check_winograd_matches_naive(geometry(c.N, c.C, c.K, c.H, c.W, c.pad_h, c.pad_w, c.G), m,
                                     bias, 100 + c.C * 7 + c.H);
      }
    }
  }
}

TEST_CASE("Winograd equals naive on random configurations", "[conv][winograd]") {
  Rng rng(2016);  // Lavin & Gray
  auto pick = [&](int lo, int hi) {
    return lo + int(rng.uniform() * (hi - lo + 1)) % (hi - lo + 1);
  };
  const int sizes[] = {1, 3, 5, 7, 9, 11};
  int tested = 0;
  while (tested < 40) {
    const int G = pick(1, 3);
    const int C = G * pick(1, 20 / G), K = G * pick(1, 20 / G);
    const int H = sizes[pick(0, 5)], W = sizes[pick(0, 5)];
    const int pad_h = pick(0, 2), pad_w = pick(0, 2);
    const ConvGeometry g = geometry(pick(1, 2), C, K, H, W, pad_h, pad_w, G);
    if (g.P() <= 0 || g.Q() <= 0) continue;  // the kernel does not fit in the padded image
    check_winograd_matches_naive(g, tested % 2 ? 4 : 2, pick(0, 1) == 1, 1000 + tested);
    ++tested;
  }
}

TEST_CASE("Winograd reuses its workspace and leaves no stale values", "[conv][winograd]") {
  // A large layer then a small one through the same workspace: the second result must not
  // depend on what the first left behind.
  const ConvGeometry big = geometry(2, 8, 8, 12, 12, 1, 1, 1);
  const ConvGeometry small = geometry(1, 2, 3, 5, 7, 1, 1, 1);
  Rng rng(5);
  std::vector<float> workspace;
  const auto xb = random_vector(2 * 8 * 144, rng), wb = random_vector(8 * 8 * 9, rng);
  std::vector<float> yb(2 * 8 * 144);
  conv2d_forward_winograd<float>(big, 4, xb.data(), wb.data(), nullptr, yb.data(), workspace);
  const std::size_t grown = workspace.size();
  CHECK(grown >= conv2d_winograd_workspace_size(big, 4));

  const auto xs = random_vector(2 * 35, rng), ws = random_vector(3 * 2 * 9, rng);
  std::vector<float> ys(3 * 35), ys_naive(3 * 35);
  conv2d_forward_winograd<float>(small, 4, xs.data(), ws.data(), nullptr, ys.data(), workspace);
  conv2d_forward_naive<float>(small, xs.data(), ws.data(), nullptr, ys_naive.data());
  CHECK(workspace.size() == grown);  // grows only
  CHECK(scaled_error(ys, ys_naive) < tolerance(4));
}

TEST_CASE("Winograd equals naive on a layer split into several rounds of images, in parallel",
          "[conv][winograd]") {
  // The configurations above fit in one round of images and run on one thread. Here the
  // tiles of 10 images (F(4, 3): 36 positions x (32 + 32) channels x 25 tiles per image, a
  // round holds 4) are enough work for every thread; with 1 or 2 threads each thread's share
  // (10 or 5 images) takes more than one round, so each thread's weight gradient adds several
  // rounds into its sums before the threads' sums are added together.
  const ConvGeometry g = geometry(10, 32, 32, 20, 20, 1, 1, 1);
  for (int m : {2, 4}) check_winograd_matches_naive(g, m, true, 77 + m);
}

TEST_CASE("Winograd with 16 channels in each vector (C/G, K/G multiples of 16) equals naive",
          "[conv][winograd]") {
  // These take the blocked kernels: 16 channel planes interleaved, tiles cut with vector loads,
  // the output de-interleaved, the products by the small in-cache kernels up to 64 channels and
  // by gemm() above. Odd sizes leave partial 16-pixel rows (interleaved one pixel at
  // a time) and partial tiles; padding 0..3 covers crops in backward-data (2 - pad < 0);
  // 48 channels is three blocks of lanes; groups of 16 put each group's channels at an offset.
  const ConvGeometry configs[] = {
      geometry(2, 16, 16, 7, 5, 1, 1, 1),    // smaller than a tile row of 16 pixels
      geometry(1, 16, 32, 17, 19, 1, 1, 1),  // a 16-pixel run plus a partial one
      geometry(2, 32, 16, 9, 33, 0, 2, 1),   // asymmetric padding, two whole runs in a row
      geometry(1, 48, 16, 11, 12, 3, 3, 1),  // padding 3: backward-data crops by 1
      geometry(2, 32, 32, 6, 6, 2, 0, 2),    // 2 groups of 16
      geometry(1, 16, 16, 1, 1, 1, 1, 1),    // one pixel
      geometry(3, 16, 48, 8, 8, 1, 1, 1),    // 8 x 8 images, three output blocks
      geometry(2, 80, 32, 6, 7, 1, 1, 1),    // more than 64 channels: the GEMMs go to gemm()
  };
  for (const ConvGeometry& g : configs) {
    REQUIRE(winograd_channels_in_lanes(g));
    for (int m : {2, 4}) check_winograd_matches_naive(g, m, m == 4, 4000 + g.C + g.H + m);
  }
  // One side not a multiple of 16: the tiles-in-the-lanes kernels.
  CHECK_FALSE(winograd_channels_in_lanes(geometry(1, 16, 20, 8, 8, 1, 1, 1)));
  CHECK_FALSE(winograd_channels_in_lanes(geometry(1, 32, 32, 8, 8, 1, 1, 4)));  // 8 per group
}
