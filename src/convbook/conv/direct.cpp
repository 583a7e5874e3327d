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
#include <array>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <xsimd/xsimd.hpp>

#include "convbook/conv/workspace.hpp"
#include "convbook/error.hpp"

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

// ---- depthwise at stride 1, "same" padding: whole planes as flat vectors ----

//! [depthwise-same-layout]
// At stride 1 with the padding that keeps the size (P = H and Q = W, i.e. 2*pad = dil*(R-1):
// 3x3 with padding 1, 5x5 with 2, 3x3 dilated 2 with 2, the layers of MobileNet), output
// (p, q) has the flat index o = p*W + q of input pixel (p, q), and tap (r, s) reads input
//   o + off(r, s),  off(r, s) = (r*dil_h - pad_h)*W + (s*dil_w - pad_w):
// every tap is one fixed shift of the whole flattened plane. A plane is then ceil(H*W / lanes)
// vectors, read and written where it lies in x and y, without padding or copies: an 8x8 plane
// is 4 vectors of 16 floats, multiply-added 9 times for a 3x3 kernel. What a shift gets wrong
// are the lanes whose input is outside the image: a row above or below it (the index leaves the
// plane, into the neighbouring plane or out of the tensor), or a column left or right of it
// (q + s*dil_w - pad_w outside [0, W) wraps into the neighbouring row). Each (vector, tap) gets
// a bit mask of its lanes whose input is inside, computed once per call, and the loads are
// masked: AVX-512 loads only those lanes, zeroes the others, and never touches the memory
// behind a cleared bit, so reading next to the first or the last plane of x cannot fault.
constexpr int kMaxSameTaps = 49;  // up to 7x7 kernels; larger ones take the packed path

struct SamePlane {
  int HW = 0;                                         // values in a plane
  int vectors = 0;                                    // covering them, the last maybe partial
  int taps = 0;                                       // R*S
  std::size_t masks = 0;                              // mask table: taps + 1 per vector
  std::array<std::ptrdiff_t, kMaxSameTaps> offset{};  // off(r, s) at tap r*S + s
};
//! [depthwise-same-layout]

bool same_depthwise(const ConvGeometry& g) {
  return g.stride_h == 1 && g.stride_w == 1 && g.P() == g.H && g.Q() == g.W &&
         g.R * g.S <= kMaxSameTaps;
}

std::ptrdiff_t same_offset(const ConvGeometry& g, int r, int s) {
  return std::ptrdiff_t(r * g.dil_h - g.pad_h) * g.W + (s * g.dil_w - g.pad_w);
}

template <typename T>
SamePlane same_layout(const ConvGeometry& g) {
  constexpr int lanes = int(Batch<T>::size);
  SamePlane F;
  F.HW = g.H * g.W;
  F.vectors = (F.HW + lanes - 1) / lanes;
  F.taps = g.R * g.S;
  F.masks = std::size_t(F.vectors) * (F.taps + 1);
  for (int r = 0; r < g.R; ++r)
    for (int s = 0; s < g.S; ++s) F.offset[r * g.S + s] = same_offset(g, r, s);
  return F;
}

//! [depthwise-masked-load]
// A lane mask (bit l for lane l) is stored in one scalar of the T workspace, its bytes copied
// (memcpy, which compiles to a plain load), so the table needs no second workspace.
using LaneMask = std::uint32_t;

template <typename T>
LaneMask mask_at(const T* table, std::size_t i) {
  LaneMask m;
  std::memcpy(&m, table + i, sizeof m);
  return m;
}

/// The lanes of p whose bit is set in `mask`, zero in the others, which are not read: one
/// masked load with AVX-512, lane by lane elsewhere.
inline Batch<float> load_masked(const float* p, LaneMask mask) {
#if XSIMD_WITH_AVX512F
  return _mm512_maskz_loadu_ps(__mmask16(mask), p);
#else
  alignas(64) float v[Batch<float>::size];
  for (std::size_t l = 0; l < Batch<float>::size; ++l) v[l] = mask >> l & 1 ? p[l] : 0.0f;
  return Batch<float>::load_aligned(v);
#endif
}

