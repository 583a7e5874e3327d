/// @file pointwise.cpp
/// @brief 1x1 convolution: same loops as im2col.cpp, but the im2col copy disappears, because
/// for a 1x1 kernel the input already is the column matrix.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, G groups,
/// Cg = C/G and Kg = K/G channels per group.
#include "convbook/conv/pointwise.hpp"

#include <omp.h>

#include <algorithm>
#include <string>

#include "convbook/error.hpp"
#include "convbook/gemm/gemm.hpp"
#include "convbook/conv/workspace.hpp"

namespace convbook {

bool pointwise_supports(const ConvGeometry& g) {
  return g.R == 1 && g.S == 1 && g.pad_h == 0 && g.pad_w == 0;
}

namespace {

bool strided(const ConvGeometry& g) {
  return g.stride_h != 1 || g.stride_w != 1;
}

/// Images run in parallel, one per thread at a time; a batch of one leaves the threads to the
/// GEMM instead.
int conv_threads(const ConvGeometry& g) {
  return std::max(1, std::min(omp_get_max_threads(), g.N));
}

/// Scalars of one thread's scratch: the subsampled input and its gradient (Cg x PQ each, only
/// with a stride) and private dw (K x Cg) and db (K) partial sums.
std::size_t per_thread_size(const ConvGeometry& g) {
  const std::size_t Cg = g.C / g.G, PQ = std::size_t(g.P()) * g.Q();
  return (strided(g) ? 2 * Cg * PQ : 0) + std::size_t(g.K) * Cg + std::size_t(g.K);
}

/// The kernels are only correct for 1x1 kernels without padding; anything else is a bug in
/// the caller's choice of algorithm, reported with the values found.
void require_pointwise(const ConvGeometry& g, const char* who) {
  if (!pointwise_supports(g)) {
    throw Error(std::string(who) + ": kernel " + std::to_string(g.R) + "x" + std::to_string(g.S) +
                " with padding (" + std::to_string(g.pad_h) + ", " + std::to_string(g.pad_w) +
                "); expected a 1x1 kernel with padding (0, 0)");
  }
}

//! [pointwise-subsample]
// x: (Cg, H, W) -> xs: (Cg, P, Q), xs[c][p][q] = x[c][p*stride_h][q*stride_w]: the pixels a
// strided 1x1 kernel visits, packed into the column matrix a stride-1 layer gets for free.
template <typename T>
void subsample(const ConvGeometry& g, const T* x, T* xs) {
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G;
  for (int c = 0; c < Cg; ++c) {
    for (int p = 0; p < P; ++p) {
      const T* in = x + (std::size_t(c) * g.H + std::size_t(p) * g.stride_h) * g.W;
      T* out = xs + (std::size_t(c) * P + p) * Q;
      for (int q = 0; q < Q; ++q) out[q] = in[q * g.stride_w];
    }
  }
}
//! [pointwise-subsample]

// The adjoint of subsample: dx gets dxs on the visited pixels and 0 on the skipped ones.
template <typename T>
void scatter(const ConvGeometry& g, const T* dxs, T* dx) {
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G;
  std::fill(dx, dx + std::size_t(Cg) * g.H * g.W, T(0));
  for (int c = 0; c < Cg; ++c) {
    for (int p = 0; p < P; ++p) {
      const T* in = dxs + (std::size_t(c) * P + p) * Q;
      T* out = dx + (std::size_t(c) * g.H + std::size_t(p) * g.stride_h) * g.W;
      for (int q = 0; q < Q; ++q) out[q * g.stride_w] = in[q];
    }
  }
}

}  // namespace

std::size_t conv2d_pointwise_workspace_size(const ConvGeometry& g) {
  return std::size_t(conv_threads(g)) * per_thread_size(g);
}

//! [conv-pointwise-forward]
// x: (N, C, H, W)  w: (K, C/G, 1, 1)  b: (K)  y: (N, K, P, Q)
// Per image n and group: y[n, group] (Kg x PQ) = w[group] (Kg x Cg) * x[n, group] (Cg x PQ)
// + b. With stride 1, x[n, group] is used where it lies; with a stride, its subsampled copy.
template <typename T>
void conv2d_forward_pointwise(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                              std::vector<T>& workspace) {
  require_pointwise(g, "conv2d_forward_pointwise");
  const int PQ = g.P() * g.Q(), Cg = g.C / g.G, Kg = g.K / g.G;
  const std::size_t HW = std::size_t(g.H) * g.W;
  T* scratch = reserve_workspace(workspace, conv2d_pointwise_workspace_size(g));
#pragma omp parallel for schedule(dynamic) num_threads(conv_threads(g))
  for (int n = 0; n < g.N; ++n) {
    T* xs = scratch + omp_get_thread_num() * per_thread_size(g);
    for (int grp = 0; grp < g.G; ++grp) {
      const T* x_g = x + (std::size_t(n) * g.C + std::size_t(grp) * Cg) * HW;
      const T* w_g = w + std::size_t(grp) * Kg * Cg;
      T* y_g = y + (std::size_t(n) * g.K + std::size_t(grp) * Kg) * PQ;
      if (bias) {  // the GEMM's starting value: y = b, then y += w * x (beta = 1)
        for (int k = 0; k < Kg; ++k) {
          std::fill(y_g + std::size_t(k) * PQ, y_g + std::size_t(k + 1) * PQ, bias[grp * Kg + k]);
        }
      }
      const T* cols = x_g;  // the column matrix (Cg x PQ)
      if (strided(g)) {
        subsample(g, x_g, xs);
        cols = xs;
      }
      gemm(false, false, Kg, PQ, Cg, T(1), w_g, Cg, cols, PQ, T(bias ? 1 : 0), y_g, PQ);
    }
  }
}
//! [conv-pointwise-forward]

//! [conv-pointwise-backward]
// Per image n and group, with cols = x[n, group] (or its subsampled copy):
//   dw[group] += dy[n, group] (Kg x PQ) * cols^T (PQ x Cg)       (weight)
//   dx[n, group] = w[group]^T (Cg x Kg) * dy[n, group] (Kg x PQ)  (data; scattered if strided)
//   db        += dy summed over n, p, q                           (bias)
// Each thread sums its dw and db apart; the partial sums are added in thread order.
template <typename T>
void conv2d_backward_pointwise(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                               T* dw, T* db, std::vector<T>& workspace) {
  require_pointwise(g, "conv2d_backward_pointwise");
  const int PQ = g.P() * g.Q(), Cg = g.C / g.G, Kg = g.K / g.G;
  const std::size_t HW = std::size_t(g.H) * g.W;
  const int threads = conv_threads(g);
  T* scratch = reserve_workspace(workspace, conv2d_pointwise_workspace_size(g));
  const std::size_t cols_size = strided(g) ? std::size_t(Cg) * PQ : 0;
  const std::size_t dw_size = std::size_t(g.K) * Cg;
#pragma omp parallel num_threads(threads)
  {
    T* xs = scratch + omp_get_thread_num() * per_thread_size(g);
    T* dxs = xs + cols_size;
    T* dw_t = dxs + cols_size;  // this thread's share of dw, then of db
    T* db_t = dw_t + dw_size;
    std::fill(dw_t, db_t + g.K, T(0));
#pragma omp for schedule(static)
    for (int n = 0; n < g.N; ++n) {
      for (int grp = 0; grp < g.G; ++grp) {
        const std::size_t x_off = (std::size_t(n) * g.C + std::size_t(grp) * Cg) * HW;
        const T* w_g = w + std::size_t(grp) * Kg * Cg;
        const T* dy_g = dy + (std::size_t(n) * g.K + std::size_t(grp) * Kg) * PQ;
        if (dw) {
          const T* cols = x + x_off;
          if (strided(g)) {
            subsample(g, x + x_off, xs);
            cols = xs;
          }
          gemm(false, true, Kg, Cg, PQ, T(1), dy_g, PQ, cols, PQ, T(1),
               dw_t + std::size_t(grp) * Kg * Cg, Cg);
        }
        if (dx) {
          T* dcols = strided(g) ? dxs : dx + x_off;
          gemm(true, false, Cg, PQ, Kg, T(1), w_g, Cg, dy_g, PQ, T(0), dcols, PQ);
          if (strided(g)) scatter(g, dxs, dx + x_off);
        }
        for (int k = 0; k < Kg; ++k) {
          for (int i = 0; i < PQ; ++i) db_t[grp * Kg + k] += dy_g[std::size_t(k) * PQ + i];
        }
      }
    }
  }
  for (int t = 0; t < threads; ++t) {  // in thread order, so results do not vary run to run
    const T* dw_t = scratch + t * per_thread_size(g) + 2 * cols_size;
    if (dw)
      for (std::size_t i = 0; i < dw_size; ++i) dw[i] += dw_t[i];
    if (db)
      for (int k = 0; k < g.K; ++k) db[k] += dw_t[dw_size + k];
  }
}
//! [conv-pointwise-backward]

template void conv2d_forward_pointwise<float>(const ConvGeometry&, const float*, const float*,
                                              const float*, float*, std::vector<float>&);
template void conv2d_forward_pointwise<double>(const ConvGeometry&, const double*, const double*,
                                               const double*, double*, std::vector<double>&);
template void conv2d_backward_pointwise<float>(const ConvGeometry&, const float*, const float*,
                                               const float*, float*, float*, float*,
                                               std::vector<float>&);
template void conv2d_backward_pointwise<double>(const ConvGeometry&, const double*, const double*,
                                                const double*, double*, double*, double*,
                                                std::vector<double>&);

}  // namespace convbook
