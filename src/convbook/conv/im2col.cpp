/// @file im2col.cpp
/// @brief Convolution as GEMM: same loops as conv_naive.cpp, but the C·R·S reduction becomes
/// a GEMM over an im2col buffer.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups, Cg = C/G and Kg = K/G channels per group.
#include "convbook/conv/im2col.hpp"

#include <omp.h>

#include <algorithm>

#include "convbook/gemm/gemm.hpp"
#include "convbook/conv/workspace.hpp"

namespace convbook {

namespace {
/// The outputs q in [lo, hi) whose tap at offset `tap` (= s * dilation) falls inside the
/// image: 0 <= q*stride - pad + tap < size. The loops below copy that range without a test per
/// element and write zeros (the padding) around it.
void inside_range(int size, int stride, int pad, int tap, int outputs, int& lo, int& hi) {
  const int first = pad - tap;            // q*stride >= first
  const int last = size - 1 + pad - tap;  // q*stride <= last
  lo = first <= 0 ? 0 : std::min(outputs, (first + stride - 1) / stride);
  hi = last < 0 ? 0 : std::min(outputs, last / stride + 1);
  hi = std::max(hi, lo);
}
}  // namespace

//! [im2col]
// x: (Cg, H, W)  col: (Cg*R*S, P*Q); row (c, r, s) of col is channel c seen through tap (r, s):
//   col[(c*R + r)*S + s][p*Q + q] = x[c][h][v]  with  h = p*stride_h - pad_h + r*dil_h
//                                                and  v = q*stride_w - pad_w + s*dil_w,
// or 0 where (h, v) is in the padding.
template <typename T>
void im2col(const ConvGeometry& g, const T* x, T* col) {
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G;
  for (int c = 0; c < Cg; ++c) {
    for (int r = 0; r < g.R; ++r) {
      for (int s = 0; s < g.S; ++s) {
        T* row = col + std::size_t((c * g.R + r) * g.S + s) * P * Q;
        int q_lo, q_hi;
        inside_range(g.W, g.stride_w, g.pad_w, s * g.dil_w, Q, q_lo, q_hi);
        const int v0 = s * g.dil_w - g.pad_w;  // column of tap s for q = 0
        for (int p = 0; p < P; ++p) {
          T* out = row + p * Q;
          const int h = p * g.stride_h - g.pad_h + r * g.dil_h;
          if (h < 0 || h >= g.H) {  // the whole row of taps is in the padding
            std::fill(out, out + Q, T(0));
            continue;
          }
          const T* in = x + (std::size_t(c) * g.H + h) * g.W + v0;  // image row h, from tap s
          std::fill(out, out + q_lo, T(0));
          if (g.stride_w == 1) {  // contiguous: one block copy the compiler vectorizes
            std::copy(in + q_lo, in + q_hi, out + q_lo);
          } else {
            for (int q = q_lo; q < q_hi; ++q) out[q] = in[q * g.stride_w];
          }
          std::fill(out + q_hi, out + Q, T(0));
        }
      }
    }
  }
}
//! [im2col]

//! [col2im]
// col: (Cg*R*S, P*Q)  x: (Cg, H, W); the same walk as im2col with the copy turned around into
// a sum, because a pixel appears in every receptive field that covers it.
template <typename T>
void col2im(const ConvGeometry& g, const T* col, T* x) {
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G;
  std::fill(x, x + std::size_t(Cg) * g.H * g.W, T(0));
  for (int c = 0; c < Cg; ++c) {
    for (int r = 0; r < g.R; ++r) {
      for (int s = 0; s < g.S; ++s) {
        const T* row = col + std::size_t((c * g.R + r) * g.S + s) * P * Q;
        int q_lo, q_hi;
        inside_range(g.W, g.stride_w, g.pad_w, s * g.dil_w, Q, q_lo, q_hi);
        const int v0 = s * g.dil_w - g.pad_w;
        for (int p = 0; p < P; ++p) {
          const int h = p * g.stride_h - g.pad_h + r * g.dil_h;
          if (h < 0 || h >= g.H) continue;  // taps in the padding have no pixel to go back to
          T* out = x + (std::size_t(c) * g.H + h) * g.W + v0;
          const T* in = row + p * Q;
          if (g.stride_w == 1) {  // contiguous on both sides: the compiler vectorizes the sum
            for (int q = q_lo; q < q_hi; ++q) out[q] += in[q];
          } else {
            for (int q = q_lo; q < q_hi; ++q) out[q * g.stride_w] += in[q];
          }
        }
      }
    }
  }
}
//! [col2im]

namespace {

/// Images run in parallel, one per thread at a time; a batch of one leaves the threads to the
/// GEMM instead.
int conv_threads(const ConvGeometry& g) {
  return std::max(1, std::min(omp_get_max_threads(), g.N));
}

/// Scalars of one thread's scratch: col and dcol (Cg*R*S x P*Q each), and private dw (K x
/// Cg*R*S) and db (K) partial sums, added up in thread order at the end (deterministic).
std::size_t per_thread_size(const ConvGeometry& g) {
  const std::size_t CRS = std::size_t(g.C / g.G) * g.R * g.S;
  return 2 * CRS * std::size_t(g.P()) * g.Q() + std::size_t(g.K) * CRS + std::size_t(g.K);
}

}  // namespace

std::size_t conv2d_im2col_workspace_size(const ConvGeometry& g) {
  return std::size_t(conv_threads(g)) * per_thread_size(g);
}

//! [conv-im2col-forward]
// x: (N, C, H, W)  w: (K, C/G, R, S)  b: (K)  y: (N, K, P, Q)
// Per image n and group: y[n, group] (Kg x PQ) = w[group] (Kg x CgRS) * col (CgRS x PQ) + b,
// with col = im2col(x[n, group]) (CgRS x PQ) in this thread's part of the workspace. Images are
// handed out one at a time (dynamic), so a thread the OS delays does not hold the others up.
template <typename T>
void conv2d_forward_im2col(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                           std::vector<T>& workspace) {
  const int PQ = g.P() * g.Q(), Cg = g.C / g.G, Kg = g.K / g.G, CRS = Cg * g.R * g.S;
  T* scratch = reserve_workspace(workspace, conv2d_im2col_workspace_size(g));
#pragma omp parallel for schedule(dynamic) num_threads(conv_threads(g))
  for (int n = 0; n < g.N; ++n) {
    T* col = scratch + omp_get_thread_num() * per_thread_size(g);
    for (int grp = 0; grp < g.G; ++grp) {
      const T* x_g = x + (std::size_t(n) * g.C + grp * Cg) * g.H * g.W;
      const T* w_g = w + std::size_t(grp) * Kg * CRS;
      T* y_g = y + (std::size_t(n) * g.K + grp * Kg) * PQ;
      // The bias is the GEMM's starting value: y = b, then y += w * col (beta = 1).
      if (bias) {
        for (int k = 0; k < Kg; ++k) {
          std::fill(y_g + std::size_t(k) * PQ, y_g + std::size_t(k + 1) * PQ, bias[grp * Kg + k]);
        }
      }
      im2col(g, x_g, col);
      gemm(false, false, Kg, PQ, CRS, T(1), w_g, CRS, col, PQ, T(bias ? 1 : 0), y_g, PQ);
    }
  }
}
//! [conv-im2col-forward]

//! [conv-im2col-backward]
// Per image n and group, with col = im2col(x[n, group]) recomputed rather than kept:
//   dw[group] += dy[n, group] (Kg x PQ) * col^T (PQ x CgRS)      (weight)
//   dcol       = w[group]^T (CgRS x Kg) * dy[n, group] (Kg x PQ) (data, then col2im)
//   db        += dy summed over n, p, q                           (bias)
// Images run in parallel; each thread sums its dw and db apart, then the partial sums are
// added in thread order.
template <typename T>
void conv2d_backward_im2col(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                            T* dw, T* db, std::vector<T>& workspace) {
  const int PQ = g.P() * g.Q(), Cg = g.C / g.G, Kg = g.K / g.G, CRS = Cg * g.R * g.S;
  const int threads = conv_threads(g);
  T* scratch = reserve_workspace(workspace, conv2d_im2col_workspace_size(g));
  const std::size_t col_size = std::size_t(CRS) * PQ, dw_size = std::size_t(g.K) * CRS;
#pragma omp parallel num_threads(threads)
  {
    T* col = scratch + omp_get_thread_num() * per_thread_size(g);
    T* dcol = col + col_size;
    T* dw_t = dcol + col_size;  // this thread's share of dw, then of db
    T* db_t = dw_t + dw_size;
    std::fill(dw_t, db_t + g.K, T(0));
#pragma omp for schedule(static)
    for (int n = 0; n < g.N; ++n) {
      for (int grp = 0; grp < g.G; ++grp) {
        const std::size_t x_off = (std::size_t(n) * g.C + grp * Cg) * g.H * g.W;
        const T* w_g = w + std::size_t(grp) * Kg * CRS;
        const T* dy_g = dy + (std::size_t(n) * g.K + grp * Kg) * PQ;
        if (dw) {
          im2col(g, x + x_off, col);
          gemm(false, true, Kg, CRS, PQ, T(1), dy_g, PQ, col, PQ, T(1),
               dw_t + std::size_t(grp) * Kg * CRS, CRS);
        }
        if (dx) {
          gemm(true, false, CRS, PQ, Kg, T(1), w_g, CRS, dy_g, PQ, T(0), dcol, PQ);
          col2im(g, dcol, dx + x_off);
        }
        for (int k = 0; k < Kg; ++k) {
          for (int i = 0; i < PQ; ++i) db_t[grp * Kg + k] += dy_g[std::size_t(k) * PQ + i];
        }
      }
    }
  }
  for (int t = 0; t < threads; ++t) {  // in thread order, so results do not vary run to run
    const T* dw_t = scratch + t * per_thread_size(g) + 2 * col_size;
    if (dw)
      for (std::size_t i = 0; i < dw_size; ++i) dw[i] += dw_t[i];
    if (db)
      for (int k = 0; k < g.K; ++k) db[k] += dw_t[dw_size + k];
  }
}
//! [conv-im2col-backward]

template void im2col<float>(const ConvGeometry&, const float*, float*);
template void im2col<double>(const ConvGeometry&, const double*, double*);
template void col2im<float>(const ConvGeometry&, const float*, float*);
template void col2im<double>(const ConvGeometry&, const double*, double*);
template void conv2d_forward_im2col<float>(const ConvGeometry&, const float*, const float*,
                                           const float*, float*, std::vector<float>&);
template void conv2d_forward_im2col<double>(const ConvGeometry&, const double*, const double*,
                                            const double*, double*, std::vector<double>&);
template void conv2d_backward_im2col<float>(const ConvGeometry&, const float*, const float*,
                                            const float*, float*, float*, float*,
                                            std::vector<float>&);
template void conv2d_backward_im2col<double>(const ConvGeometry&, const double*, const double*,
                                             const double*, double*, double*, double*,
                                             std::vector<double>&);

}  // namespace convbook
