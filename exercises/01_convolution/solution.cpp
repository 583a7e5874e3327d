// Chapter 01 exercises: the book's answers. Try exercise.cpp first.
#include "exercise.hpp"

#include <algorithm>

namespace convbook::ex01 {

//! [ex-output-size]
std::size_t conv_output_size(std::size_t in, std::size_t kernel, std::size_t stride,
                             std::size_t padding, std::size_t dilation) {
  const std::size_t span = dilation * (kernel - 1) + 1;  // first to last tap, inclusive
  const std::size_t padded = in + 2 * padding;
  if (span > padded) return 0;          // not a single full window
  return (padded - span) / stride + 1;  // first window plus one per step
}
//! [ex-output-size]

//! [ex-col2im]
std::vector<float> col2im(const ConvGeometry& g, const std::vector<float>& col) {
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G;
  std::vector<float> x(std::size_t(Cg) * g.H * g.W, 0.f);
  for (int c = 0; c < Cg; ++c) {
    for (int r = 0; r < g.R; ++r) {
      for (int s = 0; s < g.S; ++s) {
        for (int p = 0; p < P; ++p) {
          for (int q = 0; q < Q; ++q) {
            const int h = p * g.stride_h - g.pad_h + r * g.dil_h;
            const int v = q * g.stride_w - g.pad_w + s * g.dil_w;
            if (h < 0 || h >= g.H || v < 0 || v >= g.W) continue;  // came from the padding
            x[(std::size_t(c) * g.H + h) * g.W + v] +=
                col[((c * g.R + r) * g.S + s) * P * Q + p * Q + q];
          }
        }
      }
    }
  }
  return x;
}
//! [ex-col2im]

//! [ex-backward-weight]
std::vector<float> conv2d_backward_weight(const ConvGeometry& g, const std::vector<float>& x,
                                          const std::vector<float>& dy) {
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G, Kg = g.K / g.G;
  std::vector<float> dw(std::size_t(g.K) * Cg * g.R * g.S, 0.f);
  // dw[k, c, r, s] = sum over n, p, q of x[n, c0 + c, h(p, r), v(q, s)] * dy[n, k, p, q]
  for (int k = 0; k < g.K; ++k) {
    const int c0 = (k / Kg) * Cg;  // the group's first input channel
    for (int c = 0; c < Cg; ++c) {
      for (int r = 0; r < g.R; ++r) {
        for (int s = 0; s < g.S; ++s) {
          double sum = 0;
          for (int n = 0; n < g.N; ++n) {
            for (int p = 0; p < P; ++p) {
              for (int q = 0; q < Q; ++q) {
                const int h = p * g.stride_h - g.pad_h + r * g.dil_h;
                const int v = q * g.stride_w - g.pad_w + s * g.dil_w;
                if (h < 0 || h >= g.H || v < 0 || v >= g.W) continue;
                sum += double(x[((std::size_t(n) * g.C + c0 + c) * g.H + h) * g.W + v]) *
                       dy[((std::size_t(n) * g.K + k) * P + p) * Q + q];
              }
            }
          }
          dw[((std::size_t(k) * Cg + c) * g.R + r) * g.S + s] = float(sum);
        }
      }
    }
  }
  return dw;
}
//! [ex-backward-weight]

//! [ex-winograd-f2x3]
std::array<float, 2> winograd_f2x3_1d(const std::array<float, 4>& d, const std::array<float, 3>& g) {
  // The filter side G g: computed once per filter in a real kernel, reused for every tile.
  const float u0 = g[0], u1 = (g[0] + g[1] + g[2]) / 2, u2 = (g[0] - g[1] + g[2]) / 2, u3 = g[2];
  const float m1 = (d[0] - d[2]) * u0;  // B^T d row 1: the value at 0
  const float m2 = (d[1] + d[2]) * u1;  // the value at 1
  const float m3 = (d[2] - d[1]) * u2;  // the value at -1
  const float m4 = (d[1] - d[3]) * u3;  // the value at infinity (leading coefficient)
  return {m1 + m2 + m3, m2 - m3 - m4};  // A^T
}
//! [ex-winograd-f2x3]

//! [ex-pack-a]
std::vector<float> pack_a_sliver(bool trans_a, const std::vector<float>& A, int lda, int M, int i0,
                                 int p0, int kc, int mr) {
  std::vector<float> packed(std::size_t(kc) * mr, 0.0f);  // rows past M stay zero
  const int rows = std::min(mr, M - i0);
  for (int p = 0; p < kc; ++p) {
    for (int r = 0; r < rows; ++r) {
      // op(A)(i, k) is A[i][k] when stored M x K, A[k][i] when stored K x M
      const int i = i0 + r, k = p0 + p;
      packed[std::size_t(p) * mr + r] =
          trans_a ? A[std::size_t(k) * lda + i] : A[std::size_t(i) * lda + k];
    }
  }
  return packed;
}
//! [ex-pack-a]

//! [ex-depthwise-rows]
namespace {

/// The flat plane v moved by d positions: entry o is v[o + d], zero past either end.
std::vector<float> moved(const std::vector<float>& v, int d) {
  const int n = int(v.size());
  std::vector<float> out(v.size(), 0.f);
  for (int o = std::max(0, -d); o < std::min(n, n - d); ++o) out[o] = v[o + d];
  return out;
}

/// h_s: x moved by s - 1 columns, zero where column q + s - 1 leaves the image (there the flat
/// move would wrap into the neighbouring row).
std::vector<float> column_shift(int W, const std::vector<float>& x, int s) {
  std::vector<float> h = moved(x, s - 1);
  for (int o = 0; o < int(h.size()); ++o) {
    const int q = o % W + s - 1;
    if (q < 0 || q >= W) h[o] = 0.f;
  }
  return h;
}

}  // namespace

std::vector<float> depthwise3x3_by_rows(int H, int W, const std::vector<float>& x,
                                        const std::array<float, 9>& w) {
  const std::vector<float> h[3] = {column_shift(W, x, 0), x, column_shift(W, x, 2)};
  std::vector<float> y(std::size_t(H) * W, 0.f);
  for (int r = 0; r < 3; ++r) {
    std::vector<float> part(y.size());  // kernel row r on every output row
    for (std::size_t o = 0; o < y.size(); ++o)
      part[o] = w[3 * r] * h[0][o] + w[3 * r + 1] * h[1][o] + w[3 * r + 2] * h[2][o];
    const std::vector<float> row = moved(part, (r - 1) * W);  // part_r[o + (r - 1) W]
    for (std::size_t o = 0; o < y.size(); ++o) y[o] += row[o];
  }
  return y;
}

std::array<float, 9> depthwise3x3_weight_grad_by_rows(int /*H*/, int W, const std::vector<float>& x,
                                                      const std::vector<float>& dy) {
  const std::vector<float> h[3] = {column_shift(W, x, 0), x, column_shift(W, x, 2)};
  std::array<float, 9> dw{};
  for (int r = 0; r < 3; ++r) {
    const std::vector<float> rows = moved(dy, -(r - 1) * W);  // dy[o - (r - 1) W]
    for (int s = 0; s < 3; ++s)
      for (std::size_t o = 0; o < x.size(); ++o) dw[3 * r + s] += rows[o] * h[s][o];
  }
  return dw;
}
//! [ex-depthwise-rows]

}  // namespace convbook::ex01