inline Batch<double> load_masked(const double* p, LaneMask mask) {
#if XSIMD_WITH_AVX512F
  return _mm512_maskz_loadu_pd(__mmask8(mask), p);
#else
  alignas(64) double v[Batch<double>::size];
  for (std::size_t l = 0; l < Batch<double>::size; ++l) v[l] = mask >> l & 1 ? p[l] : 0.0;
  return Batch<double>::load_aligned(v);
#endif
}

/// Stores the lanes of v whose bit is set in `mask` to p, leaving the others in memory as they
/// are: the last, partial vector of a plane.
inline void store_masked(float* p, LaneMask mask, const Batch<float>& v) {
#if XSIMD_WITH_AVX512F
  _mm512_mask_storeu_ps(p, __mmask16(mask), v);
#else
  alignas(64) float lanes[Batch<float>::size];
  v.store_aligned(lanes);
  for (std::size_t l = 0; l < Batch<float>::size; ++l)
    if (mask >> l & 1) p[l] = lanes[l];
#endif
}

inline void store_masked(double* p, LaneMask mask, const Batch<double>& v) {
#if XSIMD_WITH_AVX512F
  _mm512_mask_storeu_pd(p, __mmask8(mask), v);
#else
  alignas(64) double lanes[Batch<double>::size];
  v.store_aligned(lanes);
  for (std::size_t l = 0; l < Batch<double>::size; ++l)
    if (mask >> l & 1) p[l] = lanes[l];
#endif
}
//! [depthwise-masked-load]

/// table[v*(R*S + 1) + tap]: the lanes of vector v whose input under the tap is inside the
/// image; entry R*S: the lanes of v inside the plane (o < H*W).
template <typename T>
void same_masks(const ConvGeometry& g, const SamePlane& F, T* table) {
  constexpr int lanes = int(Batch<T>::size);
  for (int v = 0, i = 0; v < F.vectors; ++v) {
    for (int r = 0; r <= g.R; ++r) {  // r == R: the plane itself
      for (int s = 0; s < (r < g.R ? g.S : 1); ++s, ++i) {
        LaneMask m = 0;
        for (int l = 0; l < lanes; ++l) {
          const int o = v * lanes + l, p = o / g.W + (r < g.R ? r * g.dil_h - g.pad_h : 0),
                    q = o % g.W + (r < g.R ? s * g.dil_w - g.pad_w : 0);
          if (o < F.HW && p >= 0 && p < g.H && q >= 0 && q < g.W) m |= LaneMask(1) << l;
        }
        std::memcpy(table + i, &m, sizeof m);
      }
    }
  }
}

/// The entry of the mask table for vector v of a plane: the lanes whose input under `tap` is
/// inside the image, or with tap == R*S the lanes inside the plane.
template <typename T>
LaneMask vector_mask(const SamePlane& F, const T* masks, int v, int tap) {
  return mask_at(masks, std::size_t(v) * (F.taps + 1) + tap);
}

/// Inlined whatever GCC's heuristics say: the helpers of the depthwise kernels below hand whole
/// planes of registers (std::array<Batch<T>, N>) to each other, which a call would spill to the
/// stack. Without it the 8x8 depthwise forward of `convbook bench conv` took 1.0 instead of 0.27
/// ms.
#define CONVBOOK_INLINE [[gnu::always_inline]] inline

//! [depthwise-unroll]
// f(std::integral_constant<int, 0>()), ..., f(std::integral_constant<int, N-1>()): a loop the
// compiler's front end unrolls, so that the arrays it indexes (the VB sums of a register block)
// become registers. With a plain `for (vb < VB)` loop GCC 12 kept them on the stack (its scalar
// replacement runs before it unrolls loops) and stored every sum after every FMA, as the
// disassembly of the kernel showed.
template <typename F, int... I>
CONVBOOK_INLINE void unroll_impl(F& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, I>()), ...);
}

template <int N, typename F>
CONVBOOK_INLINE void unroll(F f) {
  unroll_impl(f, std::make_integer_sequence<int, N>());
}
//! [depthwise-unroll]

