/// @file direct.cpp
/// @brief Direct SIMD convolution: same seven loops as conv_naive.cpp, but the input is first
/// copied into a padded, stride-split layout so that SIMD-width consecutive outputs read
/// consecutive inputs, and the loops over q become vector loads and fused multiply-adds.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups, Cg = C/G and Kg = K/G channels per group.
///
/// Why not im2col here: with C/G = 3 (the stem) the GEMM's reduction is only Cg*R*S = 27 long
/// and im2col writes 9 copies of the input to feed it; with depthwise layers (Kg = 1) each
/// GEMM is a single row times a (R*S x P*Q) matrix, R*S multiply-adds per loaded column
/// element: no reuse for the GEMM's register tiles to exploit. The direct loop reads each
/// input vector once per tap straight from L1 and keeps the outputs in registers.
///
/// Both float and double use the same code, with xsimd::batch<T>.
#include "convbook/conv/direct.hpp"

#include <omp.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <xsimd/xsimd.hpp>

#include "convbook/error.hpp"
#include "convbook/conv/workspace.hpp"

namespace convbook {

bool direct_supports(const ConvGeometry& g) {
  return g.G > 0 && g.C % g.G == 0 && g.C / g.G <= 4;
}

bool depthwise_supports(const ConvGeometry& g) {
  return g.G == g.C && g.K == g.C;
}

namespace {

template <typename T>
using Batch = xsimd::batch<T>;

//! [direct-layout]
// One input plane (H, W), zero-padded to Hp = H + 2*pad_h rows and split by column into
// stride_w phases: padded column u = j*stride_w + f is stored at [row][f][j]. The input under
// output (p, q) and tap (r, s) is padded row p*stride_h + r*dil_h, column u = q*stride_w +
// s*dil_w, i.e. phase f = (s*dil_w) % stride_w and j = q + (s*dil_w) / stride_w: for fixed
// (p, r, s) consecutive q read consecutive j, whatever the stride. Each phase row is `len`
// long, enough for a full vector past the last output (the extra entries are zeros).
struct PackedPlane {
  int rows = 0;    // Hp
  int phases = 1;  // stride_w
  int len = 0;     // entries per phase row
  int Qr = 0;      // Q rounded up to whole vectors
  std::size_t row_size() const { return std::size_t(phases) * len; }
  std::size_t size() const { return std::size_t(rows) * row_size(); }
};
//! [direct-layout]

template <typename T>
PackedPlane packed_layout(const ConvGeometry& g) {
  const int lanes = int(Batch<T>::size);
  PackedPlane L;
  L.rows = g.H + 2 * g.pad_h;
  L.phases = g.stride_w;
  L.Qr = (g.Q() + lanes - 1) / lanes * lanes;
  const int Wp = g.W + 2 * g.pad_w;
  L.len = std::max((Wp + g.stride_w - 1) / g.stride_w, L.Qr + (g.S - 1) * g.dil_w / g.stride_w);
  return L;
}

/// x: (H, W) -> xp in the layout above.
template <typename T>
void pack_plane(const ConvGeometry& g, const PackedPlane& L, const T* x, T* xp) {
  if (L.phases == 1) {  // stride 1, the common case: each row is zeros, the image row, zeros
    for (int hp = 0; hp < L.rows; ++hp) {
      const int h = hp - g.pad_h;
      T* out = xp + hp * L.row_size();
      if (h < 0 || h >= g.H) {
        std::fill(out, out + L.len, T(0));
        continue;
      }
      std::fill(out, out + g.pad_w, T(0));
      std::copy(x + std::size_t(h) * g.W, x + std::size_t(h + 1) * g.W, out + g.pad_w);
      std::fill(out + g.pad_w + g.W, out + L.len, T(0));
    }
    return;
  }
  for (int hp = 0; hp < L.rows; ++hp) {
    const int h = hp - g.pad_h;
    const bool inside = h >= 0 && h < g.H;
    for (int f = 0; f < L.phases; ++f) {
      T* out = xp + hp * L.row_size() + std::size_t(f) * L.len;
      for (int j = 0; j < L.len; ++j) {
        const int v = j * L.phases + f - g.pad_w;
        out[j] = inside && v >= 0 && v < g.W ? x[std::size_t(h) * g.W + v] : T(0);
      }
    }
  }
}

/// Distance between the padded dy planes a block of output channels uses: P*Qr plus one
/// vector, so that planes of 32x32 floats (4 KiB) do not start at addresses 4 KiB apart, which
/// would make their loads compete for the same L1 set and falsely alias the stores to dx.
template <typename T>
std::size_t dy_plane_size(const ConvGeometry& g, const PackedPlane& L) {
  return std::size_t(g.P()) * L.Qr + Batch<T>::size;
}

/// The inverse of pack_plane on the pixels that exist: dx (H, W) = dxp without the padding.
template <typename T>
void unpack_plane(const ConvGeometry& g, const PackedPlane& L, const T* dxp, T* dx) {
  if (L.phases == 1) {  // stride 1: copy the image part of each row
    for (int h = 0; h < g.H; ++h) {
      const T* in = dxp + (h + g.pad_h) * L.row_size() + g.pad_w;
      std::copy(in, in + g.W, dx + std::size_t(h) * g.W);
    }
    return;
  }
  for (int h = 0; h < g.H; ++h) {
    for (int f = 0; f < L.phases; ++f) {
      const T* in = dxp + (h + g.pad_h) * L.row_size() + std::size_t(f) * L.len;
      for (int j = 0; j < L.len; ++j) {
        const int v = j * L.phases + f - g.pad_w;
        if (v >= 0 && v < g.W) dx[std::size_t(h) * g.W + v] = in[j];
      }
    }
  }
}

/// dy (P, Q) -> dyp (P, Qr) with zeros after column Q, so whole vectors can be loaded; returns
/// the sum of dy (the plane's share of db), summed lane-wise then across lanes (one long
/// serial chain of additions would cost more than the copy).
template <typename T>
T pad_rows(const ConvGeometry& g, const PackedPlane& L, const T* dy, T* dyp) {
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  const int P = g.P(), Q = g.Q();
  B sum(T(0));
  for (int p = 0; p < P; ++p) {
    T* row = dyp + std::size_t(p) * L.Qr;
    std::copy(dy + std::size_t(p) * Q, dy + std::size_t(p + 1) * Q, row);
    std::fill(row + Q, row + L.Qr, T(0));
    for (int q0 = 0; q0 < Q; q0 += lanes) sum += B::load_unaligned(row + q0);
  }
  alignas(64) T partial[lanes];
  sum.store_aligned(partial);
  return std::accumulate(partial, partial + lanes, T(0));
}

/// Offset in a packed plane of tap (r, s) for output (0, 0); output (p, q) adds
/// p*stride_h*row_size + q. The column part is advanced tap by tap (no division per tap).
struct TapWalk {
  int f_step, j_step;  // (dil_w % stride_w, dil_w / stride_w)
  explicit TapWalk(const ConvGeometry& g)
      : f_step(g.dil_w % g.stride_w), j_step(g.dil_w / g.stride_w) {}
};

//! [direct-forward-plane]
// y_k (P, Q) = bias_k + sum over c < Cg, r < R, s < S of w_k[c, r, s] * (input c under tap
// (r, s)), for KB output channels k of one group at once. KB vectors of `lanes` consecutive
// outputs stay in registers while every tap is added to them: each vector loaded from the
// packed input is used KB times (one broadcast weight and one fused multiply-add each), and
// the KB independent sums keep both FMA units busy despite their latency.
template <int KB, typename T>
void forward_planes(const ConvGeometry& g, const PackedPlane& L, const T* xp, int Cg, const T* wk,
                    const T* bias, T* y) {
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  const int P = g.P(), Q = g.Q(), CRS = Cg * g.R * g.S;
  const std::size_t PQ = std::size_t(P) * Q;
  const TapWalk walk(g);
  for (int p = 0; p < P; ++p) {
    for (int q0 = 0; q0 < Q; q0 += lanes) {
      B acc[KB];
      for (int kb = 0; kb < KB; ++kb) acc[kb] = B(bias ? bias[kb] : T(0));
      for (int c = 0; c < Cg; ++c) {
        const T* x_c = xp + c * L.size() + std::size_t(p) * g.stride_h * L.row_size() + q0;
        for (int r = 0; r < g.R; ++r) {
          const T* x_r = x_c + std::size_t(r) * g.dil_h * L.row_size();
          const T* w_r = wk + (c * g.R + r) * g.S;
          for (int s = 0, f = 0, j = 0; s < g.S; ++s) {
            const B x_v = B::load_unaligned(x_r + f * L.len + j);
            for (int kb = 0; kb < KB; ++kb)
              acc[kb] = xsimd::fma(B(w_r[kb * CRS + s]), x_v, acc[kb]);
            f += walk.f_step;  // next tap: column u += dil_w, i.e. (f, j) += (dil_w % sw,
            j += walk.j_step;  // dil_w / sw) with a carry from f into j
            if (f >= L.phases) f -= L.phases, ++j;
          }
        }
      }
      for (int kb = 0; kb < KB; ++kb) {
        T* out = y + kb * PQ + std::size_t(p) * Q + q0;
        if (q0 + lanes <= Q) {
          acc[kb].store_unaligned(out);
        } else {  // the last, partial vector of the row
          alignas(64) T tail[lanes];
          acc[kb].store_aligned(tail);
          std::copy(tail, tail + (Q - q0), out);
        }
      }
    }
  }
}
//! [direct-forward-plane]

//! [direct-backward-plane]
// The same products sent back to both factors (chain rule, as in the naive backward), for KB
// output channels of one group at once, tap by tap:
//   dw_k[c, r, s] += sum over p, q of dy_k[p, q] * (input c under tap (r, s))
//   dxp[c, under tap (r, s)] += sum over the KB channels k of w_k[c, r, s] * dy_k
// With the tap fixed, the loop over (p, q) keeps the KB dw sums in registers (reduced across
// lanes at the end) and adds the KB channels' contributions to dx before one load and store
// of dxp. dyp holds the KB planes of dy padded to whole vectors with zeros, so the extra lanes
// add nothing.
template <int KB, typename T>
void backward_planes(const ConvGeometry& g, const PackedPlane& L, const T* dyp, const T* xp, int Cg,
                     const T* wk, T* dxp, T* dwk) {
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  const int P = g.P(), Q = g.Q(), CRS = Cg * g.R * g.S;
  const std::size_t dy_plane = dy_plane_size<T>(g, L);
  const TapWalk walk(g);
  for (int c = 0; c < Cg; ++c) {
    for (int r = 0; r < g.R; ++r) {
      for (int s = 0, f = 0, j = 0; s < g.S; ++s) {
        const int tap = (c * g.R + r) * g.S + s;
        const std::size_t at_tap =
            c * L.size() + std::size_t(r) * g.dil_h * L.row_size() + f * L.len + j;
        B acc[KB];
        for (int kb = 0; kb < KB; ++kb) acc[kb] = B(T(0));
        for (int p = 0; p < P; ++p) {
          for (int q0 = 0; q0 < Q; q0 += lanes) {
            const std::size_t at = at_tap + std::size_t(p) * g.stride_h * L.row_size() + q0;
            const T* dy_pq = dyp + std::size_t(p) * L.Qr + q0;
            if (dwk) {
              const B x_v = B::load_unaligned(xp + at);
              for (int kb = 0; kb < KB; ++kb) {
                acc[kb] = xsimd::fma(B::load_unaligned(dy_pq + kb * dy_plane), x_v, acc[kb]);
              }
            }
            if (dxp) {
              B sum = B::load_unaligned(dxp + at);
              for (int kb = 0; kb < KB; ++kb) {
                sum = xsimd::fma(B(wk[kb * CRS + tap]), B::load_unaligned(dy_pq + kb * dy_plane),
                                 sum);
              }
              sum.store_unaligned(dxp + at);
            }
          }
        }
        if (dwk) {
          for (int kb = 0; kb < KB; ++kb) {
            alignas(64) T partial[lanes];
            acc[kb].store_aligned(partial);  // the lanes' partial sums, added in order
            dwk[kb * CRS + tap] += std::accumulate(partial, partial + lanes, T(0));
          }
        }
        f += walk.f_step;  // next tap, as in forward_planes
        j += walk.j_step;
        if (f >= L.phases) f -= L.phases, ++j;
      }
    }
  }
}
//! [direct-backward-plane]

/// The kernels are only correct for the layers their *_supports accepts; anything else is a
/// bug in the caller's choice of algorithm, reported with the values found.
void require_direct(const ConvGeometry& g, const char* who) {
  if (!direct_supports(g)) {
    throw Error(std::string(who) + ": in_channels=" + std::to_string(g.C) + " with groups=" +
                std::to_string(g.G) + "; expected at most 4 input channels per group");
  }
}

void require_depthwise(const ConvGeometry& g, const char* who) {
  if (!depthwise_supports(g)) {
    throw Error(std::string(who) + ": in_channels=" + std::to_string(g.C) +
                ", out_channels=" + std::to_string(g.K) + ", groups=" + std::to_string(g.G) +
                "; expected all three equal (one filter per channel)");
  }
}

// ---- small input channel counts (the stem): images in parallel ----

/// Threads worth starting: at most one per unit of parallel work (`units`: images, planes or
/// channels) and one per ~256 kflop, because starting and joining a team costs microseconds,
/// more than a small layer's whole forward pass.
int threads_for(const ConvGeometry& g, int units) {
  const double flops = 2.0 * g.N * g.K * g.P() * g.Q() * (g.C / g.G) * g.R * g.S;
  const int by_work = int(std::min(flops / (1 << 18), 1e6));
  return std::max(1, std::min({omp_get_max_threads(), units, by_work}));
}

int direct_threads(const ConvGeometry& g) {
  return threads_for(g, g.N);  // images in parallel
}

/// Output channels computed together by the direct kernels (see forward_planes).
constexpr int kBlock = 8;

/// One thread's scratch: the image's C packed planes, their gradient, kBlock padded dy planes,
/// and private dw (K x Cg*R*S) and db (K) partial sums.
template <typename T>
std::size_t direct_per_thread(const ConvGeometry& g) {
  const PackedPlane L = packed_layout<T>(g);
  const std::size_t CRS = std::size_t(g.C / g.G) * g.R * g.S;
  return 2 * std::size_t(g.C) * L.size() + kBlock * dy_plane_size<T>(g, L) +
         std::size_t(g.K) * CRS + std::size_t(g.K);
}

// ---- depthwise: planes (forward) or channels (backward) in parallel ----

/// One thread's scratch: one packed plane, its gradient, a padded dy plane.
template <typename T>
std::size_t depthwise_per_thread(const ConvGeometry& g) {
  const PackedPlane L = packed_layout<T>(g);
  return 2 * L.size() + std::size_t(g.P()) * L.Qr;
}

// ---- depthwise at stride 1: whole planes as flat vectors ----

//! [depthwise-flat-layout]
// At stride 1 a tap is a constant shift of a flattened plane. Store the zero-padded input
// (Hp x Wp) row after row with pitch Wp, and compute the outputs at the same pitch: output
// (p, q) sits at o = p*Wp + q and tap (r, s) reads the padded input at
//   (p + r*dil_h)*Wp + q + s*dil_w = o + off(r, s),  off(r, s) = r*dil_h*Wp + s*dil_w,
// so every tap is one multiply-add of the whole flattened plane, P*Wp values, whatever Q.
// The Wp - Q columns past each output row are computed and thrown away. For an 8x8 plane
// (padding 1) that is 80 values, 5 vectors of 16 floats, instead of 8 half-empty row vectors;
// and the padding is written once per call, not once per plane: only the H x W interior
// changes from plane to plane.
struct FlatPlane {
  int Wp = 0;                // pitch: padded width
  int out_vectors = 0;       // vectors covering the P*Wp outputs (forward; dy for dw and db)
  int in_vectors = 0;        // vectors covering the H*Wp interior rows of the padding (dx)
  std::size_t max_off = 0;   // off(R-1, S-1), the farthest tap
  std::size_t x_size = 0;    // padded input plane, plus the tail the last vectors read
  std::size_t dy_size = 0;   // dy plane at pitch Wp after max_off leading zeros
  std::size_t out_size = 0;  // one plane of results at pitch Wp, in whole vectors
};
//! [depthwise-flat-layout]

bool flat_depthwise(const ConvGeometry& g) {
  return g.stride_h == 1 && g.stride_w == 1;
}

template <typename T>
FlatPlane flat_layout(const ConvGeometry& g) {
  const int lanes = int(Batch<T>::size);
  FlatPlane F;
  F.Wp = g.W + 2 * g.pad_w;
  const std::size_t Hp = std::size_t(g.H) + 2 * g.pad_h;
  F.out_vectors = int((std::size_t(g.P()) * F.Wp + lanes - 1) / lanes);
  F.in_vectors = int((std::size_t(g.H) * F.Wp + lanes - 1) / lanes);
  F.max_off = std::size_t(g.R - 1) * g.dil_h * F.Wp + std::size_t(g.S - 1) * g.dil_w;
  const std::size_t out_span = std::size_t(F.out_vectors) * lanes;
  const std::size_t in_span = std::size_t(F.in_vectors) * lanes;
  F.x_size = std::max(Hp * F.Wp, F.max_off + out_span);
  // dx at padded position i reads dy at i - off, i from pad_h*Wp: dy is stored after max_off
  // zeros so that i - off never goes below the buffer.
  F.dy_size = F.max_off + std::max(std::size_t(g.pad_h) * F.Wp + in_span, out_span);
  F.out_size = std::max(out_span, in_span);
  return F;
}

/// Where the dw and db sums start in one thread's scratch for the flat kernels: after the
/// input, dy and a plane of results.
template <typename T>
std::size_t flat_sums_offset(const ConvGeometry& g) {
  const FlatPlane F = flat_layout<T>(g);
  return F.x_size + F.dy_size + F.out_size;
}

/// One thread's scratch for the flat kernels: input, dy, a plane of results, then per channel
/// the RS + 1 vector sums of dw and db.
template <typename T>
std::size_t flat_per_thread(const ConvGeometry& g) {
  return flat_sums_offset<T>(g) + std::size_t(g.C) * (g.R * g.S + 1) * Batch<T>::size;
}

//! [depthwise-flat-kernel]
// out[v] = init + sum over taps of w[tap] * in[v*lanes + shift(tap)] for VB consecutive
// vectors v, kept in registers while the taps go by. Forward: in = padded x and
// shift = off(tap). Backward data (`rotate`): in = dy stored after max_off zeros and
// shift = max_off - off(tap), i.e. dx_padded[i] = sum over taps of w[tap] * dy_flat[i - off(tap)],
// the kernel turned by 180 degrees.
template <int VB, typename T>
void flat_block(const ConvGeometry& g, const FlatPlane& F, const T* in, const T* w, T init,
                bool rotate, T* out) {
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  B acc[VB];
  for (int vb = 0; vb < VB; ++vb) acc[vb] = B(init);
  for (int r = 0, tap = 0; r < g.R; ++r) {
    for (int s = 0; s < g.S; ++s, ++tap) {
      const std::size_t off = std::size_t(r) * g.dil_h * F.Wp + std::size_t(s) * g.dil_w;
      const T* src = rotate ? in + (F.max_off - off) : in + off;
      const B wv(w[tap]);
      for (int vb = 0; vb < VB; ++vb)
        acc[vb] = xsimd::fma(wv, B::load_unaligned(src + vb * lanes), acc[vb]);
    }
  }
  for (int vb = 0; vb < VB; ++vb) acc[vb].store_unaligned(out + vb * lanes);
}

/// flat_block over `vectors` vectors: blocks of 6 (12 of the 32 AVX-512 registers with the
/// loads), then one block of the rest.
template <typename T>
void flat_plane(const ConvGeometry& g, const FlatPlane& F, const T* in, const T* w, T init,
                bool rotate, int vectors, T* out) {
  constexpr int lanes = int(Batch<T>::size), VB = 6;
  int v = 0;
  for (; v + VB <= vectors; v += VB)
    flat_block<VB>(g, F, in + v * lanes, w, init, rotate, out + v * lanes);
  const T* in_v = in + v * lanes;
  T* out_v = out + v * lanes;
  switch (vectors - v) {
    case 1:
      flat_block<1>(g, F, in_v, w, init, rotate, out_v);
      break;
    case 2:
      flat_block<2>(g, F, in_v, w, init, rotate, out_v);
      break;
    case 3:
      flat_block<3>(g, F, in_v, w, init, rotate, out_v);
      break;
    case 4:
      flat_block<4>(g, F, in_v, w, init, rotate, out_v);
      break;
    case 5:
      flat_block<5>(g, F, in_v, w, init, rotate, out_v);
      break;
    default:
      break;
  }
}
//! [depthwise-flat-kernel]

/// Copies `rows` rows of `width` values from src (row pitch src_pitch) to dst (dst_pitch).
/// Whole vectors, then the rest one by one: rows of small planes are a few dozen bytes, and
/// a call to memmove per row (what std::copy becomes) cost as much as the multiply-adds
/// (perf, dw3x3_128_8x8).
template <typename T>
void copy_rows(const T* src, std::size_t src_pitch, int rows, int width, T* dst,
               std::size_t dst_pitch) {
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  for (int h = 0; h < rows; ++h, src += src_pitch, dst += dst_pitch) {
    int j = 0;
    for (; j + lanes <= width; j += lanes) B::load_unaligned(src + j).store_unaligned(dst + j);
    for (; j < width; ++j) dst[j] = src[j];
  }
}

/// Adds the lanes of a vector sum, in order (deterministic).
template <typename T>
T lane_sum(const Batch<T>& v) {
  alignas(64) T partial[Batch<T>::size];
  v.store_aligned(partial);
  return std::accumulate(partial, partial + Batch<T>::size, T(0));
}

/// One thread's scratch for the depthwise kernels, flat (stride 1) or packed (any stride).
template <typename T>
std::size_t depthwise_scratch(const ConvGeometry& g) {
  return flat_depthwise(g) ? flat_per_thread<T>(g) : depthwise_per_thread<T>(g);
}

}  // namespace

// Counted for float, whose wider vectors (more lanes) need at least as many scalars as
// double's: the sizes are enough for either.
std::size_t conv2d_direct_workspace_size(const ConvGeometry& g) {
  return std::size_t(direct_threads(g)) * direct_per_thread<float>(g);
}

std::size_t conv2d_depthwise_workspace_size(const ConvGeometry& g) {
  return std::size_t(threads_for(g, g.N * g.C)) * depthwise_scratch<float>(g);
}

//! [conv-direct-forward]
// x: (N, C, H, W)  w: (K, C/G, R, S)  b: (K)  y: (N, K, P, Q)
// Per image: pack its C planes once, then every output channel k reads the Cg packed planes
// of its group.
template <typename T>
void conv2d_forward_direct(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                           std::vector<T>& workspace) {
  require_direct(g, "conv2d_forward_direct");
  const PackedPlane L = packed_layout<T>(g);
  const int Cg = g.C / g.G, Kg = g.K / g.G, CRS = Cg * g.R * g.S;
  const std::size_t HW = std::size_t(g.H) * g.W, PQ = std::size_t(g.P()) * g.Q();
  const std::size_t per_thread = direct_per_thread<T>(g);
  T* scratch = reserve_workspace(workspace, direct_threads(g) * per_thread);
#pragma omp parallel for schedule(dynamic) num_threads(direct_threads(g))
  for (int n = 0; n < g.N; ++n) {
    T* xp = scratch + omp_get_thread_num() * per_thread;
    for (int c = 0; c < g.C; ++c)
      pack_plane(g, L, x + (std::size_t(n) * g.C + c) * HW, xp + c * L.size());
    for (int grp = 0; grp < g.G; ++grp) {
      const T* xp_g = xp + std::size_t(grp) * Cg * L.size();
      int k = grp * Kg;  // output channels [grp*Kg, (grp+1)*Kg): kBlock at a time, then one by one
      for (; k + kBlock <= (grp + 1) * Kg; k += kBlock) {
        forward_planes<kBlock>(g, L, xp_g, Cg, w + std::size_t(k) * CRS, bias ? bias + k : nullptr,
                               y + (std::size_t(n) * g.K + k) * PQ);
      }
      for (; k < (grp + 1) * Kg; ++k) {
        forward_planes<1>(g, L, xp_g, Cg, w + std::size_t(k) * CRS, bias ? bias + k : nullptr,
                          y + (std::size_t(n) * g.K + k) * PQ);
      }
    }
  }
}
//! [conv-direct-forward]

//! [conv-direct-backward]
// Images in parallel; each thread keeps its own dw and db partial sums, added in thread order
// at the end (deterministic), and writes the dx of its images (packed, then unpacked).
template <typename T>
void conv2d_backward_direct(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                            T* dw, T* db, std::vector<T>& workspace) {
  require_direct(g, "conv2d_backward_direct");
  const PackedPlane L = packed_layout<T>(g);
  const int Cg = g.C / g.G, Kg = g.K / g.G, CRS = Cg * g.R * g.S;
  const std::size_t HW = std::size_t(g.H) * g.W, PQ = std::size_t(g.P()) * g.Q();
  const std::size_t per_thread = direct_per_thread<T>(g);
  const std::size_t packed = std::size_t(g.C) * L.size(), dw_size = std::size_t(g.K) * CRS;
  const std::size_t dy_plane = dy_plane_size<T>(g, L);
  const std::size_t partials = 2 * packed + kBlock * dy_plane;
  const int threads = direct_threads(g);
  T* scratch = reserve_workspace(workspace, threads * per_thread);
#pragma omp parallel num_threads(threads)
  {
    T* xp = scratch + omp_get_thread_num() * per_thread;
    T* dxp = xp + packed;
    T* dyp = dxp + packed;
    T* dw_t = xp + partials;  // this thread's share of dw, then of db
    T* db_t = dw_t + dw_size;
    std::fill(dw_t, db_t + g.K, T(0));
#pragma omp for schedule(static)
    for (int n = 0; n < g.N; ++n) {
      const T* x_n = x + std::size_t(n) * g.C * HW;
      if (dw)
        for (int c = 0; c < g.C; ++c) pack_plane(g, L, x_n + c * HW, xp + c * L.size());
      if (dx) std::fill(dxp, dxp + packed, T(0));
      for (int grp = 0; grp < g.G; ++grp) {
        const std::size_t group = std::size_t(grp) * Cg * L.size();
        // output channels [grp*Kg, (grp+1)*Kg): kBlock at a time, then one by one
        for (int k = grp * Kg; k < (grp + 1) * Kg;) {
          const int block = k + kBlock <= (grp + 1) * Kg ? kBlock : 1;
          for (int kb = 0; kb < block; ++kb) {
            db_t[k + kb] +=
                pad_rows(g, L, dy + (std::size_t(n) * g.K + k + kb) * PQ, dyp + kb * dy_plane);
          }
          T* dxp_g = dx ? dxp + group : nullptr;
          T* dw_k = dw ? dw_t + std::size_t(k) * CRS : nullptr;
          if (block == kBlock) {
            backward_planes<kBlock>(g, L, dyp, xp + group, Cg, w + std::size_t(k) * CRS, dxp_g,
                                    dw_k);
          } else {
            backward_planes<1>(g, L, dyp, xp + group, Cg, w + std::size_t(k) * CRS, dxp_g, dw_k);
          }
          k += block;
        }
      }
      if (dx)
        for (int c = 0; c < g.C; ++c)
          unpack_plane(g, L, dxp + c * L.size(), dx + (std::size_t(n) * g.C + c) * HW);
    }
  }
  for (int t = 0; t < threads; ++t) {  // in thread order, so results do not vary run to run
    const T* dw_t = scratch + t * per_thread + partials;
    if (dw)
      for (std::size_t i = 0; i < dw_size; ++i) dw[i] += dw_t[i];
    if (db)
      for (int k = 0; k < g.K; ++k) db[k] += dw_t[dw_size + k];
  }
}
//! [conv-direct-backward]

namespace {

//! [depthwise-flat-backward]
// Stride 1, in the flat layout, plane after plane in memory order (the N*C planes shared among
// the threads, as in the forward):
//   dx_padded = sum over taps of w[tap] * (dy_flat shifted by off(tap))  (flat_plane, rotated)
//   dw[tap] += dy_flat . (x_padded shifted by off(tap)),  db += sum of dy_flat
// dy_flat is zero in the Wp - Q columns past each row, so they add nothing. Each thread keeps
// per channel RS + 1 vector sums of dw and db; they are reduced across lanes and added in
// thread order at the end (deterministic). Walking channel by channel instead (images inside,
// no reduction) read planes C*H*W apart and was slower: 6.4 against 4.9 ms fwd+bwd on
// dw3x3_64_16x16.
template <typename T>
void backward_depthwise_flat(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                             T* dw, T* db, std::vector<T>& workspace) {
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  const FlatPlane F = flat_layout<T>(g);
  const int RS = g.R * g.S;
  const std::size_t HW = std::size_t(g.H) * g.W, PQ = std::size_t(g.P()) * g.Q();
  const int P = g.P(), Q = g.Q();
  const std::size_t per_thread = flat_per_thread<T>(g);
  const int planes = g.N * g.C, threads = threads_for(g, planes);
  const std::size_t sums_per_channel = std::size_t(RS + 1) * lanes;
  T* scratch = reserve_workspace(workspace, threads * per_thread);
#pragma omp parallel num_threads(threads)
  {
    T* xp = scratch + omp_get_thread_num() * per_thread;
    T* dyp = xp + F.x_size;
    T* out = dyp + F.dy_size;
    T* sums = out + F.out_size;  // per channel, RS + 1 vectors: dw per tap, then db
    std::fill(xp, out, T(0));    // padding of x and of dy; only interiors are written below
    T* x_interior = xp + std::size_t(g.pad_h) * F.Wp + g.pad_w;
    T* dy_flat = dyp + F.max_off;
    std::fill(sums, sums + std::size_t(g.C) * sums_per_channel, T(0));
#pragma omp for schedule(static)
    for (int i = 0; i < planes; ++i) {  // image after image: the planes in memory order
      const int c = i % g.C;
      T* sums_c = sums + std::size_t(c) * sums_per_channel;
      copy_rows(dy + i * PQ, Q, P, Q, dy_flat, F.Wp);
      if (db) {
        B acc = B::load_unaligned(sums_c + RS * lanes);
        for (int v = 0; v < F.out_vectors; ++v) acc += B::load_unaligned(dy_flat + v * lanes);
        acc.store_unaligned(sums_c + RS * lanes);
      }
      if (dw) {
        copy_rows(x + i * HW, g.W, g.H, g.W, x_interior, F.Wp);
        for (int r = 0, tap = 0; r < g.R; ++r) {
          for (int s = 0; s < g.S; ++s, ++tap) {
            const T* x_tap = xp + std::size_t(r) * g.dil_h * F.Wp + std::size_t(s) * g.dil_w;
            B acc = B::load_unaligned(sums_c + tap * lanes);
            for (int v = 0; v < F.out_vectors; ++v) {
              acc = xsimd::fma(B::load_unaligned(dy_flat + v * lanes),
                               B::load_unaligned(x_tap + v * lanes), acc);
            }
            acc.store_unaligned(sums_c + tap * lanes);
          }
        }
      }
      if (dx) {
        flat_plane(g, F, dyp + std::size_t(g.pad_h) * F.Wp, w + std::size_t(c) * RS, T(0), true,
                   F.in_vectors, out);
        copy_rows(out + g.pad_w, F.Wp, g.H, g.W, dx + i * HW, g.W);
      }
    }
  }
  // In thread order, each thread's vector sums across lanes: results do not vary run to run.
  for (int t = 0; t < threads; ++t) {
    const T* sums = scratch + t * per_thread + flat_sums_offset<T>(g);
    for (int c = 0; c < g.C; ++c) {
      const T* sums_c = sums + std::size_t(c) * sums_per_channel;
      if (dw)
        for (int tap = 0; tap < RS; ++tap)
          dw[std::size_t(c) * RS + tap] += lane_sum(B::load_unaligned(sums_c + tap * lanes));
      if (db) db[c] += lane_sum(B::load_unaligned(sums_c + RS * lanes));
    }
  }
}
//! [depthwise-flat-backward]

}  // namespace

//! [conv-depthwise-forward]
// x: (N, C, H, W)  w: (C, 1, R, S)  b: (C)  y: (N, C, P, Q)
// Every (n, c) plane is an independent single-channel convolution. Stride 1: copy its interior
// into the flat layout and run flat_plane. Other strides: pack it, run the direct plane kernel
// with Cg = 1. The N*C planes are shared among the threads.
template <typename T>
void conv2d_forward_depthwise(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                              std::vector<T>& workspace) {
  require_depthwise(g, "conv2d_forward_depthwise");
  const int planes = g.N * g.C, RS = g.R * g.S;
  const std::size_t HW = std::size_t(g.H) * g.W, PQ = std::size_t(g.P()) * g.Q();
  const int P = g.P(), Q = g.Q();
  if (flat_depthwise(g)) {  // stride 1: the flat kernel, without per-plane padding
    const FlatPlane F = flat_layout<T>(g);
    const std::size_t per_thread = flat_per_thread<T>(g);
    const int threads = threads_for(g, planes);
    T* scratch = reserve_workspace(workspace, threads * per_thread);
#pragma omp parallel num_threads(threads)
    {
      T* xp = scratch + omp_get_thread_num() * per_thread;
      T* out = xp + F.x_size + F.dy_size;
      std::fill(xp, xp + F.x_size, T(0));  // the padding; only the interior is written below
      T* interior = xp + std::size_t(g.pad_h) * F.Wp + g.pad_w;
#pragma omp for schedule(static)
      for (int i = 0; i < planes; ++i) {
        const int c = i % g.C;
        copy_rows(x + i * HW, g.W, g.H, g.W, interior, F.Wp);
        flat_plane(g, F, xp, w + std::size_t(c) * RS, bias ? bias[c] : T(0), false, F.out_vectors,
                   out);
        copy_rows(out, F.Wp, P, Q, y + i * PQ, Q);
      }
    }
    return;
  }
  const PackedPlane L = packed_layout<T>(g);
  const std::size_t per_thread = depthwise_per_thread<T>(g);
  T* scratch = reserve_workspace(workspace, threads_for(g, planes) * per_thread);
#pragma omp parallel for schedule(static) num_threads(threads_for(g, planes))
  for (int i = 0; i < planes; ++i) {
    const int c = i % g.C;
    T* xp = scratch + omp_get_thread_num() * per_thread;
    pack_plane(g, L, x + i * HW, xp);
    forward_planes<1>(g, L, xp, 1, w + std::size_t(c) * RS, bias ? bias + c : nullptr, y + i * PQ);
  }
}
//! [conv-depthwise-forward]

//! [conv-depthwise-backward]
// Stride 1 goes to backward_depthwise_flat. Other strides: channels in parallel, images inside: the
// thread that owns channel c is the only one to add to dw[c] and db[c], so there are no partial
// sums to combine.
template <typename T>
void conv2d_backward_depthwise(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                               T* dw, T* db, std::vector<T>& workspace) {
  require_depthwise(g, "conv2d_backward_depthwise");
  const int RS = g.R * g.S;
  const std::size_t HW = std::size_t(g.H) * g.W, PQ = std::size_t(g.P()) * g.Q();
  if (flat_depthwise(g)) {
    backward_depthwise_flat(g, x, w, dy, dx, dw, db, workspace);
    return;
  }
  const PackedPlane L = packed_layout<T>(g);
  const std::size_t per_thread = depthwise_per_thread<T>(g);
  const int threads = threads_for(g, g.C);
  T* scratch = reserve_workspace(workspace, threads * per_thread);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int c = 0; c < g.C; ++c) {
    T* xp = scratch + omp_get_thread_num() * per_thread;
    T* dxp = xp + L.size();
    T* dyp = dxp + L.size();
    for (int n = 0; n < g.N; ++n) {
      const std::size_t i = std::size_t(n) * g.C + c;
      const T sum = pad_rows(g, L, dy + i * PQ, dyp);
      if (db) db[c] += sum;
      if (dw) pack_plane(g, L, x + i * HW, xp);
      if (dx) std::fill(dxp, dxp + L.size(), T(0));
      backward_planes<1>(g, L, dyp, xp, 1, w + std::size_t(c) * RS, dx ? dxp : nullptr,
                         dw ? dw + std::size_t(c) * RS : nullptr);
      if (dx) unpack_plane(g, L, dxp, dx + i * HW);
    }
  }
}
//! [conv-depthwise-backward]

#define CONVBOOK_INSTANTIATE(T)                                                                    \
  template void conv2d_forward_direct<T>(const ConvGeometry&, const T*, const T*, const T*, T*,    \
                                         std::vector<T>&);                                         \
  template void conv2d_backward_direct<T>(const ConvGeometry&, const T*, const T*, const T*, T*,   \
                                          T*, T*, std::vector<T>&);                                \
  template void conv2d_forward_depthwise<T>(const ConvGeometry&, const T*, const T*, const T*, T*, \
                                            std::vector<T>&);                                      \
  template void conv2d_backward_depthwise<T>(const ConvGeometry&, const T*, const T*, const T*,    \
                                             T*, T*, T*, std::vector<T>&);
CONVBOOK_INSTANTIATE(float)
CONVBOOK_INSTANTIATE(double)
#undef CONVBOOK_INSTANTIATE

}  // namespace convbook
