/// @file deform_conv.cpp
/// @brief Deformable convolution kernels: bilinear sampling and its two derivatives, the naive
/// per-pixel forward and backward, and the deformable im2col + GEMM.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups, OG offset groups, Cg = C/G, Kg = K/G, Cog = C/OG.
#include "chapters/08_deformable/deform_conv.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "convbook/gemm/gemm.hpp"

namespace convbook {

namespace {

// x(i, j) of an (H, W) plane, 0 outside it: the zero padding, extended to every integer pixel.
template <typename T>
T pixel_or_zero(const T* plane, int H, int W, int i, int j) {
  return i >= 0 && i < H && j >= 0 && j < W ? plane[i * W + j] : T(0);
}

// True when some pixel of the plane lies within one pixel of (h, v) in both directions.
template <typename T>
bool within_reach(int H, int W, T h, T v) {
  return h > -1 && h < H && v > -1 && v < W;
}

}  // namespace

//! [bilinear-sample]
template <typename T>
T bilinear_sample(const T* plane, int H, int W, T h, T v) {
  if (!within_reach(H, W, h, v)) return 0;  // h <= -1, h >= H, v <= -1 or v >= W
  const int h0 = int(std::floor(h)), v0 = int(std::floor(v));
  const T lh = h - h0, lv = v - v0;  // fractional parts: weights of row h0+1, column v0+1
  auto at = [&](int i, int j) { return pixel_or_zero(plane, H, W, i, j); };
  return (1 - lh) * ((1 - lv) * at(h0, v0) + lv * at(h0, v0 + 1)) +
         lh * ((1 - lv) * at(h0 + 1, v0) + lv * at(h0 + 1, v0 + 1));
}
//! [bilinear-sample]

//! [bilinear-position-grad]
template <typename T>
T bilinear_sample_position_grad(const T* plane, int H, int W, T h, T v, T* dh, T* dv) {
  // No range test for the derivatives: at h = -1 exactly, row 0 is floor(h) + 1 and the
  // derivative from the right is x(0, v), as torchvision computes it; beyond, all four pixels
  // are zeros.
  const int h0 = int(std::floor(h)), v0 = int(std::floor(v));
  const T lh = h - h0, lv = v - v0;
  auto at = [&](int i, int j) { return pixel_or_zero(plane, H, W, i, j); };
  const T x00 = at(h0, v0), x01 = at(h0, v0 + 1), x10 = at(h0 + 1, v0), x11 = at(h0 + 1, v0 + 1);
  *dh = (1 - lv) * (x10 - x00) + lv * (x11 - x01);  // d/dh of the weights (1-lh), lh
  *dv = (1 - lh) * (x01 - x00) + lh * (x11 - x10);  // d/dv of the weights (1-lv), lv
  if (!within_reach(H, W, h, v)) return 0;          // the value, as bilinear_sample
  return (1 - lh) * ((1 - lv) * x00 + lv * x01) + lh * ((1 - lv) * x10 + lv * x11);
}
//! [bilinear-position-grad]

//! [bilinear-scatter]
template <typename T>
void bilinear_scatter(T* plane, int H, int W, T h, T v, T g) {
  if (!within_reach(H, W, h, v)) return;  // the sample read nothing
  const int h0 = int(std::floor(h)), v0 = int(std::floor(v));
  const T lh = h - h0, lv = v - v0;
  auto add = [&](int i, int j, T weight) {
    if (i >= 0 && i < H && j >= 0 && j < W) plane[i * W + j] += weight * g;
  };
  add(h0, v0, (1 - lh) * (1 - lv));
  add(h0, v0 + 1, (1 - lh) * lv);
  add(h0 + 1, v0, lh * (1 - lv));
  add(h0 + 1, v0 + 1, lh * lv);
}
//! [bilinear-scatter]

namespace {

// Where tap (r, s) of offset group o samples for output (p, q) of one image, with its mask
// value and the indices of its dy offset (the dx offset is PQ further) and of its mask entry.
template <typename T>
struct SamplePoint {
  T h, v, m;
  int offset_index, mask_index;
};

//! [sample-point]
template <typename T>
SamplePoint<T> sample_point(const DeformGeometry& g, const T* offset, const T* mask, int o, int r,
                            int s, int p, int q) {
  const int PQ = g.P() * g.Q(), k = (o * g.R + r) * g.S + s, pq = p * g.Q() + q;
  const int oi = 2 * k * PQ + pq, mi = k * PQ + pq;
  const T h = T(p * g.stride_h - g.pad_h + r * g.dil_h) + offset[oi];
  const T v = T(q * g.stride_w - g.pad_w + s * g.dil_w) + offset[oi + PQ];
  return {h, v, mask ? mask[mi] : T(1), oi, mi};
}
//! [sample-point]

}  // namespace

//! [deform-naive-forward]
template <typename T>
void deform_conv2d_forward_naive(const DeformGeometry& g, const T* x, const T* offset,
                                 const T* mask, const T* w, const T* bias, T* y) {
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G, Kg = g.K / g.G, Cog = g.C / g.OG;
  const int off_n = 2 * g.OG * g.R * g.S * P * Q, mask_n = g.OG * g.R * g.S * P * Q;
  for (int n = 0; n < g.N; ++n) {
    const T* off = offset + n * off_n;
    const T* msk = mask ? mask + n * mask_n : nullptr;
    for (int k = 0; k < g.K; ++k) {
      const int group = k / Kg;
      for (int p = 0; p < P; ++p) {
        for (int q = 0; q < Q; ++q) {
          T acc = bias ? bias[k] : T(0);
          for (int cc = 0; cc < Cg; ++cc) {
            const int c = group * Cg + cc;
            const T* plane = x + (std::size_t(n) * g.C + c) * g.H * g.W;
            for (int r = 0; r < g.R; ++r) {
              for (int s = 0; s < g.S; ++s) {
                const SamplePoint<T> t = sample_point(g, off, msk, c / Cog, r, s, p, q);
                acc += w[((k * Cg + cc) * g.R + r) * g.S + s] * t.m *
                       bilinear_sample(plane, g.H, g.W, t.h, t.v);
              }
            }
          }
          y[((std::size_t(n) * g.K + k) * P + p) * Q + q] = acc;
        }
      }
    }
  }
}
//! [deform-naive-forward]

//! [deform-naive-backward]
template <typename T>
void deform_conv2d_backward_naive(const DeformGeometry& g, const T* x, const T* offset,
                                  const T* mask, const T* w, const T* dy, T* dx, T* doffset,
                                  T* dmask, T* dw, T* db) {
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G, Kg = g.K / g.G, Cog = g.C / g.OG;
  const int off_n = 2 * g.OG * g.R * g.S * P * Q, mask_n = g.OG * g.R * g.S * P * Q;
  if (dx) std::fill(dx, dx + std::size_t(g.N) * g.C * g.H * g.W, T(0));
  if (doffset) std::fill(doffset, doffset + std::size_t(g.N) * off_n, T(0));
  if (dmask) std::fill(dmask, dmask + std::size_t(g.N) * mask_n, T(0));
  for (int n = 0; n < g.N; ++n) {
    const T* off = offset + n * off_n;
    const T* msk = mask ? mask + n * mask_n : nullptr;
    for (int k = 0; k < g.K; ++k) {
      const int group = k / Kg;
      for (int p = 0; p < P; ++p) {
        for (int q = 0; q < Q; ++q) {
          const T gy = dy[((std::size_t(n) * g.K + k) * P + p) * Q + q];
          if (db) db[k] += gy;
          for (int cc = 0; cc < Cg; ++cc) {
            const int c = group * Cg + cc;
            const std::size_t plane = (std::size_t(n) * g.C + c) * g.H * g.W;
            for (int r = 0; r < g.R; ++r) {
              for (int s = 0; s < g.S; ++s) {
                const SamplePoint<T> t = sample_point(g, off, msk, c / Cog, r, s, p, q);
                const int wi = ((k * Cg + cc) * g.R + r) * g.S + s;
                T dh, dv;  // val = x(h, v) and its derivatives with respect to h and v
                const T val =
                    bilinear_sample_position_grad(x + plane, g.H, g.W, t.h, t.v, &dh, &dv);
                // y += w * m * val(h, v): one product, four factors, four gradients
                if (dw) dw[wi] += gy * t.m * val;
                if (dmask && mask) dmask[n * mask_n + t.mask_index] += gy * w[wi] * val;
                if (dx) bilinear_scatter(dx + plane, g.H, g.W, t.h, t.v, gy * w[wi] * t.m);
                if (doffset) {
                  doffset[n * off_n + t.offset_index] += gy * w[wi] * t.m * dh;
                  doffset[n * off_n + t.offset_index + P * Q] += gy * w[wi] * t.m * dv;
                }
              }
            }
          }
        }
      }
    }
  }
}
//! [deform-naive-backward]

//! [deformable-im2col]
template <typename T>
void deformable_im2col(const DeformGeometry& g, const T* x, const T* offset, const T* mask,
                       T* col) {
  const int P = g.P(), Q = g.Q(), Cog = g.C / g.OG;
#pragma omp parallel for
  for (int c = 0; c < g.C; ++c) {
    const T* plane = x + std::size_t(c) * g.H * g.W;
    for (int r = 0; r < g.R; ++r) {
      for (int s = 0; s < g.S; ++s) {
        T* row = col + (std::size_t(c * g.R + r) * g.S + s) * P * Q;
        for (int p = 0; p < P; ++p) {
          for (int q = 0; q < Q; ++q) {
            const SamplePoint<T> t = sample_point(g, offset, mask, c / Cog, r, s, p, q);
            row[p * Q + q] = t.m * bilinear_sample(plane, g.H, g.W, t.h, t.v);
          }
        }
      }
    }
  }
}
//! [deformable-im2col]

template <typename T>
void deformable_col2im(const DeformGeometry& g, const T* offset, const T* mask, const T* dcol,
                       T* dx) {
  const int P = g.P(), Q = g.Q(), Cog = g.C / g.OG;
#pragma omp parallel for
  for (int c = 0; c < g.C; ++c) {  // one thread per channel plane: no two write the same pixel
    T* plane = dx + std::size_t(c) * g.H * g.W;
    std::fill(plane, plane + g.H * g.W, T(0));
    for (int r = 0; r < g.R; ++r) {
      for (int s = 0; s < g.S; ++s) {
        const T* row = dcol + (std::size_t(c * g.R + r) * g.S + s) * P * Q;
        for (int p = 0; p < P; ++p) {
          for (int q = 0; q < Q; ++q) {
            const SamplePoint<T> t = sample_point(g, offset, mask, c / Cog, r, s, p, q);
            bilinear_scatter(plane, g.H, g.W, t.h, t.v, t.m * row[p * Q + q]);
          }
        }
      }
    }
  }
}

//! [deformable-col2im-coord]
template <typename T>
void deformable_col2im_coord(const DeformGeometry& g, const T* x, const T* offset, const T* mask,
                             const T* dcol, T* doffset, T* dmask) {
  const int P = g.P(), Q = g.Q(), PQ = P * Q, RS = g.R * g.S, Cog = g.C / g.OG;
#pragma omp parallel for
  for (int ok = 0; ok < g.OG * RS; ++ok) {  // one (offset group, tap): its own output rows
    const int o = ok / RS, r = ok % RS / g.S, s = ok % g.S;
    if (doffset) std::fill(doffset + 2 * ok * PQ, doffset + 2 * (ok + 1) * PQ, T(0));
    if (dmask) std::fill(dmask + ok * PQ, dmask + (ok + 1) * PQ, T(0));
    for (int c = o * Cog; c < (o + 1) * Cog; ++c) {  // the channels sharing this offset
      const T* plane = x + std::size_t(c) * g.H * g.W;
      const T* row = dcol + (std::size_t(c) * RS + r * g.S + s) * PQ;
      for (int pq = 0; pq < PQ; ++pq) {
        const SamplePoint<T> t = sample_point(g, offset, mask, o, r, s, pq / Q, pq % Q);
        T dh, dv;
        const T val = bilinear_sample_position_grad(plane, g.H, g.W, t.h, t.v, &dh, &dv);
        if (doffset) {
          doffset[t.offset_index] += row[pq] * t.m * dh;
          doffset[t.offset_index + PQ] += row[pq] * t.m * dv;
        }
        if (dmask) dmask[t.mask_index] += row[pq] * val;
      }
    }
  }
}
//! [deformable-col2im-coord]

std::size_t deform_conv2d_im2col_workspace_size(const DeformGeometry& g) {
  return 2 * std::size_t(g.C) * g.R * g.S * g.P() * g.Q();
}

//! [deform-im2col-forward]
template <typename T>
void deform_conv2d_forward_im2col(const DeformGeometry& g, const T* x, const T* offset,
                                  const T* mask, const T* w, const T* bias, T* y,
                                  std::vector<T>& workspace) {
  const int PQ = g.P() * g.Q(), Kg = g.K / g.G, CgRS = g.C / g.G * g.R * g.S;
  const std::size_t off_n = 2 * std::size_t(g.OG) * g.R * g.S * PQ, mask_n = off_n / 2;
  workspace.resize(std::max(workspace.size(), deform_conv2d_im2col_workspace_size(g)));
  T* col = workspace.data();
  for (int n = 0; n < g.N; ++n) {
    deformable_im2col(g, x + std::size_t(n) * g.C * g.H * g.W, offset + n * off_n,
                      mask ? mask + n * mask_n : nullptr, col);
    T* yn = y + std::size_t(n) * g.K * PQ;
    for (int gr = 0; gr < g.G; ++gr) {  // (Kg x Cg*R*S) * (Cg*R*S x P*Q)
      gemm(false, false, Kg, PQ, CgRS, T(1), w + std::size_t(gr) * Kg * CgRS, CgRS,
           col + std::size_t(gr) * CgRS * PQ, PQ, T(0), yn + std::size_t(gr) * Kg * PQ, PQ);
    }
    if (bias) {
      for (int k = 0; k < g.K; ++k)
        std::for_each(yn + k * PQ, yn + (k + 1) * PQ, [&](T& v) { v += bias[k]; });
    }
  }
}
//! [deform-im2col-forward]

//! [deform-im2col-backward]
template <typename T>
void deform_conv2d_backward_im2col(const DeformGeometry& g, const T* x, const T* offset,
                                   const T* mask, const T* w, const T* dy, T* dx, T* doffset,
                                   T* dmask, T* dw, T* db, std::vector<T>& workspace) {
  const int PQ = g.P() * g.Q(), Kg = g.K / g.G, CgRS = g.C / g.G * g.R * g.S;
  const std::size_t off_n = 2 * std::size_t(g.OG) * g.R * g.S * PQ, mask_n = off_n / 2;
  const std::size_t image = std::size_t(g.C) * g.H * g.W;
  workspace.resize(std::max(workspace.size(), deform_conv2d_im2col_workspace_size(g)));
  T* col = workspace.data();
  T* dcol = col + std::size_t(g.C) * g.R * g.S * PQ;
  for (int n = 0; n < g.N; ++n) {
    const T* xn = x + n * image;
    const T* off = offset + n * off_n;
    const T* msk = mask ? mask + n * mask_n : nullptr;
    const T* dyn = dy + std::size_t(n) * g.K * PQ;
    if (dw) {  // dw += dy * col^T, col recomputed rather than kept from the forward
      deformable_im2col(g, xn, off, msk, col);
      for (int gr = 0; gr < g.G; ++gr) {
        gemm(false, true, Kg, CgRS, PQ, T(1), dyn + std::size_t(gr) * Kg * PQ, PQ,
             col + std::size_t(gr) * CgRS * PQ, PQ, T(1), dw + std::size_t(gr) * Kg * CgRS, CgRS);
      }
    }
    if (dx || doffset || dmask) {  // dcol = w^T * dy, then back through the sampling
      for (int gr = 0; gr < g.G; ++gr) {
        gemm(true, false, CgRS, PQ, Kg, T(1), w + std::size_t(gr) * Kg * CgRS, CgRS,
             dyn + std::size_t(gr) * Kg * PQ, PQ, T(0), dcol + std::size_t(gr) * CgRS * PQ, PQ);
      }
      if (dx) deformable_col2im(g, off, msk, dcol, dx + n * image);
      if (doffset || dmask) {
        deformable_col2im_coord(g, xn, off, msk, dcol, doffset ? doffset + n * off_n : nullptr,
                                dmask && mask ? dmask + n * mask_n : nullptr);
      }
    }
    if (db) {
      for (int k = 0; k < g.K; ++k)
        db[k] += std::accumulate(dyn + k * PQ, dyn + (k + 1) * PQ, T(0));
    }
  }
}
//! [deform-im2col-backward]

template <typename T>
void deform_conv2d_forward(DeformAlgo algo, const DeformGeometry& g, const T* x, const T* offset,
                           const T* mask, const T* w, const T* bias, T* y,
                           std::vector<T>& workspace) {
  if (algo == DeformAlgo::Naive) {
    deform_conv2d_forward_naive(g, x, offset, mask, w, bias, y);
  } else {
    deform_conv2d_forward_im2col(g, x, offset, mask, w, bias, y, workspace);
  }
}

template <typename T>
void deform_conv2d_backward(DeformAlgo algo, const DeformGeometry& g, const T* x, const T* offset,
                            const T* mask, const T* w, const T* dy, T* dx, T* doffset, T* dmask,
                            T* dw, T* db, std::vector<T>& workspace) {
  if (algo == DeformAlgo::Naive) {
    deform_conv2d_backward_naive(g, x, offset, mask, w, dy, dx, doffset, dmask, dw, db);
  } else {
    deform_conv2d_backward_im2col(g, x, offset, mask, w, dy, dx, doffset, dmask, dw, db, workspace);
  }
}

#define CONVBOOK_INSTANTIATE_DEFORM(T)                                                             \
  template T bilinear_sample(const T*, int, int, T, T);                                            \
  template T bilinear_sample_position_grad(const T*, int, int, T, T, T*, T*);                      \
  template void bilinear_scatter(T*, int, int, T, T, T);                                           \
  template void deform_conv2d_forward_naive(const DeformGeometry&, const T*, const T*, const T*,   \
                                            const T*, const T*, T*);                               \
  template void deform_conv2d_backward_naive(const DeformGeometry&, const T*, const T*, const T*,  \
                                             const T*, const T*, T*, T*, T*, T*, T*);              \
  template void deformable_im2col(const DeformGeometry&, const T*, const T*, const T*, T*);        \
  template void deformable_col2im(const DeformGeometry&, const T*, const T*, const T*, T*);        \
  template void deformable_col2im_coord(const DeformGeometry&, const T*, const T*, const T*,       \
                                        const T*, T*, T*);                                         \
  template void deform_conv2d_forward_im2col(const DeformGeometry&, const T*, const T*, const T*,  \
                                             const T*, const T*, T*, std::vector<T>&);             \
  template void deform_conv2d_backward_im2col(const DeformGeometry&, const T*, const T*, const T*, \
                                              const T*, const T*, T*, T*, T*, T*, T*,              \
                                              std::vector<T>&);                                    \
  template void deform_conv2d_forward(DeformAlgo, const DeformGeometry&, const T*, const T*,       \
                                      const T*, const T*, const T*, T*, std::vector<T>&);          \
  template void deform_conv2d_backward(DeformAlgo, const DeformGeometry&, const T*, const T*,      \
                                       const T*, const T*, const T*, T*, T*, T*, T*, T*,           \
                                       std::vector<T>&);
CONVBOOK_INSTANTIATE_DEFORM(float)
CONVBOOK_INSTANTIATE_DEFORM(double)
#undef CONVBOOK_INSTANTIATE_DEFORM

}  // namespace convbook
