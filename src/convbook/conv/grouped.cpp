/// @file grouped.cpp
/// @brief Grouped convolution with a kernel per group: same loops as conv_naive.cpp, but per
/// image and group the input planes are copied into a zero-padded buffer and a register block
/// of output channels x output rows, one vector along the row each, receives every tap.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups, Cg = C/G and Kg = K/G channels per group.
///
/// Why not im2col here: ResNeXt's 3x3 layer with 32 groups of 4 channels is 32 GEMMs per image
/// of (Kg = 4) x (Cg*R*S = 36) x (P*Q), four rows of output: the GEMM microkernel's register
/// tile is mostly empty and im2col writes 9 copies of the input to feed it. The direct kernel
/// (direct.cpp) handles Cg <= 4 but holds only one row of outputs per output channel, so every
/// input vector it loads feeds at most Kg fused multiply-adds and every weight it broadcasts
/// feeds one. Here a block of up to 8 output channels x up to 8 rows stays in registers: each
/// input vector feeds KB multiply-adds and each broadcast weight PB of them.
///
/// Both float and double use the same code, with xsimd::batch<T>.
#include "convbook/conv/grouped.hpp"

#include <omp.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <xsimd/xsimd.hpp>

#include "convbook/conv/im2col.hpp"
#include "convbook/conv/workspace.hpp"
#include "convbook/error.hpp"
#include "convbook/prefetch.hpp"