//! [depthwise-same-kernel]
// out[v] = init + sum over taps of w[tap] * (in shifted by off(tap))[v], masked, for VB
// consecutive vectors v0 .. v0+VB-1, kept in registers while the taps go by: per tap one
// broadcast weight, VB masked loads and VB FMAs. `in` and `out` are a plane of x and y.
template <int VB, typename T>
void same_block(const SamePlane& F, const T* in, const T* masks, const T* w, int v0, T init,
                T* out) {
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  B acc[VB];
  unroll<VB>([&](auto vb) { acc[vb] = B(init); });
  for (int tap = 0; tap < F.taps; ++tap) {
    const T* src = in + std::ptrdiff_t(v0) * lanes + F.offset[tap];
    const B w_tap(w[tap]);
    unroll<VB>([&](auto vb) {
      const LaneMask m = vector_mask(F, masks, v0 + vb, tap);
      acc[vb] = xsimd::fma(w_tap, load_masked(src + vb * lanes, m), acc[vb]);
    });
  }
  unroll<VB>([&](auto vb) {
    T* out_v = out + (v0 + vb) * lanes;
    if (v0 + vb + 1 < F.vectors) {
      acc[vb].store_unaligned(out_v);
    } else {  // the plane's last vector, maybe partial
      store_masked(out_v, vector_mask(F, masks, v0 + vb, F.taps), acc[vb]);
    }
  });
}
//! [depthwise-same-kernel]

//! [depthwise-same-backward-block]
// One pass over a block of VB vectors of a plane for all three gradients, tap by tap:
//   dx[v] += w[R*S - 1 - tap] * (dy shifted by off(tap))[v]   (the kernel turned by 180 degrees)
//   sums[tap] += dy[v] * (x shifted by off(tap))[v]           (dw, as a vector sum)
//   sums[R*S] += dy[v]                                         (db)
// all masked; both loads of a (vector, tap) share its mask, and the dy vectors of the block
// stay in registers. dx == nullptr skips the data gradient, x == nullptr the weight gradient;
// each sum is loaded and stored once per tap and block.
template <int VB, typename T>
void same_backward_block(const SamePlane& F, const T* x, const T* dy, const T* masks,
                         const T* w_last, int v0, T* dx, T* sums) {
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  auto mask = [&](int vb, int tap) { return vector_mask(F, masks, v0 + vb, tap); };
  B dy_v[VB], dx_v[VB];
  B db_sum = B::load_unaligned(sums + F.taps * lanes);
  unroll<VB>([&](auto vb) {
    dy_v[vb] = load_masked(dy + (v0 + vb) * lanes, mask(vb, F.taps));
    dx_v[vb] = B(T(0));
    db_sum += dy_v[vb];
  });
  db_sum.store_unaligned(sums + F.taps * lanes);
  for (int tap = 0; tap < F.taps; ++tap) {
    const std::ptrdiff_t at = std::ptrdiff_t(v0) * lanes + F.offset[tap];
    const B w_tap(w_last[-tap]);
    B dw_sum = x ? B::load_unaligned(sums + tap * lanes) : B(T(0));
    unroll<VB>([&](auto vb) {
      const LaneMask m = mask(vb, tap);
      if (dx) dx_v[vb] = xsimd::fma(w_tap, load_masked(dy + at + vb * lanes, m), dx_v[vb]);
      if (x) dw_sum = xsimd::fma(dy_v[vb], load_masked(x + at + vb * lanes, m), dw_sum);
    });
    if (x) dw_sum.store_unaligned(sums + tap * lanes);
  }
  if (!dx) return;
  unroll<VB>([&](auto vb) {
    T* out_v = dx + (v0 + vb) * lanes;
    if (v0 + vb + 1 < F.vectors) {
      dx_v[vb].store_unaligned(out_v);
    } else {  // the plane's last vector, maybe partial
      store_masked(out_v, mask(vb, F.taps), dx_v[vb]);
    }
  });
}
//! [depthwise-same-backward-block]

/// Calls op(std::integral_constant<int, VB>(), v0) on the vectors [v, end) in blocks of VB, then
/// the rest in blocks of VB/2, VB/4, ..., 1, so that the block kernels get their block size at
/// compile time and keep their sums in registers.
template <int VB, typename Op>
void over_blocks(int v, int end, Op op) {
  for (; v + VB <= end; v += VB) op(std::integral_constant<int, VB>(), v);
  if constexpr (VB > 1) over_blocks<VB / 2>(v, end, op);
}

/// Vectors of a plane computed together, their sums in registers: an 8x8 plane of floats is one
/// block. 8 was no faster on 16x16 planes (each vector needs its own mask register, and AVX-512
/// has 7).
constexpr int kSameBlock = 4;

