// Chapter 06 exercises: the book's answers. Try exercise.cpp first.
#include <cmath>

#include "exercise.hpp"

namespace convbook::ex06 {

//! [solution-rank1]
double rank1_energy_3x3(const std::vector<float>& k) {
  // sigma_i^2 are the eigenvalues of the symmetric 3x3 matrix M = K^T K, and their sum is its
  // trace, the squared Frobenius norm of K. The largest one by power iteration: M^n x turns
  // towards the top eigenvector; the Rayleigh quotient x^T M x / x^T x is then sigma_1^2.
  double M[3][3] = {};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int r = 0; r < 3; ++r) M[i][j] += double(k[3 * r + i]) * double(k[3 * r + j]);
  const double total = M[0][0] + M[1][1] + M[2][2];
  if (total == 0) return 1.0;
  double x[3] = {1, 0.7, 0.3};  // any start not orthogonal to the top eigenvector
  double lambda = 0;
  for (int it = 0; it < 500; ++it) {
    double y[3] = {};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) y[i] += M[i][j] * x[j];
    const double norm = std::sqrt(y[0] * y[0] + y[1] * y[1] + y[2] * y[2]);
    if (norm == 0) {  // x was orthogonal to every direction M keeps: restart elsewhere
      x[0] = 0.3, x[1] = -0.5, x[2] = 0.8;
      continue;
    }
    lambda = norm / std::sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
    for (int i = 0; i < 3; ++i) x[i] = y[i] / norm;
  }
  return lambda / total;
}

void separable_factors(const std::vector<float>& k, std::vector<float>& v, std::vector<float>& h) {
  // In a rank-1 matrix every non-zero row is a multiple of the same row: take the row with
  // the largest entry as h, and v[r] = k[r, s*] / h[s*] at that entry's column s*.
  int best = 0;
  for (int i = 1; i < 9; ++i)
    if (std::abs(k[i]) > std::abs(k[best])) best = i;
  const int r0 = best / 3, s0 = best % 3;
  h.assign(k.begin() + 3 * r0, k.begin() + 3 * r0 + 3);
  v.assign(3, 0.0f);
  if (k[best] == 0) return;  // the zero kernel: v = 0 works with any h
  for (int r = 0; r < 3; ++r) v[r] = k[3 * r + s0] / h[s0];
}
//! [solution-rank1]

//! [solution-cost]
namespace {
std::size_t out_size(std::size_t h, std::size_t k, std::size_t stride) {
  return (h + 2 * (k / 2) - k) / stride + 1;
}
}  // namespace

Cost depthwise_separable_cost(std::size_t C, std::size_t K, std::size_t R, std::size_t S,
                              std::size_t stride, std::size_t H, std::size_t W) {
  const double PQ = double(out_size(H, R, stride) * out_size(W, S, stride));
  Cost cost;
  cost.params = C * R * S + 2 * C + K * C + 2 * K;  // dw, bn1, pw, bn2
  cost.flops = 2 * PQ * C * R * S + 2 * PQ * C      // dw, bn1
               + 2 * PQ * K * C + 2 * PQ * K;       // pw, bn2
  return cost;
}

Cost dense_conv_bn_cost(std::size_t C, std::size_t K, std::size_t R, std::size_t S,
                        std::size_t stride, std::size_t H, std::size_t W) {
  const double PQ = double(out_size(H, R, stride) * out_size(W, S, stride));
  Cost cost;
  cost.params = K * C * R * S + 2 * K;
  cost.flops = 2 * PQ * K * C * R * S + 2 * PQ * K;
  return cost;
}
//! [solution-cost]

//! [solution-flattened]
std::vector<float> flattened_dense_kernel(const std::vector<float>& lateral,
                                          const std::vector<float>& vertical,
                                          const std::vector<float>& horizontal, std::size_t K,
                                          std::size_t C, std::size_t R, std::size_t S) {
  std::vector<float> w(K * C * R * S);
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t r = 0; r < R; ++r)
        for (std::size_t s = 0; s < S; ++s)
          w[((k * C + c) * R + r) * S + s] =
              lateral[k * C + c] * vertical[k * R + r] * horizontal[k * S + s];
  return w;
}
//! [solution-flattened]

}  // namespace convbook::ex06
