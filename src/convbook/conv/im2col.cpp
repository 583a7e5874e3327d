/// @file im2col.cpp
/// @brief Convolution as GEMM: same loops as conv_naive.cpp, but the C·R·S reduction becomes
/// a GEMM over the im2col matrix, whose slivers the GEMM packs straight from the image.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups, Cg = C/G and Kg = K/G channels per group.
#include "convbook/conv/im2col.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "convbook/conv/workspace.hpp"
#include "convbook/gemm/gemm.hpp"
#include "convbook/gemm/transpose.hpp"
#include "convbook/prefetch.hpp"

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
// At stride 2 along a row, tap s lands on every other column, 2q + v0: a scatter with gaps that
// does not vectorize. So each row of x is first summed split by column parity, the even columns
// in its first half and the odd ones in its second (for tap s a contiguous run: column 2q + v0
// is entry q + (v0 - parity) / 2 of its half), and put back in column order once the channel is
// done. Every pixel still receives its terms in the same order (r, then s).
constexpr int kMaxSplitRow = 1024;  // wider rows (far beyond CIFAR's) keep the scatter

template <typename T>
void col2im(const ConvGeometry& g, const T* col, T* x) {
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G;
  const bool halves = g.stride_w == 2 && g.W <= kMaxSplitRow;
  const int even = (g.W + 1) / 2;  // columns 0, 2, 4, ...: the first half of a row while summing
  std::fill(x, x + std::size_t(Cg) * g.H * g.W, T(0));
  for (int c = 0; c < Cg; ++c) {
    T* x_c = x + std::size_t(c) * g.H * g.W;
    for (int r = 0; r < g.R; ++r) {
      for (int s = 0; s < g.S; ++s) {
        const T* row = col + std::size_t((c * g.R + r) * g.S + s) * P * Q;
        int q_lo, q_hi;
        inside_range(g.W, g.stride_w, g.pad_w, s * g.dil_w, Q, q_lo, q_hi);
        const int v0 = s * g.dil_w - g.pad_w;
        const int parity = v0 & 1;  // also for v0 < 0 (two's complement)
        for (int p = 0; p < P; ++p) {
          const int h = p * g.stride_h - g.pad_h + r * g.dil_h;
          if (h < 0 || h >= g.H) continue;  // taps in the padding have no pixel to go back to
          const T* in = row + p * Q;
          T* out = x_c + std::size_t(h) * g.W;
          if (g.stride_w == 1) {  // contiguous on both sides: the compiler vectorizes the sum
            out += v0;
          } else if (halves) {  // the half of tap s's parity, from its first column
            out += (parity ? even : 0) + (v0 - parity) / 2;
          } else {
            for (int q = q_lo; q < q_hi; ++q) out[q * g.stride_w + v0] += in[q];
            continue;
          }
          for (int q = q_lo; q < q_hi; ++q) out[q] += in[q];
        }
      }
    }
    for (int h = 0; halves && h < g.H; ++h) {  // the halves back in column order
      T* out = x_c + std::size_t(h) * g.W;
      T split[kMaxSplitRow];
      std::copy(out, out + g.W, split);
      for (int i = 0; i < even; ++i) out[2 * i] = split[i];
      for (int i = 0; i < g.W / 2; ++i) out[2 * i + 1] = split[even + i];
    }
  }
}
//! [col2im]