/// One plane of the forward: same_block over its vectors.
template <typename T>
void same_plane(const SamePlane& F, const T* in, const T* masks, const T* w, T init, T* out) {
  over_blocks<kSameBlock>(0, F.vectors, [&](auto vb, int v0) {
    same_block<decltype(vb)::value>(F, in, masks, w, v0, init, out);
  });
}

/// One plane of the backward: same_backward_block over its vectors.
template <typename T>
void same_backward_plane(const SamePlane& F, const T* x, const T* dy, const T* masks,
                         const T* w_last, T* dx, T* sums) {
  over_blocks<kSameBlock>(0, F.vectors, [&](auto vb, int v0) {
    same_backward_block<decltype(vb)::value>(F, x, dy, masks, w_last, v0, dx, sums);
  });
}

/// Asks for a plane two planes ahead of the one being computed to be brought into the cache.
/// Each 8x8 plane is only 4 cache lines read in a burst, too short for the hardware prefetcher
/// to run ahead of: with the hint the 8x8 forward took 0.99 instead of 1.2 ms (one thread).
/// Prefetching past the end of a tensor is harmless: a prefetch never faults.
template <typename T>
void prefetch_plane(const SamePlane& F, const T* plane) {
  constexpr int line = 64 / sizeof(T);
  for (int k = 0; k < F.HW; k += line) __builtin_prefetch(plane + k);
}

/// Adds the lanes of a vector sum, in order (deterministic).
template <typename T>
T lane_sum(const Batch<T>& v) {
  alignas(64) T partial[Batch<T>::size];
  v.store_aligned(partial);
  return std::accumulate(partial, partial + Batch<T>::size, T(0));
}

// ---- depthwise 3x3 on small planes: the whole plane in registers ----

//! [depthwise-small-idea]
// A plane of at most kSmallVectors vectors fits in registers whole: an 8x8 plane of floats is
// 4 vectors of 16 lanes, two image rows each. same_block loads it 9 times, once per tap, and
// the loads set its pace: neither plain instead of masked loads nor (wrong, but timed) aligned
// ones made it faster, while the same FMAs on shifts of a plane loaded once did. For a 3x3
// kernel with padding 1 (the depthwise layers of MobileNet and ShuffleNet) the nine taps
// factor into three columns and three rows:
//   h_s[o]    = x[o + s - 1], zero where column q + s - 1 is outside the image  (s = 0, 1, 2)
//   part_r[o] = w[r][0] * h_0[o] + w[r][1] * h_1[o] + w[r][2] * h_2[o]           (kernel row r)
//   y[o]      = part_0[o - W] + part_1[o] + part_2[o + W],  zero outside the plane
// The plane moves one column (h_0, h_2) and the row sums one row (part_0, part_2) by taking
// lanes across two neighbouring vectors, one shuffle (vpermt2ps) each: per vector 4 shuffles,
// 9 FMAs and 2 adds, all in registers, and the plane is loaded once. The backward factors the
// same way: dx is this convolution of dy with the kernel turned by 180 degrees, and
//   dw[r][s] = sum_o dy[o - (r - 1) W] * h_s[o]
// (dy moved by rows, x by columns: 4 shuffles per vector for the 9 weight gradients).
constexpr int kSmallVectors = 4;
//! [depthwise-small-idea]

//! [depthwise-lane-shift]
/// A window of lanes across two vectors: lanes [start, start + lanes) of lo's lanes followed by
/// hi's (0 <= start <= lanes). With AVX-512 one vpermt2ps / vpermt2pd whose index vector is
/// built once; elsewhere through memory.
template <typename T>
struct LaneShift {
#if XSIMD_WITH_AVX512F
  __m512i index;  // lane l takes value start + l of (lo, hi)
#else
  int start;
#endif
};

template <typename T>
LaneShift<T> lane_shift(int start) {
#if XSIMD_WITH_AVX512F
  if constexpr (sizeof(T) == 4) {
    return {
        _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(start))};
  } else {
    return {_mm512_add_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7), _mm512_set1_epi64(start))};
  }
#else
  return {start};
#endif
}

