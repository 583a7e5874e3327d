/// @file conv_naive.cpp
/// @brief The reference convolution, forward and backward, as plain nested loops.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups (Cg = C/G input and Kg = K/G output channels per group).
#include "convbook/conv/conv_naive.hpp"

#include <algorithm>

namespace convbook {

int conv2d_output_size(int in, int kernel, int stride, int padding, int dilation) {
  const int span = dilation * (kernel - 1) + 1;  // the dilated kernel's extent
  if (in + 2 * padding < span || stride <= 0) return 0;
  return (in + 2 * padding - span) / stride + 1;
}

int ConvGeometry::P() const {
  return conv2d_output_size(H, R, stride_h, pad_h, dil_h);
}
int ConvGeometry::Q() const {
  return conv2d_output_size(W, S, stride_w, pad_w, dil_w);
}

//! [conv-naive-forward]
// x: (N, C, H, W)  w: (K, C/G, R, S)  b: (K)  y: (N, K, P, Q)
template <typename T>
void conv2d_forward_naive(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  const int P = g.P(), Q = g.Q();
  const int Cg = g.C / g.G, Kg = g.K / g.G;  // channels per group
  for (int n = 0; n < g.N; ++n) {
    for (int k = 0; k < g.K; ++k) {
      const int c0 = (k / Kg) * Cg;  // output channel k sees input channels [c0, c0 + Cg)
      for (int p = 0; p < P; ++p) {
        for (int q = 0; q < Q; ++q) {
          T sum = bias ? bias[k] : T(0);
          for (int c = 0; c < Cg; ++c) {
            for (int r = 0; r < g.R; ++r) {
              for (int s = 0; s < g.S; ++s) {
                const int h = p * g.stride_h - g.pad_h + r * g.dil_h;  // input row of tap r
                const int v = q * g.stride_w - g.pad_w + s * g.dil_w;  // input column of tap s
                if (h < 0 || h >= g.H || v < 0 || v >= g.W) continue;  // zero padding
                sum += x[((n * g.C + c0 + c) * g.H + h) * g.W + v] *
                       w[((k * Cg + c) * g.R + r) * g.S + s];
              }
            }
          }
          y[((n * g.K + k) * P + p) * Q + q] = sum;
        }
      }
    }
  }
}
//! [conv-naive-forward]

//! [conv-naive-backward]
// Same seven loops; each product x * w of the forward sends dy back to both factors:
//   dx[n, c0+c, h, v] += w[k, c, r, s] * dy[n, k, p, q]   (data: a transposed convolution)
//   dw[k, c, r, s]    += x[n, c0+c, h, v] * dy[n, k, p, q] (weight: x correlated with dy)
//   db[k]             += dy[n, k, p, q]                     (bias: a sum over N, P, Q)
template <typename T>
void conv2d_backward_naive(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx, T* dw,
                           T* db) {
  const int P = g.P(), Q = g.Q();
  const int Cg = g.C / g.G, Kg = g.K / g.G;
  if (dx) std::fill(dx, dx + std::size_t(g.N) * g.C * g.H * g.W, T(0));
  for (int n = 0; n < g.N; ++n) {
    for (int k = 0; k < g.K; ++k) {
      const int c0 = (k / Kg) * Cg;
      for (int p = 0; p < P; ++p) {
        for (int q = 0; q < Q; ++q) {
          const T d = dy[((n * g.K + k) * P + p) * Q + q];
          if (db) db[k] += d;
          for (int c = 0; c < Cg; ++c) {
            for (int r = 0; r < g.R; ++r) {
              for (int s = 0; s < g.S; ++s) {
                const int h = p * g.stride_h - g.pad_h + r * g.dil_h;
                const int v = q * g.stride_w - g.pad_w + s * g.dil_w;
                if (h < 0 || h >= g.H || v < 0 || v >= g.W) continue;
                const std::size_t xi = ((std::size_t(n) * g.C + c0 + c) * g.H + h) * g.W + v;
                const std::size_t wi = ((std::size_t(k) * Cg + c) * g.R + r) * g.S + s;
                if (dx) dx[xi] += w[wi] * d;
                if (dw) dw[wi] += x[xi] * d;
              }
            }
          }
        }
      }
    }
  }
}
//! [conv-naive-backward]

template void conv2d_forward_naive<float>(const ConvGeometry&, const float*, const float*,
                                          const float*, float*);
template void conv2d_forward_naive<double>(const ConvGeometry&, const double*, const double*,
                                           const double*, double*);
template void conv2d_backward_naive<float>(const ConvGeometry&, const float*, const float*,
                                           const float*, float*, float*, float*);
template void conv2d_backward_naive<double>(const ConvGeometry&, const double*, const double*,
                                            const double*, double*, double*, double*);

}  // namespace convbook