//! [im2col-packers]
// The implicit im2col: the GEMM's B slivers are packed straight from the image, so the column
// matrix is never written. Entry (row, j) of col, with row = (c*R + r)*S + s and output position
// j = p*Q + q, is pixel (p*stride_h + r*dil_h, q*stride_w + s*dil_w) of channel c of the image
// with its zero border written out (pad_image). With the border in memory there is nothing to
// test, and one more trick makes every run of a row of col along an output row contiguous:
// each padded image row is stored as stride_w phases, the columns v with v % stride_w == 0,
// then those with v % stride_w == 1, ... Output q + 1 reads column v + stride_w, the next
// pixel of the same phase. At stride 1 the layout is the plain padded image.
template <typename T>
void pad_image(const ConvGeometry& g, const T* x, T* padded) {
  const int Cg = g.C / g.G, Hp = g.H + 2 * g.pad_h, Wp = g.W + 2 * g.pad_w, sw = g.stride_w;
  const int phase_width = (Wp + sw - 1) / sw, row_width = sw * phase_width;
  std::fill(padded, padded + padded_image_size(g), T(0));
  if (sw == 2) {  // both phases of a row in one pass: each pair of pixels splits in two
    // Pixel w goes to padded column w + pad_w: pixels 2j to phase pad_w % 2, pixels 2j + 1 to
    // the other phase, one place further along when pad_w is odd.
    const int half = g.pad_w / 2, odd = g.pad_w % 2;
    for (int c = 0; c < Cg; ++c) {
      if (c + 2 < Cg) prefetch_next(x + std::size_t(c + 2) * g.H * g.W, std::size_t(g.H) * g.W);
      for (int h = 0; h < g.H; ++h) {
        const T* in = x + (std::size_t(c) * g.H + h) * g.W;
        T* row = padded + (std::size_t(c) * Hp + g.pad_h + h) * row_width;
        T* even_px = row + odd * phase_width + half;
        T* odd_px = row + (1 - odd) * phase_width + half + odd;
        for (int j = 0; j < g.W / 2; ++j) {
          even_px[j] = in[2 * j];
          odd_px[j] = in[2 * j + 1];
        }
        if (g.W % 2) even_px[g.W / 2] = in[g.W - 1];
      }
    }
    return;
  }
  for (int phase = 0; phase < sw; ++phase) {
    // Pixel i of this phase is padded column v = phase + i*sw, image column v - pad_w: the
    // pixels [lo, hi) are inside the image, the others stay zero.
    const int first = g.pad_w - phase, last = g.pad_w + g.W - 1 - phase;
    const int lo = first <= 0 ? 0 : (first + sw - 1) / sw;
    const int hi = last < 0 ? 0 : std::min(phase_width, last / sw + 1);
    for (int c = 0; c < Cg; ++c) {
      // two planes ahead: each plane is a new page, where the hardware prefetcher restarts
      if (phase == 0 && c + 2 < Cg)
        prefetch_next(x + std::size_t(c + 2) * g.H * g.W, std::size_t(g.H) * g.W);
      for (int h = 0; h < g.H; ++h) {
        T* out = padded + (std::size_t(c) * Hp + g.pad_h + h) * row_width + phase * phase_width;
        const T* in = x + (std::size_t(c) * g.H + h) * g.W + phase - g.pad_w;
        if (sw == 1) {
          std::copy(in + lo, in + hi, out + lo);
        } else {
          for (int i = lo; i < hi; ++i) out[i] = in[i * sw];
        }
      }
    }
  }
}

std::size_t padded_image_size(const ConvGeometry& g) {
  const int Wp = g.W + 2 * g.pad_w, sw = g.stride_w;
  return std::size_t(g.C / g.G) * (g.H + 2 * g.pad_h) * (sw * ((Wp + sw - 1) / sw));
}