template <typename T>
CONVBOOK_INLINE Batch<T> shifted(const Batch<T>& lo, const Batch<T>& hi,
                                 const LaneShift<T>& shift) {
#if XSIMD_WITH_AVX512F
  if constexpr (sizeof(T) == 4) {
    return _mm512_permutex2var_ps(lo, shift.index, hi);
  } else {
    return _mm512_permutex2var_pd(lo, shift.index, hi);
  }
#else
  alignas(64) T both[2 * Batch<T>::size];
  lo.store_aligned(both);
  hi.store_aligned(both + Batch<T>::size);
  return Batch<T>::load_unaligned(both + shift.start);
#endif
}

/// v where the bit of `mask` is set, zero in the other lanes.
template <typename T>
CONVBOOK_INLINE Batch<T> zero_unless(LaneMask mask, const Batch<T>& v) {
#if XSIMD_WITH_AVX512F
  if constexpr (sizeof(T) == 4) {
    return _mm512_maskz_mov_ps(__mmask16(mask), v);
  } else {
    return _mm512_maskz_mov_pd(__mmask8(mask), v);
  }
#else
  alignas(64) T lanes[Batch<T>::size];
  v.store_aligned(lanes);
  for (std::size_t l = 0; l < Batch<T>::size; ++l)
    if (!(mask >> l & 1)) lanes[l] = T(0);
  return Batch<T>::load_aligned(lanes);
#endif
}
//! [depthwise-lane-shift]

/// The four moves of the small-plane kernels, for planes W values wide.
template <typename T>
struct SmallShifts {
  LaneShift<T> left, right, up, down;  // lane o gets o - 1, o + 1, o - W, o + W
  explicit SmallShifts(int W)
      : left(lane_shift<T>(int(Batch<T>::size) - 1)),
        right(lane_shift<T>(1)),
        up(lane_shift<T>(int(Batch<T>::size) - W)),
        down(lane_shift<T>(W)) {}
};

/// A plane of NV vectors in registers, with a zero vector before and after it (index v + 1
/// holds vector v), so that the shifts at its ends bring in zeros.
template <int NV, typename T>
using PaddedPlane = std::array<Batch<T>, NV + 2>;

/// Loads a plane of the tensor: whole vectors as they are, the last masked to the plane.
template <int NV, typename T>
CONVBOOK_INLINE PaddedPlane<NV, T> load_plane(const SamePlane& F, const T* plane, const T* masks) {
  PaddedPlane<NV, T> p;
  p[0] = p[NV + 1] = Batch<T>(T(0));
  unroll<NV>([&](auto v) {
    const T* at = plane + v * Batch<T>::size;
    p[v + 1] = v + 1 < F.vectors ? Batch<T>::load_unaligned(at)
                                 : load_masked(at, vector_mask(F, masks, v, F.taps));
  });
  return p;
}

/// Stores NV vectors to a plane of the tensor, the last masked to the plane.
template <int NV, typename T>
CONVBOOK_INLINE void store_plane(const SamePlane& F, const std::array<Batch<T>, NV>& out,
                                 const T* masks, T* plane) {
  unroll<NV>([&](auto v) {
    T* at = plane + v * Batch<T>::size;
    if (v + 1 < F.vectors) {
      out[v].store_unaligned(at);
    } else {
      store_masked(at, vector_mask(F, masks, v, F.taps), out[v]);
    }
  });
}

/// h[s][v] = vector v of the plane moved by s - 1 columns, zero where that column is outside the
/// image: the masks of taps (1, 0) and (1, 2), which hold exactly those lanes.
template <int NV, typename T>
CONVBOOK_INLINE std::array<std::array<Batch<T>, NV>, 3> column_shifts(const SamePlane& F,
                                                                      const PaddedPlane<NV, T>& in,
                                                                      const SmallShifts<T>& sh,
                                                                      const T* masks) {
  std::array<std::array<Batch<T>, NV>, 3> h;
  unroll<NV>([&](auto v) {
    h[0][v] = zero_unless(vector_mask(F, masks, v, 3), shifted(in[v], in[v + 1], sh.left));
    h[1][v] = in[v + 1];
    h[2][v] = zero_unless(vector_mask(F, masks, v, 5), shifted(in[v + 1], in[v + 2], sh.right));
  });
  return h;
}

