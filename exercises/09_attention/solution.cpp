// Chapter 09 exercises: the book's answers. Try exercise.cpp first.
#include <algorithm>
#include <cmath>

#include "exercise.hpp"

namespace convbook::ex09 {

ProductGrads channel_product_backward(const std::vector<float>& x, const std::vector<float>& s,
                                      const std::vector<float>& dy, std::size_t N, std::size_t C,
                                      std::size_t L) {
  ProductGrads g{std::vector<float>(N * C * L), std::vector<float>(N * C, 0.0f)};
  for (std::size_t p = 0; p < N * C; ++p)  // p = one (n, c) plane
    for (std::size_t l = 0; l < L; ++l) {
      g.dx[p * L + l] = dy[p * L + l] * s[p];   // d(x s)/dx = s
      g.ds[p] += dy[p * L + l] * x[p * L + l];  // d(x s)/ds = x, summed over the plane
    }
  return g;
}

std::vector<float> se_input_gradient(const std::vector<float>& s, const std::vector<float>& dy,
                                     const std::vector<float>& dz, std::size_t N, std::size_t C,
                                     std::size_t L) {
  std::vector<float> dx(N * C * L);
  for (std::size_t p = 0; p < N * C; ++p)
    for (std::size_t l = 0; l < L; ++l) dx[p * L + l] = dy[p * L + l] * s[p] + dz[p] / float(L);
  return dx;
}

std::vector<float> rsoftmax(const std::vector<float>& x, std::size_t N, std::size_t G,
                            std::size_t R, std::size_t J) {
  std::vector<float> y(x.size());
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t g = 0; g < G; ++g)
      for (std::size_t j = 0; j < J; ++j) {
        auto in = [&](std::size_t r) { return x[((n * G + g) * R + r) * J + j]; };
        auto out = [&](std::size_t r) -> float& { return y[((n * R + r) * G + g) * J + j]; };
        if (R == 1) {
          out(0) = 1.0f / (1.0f + std::exp(-in(0)));
          continue;
        }
        float top = in(0), sum = 0;
        for (std::size_t r = 1; r < R; ++r) top = std::max(top, in(r));
        for (std::size_t r = 0; r < R; ++r) sum += out(r) = std::exp(in(r)-top);
        for (std::size_t r = 0; r < R; ++r) out(r) /= sum;
      }
  return y;
}

std::vector<float> rsoftmax_backward(const std::vector<float>& y, const std::vector<float>& dy,
                                     std::size_t N, std::size_t G, std::size_t R, std::size_t J) {
  std::vector<float> dx(y.size());
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t g = 0; g < G; ++g)
      for (std::size_t j = 0; j < J; ++j) {
        auto at = [&](std::size_t r) { return ((n * R + r) * G + g) * J + j; };
        float dot = 0;  // <y, dy> over the R splits (for R = 1 the sigmoid's y (1 - y) instead)
        for (std::size_t r = 0; r < R; ++r) dot += y[at(r)] * dy[at(r)];
        for (std::size_t r = 0; r < R; ++r) {
          const float v = y[at(r)];
          dx[((n * G + g) * R + r) * J + j] =
              R == 1 ? dy[at(r)] * v * (1 - v) : v * (dy[at(r)] - dot);
        }
      }
  return dx;
}

std::vector<float> channel_pool_backward(const std::vector<float>& x,
                                         const std::vector<float>& dout, std::size_t N,
                                         std::size_t C, std::size_t L) {
  std::vector<float> dx(N * C * L);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t l = 0; l < L; ++l) {
      std::size_t best = 0;  // the first maximum wins ties, as the library and PyTorch
      for (std::size_t c = 1; c < C; ++c)
        if (x[(n * C + c) * L + l] > x[(n * C + best) * L + l]) best = c;
      for (std::size_t c = 0; c < C; ++c)
        dx[(n * C + c) * L + l] =
            dout[(n * 2 + 1) * L + l] / float(C) + (c == best ? dout[(n * 2 + 0) * L + l] : 0.0f);
    }
  return dx;
}

Cost se_cost(std::size_t C, std::size_t r, std::size_t H, std::size_t W) {
  const std::size_t Cr = C / r, L = H * W;
  // fc1 and fc2: 1x1 convs with bias; the squeeze adds and the scale multiplies every value
  return {2 * C * Cr + Cr + C, 2.0 * C * Cr * 2 + 2.0 * C * L};
}

Cost cbam_cost(std::size_t C, std::size_t r, std::size_t k, std::size_t H, std::size_t W) {
  const std::size_t Cr = C / r, L = H * W;
  Cost c;
  c.params = 2 * C * Cr + Cr + C + 2 * k * k + 2;  // MLP, 7x7 kernel 2 -> 1, BN's gamma and beta
  c.flops = 2.0 * (2 * C * Cr) * 2                 // the MLP runs on both descriptors
            + 3.0 * C * L                          // channel gate: avg pool, max pool, scale
            + 2.0 * L * 2 * k * k                  // the k x k conv 2 -> 1
            + 2.0 * L                              // its BN
            + 3.0 * C * L;                         // spatial gate: max, mean, scale
  return c;
}

SelectGrads select_backward(const std::vector<float>& u, const std::vector<float>& a,
                            const std::vector<float>& dv, std::size_t N, std::size_t R,
                            std::size_t C, std::size_t L) {
  SelectGrads g{std::vector<float>(N * R * C * L), std::vector<float>(N * R * C, 0.0f)};
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t c = 0; c < C; ++c) {
        const std::size_t rc = (n * R + r) * C + c;  // split r, channel c of image n
        for (std::size_t l = 0; l < L; ++l) {
          const float d = dv[(n * C + c) * L + l];
          g.du[rc * L + l] = a[rc] * d;   // dV/dU_r = a_r at every position
          g.da[rc] += d * u[rc * L + l];  // a_r weighed the whole plane: sum over it
        }
      }
  return g;
}

}  // namespace convbook::ex09