namespace {

// The distances a packer walks in the padded image, worked out once per sliver (g.Q() and the
// phase arithmetic are divisions, too slow to redo for each row of a sliver).
struct PaddedWalk {
  int Q;                        // outputs per output row
  std::size_t output_row_step;  // pixels between outputs p and p+1: stride_h padded rows
  std::size_t plane;            // pixels between channels c and c+1
  std::size_t tap_row_step;     // pixels between taps r and r+1: dil_h padded rows
  int phase_width;              // pixels in one phase of a padded row
  int stride_w, dil_w;
  explicit PaddedWalk(const ConvGeometry& g)
      : Q(g.Q()),
        phase_width((g.W + 2 * g.pad_w + g.stride_w - 1) / g.stride_w),
        stride_w(g.stride_w),
        dil_w(g.dil_w) {
    const std::size_t row_width = std::size_t(stride_w) * phase_width;
    output_row_step = g.stride_h * row_width;
    plane = (g.H + 2 * g.pad_h) * row_width;
    tap_row_step = g.dil_h * row_width;
  }
};

// Row (c, r, s) of col, kept as counters so that walking down the rows needs no division, and
// the padded pixel its tap sees at output (0, 0): padded column s*dil_w, which is pixel
// `index` of phase `phase`.
struct ColRow {
  int c, r, s, phase, index;
  ColRow(const ConvGeometry& g, const PaddedWalk& walk, int row)
      : c(row / (g.R * g.S)), r(row / g.S % g.R), s(row % g.S) {
    phase = s * walk.dil_w % walk.stride_w;
    index = s * walk.dil_w / walk.stride_w;
  }
  void next(const ConvGeometry& g, const PaddedWalk& walk) {
    if (++s < g.S) {  // column + dil_w
      phase += walk.dil_w % walk.stride_w;
      index += walk.dil_w / walk.stride_w;
      if (phase >= walk.stride_w) {
        phase -= walk.stride_w;
        ++index;
      }
      return;
    }
    s = phase = index = 0;
    if (++r < g.R) return;
    r = 0;
    ++c;
  }
  std::size_t offset(const PaddedWalk& walk) const {
    return c * walk.plane + r * walk.tap_row_step + phase * walk.phase_width + index;
  }
};

// Rows of col are handled this many at a time: their offsets in the padded image are listed
// first (the counting in ColRow), then the copies run over the list in a tight loop.
constexpr int kRowsAtATime = 256;

// Lists the offsets of rows row0, row0+1, ..., row0+rows-1 of col (rows <= kRowsAtATime).
inline void list_row_offsets(const ConvGeometry& g, const PaddedWalk& walk, int row0, int rows,
                             std::size_t* offsets) {
  ColRow row(g, walk, row0);
  for (int i = 0; i < rows; ++i, row.next(g, walk)) offsets[i] = row.offset(walk);
}

// Copies one run of n contiguous pixels for each listed row of col: from in + offsets[i] to
// out + i * out_step. A run of exactly one cache line (16 floats: Q = 16, the CIFAR layers at
// 16 x 16) gets a copy whose size the compiler knows, one vector load and store per row;
// memcpy with a size known only at run time would be a call per row, more than the copy.
template <typename T>
inline void copy_runs(const T* in, const std::size_t* offsets, int rows, int n, T* out,
                      int out_step) {
  constexpr int kLine = 64 / sizeof(T);
  if (n == kLine) {
    for (int i = 0; i < rows; ++i)
      std::memcpy(out + std::size_t(i) * out_step, in + offsets[i], 64);
    return;
  }
  for (int i = 0; i < rows; ++i) {
    const T* from = in + offsets[i];
    T* to = out + std::size_t(i) * out_step;
    for (int k = 0; k < n; ++k) to[k] = from[k];
  }
}

}  // namespace

// B = col (Cg*R*S x P*Q). The sliver's nr output positions j0, j0+1, ... fall into a few runs
// along output rows (two for nr = 32 and Q = 16); for every row of col a run is one piece of a
// padded image row, contiguous. Runs outside, rows inside: the run's place in the image is
// worked out once for all the rows.
template <typename T>
void Im2colPacker<T>::pack(int p0, int kc, int j0, int nr, T* Bp) const {
  const PaddedWalk walk(g_);
  const int cols = std::min(nr, g_.P() * walk.Q - j0);
  std::size_t offsets[kRowsAtATime];
  for (int i0 = 0; i0 < kc; i0 += kRowsAtATime) {
    const int rows = std::min(kRowsAtATime, kc - i0);
    list_row_offsets(g_, walk, p0 + i0, rows, offsets);
    T* out = Bp + std::size_t(i0) * nr;
    int p = j0 / walk.Q, q = j0 % walk.Q;
    for (int done = 0; done < cols; ++p, q = 0) {
      const int n = std::min(walk.Q - q, cols - done);
      const T* in = padded_ + p * walk.output_row_step + q;
      copy_runs(in, offsets, rows, n, out + done, nr);
      done += n;
    }
  }
  if (cols < nr) {  // the last sliver of the image: zeros past P*Q
    for (int i = 0; i < kc; ++i)
      std::fill(Bp + std::size_t(i) * nr + cols, Bp + (i + 1) * nr, T(0));
  }
}

