/// @file attention_ops.cpp
/// @brief The gate kernels of SE and CBAM: naive (one step per pass) and fused.
#include "chapters/09_attention/attention_ops.hpp"

#include <cmath>

namespace convbook {

//! [sigmoid]
template <typename T>
void sigmoid_forward(const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    // exp of a negative number only: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) below
    const T e = std::exp(-std::abs(x[i]));
    y[i] = x[i] >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
  }
}

template <typename T>
void sigmoid_backward(const T* y, const T* dy, T* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i] * (T(1) - y[i]);
}
//! [sigmoid]

//! [scale-naive]
// x, y, dy: (N, C, L); s, ds: (N, C)
template <typename T>
void channel_scale_forward(const T* x, const T* s, T* y, std::size_t N, std::size_t C,
                           std::size_t L) {
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t l = 0; l < L; ++l)
        y[(n * C + c) * L + l] = x[(n * C + c) * L + l] * s[n * C + c];
}

template <typename T>
void channel_scale_grad(const T* x, const T* dy, T* ds, std::size_t N, std::size_t C,
                        std::size_t L) {
  // s[n][c] multiplied every value of plane (n, c), so its gradient sums over the plane
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c) {
      T sum = 0;
      for (std::size_t l = 0; l < L; ++l) sum += dy[(n * C + c) * L + l] * x[(n * C + c) * L + l];
      ds[n * C + c] = sum;
    }
}
//! [scale-naive]

// x, y, dy: (N, C, L); m, dm: (N, L)
template <typename T>
void spatial_scale_forward(const T* x, const T* m, T* y, std::size_t N, std::size_t C,
                           std::size_t L) {
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t l = 0; l < L; ++l)
        y[(n * C + c) * L + l] = x[(n * C + c) * L + l] * m[n * L + l];
}

template <typename T>
void spatial_scale_grad(const T* x, const T* dy, T* dm, std::size_t N, std::size_t C,
                        std::size_t L) {
  // m[n][l] multiplied the C values at position l, so its gradient sums over the channels
  for (std::size_t n = 0; n < N; ++n) {
    T* dmn = dm + n * L;
    for (std::size_t l = 0; l < L; ++l) dmn[l] = 0;
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t l = 0; l < L; ++l)
        dmn[l] += dy[(n * C + c) * L + l] * x[(n * C + c) * L + l];
  }
}

//! [pools-naive]
template <typename T>
void global_avg_pool(const T* x, T* avg, std::size_t N, std::size_t C, std::size_t L) {
  for (std::size_t p = 0; p < N * C; ++p) {
    T sum = 0;
    for (std::size_t l = 0; l < L; ++l) sum += x[p * L + l];
    avg[p] = sum / T(L);
  }
}

template <typename T>
void global_max_pool(const T* x, T* max, std::size_t* argmax, std::size_t N, std::size_t C,
                     std::size_t L) {
  for (std::size_t p = 0; p < N * C; ++p) {
    std::size_t best = 0;
    for (std::size_t l = 1; l < L; ++l)
      if (x[p * L + l] > x[p * L + best]) best = l;
    max[p] = x[p * L + best];
    argmax[p] = best;
  }
}

template <typename T>
void global_avg_pool_backward_add(const T* davg, T* dx, std::size_t N, std::size_t C,
                                  std::size_t L) {
  for (std::size_t p = 0; p < N * C; ++p)
    for (std::size_t l = 0; l < L; ++l) dx[p * L + l] += davg[p] / T(L);
}

template <typename T>
void global_max_pool_backward_add(const T* dmax, const std::size_t* argmax, T* dx, std::size_t N,
                                  std::size_t C, std::size_t L) {
  for (std::size_t p = 0; p < N * C; ++p) dx[p * L + argmax[p]] += dmax[p];
}

// out: (N, 2, L), channel 0 the max over c, channel 1 the mean; argmax: (N, L)
template <typename T>
void channel_max_mean_pool(const T* x, T* out, std::size_t* argmax, std::size_t N, std::size_t C,
                           std::size_t L) {
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t l = 0; l < L; ++l) {  // pass 1: the maximum, down the channels
      std::size_t best = 0;
      for (std::size_t c = 1; c < C; ++c)
        if (x[(n * C + c) * L + l] > x[(n * C + best) * L + l]) best = c;
      out[(n * 2 + 0) * L + l] = x[(n * C + best) * L + l];
      argmax[n * L + l] = best;
    }
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t l = 0; l < L; ++l) {  // pass 2: the mean
      T sum = 0;
      for (std::size_t c = 0; c < C; ++c) sum += x[(n * C + c) * L + l];
      out[(n * 2 + 1) * L + l] = sum / T(C);
    }
}

template <typename T>
void channel_max_mean_pool_backward_add(const T* dout, const std::size_t* argmax, T* dx,
                                        std::size_t N, std::size_t C, std::size_t L) {
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t l = 0; l < L; ++l) {
      dx[(n * C + argmax[n * L + l]) * L + l] += dout[(n * 2 + 0) * L + l];
      for (std::size_t c = 0; c < C; ++c)
        dx[(n * C + c) * L + l] += dout[(n * 2 + 1) * L + l] / T(C);
    }
}
//! [pools-naive]