namespace convbook {

bool grouped_supports(const ConvGeometry& g) {
  return g.G > 0 && g.C % g.G == 0 && g.K % g.G == 0 && g.C / g.G <= 32 && g.K / g.G <= 32 &&
         g.stride_h == 1 && g.stride_w == 1;
}

namespace {

template <typename T>
using Batch = xsimd::batch<T>;

//! [grouped-keep-in-register]
// Makes the compiler keep a loaded vector in a register. Left alone, GCC folds the load into
// each of the KB fused multiply-adds that use the vector (vfmadd231ps (mem), ...), reading it
// from L1 KB times instead of once; the loads then outnumber what the load unit can serve and
// the multiply-adds wait. An empty asm statement that claims to modify the value ("+v": in a
// vector register) forces one load into a register. Measured on 3x3g32_128-128_16x16 at batch 4
// (warm caches): forward 72 -> 81 GFLOP/s, forward + backward 48 -> 70.
template <typename T>
void keep_in_register(Batch<T>& v) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  asm("" : "+v"(v.data));
#else
  (void)v;
#endif
}
//! [grouped-keep-in-register]

int round_up(int v, int multiple) {
  return (v + multiple - 1) / multiple * multiple;
}

/// Every block of output rows (PB below) divides this, so planes padded to a multiple of it
/// below the last output row can be read by whole blocks.
constexpr int kRowMultiple = 8;

//! [grouped-layout]
// A stack of planes, each zero-padded: source pixel (h, w) is stored at row top + h, column
// left + w, in rows `pitch` long. At stride 1 the input under output (p, q) and tap (r, s) is
// then at row p + r*dil_h, column q + s*dil_w (counting from the first row and column read):
// consecutive outputs read consecutive memory, so a vector of outputs reads a vector load.
// The buffer is larger than the padded image where the kernels need it: rows down to the end
// of the last block of output rows, and columns to the end of the last (partial) vector.
struct PaddedPlanes {
  int top = 0;    // zero rows above the source
  int left = 0;   // zero columns left of the source
  int rows = 0;   // rows per plane
  int pitch = 0;  // scalars per row
  std::size_t plane() const { return std::size_t(rows) * pitch; }
};
//! [grouped-layout]

/// Forward: the input x, padded by (pad_h, pad_w). Backward-weight reads it the same way.
template <typename T>
PaddedPlanes x_layout(const ConvGeometry& g) {
  const int lanes = int(Batch<T>::size);
  PaddedPlanes L;
  L.top = g.pad_h;
  L.left = g.pad_w;
  L.rows = std::max(g.pad_h + g.H, round_up(g.P(), kRowMultiple) + (g.R - 1) * g.dil_h);
  L.pitch = std::max(g.pad_w + g.W, round_up(g.Q(), lanes) + (g.S - 1) * g.dil_w);
  return L;
}

// Backward-data is a stride-1 convolution of dy with the flipped kernel and the "full" padding
// (R-1)*dil - pad, which is negative when pad > (R-1)*dil (then dy is cropped instead). dy is
// stored with top = max(that, 0) and the dx convolution starts reading `shift` = top - that
// rows (and columns) into the buffer.
int full_pad(int kernel, int dilation, int pad) {
  return (kernel - 1) * dilation - pad;
}

/// Backward: dy, read by the dx convolution (from `shift`) and by backward-weight (from the
/// source's first pixel).
template <typename T>
PaddedPlanes dy_layout(const ConvGeometry& g) {
  const int lanes = int(Batch<T>::size);
  const int pad_h = full_pad(g.R, g.dil_h, g.pad_h), pad_w = full_pad(g.S, g.dil_w, g.pad_w);
  PaddedPlanes L;
  L.top = std::max(pad_h, 0);
  L.left = std::max(pad_w, 0);
  const int shift_h = L.top - pad_h, shift_w = L.left - pad_w;
  L.rows = std::max(L.top + g.P(), shift_h + round_up(g.H, kRowMultiple) + (g.R - 1) * g.dil_h);
  L.pitch = std::max(L.left + round_up(g.Q(), lanes),
                     shift_w + round_up(g.W, lanes) + (g.S - 1) * g.dil_w);
  return L;
}

/// Copies `planes` (H, W) source planes into the interiors of a padded stack. The padding is
/// not written: it is zeroed once per call (it is the same zeros for every image and group).
/// Rows are copied by vectors, not with std::copy: a 16-float row is too short for memmove's
/// call to pay off, and this runs for every row of every image and group.
template <typename T>
void copy_interiors(const T* src, int planes, int H, int W, const PaddedPlanes& L, T* dst) {
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  for (int c = 0; c < planes; ++c) {
    const T* from = src + std::size_t(c) * H * W;
    T* to = dst + c * L.plane() + std::size_t(L.top) * L.pitch + L.left;
    for (int h = 0; h < H; ++h, from += W, to += L.pitch) {
      int w = 0;
      for (; w + lanes <= W; w += lanes) B::load_unaligned(from + w).store_unaligned(to + w);
      for (; w < W; ++w) to[w] = from[w];
    }
  }
}

/// One stride-1 convolution of a stack of padded planes: forward (x, Cg planes in, P x Q out)
/// and backward-data (dy, Kg planes in, H x W out) are both one of these.
struct PlaneConv {
  int in_channels = 0;             // planes read
  int R = 0, S = 0;                // kernel
  int dil_h = 1, dil_w = 1;        // dilation
  int pitch = 0;                   // of the padded input
  std::size_t plane = 0;           // of the padded input
  int out_rows = 0, out_cols = 0;  // output plane, stored densely (pitch out_cols)
};

//! [grouped-block]
// out_k (rows, cols) = bias_k + sum over c, r, s of w_k[c, r, s] * in_c(shifted by the tap),
// for KB output channels at once, PB output rows at a time and one vector of `lanes` outputs
// along each row. The KB x PB vector sums stay in registers while every tap is added: each
// vector loaded from the input feeds KB fused multiply-adds and each broadcast weight PB of
// them, and the KB*PB independent sums hide the FMA latency. KR > 0 is the kernel height known
// at compile time, with no vertical dilation: then input row p0 + j serves every r with
// i + r = j, and the compiler loads it once for all of them (PB + KR - 1 loads per column tap
// instead of PB*KR). Rows past the last output row (up to a multiple of PB) are computed from
// the zero rows of the buffer and not stored; lanes past the last column are not stored either.
template <int KB, int PB, int KR, typename T>
void conv_block(const PlaneConv& job, const T* in, const T* w, const T* bias, T* out,
                std::size_t out_plane) {
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  const int R = KR > 0 ? KR : job.R, dil_h = KR > 0 ? 1 : job.dil_h;
  const int CRS = job.in_channels * R * job.S;
  for (int p0 = 0; p0 < job.out_rows; p0 += PB) {
    for (int q0 = 0; q0 < job.out_cols; q0 += lanes) {
      B acc[KB][PB];
      for (int kb = 0; kb < KB; ++kb)
        for (int i = 0; i < PB; ++i) acc[kb][i] = B(bias ? bias[kb] : T(0));
      for (int c = 0; c < job.in_channels; ++c) {
        const T* in_c = in + c * job.plane + std::size_t(p0) * job.pitch + q0;
        const T* w_c = w + c * R * job.S;
        for (int s = 0; s < job.S; ++s) {
          const T* in_s = in_c + s * job.dil_w;
          for (int r = 0; r < R; ++r) {
            for (int i = 0; i < PB; ++i) {
              B x_v = B::load_unaligned(in_s + std::size_t(i + r * dil_h) * job.pitch);
              keep_in_register(x_v);
              for (int kb = 0; kb < KB; ++kb)
                acc[kb][i] = xsimd::fma(B(w_c[kb * CRS + r * job.S + s]), x_v, acc[kb][i]);
            }
          }
        }
      }
      // Stored with compile-time indices only, so that the sums never leave the registers.
      const int cols = std::min(lanes, job.out_cols - q0);
      for (int i = 0; i < PB; ++i) {
        if (p0 + i >= job.out_rows) break;
        for (int kb = 0; kb < KB; ++kb) {
          T* to = out + kb * out_plane + std::size_t(p0 + i) * job.out_cols + q0;
          if (cols == lanes) {
            acc[kb][i].store_unaligned(to);
          } else {  // the last, partial vector of the row
            alignas(64) T tail[lanes];
            acc[kb][i].store_aligned(tail);
            std::copy(tail, tail + cols, to);
          }
        }
      }
    }
  }
}
//! [grouped-block]

/// All `out_channels` of one group: blocks of 8 output channels x 2 rows, then one block each
/// of 4 x 4, 2 x 8 and 1 x 8 for the rest (so any channel count needs at most 4 kinds of block).
/// w holds the out_channels filters one after the other (in_channels*R*S each).
template <int KR, typename T>
void conv_planes_of_height(const PlaneConv& job, const T* in, const T* w, const T* bias, T* out,
                           int out_channels, std::size_t out_plane) {
  const std::size_t CRS = std::size_t(job.in_channels) * job.R * job.S;
  const auto at = [&](int k) { return bias ? bias + k : nullptr; };
  int k = 0;
  for (; k + 8 <= out_channels; k += 8)
    conv_block<8, 2, KR>(job, in, w + k * CRS, at(k), out + k * out_plane, out_plane);
  if (out_channels - k >= 4) {
    conv_block<4, 4, KR>(job, in, w + k * CRS, at(k), out + k * out_plane, out_plane);
    k += 4;
  }
  if (out_channels - k >= 2) {
    conv_block<2, 8, KR>(job, in, w + k * CRS, at(k), out + k * out_plane, out_plane);
    k += 2;
  }
  if (out_channels - k >= 1)
    conv_block<1, 8, KR>(job, in, w + k * CRS, at(k), out + k * out_plane, out_plane);
}

/// The blocks with the 3-row kernel known at compile time when that is the layer (3x3, no
/// vertical dilation: the layers grouped convolutions are made of), any kernel otherwise.
template <typename T>
void conv_planes(const PlaneConv& job, const T* in, const T* w, const T* bias, T* out,
                 int out_channels, std::size_t out_plane) {
  if (job.R == 3 && job.dil_h == 1) {
    conv_planes_of_height<3>(job, in, w, bias, out, out_channels, out_plane);
  } else {
    conv_planes_of_height<0>(job, in, w, bias, out, out_channels, out_plane);
  }
}

/// What backward-weight needs to find its operands: x in the forward layout, dy from its
/// first pixel, both per group.
struct WeightGradJob {
  int P = 0, Q = 0;
  int R = 0, S = 0, dil_h = 1, dil_w = 1;
  int CRS = 0;  // taps per output channel: Cg*R*S
  int x_pitch = 0, dy_pitch = 0;
  std::size_t x_plane = 0, dy_plane = 0;
};

//! [grouped-weight-grad]
// dw_k[tap] += sum over p, q of dy_k[p, q] * x_c[p + r*dil_h, q + s*dil_w] for KB output
// channels and TB taps (c, r, s) at once (taps numbered t = (c*R + r)*S + s from t0). Per
// output vector position the KB dy vectors are loaded once and each of the TB input vectors
// feeds KB multiply-adds into KB x TB vector sums. The sums live in `sums` between calls (one
// vector per output channel and tap, the lanes are added once at the very end), so the lanes
// of the last, partial vector of a row must add nothing: dy is zero past column Q.
template <int KB, int TB, typename T>
void weight_grad_block(const WeightGradJob& job, const T* xp, const T* dyp, int t0, T* sums) {
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  const int RS = job.R * job.S;
  std::size_t off[TB];  // where tap t0 + t reads, relative to the output's position
  for (int t = 0; t < TB; ++t) {
    const int tap = t0 + t, c = tap / RS, r = tap % RS / job.S, s = tap % job.S;
    off[t] = c * job.x_plane + std::size_t(r) * job.dil_h * job.x_pitch + s * job.dil_w;
  }
  B acc[KB][TB];
  for (int kb = 0; kb < KB; ++kb)
    for (int t = 0; t < TB; ++t)
      acc[kb][t] = B::load_unaligned(sums + (std::size_t(kb) * job.CRS + t0 + t) * lanes);
  for (int p = 0; p < job.P; ++p) {
    const T* x_p = xp + std::size_t(p) * job.x_pitch;
    const T* dy_p = dyp + std::size_t(p) * job.dy_pitch;
    for (int q0 = 0; q0 < job.Q; q0 += lanes) {
      B dy_v[KB];
      for (int kb = 0; kb < KB; ++kb) dy_v[kb] = B::load_unaligned(dy_p + kb * job.dy_plane + q0);
      for (int t = 0; t < TB; ++t) {
        B x_v = B::load_unaligned(x_p + off[t] + q0);
        keep_in_register(x_v);
        for (int kb = 0; kb < KB; ++kb) acc[kb][t] = xsimd::fma(dy_v[kb], x_v, acc[kb][t]);
      }
    }
  }
  for (int kb = 0; kb < KB; ++kb)
    for (int t = 0; t < TB; ++t)
      acc[kb][t].store_unaligned(sums + (std::size_t(kb) * job.CRS + t0 + t) * lanes);
}
//! [grouped-weight-grad]

/// The taps of KB output channels: blocks of TB taps, then the remaining taps one by one.
template <int KB, int TB, typename T>
void weight_grad_channels(const WeightGradJob& job, const T* xp, const T* dyp, T* sums) {
  int t = 0;
  for (; t + TB <= job.CRS; t += TB) weight_grad_block<KB, TB>(job, xp, dyp, t, sums);
  for (; t < job.CRS; ++t) weight_grad_block<KB, 1>(job, xp, dyp, t, sums);
}

/// All Kg output channels of one group: 4 at a time (x 6 taps: 24 sums in registers), then
/// 2 (x 8 taps) and 1 (x 8 taps). `sums` holds Kg*CRS vectors.
template <typename T>
void weight_grad_group(const WeightGradJob& job, const T* xp, const T* dyp, int Kg, T* sums) {
  constexpr int lanes = int(Batch<T>::size);
  const auto sums_of = [&](int k) { return sums + std::size_t(k) * job.CRS * lanes; };
  int k = 0;
  for (; k + 4 <= Kg; k += 4)
    weight_grad_channels<4, 6>(job, xp, dyp + k * job.dy_plane, sums_of(k));
  if (Kg - k >= 2) {
    weight_grad_channels<2, 8>(job, xp, dyp + k * job.dy_plane, sums_of(k));
    k += 2;
  }
  if (Kg - k >= 1) weight_grad_channels<1, 8>(job, xp, dyp + k * job.dy_plane, sums_of(k));
}

/// Adds the lanes of a vector, in order (deterministic).
template <typename T>
T lane_sum(const T* v) {
  return std::accumulate(v, v + Batch<T>::size, T(0));
}

/// w (K, Cg, R, S) -> wt (C, Kg, R, S) with wt[c][k][r][s] = w[k][c][R-1-r][S-1-s] within each
/// group: the weight of the convolution that maps dy back to dx.
template <typename T>
void flip_transpose(const ConvGeometry& g, const T* w, T* wt) {
  const int Cg = g.C / g.G, Kg = g.K / g.G, RS = g.R * g.S;
  for (int grp = 0; grp < g.G; ++grp)
    for (int k = 0; k < Kg; ++k)
      for (int c = 0; c < Cg; ++c) {
        const T* from = w + (std::size_t(grp * Kg + k) * Cg + c) * RS;
        T* to = wt + (std::size_t(grp * Cg + c) * Kg + k) * RS;
        std::reverse_copy(from, from + RS, to);  // (r, s) -> (R-1-r, S-1-s): the taps reversed
      }
}

/// The kernels are only correct for the layers grouped_supports accepts; anything else is a
/// bug in the caller's choice of algorithm, reported with the values found.
void require_grouped(const ConvGeometry& g, const char* who) {
  if (!grouped_supports(g)) {
    throw Error(std::string(who) + ": in_channels=" + std::to_string(g.C) +
                ", out_channels=" + std::to_string(g.K) + ", groups=" + std::to_string(g.G) +
                ", stride (" + std::to_string(g.stride_h) + ", " + std::to_string(g.stride_w) +
                "); expected stride 1 and at most 32 input and 32 output channels per group");
  }
}

/// Threads worth starting: at most one per image and one per ~256 kflop (starting a team
/// costs microseconds, more than a small layer's whole forward pass).
int grouped_threads(const ConvGeometry& g) {
  const double flops = 2.0 * g.N * g.K * g.P() * g.Q() * (g.C / g.G) * g.R * g.S;
  const int by_work = int(std::min(flops / (1 << 18), 1e6));
  return std::max(1, std::min({omp_get_max_threads(), g.N, by_work}));
}

PlaneConv forward_job(const ConvGeometry& g, const PaddedPlanes& L) {
  return {g.C / g.G, g.R, g.S, g.dil_h, g.dil_w, L.pitch, L.plane(), g.P(), g.Q()};
}

template <typename T>
std::size_t forward_per_thread(const ConvGeometry& g) {
  return std::size_t(g.C / g.G) * x_layout<T>(g).plane();
}

/// One thread's backward scratch: the group's padded x and dy planes, then vector sums of dw
/// (K x Cg*R*S vectors) and db (K vectors).
template <typename T>
std::size_t backward_per_thread(const ConvGeometry& g) {
  const std::size_t CRS = std::size_t(g.C / g.G) * g.R * g.S;
  return std::size_t(g.C / g.G) * x_layout<T>(g).plane() +
         std::size_t(g.K / g.G) * dy_layout<T>(g).plane() +
         (std::size_t(g.K) * CRS + g.K) * Batch<T>::size;
}

/// Whether backward-weight is left to im2col's GEMM: when one thread's vector sums of dw (one
/// vector per output channel and tap) outgrow a core's L2 (1 MB here), every image streams them
/// through the cache and the GEMM, whose C is only K x Cg*R*S scalars, is faster.
/// 5x5_32-32_16x16 (1.6 MB of sums): dw 25.5 ms -> 21.2 ms, 1 thread, dx staying on the grouped
/// kernel (15.8 ms against im2col's 20.8); 3x3d2_32-32_16x16 (0.6 MB): 9.5 against 8.9, a tie.
bool weight_grad_by_gemm(const ConvGeometry& g) {
  constexpr std::size_t kL2Bytes = std::size_t(1) << 20;
  return std::size_t(g.K) * (g.C / g.G) * g.R * g.S * sizeof(Batch<float>) > kL2Bytes;
}

}  // namespace

