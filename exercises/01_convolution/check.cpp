// Checks chapter 01's exercises against the framework itself: Conv2d::output_shape,
// convbook::col2im and conv2d_backward_naive, on random data and odd configurations. Both sides
// compute in float in different orders, so we accept |yours - library| <= 1e-5 + 1e-4 |library|.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/conv/conv_naive.hpp"
#include "convbook/conv/im2col.hpp"
#include "convbook/gemm/gemm.hpp"
#include "convbook/random.hpp"
#include "exercise.hpp"
#include "support/exercise_check.hpp"

using namespace convbook;
using convbook::exercise::allclose_ratio;
using convbook::exercise::random_vector;

namespace {

ConvGeometry geometry(int N, int C, int H, int W, int K, int R, int S, int stride_h, int stride_w,
                      int pad_h, int pad_w, int dil_h, int dil_w, int G) {
  ConvGeometry g;
  g.N = N;
  g.C = C;
  g.H = H;
  g.W = W;
  g.K = K;
  g.R = R;
  g.S = S;
  g.stride_h = stride_h;
  g.stride_w = stride_w;
  g.pad_h = pad_h;
  g.pad_w = pad_w;
  g.dil_h = dil_h;
  g.dil_w = dil_w;
  g.G = G;
  return g;
}

std::string describe(const ConvGeometry& g) {
  return "N=" + std::to_string(g.N) + " C=" + std::to_string(g.C) + " H=" + std::to_string(g.H) +
         " W=" + std::to_string(g.W) + " K=" + std::to_string(g.K) + " R=" + std::to_string(g.R) +
         " S=" + std::to_string(g.S) + " stride=(" + std::to_string(g.stride_h) + "," +
         std::to_string(g.stride_w) + ") pad=(" + std::to_string(g.pad_h) + "," +
         std::to_string(g.pad_w) + ") dil=(" + std::to_string(g.dil_h) + "," +
         std::to_string(g.dil_w) + ") G=" + std::to_string(g.G);
}

const std::vector<ConvGeometry> kGeometries = {
    geometry(1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1),  // the chapter's worked example
    geometry(2, 3, 7, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1),  // "same" padding, odd image
    geometry(2, 3, 7, 5, 2, 3, 2, 2, 3, 1, 0, 1, 1, 1),  // strides skip pixels
    geometry(1, 2, 9, 8, 2, 3, 3, 1, 2, 2, 2, 2, 2, 1),  // dilated
    geometry(2, 6, 6, 7, 9, 3, 3, 2, 1, 1, 2, 1, 2, 3),  // three groups, everything at once
};

}  // namespace