//! [fused]
template <typename T>
void global_avg_max_pool_fused(const T* x, T* avg, T* max, std::size_t* argmax, std::size_t N,
                               std::size_t C, std::size_t L) {
  for (std::size_t p = 0; p < N * C; ++p) {
    const T* xp = x + p * L;
    T sum = 0, best = xp[0];
    std::size_t at = 0;
    for (std::size_t l = 0; l < L; ++l) {  // one read of the plane feeds both statistics
      sum += xp[l];
      if (xp[l] > best) best = xp[l], at = l;
    }
    avg[p] = sum / T(L);
    max[p] = best;
    argmax[p] = at;
  }
}

template <typename T>
void channel_max_mean_pool_fused(const T* x, T* out, std::size_t* argmax, std::size_t N,
                                 std::size_t C, std::size_t L) {
  for (std::size_t n = 0; n < N; ++n) {
    T* mx = out + (n * 2 + 0) * L;
    T* mean = out + (n * 2 + 1) * L;
    std::size_t* am = argmax + n * L;
    const T* xn = x + n * C * L;
    for (std::size_t l = 0; l < L; ++l) mx[l] = xn[l], mean[l] = xn[l], am[l] = 0;
    for (std::size_t c = 1; c < C; ++c) {  // plane by plane: contiguous rows, not strided columns
      const T* xc = xn + c * L;
      for (std::size_t l = 0; l < L; ++l) {
        mean[l] += xc[l];
        if (xc[l] > mx[l]) mx[l] = xc[l], am[l] = c;
      }
    }
    for (std::size_t l = 0; l < L; ++l) mean[l] /= T(C);
  }
}

template <typename T>
void channel_gate_backward_fused(const T* dy, const T* s, const T* davg, const T* dmax,
                                 const std::size_t* argmax, T* dx, std::size_t N, std::size_t C,
                                 std::size_t L) {
  for (std::size_t p = 0; p < N * C; ++p) {
    // x reached y through the product (dy * s) and through the pools that made s (davg / L
    // everywhere, dmax at the winner): one write of dx instead of a product pass and two adds
    const T scale = s[p], spread = davg[p] / T(L);
    for (std::size_t l = 0; l < L; ++l) dx[p * L + l] = dy[p * L + l] * scale + spread;
    if (dmax != nullptr) dx[p * L + argmax[p]] += dmax[p];
  }
}

template <typename T>
void spatial_gate_backward_fused(const T* dy, const T* m, const T* dpool, const std::size_t* argmax,
                                 T* dx, std::size_t N, std::size_t C, std::size_t L) {
  for (std::size_t n = 0; n < N; ++n) {
    const T* mn = m + n * L;
    const T* dmax = dpool + (n * 2 + 0) * L;
    const T* dmean = dpool + (n * 2 + 1) * L;
    for (std::size_t c = 0; c < C; ++c) {
      const T* dyc = dy + (n * C + c) * L;
      T* dxc = dx + (n * C + c) * L;
      for (std::size_t l = 0; l < L; ++l) dxc[l] = dyc[l] * mn[l] + dmean[l] / T(C);
    }
    for (std::size_t l = 0; l < L; ++l) dx[(n * C + argmax[n * L + l]) * L + l] += dmax[l];
  }
}
//! [fused]

#define CONVBOOK_ATTENTION_OPS(T)                                                                \
  template void sigmoid_forward<T>(const T*, T*, std::size_t);                                   \
  template void sigmoid_backward<T>(const T*, const T*, T*, std::size_t);                        \
  template void channel_scale_forward<T>(const T*, const T*, T*, std::size_t, std::size_t,       \
                                         std::size_t);                                           \
  template void channel_scale_grad<T>(const T*, const T*, T*, std::size_t, std::size_t,          \
                                      std::size_t);                                              \
  template void spatial_scale_forward<T>(const T*, const T*, T*, std::size_t, std::size_t,       \
                                         std::size_t);                                           \
  template void spatial_scale_grad<T>(const T*, const T*, T*, std::size_t, std::size_t,          \
                                      std::size_t);                                              \
  template void global_avg_pool<T>(const T*, T*, std::size_t, std::size_t, std::size_t);         \
  template void global_max_pool<T>(const T*, T*, std::size_t*, std::size_t, std::size_t,         \
                                   std::size_t);                                                 \
  template void global_avg_pool_backward_add<T>(const T*, T*, std::size_t, std::size_t,          \
                                                std::size_t);                                    \
  template void global_max_pool_backward_add<T>(const T*, const std::size_t*, T*, std::size_t,   \
                                                std::size_t, std::size_t);                       \
  template void channel_max_mean_pool<T>(const T*, T*, std::size_t*, std::size_t, std::size_t,   \
                                         std::size_t);                                           \
  template void channel_max_mean_pool_backward_add<T>(const T*, const std::size_t*, T*,          \
                                                      std::size_t, std::size_t, std::size_t);    \
  template void global_avg_max_pool_fused<T>(const T*, T*, T*, std::size_t*, std::size_t,        \
                                             std::size_t, std::size_t);                          \
  template void channel_max_mean_pool_fused<T>(const T*, T*, std::size_t*, std::size_t,          \
                                               std::size_t, std::size_t);                        \
  template void channel_gate_backward_fused<T>(const T*, const T*, const T*, const T*,           \
                                               const std::size_t*, T*, std::size_t, std::size_t, \
                                               std::size_t);                                     \
  template void spatial_gate_backward_fused<T>(const T*, const T*, const T*, const std::size_t*, \
                                               T*, std::size_t, std::size_t, std::size_t);
CONVBOOK_ATTENTION_OPS(float)
CONVBOOK_ATTENTION_OPS(double)
#undef CONVBOOK_ATTENTION_OPS

}  // namespace convbook
