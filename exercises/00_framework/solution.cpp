// The book's answers to chapter 00's exercises. Try exercise.cpp first.
#include <algorithm>
#include <cmath>
#include <limits>

#include "exercise.hpp"

namespace convbook::ex00 {

//! [solution-batchnorm-backward]
void batchnorm2d_backward_train(const std::vector<float>& x, const std::vector<float>& gamma,
                                const std::vector<float>& dy, std::size_t N, std::size_t C,
                                std::size_t H, std::size_t W, double eps, std::vector<float>& dx,
                                std::vector<float>& dgamma, std::vector<float>& dbeta) {
  const std::size_t HW = H * W;
  const double M = double(N * HW);
  dx.assign(x.size(), 0.0f);
  dgamma.assign(C, 0.0f);
  dbeta.assign(C, 0.0f);
  for (std::size_t c = 0; c < C; ++c) {
    auto at = [&](std::size_t n, std::size_t i) { return (n * C + c) * HW + i; };
    double mean = 0, var = 0;
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t i = 0; i < HW; ++i) mean += x[at(n, i)];
    mean /= M;
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t i = 0; i < HW; ++i) var += (x[at(n, i)] - mean) * (x[at(n, i)] - mean);
    var /= M;
    const double invstd = 1.0 / std::sqrt(var + eps);
    double sum_dy = 0, sum_dy_xhat = 0;
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t i = 0; i < HW; ++i) {
        sum_dy += dy[at(n, i)];
        sum_dy_xhat += dy[at(n, i)] * (x[at(n, i)] - mean) * invstd;
      }
    dgamma[c] = float(sum_dy_xhat);
    dbeta[c] = float(sum_dy);
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t i = 0; i < HW; ++i) {
        const double xhat = (x[at(n, i)] - mean) * invstd;
        dx[at(n, i)] =
            float(gamma[c] * invstd * (dy[at(n, i)] - sum_dy / M - xhat * sum_dy_xhat / M));
      }
  }
}
//! [solution-batchnorm-backward]

std::vector<float> cross_entropy_backward(const std::vector<float>& logits,
                                          const std::vector<int>& labels, std::size_t N,
                                          std::size_t K, double label_smoothing) {
  std::vector<float> dz(N * K);
  for (std::size_t n = 0; n < N; ++n) {
    const float* z = logits.data() + n * K;
    const double zmax = *std::max_element(z, z + K);
    double sum = 0;
    for (std::size_t k = 0; k < K; ++k) sum += std::exp(z[k] - zmax);
    for (std::size_t k = 0; k < K; ++k) {
      const double p = std::exp(z[k] - zmax) / sum;
      const double q =
          (int(k) == labels[n] ? 1.0 - label_smoothing : 0.0) + label_smoothing / double(K);
      dz[n * K + k] = float((p - q) / double(N));
    }
  }
  return dz;
}

std::vector<float> maxpool2d_backward(const std::vector<float>& x, const std::vector<float>& dy,
                                      std::size_t N, std::size_t C, std::size_t H, std::size_t W,
                                      std::size_t kernel, std::size_t stride, std::size_t padding) {
  const std::size_t P = (H + 2 * padding - kernel) / stride + 1;
  const std::size_t Q = (W + 2 * padding - kernel) / stride + 1;
  std::vector<float> dx(x.size(), 0.0f);
  for (std::size_t nc = 0; nc < N * C; ++nc) {
    for (std::size_t p = 0; p < P; ++p) {
      for (std::size_t q = 0; q < Q; ++q) {
        float best = -std::numeric_limits<float>::infinity();
        std::size_t where = 0;
        for (std::size_t r = 0; r < kernel; ++r) {
          for (std::size_t s = 0; s < kernel; ++s) {
            // input row h = p * stride + r - padding; outside the image is padding
            const std::ptrdiff_t h = std::ptrdiff_t(p * stride + r) - std::ptrdiff_t(padding);
            const std::ptrdiff_t w = std::ptrdiff_t(q * stride + s) - std::ptrdiff_t(padding);
            if (h < 0 || w < 0 || h >= std::ptrdiff_t(H) || w >= std::ptrdiff_t(W)) continue;
            const std::size_t i = nc * H * W + std::size_t(h) * W + std::size_t(w);
            if (x[i] > best) {
              best = x[i];
              where = i;
            }
          }
        }
        dx[where] += dy[(nc * P + p) * Q + q];
      }
    }
  }
  return dx;
}

void sgd_step(std::vector<float>& w, const std::vector<float>& grad,
              std::vector<float>& momentum_buffer, bool first_step, double lr, double momentum,
              double weight_decay, bool nesterov) {
  momentum_buffer.resize(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    double g = grad[i] + weight_decay * w[i];
    if (momentum != 0) {
      const double b = first_step ? g : momentum * momentum_buffer[i] + g;
      momentum_buffer[i] = float(b);
      g = nesterov ? g + momentum * b : b;
    }
    w[i] = float(w[i] - lr * g);
  }
}

}  // namespace convbook::ex00