// Counted for float, whose wider vectors need at least as many scalars as double's (longer
// rows, more lanes per sum): the size is enough for either.
std::size_t conv2d_grouped_workspace_size(const ConvGeometry& g) {
  const std::size_t flipped = std::size_t(g.K) * (g.C / g.G) * g.R * g.S;
  const std::size_t own = flipped + std::size_t(grouped_threads(g)) *
                                        std::max(forward_per_thread<float>(g),
                                                 backward_per_thread<float>(g));
  return weight_grad_by_gemm(g) ? std::max(own, conv2d_im2col_workspace_size(g)) : own;
}

//! [conv-grouped-forward]
// x: (N, C, H, W)  w: (K, C/G, R, S)  b: (K)  y: (N, K, P, Q)
// Images in parallel; per image and group, copy the Cg input planes into the padded buffer
// (its padding zeroed once per call) and compute the group's Kg output planes from it.
template <typename T>
void conv2d_forward_grouped(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                            std::vector<T>& workspace) {
  require_grouped(g, "conv2d_forward_grouped");
  const int Cg = g.C / g.G, Kg = g.K / g.G, threads = grouped_threads(g);
  const std::size_t HW = std::size_t(g.H) * g.W, PQ = std::size_t(g.P()) * g.Q();
  const std::size_t CRS = std::size_t(Cg) * g.R * g.S, per_thread = forward_per_thread<T>(g);
  const PaddedPlanes L = x_layout<T>(g);
  const PlaneConv job = forward_job(g, L);
  T* scratch = reserve_workspace(workspace, threads * per_thread);
#pragma omp parallel num_threads(threads)
  {
    T* xp = scratch + omp_get_thread_num() * per_thread;
    std::fill(xp, xp + per_thread, T(0));
#pragma omp for schedule(static)
    for (int n = 0; n < g.N; ++n) {
      for (int grp = 0; grp < g.G; ++grp) {
        const int c0 = grp * Cg, k0 = grp * Kg;
        copy_interiors(x + (std::size_t(n) * g.C + c0) * HW, Cg, g.H, g.W, L, xp);
        // the next group's planes follow these (after the last group, the next image's)
        const bool more = n + 1 < g.N || grp + 1 < g.G;
        if (more) prefetch_next(x + (std::size_t(n) * g.C + c0 + Cg) * HW, Cg * HW);
        conv_planes(job, xp, w + k0 * CRS, bias ? bias + k0 : nullptr,
                    y + (std::size_t(n) * g.K + k0) * PQ, Kg, PQ);
      }
    }
  }
}
//! [conv-grouped-forward]