//! [depthwise-small-conv]
/// The 3x3 convolution with padding 1 of a plane in registers, the weights w9 broadcast (row
/// by row): the row sums of the columns, then the rows moved into place.
template <int NV, typename T>
CONVBOOK_INLINE std::array<Batch<T>, NV> small_conv(const SamePlane& F,
                                                    const PaddedPlane<NV, T>& in,
                                                    const Batch<T> (&w9)[9],
                                                    const SmallShifts<T>& sh, const T* masks) {
  using B = Batch<T>;
  const auto h = column_shifts<NV>(F, in, sh, masks);
  PaddedPlane<NV, T> part[3];  // kernel row r summed over its columns, zero ends
  for (int r = 0; r < 3; ++r) {
    part[r][0] = part[r][NV + 1] = B(T(0));
    unroll<NV>([&](auto v) {
      part[r][v + 1] = xsimd::fma(w9[3 * r + 2], h[2][v],
                                  xsimd::fma(w9[3 * r + 1], h[1][v], w9[3 * r] * h[0][v]));
    });
  }
  std::array<B, NV> out;
  unroll<NV>([&](auto v) {
    out[v] = shifted(part[0][v], part[0][v + 1], sh.up) + part[1][v + 1] +
             shifted(part[2][v + 1], part[2][v + 2], sh.down);
  });
  return out;
}
//! [depthwise-small-conv]

/// One plane of the forward on a small plane: y = small_conv(x) + init.
template <int NV, typename T>
void small_forward_plane(const SamePlane& F, const SmallShifts<T>& sh, const T* in, const T* masks,
                         const T* w, T init, T* out) {
  using B = Batch<T>;
  B w9[9];
  for (int t = 0; t < 9; ++t) w9[t] = B(w[t]);
  std::array<B, NV> y = small_conv<NV>(F, load_plane<NV>(F, in, masks), w9, sh, masks);
  unroll<NV>([&](auto v) { y[v] += B(init); });
  store_plane<NV>(F, y, masks, out);
}

//! [depthwise-small-backward]
/// One plane of the backward on a small plane: dx = small_conv(dy) with the kernel turned by
/// 180 degrees; sums[3r + s] += dy moved by 1 - r rows times x moved by s - 1 columns (dw, as
/// vector sums), sums[9] += dy (db). x == nullptr skips dw, dx == nullptr skips dx.
template <int NV, typename T>
void small_backward_plane(const SamePlane& F, const SmallShifts<T>& sh, const T* x, const T* dy,
                          const T* masks, const T* w, T* dx, T* sums) {
  using B = Batch<T>;
  constexpr int lanes = int(B::size);
  const PaddedPlane<NV, T> grad = load_plane<NV>(F, dy, masks);
  B db_sum = B::load_unaligned(sums + 9 * lanes);
  unroll<NV>([&](auto v) { db_sum += grad[v + 1]; });
  db_sum.store_unaligned(sums + 9 * lanes);
  if (dx) {
    B w9[9];
    for (int t = 0; t < 9; ++t) w9[t] = B(w[8 - t]);
    store_plane<NV>(F, small_conv<NV>(F, grad, w9, sh, masks), masks, dx);
  }
  if (!x) return;
  const auto h = column_shifts<NV>(F, load_plane<NV>(F, x, masks), sh, masks);
  std::array<std::array<B, NV>, 3> rows;  // rows[r][v]: dy moved by 1 - r rows
  unroll<NV>([&](auto v) {
    rows[0][v] = shifted(grad[v + 1], grad[v + 2], sh.down);
    rows[1][v] = grad[v + 1];
    rows[2][v] = shifted(grad[v], grad[v + 1], sh.up);
  });
  for (int r = 0; r < 3; ++r) {
    for (int s = 0; s < 3; ++s) {
      B dw_sum = B::load_unaligned(sums + (3 * r + s) * lanes);
      unroll<NV>([&](auto v) { dw_sum = xsimd::fma(rows[r][v], h[s][v], dw_sum); });
      dw_sum.store_unaligned(sums + (3 * r + s) * lanes);
    }
  }
}
//! [depthwise-small-backward]