// One run of n output positions of `rows` columns of col, written down the sliver:
// out[i * nr + c] = in[offsets[c] + i]. With AVX-512 (float), blocks of 16 columns x 16
// positions are transposed in registers (transpose.hpp): 16 vector loads and 16 vector stores
// instead of 256 scalar copies; what is left over is copied one value at a time.
template <typename T>
void copy_run_down_sliver(const T* in, const std::size_t* offsets, int rows, int n, T* out,
                          int nr) {
  int block_rows = 0, block_n = 0;  // the part the 16 x 16 blocks cover
#ifdef CONVBOOK_HAVE_TRANSPOSE_16X16
  if constexpr (std::is_same_v<T, float>) {
    block_rows = rows / 16 * 16;
    block_n = n / 16 * 16;
    for (int c0 = 0; c0 < block_rows; c0 += 16) {
      for (int i0 = 0; i0 < block_n; i0 += 16) {
        const float* runs[16];
        for (int c = 0; c < 16; ++c) runs[c] = in + offsets[c0 + c] + i0;
        transpose_runs_16x16(runs, out + std::size_t(i0) * nr + c0, std::size_t(nr));
      }
    }
  }
#endif
  for (int c = 0; c < rows; ++c) {
    const T* from = in + offsets[c];
    for (int i = c < block_rows ? block_n : 0; i < n; ++i) out[std::size_t(i) * nr + c] = from[i];
  }
}

// B = col^T (P*Q x Cg*R*S). Column c of the sliver is row j0 + c of col from output position
// p0 on, kc entries in runs along output rows, each run read contiguously and written down the
// sliver with stride nr. (Reading the nr rows side by side to write sliver rows contiguously
// was 1.7x slower: 32 scattered loads per row.)
template <typename T>
void Im2colTransposedPacker<T>::pack(int p0, int kc, int j0, int nr, T* Bp) const {
  const PaddedWalk walk(g_);
  const int cols = std::min(nr, g_.C / g_.G * g_.R * g_.S - j0);
  std::size_t offsets[kRowsAtATime];
  for (int c0 = 0; c0 < cols; c0 += kRowsAtATime) {
    const int rows = std::min(kRowsAtATime, cols - c0);
    list_row_offsets(g_, walk, j0 + c0, rows, offsets);
    int p = p0 / walk.Q, q = p0 % walk.Q;
    for (int done = 0; done < kc; ++p, q = 0) {
      const int n = std::min(walk.Q - q, kc - done);
      const T* in = padded_ + p * walk.output_row_step + q;
      copy_run_down_sliver(in, offsets, rows, n, Bp + std::size_t(done) * nr + c0, nr);
      done += n;
    }
  }
  if (cols < nr) {  // the last sliver: zeros past Cg*R*S
    for (int i = 0; i < kc; ++i)
      std::fill(Bp + std::size_t(i) * nr + cols, Bp + (i + 1) * nr, T(0));
  }
}
//! [im2col-packers]

namespace {

/// Images run in parallel, one per thread at a time; a batch of one leaves the threads to the
/// GEMM instead.
int conv_threads(const ConvGeometry& g) {
  return std::max(1, std::min(omp_get_max_threads(), g.N));
}

/// At stride 1 the data gradient is itself a convolution: dx = conv(dy, w flipped in r and s,
/// in- and out-channels swapped) with padding dil*(R-1) - pad, which must not be negative.
/// Output (p, q) = (h + pad - r*dil, ...) takes pixel h through tap r, so tap R-1-r of the
/// flipped kernel, at padding dil*(R-1) - pad, sees it at position h.
bool dx_is_a_convolution(const ConvGeometry& g) {
  return g.stride_h == 1 && g.stride_w == 1 && g.dil_h * (g.R - 1) >= g.pad_h &&
         g.dil_w * (g.S - 1) >= g.pad_w;
}

/// The geometry of that convolution: dy (K channels, P x Q) in, dx (C channels, H x W) out.
ConvGeometry dx_geometry(const ConvGeometry& g) {
  ConvGeometry t = g;
  t.C = g.K;
  t.K = g.C;
  t.H = g.P();
  t.W = g.Q();
  t.pad_h = g.dil_h * (g.R - 1) - g.pad_h;
  t.pad_w = g.dil_w * (g.S - 1) - g.pad_w;
  return t;
}

/// Scalars of one thread's scratch: the padded group of the image, then for the data gradient
/// either the padded group of dy (stride 1) or dcol (Cg*R*S x P*Q, for col2im).
std::size_t per_thread_size(const ConvGeometry& g) {
  const std::size_t CRS = std::size_t(g.C / g.G) * g.R * g.S;
  const std::size_t dx_scratch =
      dx_is_a_convolution(g) ? padded_image_size(dx_geometry(g)) : CRS * std::size_t(g.P()) * g.Q();
  return padded_image_size(g) + dx_scratch;
}

/// The backward cuts the batch into this many shares of consecutive images, handed to the
/// threads as they come free (a thread the OS pauses does not hold the other up), each with
/// its own dw and db partial sums, added in share order at the end: the result does not depend
/// on which thread took which share.
int backward_shares(const ConvGeometry& g) {
  return std::min(g.N, 4 * conv_threads(g));
}

/// Scalars of one share's partial sums: dw (K x Cg*R*S), then db (K).
std::size_t share_size(const ConvGeometry& g) {
  return std::size_t(g.K) * (g.C / g.G) * g.R * g.S + g.K;
}

/// Scalars of the flipped weights the stride-1 data gradient convolves with (shared).
std::size_t flipped_weight_size(const ConvGeometry& g) {
  return dx_is_a_convolution(g) ? std::size_t(g.K) * (g.C / g.G) * g.R * g.S : 0;
}

}  // namespace

