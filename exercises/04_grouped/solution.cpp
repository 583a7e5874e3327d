// Chapter 04 exercises: the book's answers. Try exercise.cpp first.
#include "exercise.hpp"

namespace convbook::ex04 {

//! [ex-grouped-cost]
Cost grouped_conv_cost(std::size_t C, std::size_t K, std::size_t R, std::size_t S,
                       std::size_t stride, std::size_t padding, std::size_t G, bool bias,
                       std::size_t H, std::size_t W) {
  const std::size_t P = (H + 2 * padding - R) / stride + 1;
  const std::size_t Q = (W + 2 * padding - S) / stride + 1;
  Cost c;
  // each output channel sees only the C/G input channels of its group
  c.params = K * (C / G) * R * S + (bias ? K : 0);
  c.flops = 2.0 * double(K) * double(C / G) * double(R * S) * double(P * Q);
  return c;
}
//! [ex-grouped-cost]

//! [ex-grouped-slices]
std::vector<float> grouped_conv_as_slices(const std::vector<float>& x, const std::vector<float>& w,
                                          std::size_t N, std::size_t C, std::size_t H,
                                          std::size_t W, std::size_t K, std::size_t R,
                                          std::size_t S, std::size_t pad, std::size_t G) {
  const std::size_t Cg = C / G, Kg = K / G;
  const std::size_t P = H + 2 * pad - R + 1, Q = W + 2 * pad - S + 1;
  std::vector<float> y(N * K * P * Q, 0.0f);
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t g = 0; g < G; ++g) {
      for (std::size_t kk = 0; kk < Kg; ++kk) {  // a dense conv: Cg -> Kg channels
        const std::size_t k = g * Kg + kk;
        for (std::size_t p = 0; p < P; ++p) {
          for (std::size_t q = 0; q < Q; ++q) {
            float acc = 0;
            for (std::size_t cc = 0; cc < Cg; ++cc) {
              const std::size_t c = g * Cg + cc;  // only this group's input channels
              for (std::size_t r = 0; r < R; ++r) {
                for (std::size_t s = 0; s < S; ++s) {
                  const long h = long(p + r) - long(pad), v = long(q + s) - long(pad);
                  if (h < 0 || v < 0 || h >= long(H) || v >= long(W)) continue;
                  acc += w[((k * Cg + cc) * R + r) * S + s] *
                         x[((n * C + c) * H + std::size_t(h)) * W + std::size_t(v)];
                }
              }
            }
            y[((n * K + k) * P + p) * Q + q] = acc;
          }
        }
      }
    }
  }
  return y;
}
//! [ex-grouped-slices]

//! [ex-block-diagonal]
std::vector<float> block_diagonal_weight(const std::vector<float>& w, std::size_t K,
                                         std::size_t C, std::size_t R, std::size_t S,
                                         std::size_t G) {
  const std::size_t Cg = C / G, Kg = K / G, RS = R * S;
  std::vector<float> dense(K * C * RS, 0.0f);  // off-diagonal blocks stay zero
  for (std::size_t k = 0; k < K; ++k) {
    const std::size_t g = k / Kg;  // the group of output channel k
    for (std::size_t cc = 0; cc < Cg; ++cc) {
      for (std::size_t i = 0; i < RS; ++i) {
        dense[(k * C + g * Cg + cc) * RS + i] = w[(k * Cg + cc) * RS + i];
      }
    }
  }
  return dense;
}
//! [ex-block-diagonal]

}  // namespace convbook::ex04