/// Calls op(std::integral_constant<int, NV>()) with NV = F.vectors (1 .. kSmallVectors).
template <typename Op>
void with_small_vectors(const SamePlane& F, Op op) {
  static_assert(kSmallVectors == 4, "one call per plane size");
  if (F.vectors == 1) return op(std::integral_constant<int, 1>());
  if (F.vectors == 2) return op(std::integral_constant<int, 2>());
  if (F.vectors == 3) return op(std::integral_constant<int, 3>());
  op(std::integral_constant<int, 4>());
}

/// One thread's scratch for the "same" backward: per channel, the dw and db vector sums.
template <typename T>
std::size_t same_per_thread(const ConvGeometry& g) {
  return std::size_t(g.C) * (g.R * g.S + 1) * Batch<T>::size;
}

/// One thread's scratch for the depthwise kernels, flat (same) or packed (any stride).
template <typename T>
std::size_t depthwise_scratch(const ConvGeometry& g) {
  return same_depthwise(g) ? same_per_thread<T>(g) : depthwise_per_thread<T>(g);
}

}  // namespace

// Counted for float, whose wider vectors (more lanes) need at least as many scalars as
// double's: the sizes are enough for either.
std::size_t conv2d_direct_workspace_size(const ConvGeometry& g) {
  return std::size_t(direct_threads(g)) * direct_per_thread<float>(g);
}

template <typename T>
bool depthwise_in_registers(const ConvGeometry& g) {
  constexpr int lanes = int(Batch<T>::size);
  return depthwise_supports(g) && same_depthwise(g) && g.R == 3 && g.S == 3 && g.dil_h == 1 &&
         g.dil_w == 1 && g.W <= lanes && g.H * g.W <= kSmallVectors * lanes;
}
template bool depthwise_in_registers<float>(const ConvGeometry&);
template bool depthwise_in_registers<double>(const ConvGeometry&);

std::size_t conv2d_depthwise_workspace_size(const ConvGeometry& g) {
  // The mask table is the exception: one entry per vector, and double has twice the vectors.
  const std::size_t masks = same_depthwise(g) ? same_layout<double>(g).masks : 0;
  return masks + std::size_t(threads_for(g, g.N * g.C)) * depthwise_scratch<float>(g);
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

//! [depthwise-same-forward]
// The N*C planes, in memory order, shared among the threads; each is read from x and written to
// y where it lies, by small_forward_plane when it fits in registers, else by same_plane.
template <typename T>
void forward_depthwise_same(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                            std::vector<T>& workspace) {
  const SamePlane F = same_layout<T>(g);
  const int planes = g.N * g.C, RS = g.R * g.S;
  T* masks = reserve_workspace(workspace, F.masks);
  same_masks(g, F, masks);
  // plane(in, w_c, init, out) on every plane, shared among the threads in memory order
  auto over_planes = [&](auto plane) {
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads_for(g, planes))
    for (int n = 0; n < g.N; ++n) {
      for (int c = 0; c < g.C; ++c) {
        const std::size_t at = (std::size_t(n) * g.C + c) * F.HW;
        prefetch_plane(F, x + at + 2 * F.HW);
        plane(x + at, w + std::size_t(c) * RS, bias ? bias[c] : T(0), y + at);
      }
    }
  };
  if (depthwise_in_registers<T>(g)) {
    const SmallShifts<T> sh(g.W);
    with_small_vectors(F, [&](auto nv) {
      over_planes([&](const T* in, const T* w_c, T init, T* out) {
        small_forward_plane<decltype(nv)::value>(F, sh, in, masks, w_c, init, out);
      });
    });
  } else {
    over_planes([&](const T* in, const T* w_c, T init, T* out) {
      same_plane(F, in, masks, w_c, init, out);
    });
  }
}
//! [depthwise-same-forward]