//! [conv-grouped-backward]
// Images in parallel. Per image and group: copy x and dy into their padded buffers, then
//   db_k += sum of dy_k                     (vector sums over the padded plane: zeros add 0)
//   dw   += the products of dy and x         (weight_grad_group, vector sums per tap)
//   dx    = dy convolved with the flipped, transposed weights (the forward's conv_planes)
// Each thread keeps its own dw and db vector sums; at the end their lanes and the threads are
// added in order, so results do not vary run to run. A layer whose dw sums do not fit in L2
// (weight_grad_by_gemm) gets dw from im2col's GEMM first, and the loop below skips it.
template <typename T>
void conv2d_backward_grouped(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                             T* dw, T* db, std::vector<T>& workspace) {
  require_grouped(g, "conv2d_backward_grouped");
  if (dw && weight_grad_by_gemm(g)) {
    conv2d_backward_im2col(g, x, w, dy, static_cast<T*>(nullptr), dw, static_cast<T*>(nullptr),
                           workspace);
    dw = nullptr;
  }
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  const int Cg = g.C / g.G, Kg = g.K / g.G, P = g.P(), Q = g.Q(), threads = grouped_threads(g);
  const std::size_t HW = std::size_t(g.H) * g.W, PQ = std::size_t(P) * Q;
  const std::size_t CRS = std::size_t(Cg) * g.R * g.S, flipped = std::size_t(g.K) * CRS;
  const std::size_t per_thread = backward_per_thread<T>(g);
  const PaddedPlanes Lx = x_layout<T>(g), Ld = dy_layout<T>(g);
  const int shift_h = Ld.top - full_pad(g.R, g.dil_h, g.pad_h);
  const int shift_w = Ld.left - full_pad(g.S, g.dil_w, g.pad_w);
  const PlaneConv dx_job = {Kg, g.R, g.S, g.dil_h, g.dil_w, Ld.pitch, Ld.plane(), g.H, g.W};
  const WeightGradJob dw_job = {P,        Q,        g.R,      g.S,        g.dil_h,   g.dil_w,
                                int(CRS), Lx.pitch, Ld.pitch, Lx.plane(), Ld.plane()};
  const std::size_t x_planes = std::size_t(Cg) * Lx.plane(),
                    dy_planes = std::size_t(Kg) * Ld.plane();
  const std::size_t dw_sums = std::size_t(g.K) * CRS * lanes;
  T* scratch = reserve_workspace(workspace, flipped + threads * per_thread);
  T* wt = scratch;
  if (dx) flip_transpose(g, w, wt);
#pragma omp parallel num_threads(threads)
  {
    T* xp = scratch + flipped + omp_get_thread_num() * per_thread;
    T* dyp = xp + x_planes;
    T* sums = dyp + dy_planes;  // dw sums (K x CRS vectors), then db sums (K vectors)
    std::fill(xp, xp + per_thread, T(0));
    const T* dy_first = dyp + std::size_t(Ld.top) * Ld.pitch + Ld.left;  // dy pixel (0, 0)
    const T* dy_shifted = dyp + std::size_t(shift_h) * Ld.pitch + shift_w;
#pragma omp for schedule(static)
    for (int n = 0; n < g.N; ++n) {
      for (int grp = 0; grp < g.G; ++grp) {
        const int c0 = grp * Cg, k0 = grp * Kg;
        copy_interiors(dy + (std::size_t(n) * g.K + k0) * PQ, Kg, P, Q, Ld, dyp);
        const bool more = n + 1 < g.N || grp + 1 < g.G;  // then prefetch the planes after these
        if (more) prefetch_next(dy + (std::size_t(n) * g.K + k0 + Kg) * PQ, Kg * PQ);
        if (db) {
          for (int k = 0; k < Kg; ++k) {
            T* sum_k = sums + dw_sums + std::size_t(k0 + k) * lanes;
            B acc = B::load_unaligned(sum_k);
            for (int p = 0; p < P; ++p) {
              const T* row = dy_first + k * Ld.plane() + std::size_t(p) * Ld.pitch;
              for (int q0 = 0; q0 < Q; q0 += lanes) acc += B::load_unaligned(row + q0);
            }
            acc.store_unaligned(sum_k);
          }
        }
        if (dw) {
          copy_interiors(x + (std::size_t(n) * g.C + c0) * HW, Cg, g.H, g.W, Lx, xp);
          if (more) prefetch_next(x + (std::size_t(n) * g.C + c0 + Cg) * HW, Cg * HW);
          weight_grad_group(dw_job, xp, dy_first, Kg, sums + k0 * CRS * lanes);
        }
        if (dx) {
          conv_planes(dx_job, dy_shifted, wt + c0 * std::size_t(Kg) * g.R * g.S,
                      static_cast<const T*>(nullptr), dx + (std::size_t(n) * g.C + c0) * HW, Cg,
                      HW);
        }
      }
    }
  }
  for (int t = 0; t < threads; ++t) {  // in thread order, so results do not vary run to run
    const T* sums = scratch + flipped + t * per_thread + x_planes + dy_planes;
    if (dw)
      for (std::size_t i = 0; i < flipped; ++i) dw[i] += lane_sum(sums + i * lanes);
    if (db)
      for (int k = 0; k < g.K; ++k) db[k] += lane_sum(sums + dw_sums + std::size_t(k) * lanes);
  }
}
//! [conv-grouped-backward]

#define CONVBOOK_INSTANTIATE(T)                                                                   \
  template void conv2d_forward_grouped<T>(const ConvGeometry&, const T*, const T*, const T*, T*,  \
                                          std::vector<T>&);                                       \
  template void conv2d_backward_grouped<T>(const ConvGeometry&, const T*, const T*, const T*, T*, \
                                           T*, T*, std::vector<T>&);
CONVBOOK_INSTANTIATE(float)
CONVBOOK_INSTANTIATE(double)
#undef CONVBOOK_INSTANTIATE

}  // namespace convbook