std::size_t conv2d_im2col_workspace_size(const ConvGeometry& g) {
  return flipped_weight_size(g) + std::size_t(conv_threads(g)) * per_thread_size(g) +
         std::size_t(backward_shares(g)) * share_size(g);
}

//! [conv-im2col-forward]
// x: (N, C, H, W)  w: (K, C/G, R, S)  b: (K)  y: (N, K, P, Q)
// Per image n and group: y[n, group] (Kg x PQ) = w[group] (Kg x CgRS) * col (CgRS x PQ) + b,
// with col = im2col(x[n, group]) never stored: the GEMM's packer reads it from the padded
// image, in this thread's part of the workspace. Images are handed out one at a time
// (dynamic), so a thread the OS delays does not hold the others up.
template <typename T>
void conv2d_forward_im2col(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                           std::vector<T>& workspace) {
  const int PQ = g.P() * g.Q(), Cg = g.C / g.G, Kg = g.K / g.G, CRS = Cg * g.R * g.S;
  T* scratch = reserve_workspace(workspace, conv2d_im2col_workspace_size(g));
#pragma omp parallel for schedule(dynamic) num_threads(conv_threads(g))
  for (int n = 0; n < g.N; ++n) {
    T* padded = scratch + omp_get_thread_num() * per_thread_size(g);
    for (int grp = 0; grp < g.G; ++grp) {
      const T* w_g = w + std::size_t(grp) * Kg * CRS;
      T* y_g = y + (std::size_t(n) * g.K + grp * Kg) * PQ;
      // The bias is the GEMM's starting value: y = b, then y += w * col (beta = 1).
      if (bias) {
        for (int k = 0; k < Kg; ++k) {
          std::fill(y_g + std::size_t(k) * PQ, y_g + std::size_t(k + 1) * PQ, bias[grp * Kg + k]);
        }
      }
      pad_image(g, x + (std::size_t(n) * g.C + grp * Cg) * g.H * g.W, padded);
      gemm_packed_b(false, Kg, PQ, CRS, T(1), w_g, CRS, Im2colPacker<T>(g, padded), T(bias ? 1 : 0),
                    y_g, PQ);
    }
  }
}
//! [conv-im2col-forward]