TEST_CASE("01.1 conv_output_size agrees with Conv2d::output_shape", "[exercise]") {
  for (std::size_t in : {1, 4, 7, 32}) {
    for (std::size_t kernel : {1, 3, 5}) {
      for (std::size_t stride : {1, 2, 3}) {
        for (std::size_t padding : {0, 1, 2}) {
          for (std::size_t dilation : {1, 2}) {
            INFO("in=" << in << " kernel=" << kernel << " stride=" << stride
                       << " padding=" << padding << " dilation=" << dilation);
            const std::size_t yours = ex01::conv_output_size(in, kernel, stride, padding, dilation);
            Conv2d conv(
                Conv2dOptions(1, 1, kernel).stride(stride).padding(padding).dilation(dilation));
            if (dilation * (kernel - 1) + 1 > in + 2 * padding) {
              CHECK(yours == 0);  // Conv2d refuses such an input
              CHECK_THROWS_AS(conv.output_shape({1, 1, in, in}), Error);
            } else {
              CHECK(yours == conv.output_shape({1, 1, in, in})[2]);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("01.2 col2im agrees with convbook::col2im", "[exercise]") {
  std::uint64_t seed = 1;
  for (const ConvGeometry& g : kGeometries) {
    INFO(describe(g));
    const int Cg = g.C / g.G;
    const std::vector<float> col =
        random_vector(std::size_t(Cg) * g.R * g.S * g.P() * g.Q(), seed++);
    std::vector<float> expected(std::size_t(Cg) * g.H * g.W);
    convbook::col2im(g, col.data(), expected.data());
    CHECK(allclose_ratio(ex01::col2im(g, col), expected) <= 1);
  }
}

TEST_CASE("01.3 conv2d_backward_weight agrees with conv2d_backward_naive", "[exercise]") {
  std::uint64_t seed = 100;
  for (const ConvGeometry& g : kGeometries) {
    INFO(describe(g));
    const std::vector<float> x = random_vector(std::size_t(g.N) * g.C * g.H * g.W, seed++);
    const std::vector<float> w = random_vector(std::size_t(g.K) * (g.C / g.G) * g.R * g.S, seed++);
    const std::vector<float> dy = random_vector(std::size_t(g.N) * g.K * g.P() * g.Q(), seed++);
    std::vector<float> expected(w.size(), 0.f);  // conv2d_backward_naive accumulates
    conv2d_backward_naive<float>(g, x.data(), w.data(), dy.data(), nullptr, expected.data(),
                                 nullptr);
    CHECK(allclose_ratio(ex01::conv2d_backward_weight(g, x, dy), expected) <= 1);
  }
}

TEST_CASE("01.4 winograd_f2x3_1d equals the direct 3-tap filter", "[exercise]") {
  // The chapter's worked example: small integers, exact in float.
  const auto y = ex01::winograd_f2x3_1d({1, 2, 3, 4}, {1, 2, 3});
  CHECK(y[0] == 14.0f);
  CHECK(y[1] == 20.0f);
  // Random inputs: the products differ from the direct ones, so allow float rounding of terms
  // of size ~1 (a wrong sign anywhere is off by O(1)).
  Rng rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::array<float, 4> d;
    std::array<float, 3> g;
    for (auto& v : d) v = float(rng.normal());
    for (auto& v : g) v = float(rng.normal());
    const auto w = ex01::winograd_f2x3_1d(d, g);
    const double y0 = double(d[0]) * g[0] + double(d[1]) * g[1] + double(d[2]) * g[2];
    const double y1 = double(d[1]) * g[0] + double(d[2]) * g[1] + double(d[3]) * g[2];
    CHECK(std::abs(w[0] - y0) < 1e-5 * (1 + std::abs(y0)));
    CHECK(std::abs(w[1] - y1) < 1e-5 * (1 + std::abs(y1)));
  }
}

TEST_CASE("01.5 pack_a_sliver lays op(A) out for the microkernel", "[exercise]") {
  // A 7 x 11 op(A) (odd on purpose), stored both ways with padded leading dimensions, filled
  // with distinct values so that any misplaced element is seen.
  const int M = 7, K = 11, mr = 4;
  std::vector<float> a_mk(std::size_t(M) * 13), a_km(std::size_t(K) * 9);  // lda 13 and 9
  for (int i = 0; i < M; ++i) {
    for (int k = 0; k < K; ++k) {
      const float v = float(100 * i + k);
      a_mk[std::size_t(i) * 13 + k] = v;
      a_km[std::size_t(k) * 9 + i] = v;
    }
  }
  for (bool trans : {false, true}) {
    for (int i0 : {0, 4, 6}) {  // 6: only one real row, three rows of zeros
      INFO("trans_a " << trans << " i0 " << i0);
      const int p0 = 3, kc = 5;
      const auto packed =
          ex01::pack_a_sliver(trans, trans ? a_km : a_mk, trans ? 9 : 13, M, i0, p0, kc, mr);
      REQUIRE(packed.size() == std::size_t(kc * mr));
      for (int p = 0; p < kc; ++p) {
        for (int r = 0; r < mr; ++r) {
          const float expected = i0 + r < M ? float(100 * (i0 + r) + p0 + p) : 0.0f;
          CHECK(packed[std::size_t(p) * mr + r] == expected);
        }
      }
    }
  }
  // What packing is for: a microkernel that walks the sliver p by p computes the block
  // C[i0:i0+mr, j] = sum_p op(A)[i0+r, p] B[p, j]. Compare with gemm_naive on the whole product.
  Rng rng(5);
  std::vector<float> B(std::size_t(K) * 3), C(std::size_t(M) * 3);
  for (auto& v : B) v = float(rng.normal());
  gemm_naive<float>(false, false, M, 3, K, 1.0f, a_mk.data(), 13, B.data(), 3, 0.0f, C.data(), 3);
  const auto packed = ex01::pack_a_sliver(false, a_mk, 13, M, 4, 0, K, mr);
  for (int r = 0; r < M - 4; ++r) {
    for (int j = 0; j < 3; ++j) {
      double sum = 0;
      for (int p = 0; p < K; ++p)
        sum += double(packed[std::size_t(p) * mr + r]) * B[std::size_t(p) * 3 + j];
      CHECK(std::abs(sum - C[std::size_t(4 + r) * 3 + j]) < 1e-3 * (1 + std::abs(sum)));
    }
  }
}

TEST_CASE("01.6 depthwise3x3_by_rows agrees with the seven loops", "[exercise]") {
  // Planes of one pixel, odd sizes, rows of 16 (a whole vector of floats) and the 8x8 plane of
  // dw3x3_128_8x8; one channel, 3x3, padding 1.
  const std::vector<std::array<int, 2>> planes = {{1, 1}, {3, 5}, {8, 8}, {7, 9}, {2, 16}};
  for (const auto& [H, W] : planes) {
    const ConvGeometry g = geometry(1, 1, H, W, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    INFO(describe(g));
    const std::size_t n = std::size_t(H) * W;
    const std::vector<float> x = random_vector(n, 1), dy = random_vector(n, 2),
                             w_v = random_vector(9, 3);
    std::array<float, 9> w{};
    std::copy(w_v.begin(), w_v.end(), w.begin());
    std::vector<float> y_ref(n), dx_ref(n), dw_ref(9, 0.f);
    conv2d_forward_naive<float>(g, x.data(), w.data(), nullptr, y_ref.data());
    conv2d_backward_naive<float>(g, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(),
                                 nullptr);
    const std::vector<float> y = ex01::depthwise3x3_by_rows(H, W, x, w);
    REQUIRE(y.size() == n);
    CHECK(allclose_ratio(y, y_ref) <= 1);
    const std::array<float, 9> dw = ex01::depthwise3x3_weight_grad_by_rows(H, W, x, dy);
    CHECK(allclose_ratio(std::vector<float>(dw.begin(), dw.end()), dw_ref) <= 1);
  }
}