//! [depthwise-same-backward]
// The N*C planes in memory order, shared among the threads as in the forward:
//   dx = the same convolution of dy with the kernel turned by 180 degrees
//   dw[tap] += dy . (x shifted by off(tap)), db += sum of dy
// in one pass per plane (small_backward_plane when the plane fits in registers, else
// same_backward_block).
// Each thread keeps per channel R*S + 1 vector sums, reduced across lanes and added in thread
// order at the end (deterministic for a given thread count). Giving each thread whole blocks of
// 16 channels instead (no partial sums to combine) reads x, dy and dx in runs of 4 to 16 KB,
// C*H*W floats apart, and was slower: on one thread 2.3 against 2.1 ms for the backward of
// dw3x3_128_8x8, 4.2 against 3.0 ms for dw3x3_64_16x16.
template <typename T>
void backward_depthwise_same(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                             T* dw, T* db, std::vector<T>& workspace) {
  constexpr int lanes = int(Batch<T>::size);
  const SamePlane F = same_layout<T>(g);
  const int planes = g.N * g.C, RS = g.R * g.S, threads = threads_for(g, planes);
  const std::size_t per_thread = same_per_thread<T>(g), sums_size = std::size_t(RS + 1) * lanes;
  T* masks = reserve_workspace(workspace, F.masks + threads * per_thread);
  same_masks(g, F, masks);
  // plane(x_i, dy_i, w_c, dx_i, sums_c) on every plane, shared among the threads in memory order
  auto over_planes = [&](auto plane) {
#pragma omp parallel num_threads(threads)
    {
      T* sums = masks + F.masks + omp_get_thread_num() * per_thread;  // per channel: dw, then db
      std::fill(sums, sums + per_thread, T(0));
#pragma omp for collapse(2) schedule(static)
      for (int n = 0; n < g.N; ++n) {
        for (int c = 0; c < g.C; ++c) {
          const std::size_t at = (std::size_t(n) * g.C + c) * F.HW;
          plane(dw ? x + at : nullptr, dy + at, w + std::size_t(c) * RS, dx ? dx + at : nullptr,
                sums + c * sums_size);
        }
      }
    }
  };
  if (depthwise_in_registers<T>(g)) {
    const SmallShifts<T> sh(g.W);
    with_small_vectors(F, [&](auto nv) {
      over_planes([&](const T* x_i, const T* dy_i, const T* w_c, T* dx_i, T* sums_c) {
        small_backward_plane<decltype(nv)::value>(F, sh, x_i, dy_i, masks, w_c, dx_i, sums_c);
      });
    });
  } else {
    over_planes([&](const T* x_i, const T* dy_i, const T* w_c, T* dx_i, T* sums_c) {
      same_backward_plane(F, x_i, dy_i, masks, w_c + RS - 1, dx_i, sums_c);
    });
  }
  for (int t = 0; t < threads; ++t) {  // in thread order, so results do not vary run to run
    const T* sums = masks + F.masks + t * per_thread;
    for (int c = 0; c < g.C; ++c) {
      const T* sums_c = sums + c * sums_size;
      for (int tap = 0; dw && tap < RS; ++tap)
        dw[std::size_t(c) * RS + tap] += lane_sum(Batch<T>::load_unaligned(sums_c + tap * lanes));
      if (db) db[c] += lane_sum(Batch<T>::load_unaligned(sums_c + RS * lanes));
    }
  }
}
//! [depthwise-same-backward]

}  // namespace

//! [conv-depthwise-forward]
// x: (N, C, H, W)  w: (C, 1, R, S)  b: (C)  y: (N, C, P, Q)
// Every (n, c) plane is an independent single-channel convolution. Stride 1 with the padding
// that keeps the size: forward_depthwise_same. Other layers: pack the plane, run the direct
// plane kernel with Cg = 1. The N*C planes are shared among the threads.
template <typename T>
void conv2d_forward_depthwise(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                              std::vector<T>& workspace) {
  require_depthwise(g, "conv2d_forward_depthwise");
  if (same_depthwise(g)) {
    forward_depthwise_same(g, x, w, bias, y, workspace);
    return;
  }
  const int planes = g.N * g.C, RS = g.R * g.S;
  const std::size_t HW = std::size_t(g.H) * g.W, PQ = std::size_t(g.P()) * g.Q();
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
// "Same" layers go to backward_depthwise_same. Others: channels in parallel, images inside: the
// thread that owns channel c is the only one to add to dw[c] and db[c], so there are no partial
// sums to combine.
template <typename T>
void conv2d_backward_depthwise(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                               T* dw, T* db, std::vector<T>& workspace) {
  require_depthwise(g, "conv2d_backward_depthwise");
  const int RS = g.R * g.S;
  const std::size_t HW = std::size_t(g.H) * g.W, PQ = std::size_t(g.P()) * g.Q();
  if (same_depthwise(g)) {
    backward_depthwise_same(g, x, w, dy, dx, dw, db, workspace);
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