//! [conv-im2col-backward]
// Per image n and group, with col = im2col(x[n, group]) packed from x again, never stored:
//   dw[group] += dy[n, group] (Kg x PQ) * col^T (PQ x CgRS)              (weight)
//   dx[n, group] = conv(dy[n, group], w flipped, in/out swapped)          (data, stride 1)
//             or col2im(w[group]^T (CgRS x Kg) * dy[n, group] (Kg x PQ))  (data, strided)
//   db        += dy summed over n, p, q                                   (bias)
// Shares of consecutive images run in parallel, each summing its dw and db apart; the partial
// sums are then added in share order.
template <typename T>
void conv2d_backward_im2col(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                            T* dw, T* db, std::vector<T>& workspace) {
  const int PQ = g.P() * g.Q(), HW = g.H * g.W, Cg = g.C / g.G, Kg = g.K / g.G;
  const int RS = g.R * g.S, CRS = Cg * RS;
  const int threads = conv_threads(g);
  const bool dx_conv = dx_is_a_convolution(g);
  const ConvGeometry g_dx = dx_geometry(g);
  T* w_flip = reserve_workspace(workspace, conv2d_im2col_workspace_size(g));
  T* scratch = w_flip + flipped_weight_size(g);
  // w_flip[group] is (Cg x Kg*R*S): w_flip[c][k][R-1-r][S-1-s] = w[group*Kg + k][c][r][s].
  if (dx && dx_conv) {
    for (int grp = 0; grp < g.G; ++grp) {
      for (int k = 0; k < Kg; ++k) {
        for (int c = 0; c < Cg; ++c) {
          const T* from = w + (std::size_t(grp * Kg + k) * Cg + c) * RS;
          T* to = w_flip + (std::size_t(grp * Cg + c) * Kg + k) * RS;
          for (int i = 0; i < RS; ++i) to[RS - 1 - i] = from[i];
        }
      }
    }
  }
  const std::size_t dw_size = std::size_t(g.K) * CRS;
  const int shares = backward_shares(g);
  T* partial_sums = scratch + std::size_t(threads) * per_thread_size(g);
#pragma omp parallel num_threads(threads)
  {
    T* padded_x = scratch + omp_get_thread_num() * per_thread_size(g);
    T* dx_scratch = padded_x + padded_image_size(g);  // padded dy, or dcol
#pragma omp for schedule(dynamic)
    for (int share = 0; share < shares; ++share) {
      T* dw_s = partial_sums + share * share_size(g);  // this share's dw, then db
      T* db_s = dw_s + dw_size;
      std::fill(dw_s, db_s + g.K, T(0));
      for (int n = share * g.N / shares; n < (share + 1) * g.N / shares; ++n) {
        for (int grp = 0; grp < g.G; ++grp) {
          const std::size_t x_off = (std::size_t(n) * g.C + grp * Cg) * HW;
          const T* dy_g = dy + (std::size_t(n) * g.K + grp * Kg) * PQ;
          if (dw) {
            pad_image(g, x + x_off, padded_x);
            gemm_packed_b(false, Kg, CRS, PQ, T(1), dy_g, PQ,
                          Im2colTransposedPacker<T>(g, padded_x), T(1),
                          dw_s + std::size_t(grp) * Kg * CRS, CRS);
          }
          if (dx && dx_conv) {
            pad_image(g_dx, dy_g, dx_scratch);
            gemm_packed_b(false, Cg, HW, Kg * RS, T(1), w_flip + std::size_t(grp) * Cg * Kg * RS,
                          Kg * RS, Im2colPacker<T>(g_dx, dx_scratch), T(0), dx + x_off, HW);
          } else if (dx) {
            gemm(true, false, CRS, PQ, Kg, T(1), w + std::size_t(grp) * Kg * CRS, CRS, dy_g, PQ,
                 T(0), dx_scratch, PQ);
            col2im(g, dx_scratch, dx + x_off);
          }
          for (int k = 0; db && k < Kg; ++k) {  // a sum per plane, in SIMD lanes
            T sum = 0;
#pragma omp simd reduction(+ : sum)
            for (int i = 0; i < PQ; ++i) sum += dy_g[std::size_t(k) * PQ + i];
            db_s[grp * Kg + k] += sum;
          }
        }
      }
    }
  }
  for (int share = 0; share < shares; ++share) {  // in share order: the same sums every run
    const T* dw_s = partial_sums + share * share_size(g);
    if (dw)
      for (std::size_t i = 0; i < dw_size; ++i) dw[i] += dw_s[i];
    if (db)
      for (int k = 0; k < g.K; ++k) db[k] += dw_s[dw_size + k];
  }
}
//! [conv-im2col-backward]

template class Im2colPacker<float>;
template class Im2colPacker<double>;
template class Im2colTransposedPacker<float>;
template class Im2colTransposedPacker<double>;
template void pad_image<float>(const ConvGeometry&, const float*, float*);
template void pad_image<double>(const ConvGeometry&, const double*, double*);
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
