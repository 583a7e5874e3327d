/// @file winograd.cpp
/// @brief Winograd F(2x2, 3x3) and F(4x4, 3x3): same sums as conv_naive.cpp, but each m x m
/// output tile costs (m+2)^2 multiplications per channel pair instead of 9 m^2.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel
/// (3 x 3), G groups, Cg = C/G and Kg = K/G channels per group; m x m output tile, alpha =
/// m + 2 the input tile side, xi = i * alpha + j one of the alpha^2 positions of a
/// transformed tile.
#include "convbook/conv/winograd.hpp"

#include <omp.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "convbook/conv/im2col.hpp"
#include "convbook/conv/workspace.hpp"
#include "convbook/error.hpp"
#include "convbook/gemm/gemm.hpp"
#include "convbook/gemm/transpose.hpp"
#include "convbook/prefetch.hpp"

namespace convbook {

namespace {

//! [winograd-matrices]
// The transform matrices of Lavin & Gray (2016), section 4. F(m, 3) is polynomial
// multiplication by interpolation: evaluate the 3-tap filter and an m-output data polynomial
// at alpha = m + 2 points (one of them "infinity", the leading coefficient), multiply
// pointwise (alpha multiplications), interpolate back. G evaluates the filter at the points,
// B^T does the data side (the Lagrange interpolation folded in), A^T gathers the m outputs.
template <int m>
struct WinogradMatrices;

// F(2, 3): points 0, 1, -1, infinity. 4 multiplications for 2 outputs (direct: 6).
template <>
struct WinogradMatrices<2> {
  static constexpr double BT[4][4] = {{1, 0, -1, 0},  //
                                      {0, 1, 1, 0},
                                      {0, -1, 1, 0},
                                      {0, 1, 0, -1}};
  static constexpr double G[4][3] = {{1, 0, 0},  //
                                     {0.5, 0.5, 0.5},
                                     {0.5, -0.5, 0.5},
                                     {0, 0, 1}};
  static constexpr double AT[2][4] = {{1, 1, 1, 0},  //
                                      {0, 1, -1, -1}};
};

// F(4, 3): points 0, 1, -1, 2, -2, infinity. 6 multiplications for 4 outputs (direct: 12).
// The entries grow with the points (powers of 2 in A^T up to 2^3, 1/24 in G, 5 in B^T):
// this is why F(4, 3) loses more float precision than F(2, 3).
template <>
struct WinogradMatrices<4> {
  static constexpr double BT[6][6] = {{4, 0, -5, 0, 1, 0},  //
                                      {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                      {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0},
                                      {0, 4, 0, -5, 0, 1}};
  static constexpr double G[6][3] = {{1.0 / 4, 0, 0},
                                     {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                     {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                     {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                     {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                     {0, 0, 1}};
  static constexpr double AT[4][6] = {{1, 1, 1, 1, 1, 0},  //
                                      {0, 1, -1, 2, -2, 0},
                                      {0, 1, 1, 4, 4, 0},
                                      {0, 1, -1, 8, -8, 1}};
};
//! [winograd-matrices]

//! [winograd-transforms]
// The 2-D transforms nest the 1-D ones: apply the matrix to the columns, then to the rows.
// The loops run over compile-time constant matrices, so the compiler can unroll them and fold
// the multiplications by 0 and 1.

/// U = G w G^T: one 3x3 filter to alpha x alpha; u[xi * stride] receives position xi.
template <int m, typename T>
void winograd_filter_transform(const T* w, T* u, std::size_t stride) {
  using W = WinogradMatrices<m>;
  constexpr int alpha = m + 2;
  T gw[alpha][3];  // G w
  for (int i = 0; i < alpha; ++i)
    for (int j = 0; j < 3; ++j) {
      T sum = 0;
      for (int k = 0; k < 3; ++k) sum += T(W::G[i][k]) * w[k * 3 + j];
      gw[i][j] = sum;
    }
  for (int i = 0; i < alpha; ++i)
    for (int j = 0; j < alpha; ++j) {
      T sum = 0;
      for (int k = 0; k < 3; ++k) sum += gw[i][k] * T(W::G[j][k]);
      u[(i * alpha + j) * stride] = sum;
    }
}

/// Tiles go through the input and output transforms kTileLanes at a time, the tile index
/// innermost, so the same arithmetic on neighbouring tiles becomes one SIMD instruction and the
/// transformed values are stored kTileLanes in a row.
constexpr int kTileLanes = 16;

/// Whether the channels-in-the-lanes kernels run (see "Channels in the lanes" below): Cg and Kg
/// both multiples of kTileLanes.
bool channels_in_lanes(const ConvGeometry& g) {
  return (g.C / g.G) % kTileLanes == 0 && (g.K / g.G) % kTileLanes == 0;
}

/// The first `lanes` values of sum to dst. A whole block is a fixed-size loop the compiler turns
/// into one vector store; a variable-length std::copy would be a call to memmove per position.
template <typename T>
void store_lanes(const T (&sum)[kTileLanes], int lanes, T* dst) {
  if (lanes == kTileLanes) {
    for (int l = 0; l < kTileLanes; ++l) dst[l] = sum[l];
  } else {
    std::copy(sum, sum + lanes, dst);
  }
}

/// sum[l] += c(k) * row(k)[l] for k = 0 .. K-1, over the k whose coefficient is not zero: one
/// line of a transform-matrix product, kTileLanes tiles at a time. The callers pass a
/// coefficient of a constexpr matrix and unroll their loops (`GCC unroll`), so once this is
/// inlined every c(k) is a constant the compiler sees: the test for zero disappears, and so do
/// the terms it skips (B^T of F(4x4, 3x3) has 22 non-zero entries of 36).
template <int K, typename T, typename Coefficient, typename Row>
inline void add_combination(Coefficient c, Row row, T (&sum)[kTileLanes]) {
#pragma GCC unroll 8
  for (int k = 0; k < K; ++k) {
    if (c(k) == 0) continue;
    const T* r = row(k);
#pragma omp simd
    for (int l = 0; l < kTileLanes; ++l) sum[l] += T(c(k)) * r[l];
  }
}

/// V = B^T d B for `lanes` alpha x alpha input tiles d[.][.][l]; position xi of tile l goes to
/// v[xi * stride + l]. The loops over the matrix are unrolled (`GCC unroll`) so that
/// add_combination sees constant coefficients; the output transform and the adjoints below are
/// written the same way.
template <int m, typename T>
void winograd_input_transform(const T (&d)[m + 2][m + 2][kTileLanes], T* v, std::size_t stride,
                              int lanes) {
  using W = WinogradMatrices<m>;
  constexpr int alpha = m + 2;
  T bd[alpha][alpha][kTileLanes];  // B^T d
#pragma GCC unroll 8
  for (int i = 0; i < alpha; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < alpha; ++j) {
      T sum[kTileLanes] = {};
      add_combination<alpha>([&](int k) { return W::BT[i][k]; }, [&](int k) { return d[k][j]; },
                             sum);
      std::copy(sum, sum + kTileLanes, bd[i][j]);
    }
#pragma GCC unroll 8
  for (int i = 0; i < alpha; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < alpha; ++j) {
      T sum[kTileLanes] = {};
      add_combination<alpha>([&](int k) { return W::BT[j][k]; }, [&](int k) { return bd[i][k]; },
                             sum);
      store_lanes(sum, lanes, v + (i * alpha + j) * stride);
    }
}

/// Y = A^T M A for `lanes` tiles: the alpha x alpha products of tile l are read at
/// mm[xi * stride + l], its m x m outputs written to out[.][.][l].
template <int m, typename T>
void winograd_output_transform(const T* mm, std::size_t stride, int lanes,
                               T (&out)[m][m][kTileLanes]) {
  using W = WinogradMatrices<m>;
  constexpr int alpha = m + 2;
  T mt[alpha][alpha][kTileLanes];
  for (int xi = 0; xi < alpha * alpha; ++xi) {
    T* row = mt[xi / alpha][xi % alpha];
    if (lanes == kTileLanes) {  // a whole block: a fixed-size copy, one vector move
      for (int l = 0; l < kTileLanes; ++l) row[l] = mm[xi * stride + l];
    } else {
      std::copy(mm + xi * stride, mm + xi * stride + lanes, row);
      std::fill(row + lanes, row + kTileLanes, T(0));
    }
  }
  T am[m][alpha][kTileLanes];  // A^T M
#pragma GCC unroll 8
  for (int i = 0; i < m; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < alpha; ++j) {
      T sum[kTileLanes] = {};
      add_combination<alpha>([&](int k) { return W::AT[i][k]; }, [&](int k) { return mt[k][j]; },
                             sum);
      std::copy(sum, sum + kTileLanes, am[i][j]);
    }
#pragma GCC unroll 8
  for (int i = 0; i < m; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < m; ++j) {
      T sum[kTileLanes] = {};
      add_combination<alpha>([&](int k) { return W::AT[j][k]; }, [&](int k) { return am[i][k]; },
                             sum);
      std::copy(sum, sum + kTileLanes, out[i][j]);
    }
}
//! [winograd-transforms]

//! [winograd-adjoint-transforms]
// The weight gradient runs the forward transforms backwards. A tile's output is
// Y = A^T (U . V) A with U = G w G^T ('.' element-wise), all linear maps, so the chain rule
// gives their transposes (adjoints), applied in reverse order:
//   dM = A dY A^T            (the adjoint of Y = A^T M A)
//   dU = sum over tiles of dM . V   (per position xi: a GEMM over the tiles)
//   dw = G^T dU G            (the adjoint of U = G w G^T)

/// dM = A dY A^T for `lanes` m x m tiles dy[.][.][l]; position xi of tile l goes to
/// dm[xi * stride + l].
template <int m, typename T>
void winograd_output_adjoint(const T (&dy)[m][m][kTileLanes], T* dm, std::size_t stride,
                             int lanes) {
  using W = WinogradMatrices<m>;
  constexpr int alpha = m + 2;
  T ady[alpha][m][kTileLanes];  // A dY: (A)[i][k] = A^T[k][i]
#pragma GCC unroll 8
  for (int i = 0; i < alpha; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < m; ++j) {
      T sum[kTileLanes] = {};
      add_combination<m>([&](int k) { return W::AT[k][i]; }, [&](int k) { return dy[k][j]; }, sum);
      std::copy(sum, sum + kTileLanes, ady[i][j]);
    }
#pragma GCC unroll 8
  for (int i = 0; i < alpha; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < alpha; ++j) {
      T sum[kTileLanes] = {};
      add_combination<m>([&](int k) { return W::AT[k][j]; }, [&](int k) { return ady[i][k]; }, sum);
      store_lanes(sum, lanes, dm + (i * alpha + j) * stride);
    }
}

/// dw += G^T dU G: the alpha x alpha gradient of one transformed filter, read at
/// du[xi * stride], back to its 3x3 filter.
template <int m, typename T>
void winograd_filter_adjoint(const T* du, std::size_t stride, T* dw) {
  using W = WinogradMatrices<m>;
  constexpr int alpha = m + 2;
  T gdu[3][alpha];  // G^T dU
  for (int r = 0; r < 3; ++r)
    for (int j = 0; j < alpha; ++j) {
      T sum = 0;
      for (int i = 0; i < alpha; ++i) sum += T(W::G[i][r]) * du[(i * alpha + j) * stride];
      gdu[r][j] = sum;
    }
  for (int r = 0; r < 3; ++r)
    for (int s = 0; s < 3; ++s) {
      T sum = 0;
      for (int j = 0; j < alpha; ++j) sum += gdu[r][j] * T(W::G[j][s]);
      dw[r * 3 + s] += sum;
    }
}
//! [winograd-adjoint-transforms]

/// Threads for one call. Each thread takes whole rounds of images through all the steps (input
/// tiles, GEMMs, output tiles) with its own V and M: no barrier between the steps, and each
/// thread's V and M stay in its own L2. Threads only pay off when there is work
/// to share: a small test layer runs faster alone.
int winograd_threads(const ConvGeometry& g, int m) {
  const int alpha = m + 2;
  const std::size_t tiles = std::size_t((g.P() + m - 1) / m) * ((g.Q() + m - 1) / m);
  const std::size_t work = std::size_t(alpha) * alpha * std::size_t(g.C / g.G + g.K / g.G) * tiles *
                           std::size_t(std::max(1, g.N));
  if (work <= (std::size_t(1) << 16)) return 1;
  return std::max(1, std::min(omp_get_max_threads(), g.N));
}

/// How many images share one round of GEMMs: few enough that V and M (alpha^2 (Cg + Kg)
/// scalars per tile) stay near 2^18 scalars (1 MB of floats, about an L2 cache), but at least
/// enough for 128 tiles, the GEMMs' columns: on 8x8 images (4 tiles of F(4x4, 3x3)) the cache
/// rule alone gives 56-column GEMMs, and 112 columns were measured 1.1-1.2x faster despite
/// spilling from L2 (64 -> 64 channels, `convbook bench conv --shape 3x3_64-64_8x8`). The
/// blocked kernels, whose GEMMs have the tiles as rows, take twice that budget: forward+backward
/// at one thread 3x3_16-16_32x32 22.2 -> 20.6 ms, 3x3_32-32_16x16 14.5 -> 13.8 ms (4 MB gave
/// the same). At least one image, at most one thread's share of the images.
int images_per_round(const ConvGeometry& g, int m, int threads) {
  const int alpha = m + 2;
  const int tiles = std::max(1, ((g.P() + m - 1) / m) * ((g.Q() + m - 1) / m));
  const std::size_t per_image =
      std::size_t(alpha) * alpha * std::size_t(g.C / g.G + g.K / g.G) * tiles;
  const std::size_t budget = std::size_t(1) << (channels_in_lanes(g) ? 19 : 18);
  const std::size_t min_columns = 128;
  const std::size_t images = std::max(budget / per_image, (min_columns + tiles - 1) / tiles);
  const int share = (std::max(1, g.N) + threads - 1) / threads;
  return int(std::clamp<std::size_t>(images, 1, std::size_t(share)));
}

void check_winograd(const ConvGeometry& g, int m, const char* who) {
  if (!winograd_supports(g)) {
    throw Error(std::string(who) + ": needs a 3x3 kernel, stride 1 and dilation 1, got kernel " +
                std::to_string(g.R) + "x" + std::to_string(g.S) + ", stride " +
                std::to_string(g.stride_h) + "x" + std::to_string(g.stride_w) + ", dilation " +
                std::to_string(g.dil_h) + "x" + std::to_string(g.dil_w));
  }
  if (m != 2 && m != 4) {
    throw Error(std::string(who) + ": tile size m=" + std::to_string(m) + ", expected 2 or 4");
  }
}

/// Image and tile coordinates of the tiles t0, t0 + 1, ... of a round starting at image n0,
/// tile t = (n - n0) * tiles + ty * tiles_w + tx: divided once, then counted up (a division
/// per tile cost as much as gathering its pixels).
struct TileWalk {
  int n, ty, tx, tiles_h, tiles_w;
  TileWalk(int n0, int t0, int tiles_h_, int tiles_w_) : tiles_h(tiles_h_), tiles_w(tiles_w_) {
    const int tiles = tiles_h * tiles_w;
    n = n0 + t0 / tiles;
    ty = (t0 % tiles) / tiles_w;
    tx = (t0 % tiles) % tiles_w;
  }
  void next() {
    if (++tx == tiles_w) {
      tx = 0;
      if (++ty == tiles_h) ty = 0, ++n;
    }
  }
};

/// The side of the zero-padded planes the input tiles are cut from: tiles x m outputs need
/// tiles x m + 2 inputs, so every window of every tile lies inside the plane.
template <int m>
int padded_side(int outputs) {
  return (outputs + m - 1) / m * m + 2;
}

template <int m>
std::size_t padded_plane_size(const ConvGeometry& g) {
  return std::size_t(padded_side<m>(g.P())) * padded_side<m>(g.Q());
}

/// How one call shares out its work, the same for every kernel below: the output's tiles,
/// the threads, the images in a round, and the scalars of one thread's scratch: V (alpha^2
/// Cg scalars per tile of the round), M (alpha^2 Kg per tile) and the planes tiles are cut
/// from: one zero-padded plane per image of the round with tiles in the lanes, one blocked
/// input plane and one blocked output (or dy) plane of 16 channels with channels in the lanes.
template <int m>
struct Rounds {
  int tiles_h, tiles_w, tiles;  // tiles of one output plane
  int threads;                  // of the call (winograd_threads)
  int images;                   // in a round (images_per_round)
  std::size_t V_size, M_size, per_thread;

  explicit Rounds(const ConvGeometry& g)
      : tiles_h((g.P() + m - 1) / m),
        tiles_w((g.Q() + m - 1) / m),
        tiles(tiles_h * tiles_w),
        threads(winograd_threads(g, m)),
        images(images_per_round(g, m, threads)),
        V_size(std::size_t(m + 2) * (m + 2) * (g.C / g.G) * images * tiles),
        M_size(std::size_t(m + 2) * (m + 2) * (g.K / g.G) * images * tiles),
        per_thread(V_size + M_size +
                   (channels_in_lanes(g)
                        ? kTileLanes * (padded_plane_size<m>(g) + std::size_t(tiles) * m * m)
                        : std::size_t(images) * padded_plane_size<m>(g))) {}
};

/// After each thread has summed its share of the images into its own dU (size scalars, the
/// threads' dU one after the other from `partials`): thread 0's dU += the others', in thread
/// order (the same result for the same thread count), as contiguous vectors shared out over
/// the threads. Called inside the parallel region, after a barrier; ends with one.
template <typename T>
void add_thread_partials(T* partials, std::size_t size, int threads) {
#pragma omp for schedule(static)
  for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(size); ++i)
    for (int s = 1; s < threads; ++s) partials[i] += partials[std::size_t(s) * size + i];
}

/// Copies one H x W input plane into the interior of a padded Wp-wide plane: input pixel
/// (h, v) lands at (h + pad_h, v + pad_w); a negative padding crops. Only the image's own
/// pixels are written: the border was zeroed once per call (clear_planes) and stays zero, as
/// every channel of every round writes the same interior. Rows are copied 16 scalars at a time
/// in fixed-size steps, which compile to vector moves (a 16-pixel row through memcpy cost as
/// much as the whole tile transform).
template <typename T>
void copy_into_plane(const ConvGeometry& g, const T* x, int Hp, int Wp, T* xp) {
  const int h_lo = std::max(0, -g.pad_h), h_hi = std::min(g.H, Hp - g.pad_h);
  const int v_lo = std::max(0, -g.pad_w), v_hi = std::min(g.W, Wp - g.pad_w);
  const int width = v_hi - v_lo;
  constexpr int kStep = 16;
  for (int h = h_lo; h < h_hi; ++h) {
    const T* src = x + std::size_t(h) * g.W + v_lo;
    T* dst = xp + std::size_t(h + g.pad_h) * Wp + v_lo + g.pad_w;
    int v = 0;
    for (; v + kStep <= width; v += kStep)
      for (int l = 0; l < kStep; ++l) dst[v + l] = src[v + l];
    for (; v < width; ++v) dst[v] = src[v];
  }
}

/// Step 2 of the forward pass for the images [n0, n0 + cols / tiles) of group grp: the
/// alpha x alpha input windows every m pixels (overlapping by 2), zeros outside the image,
/// through B^T d B; position xi of tile t of channel c goes to V[xi][c][t].
/// Each channel's planes are first copied into zero-padded planes (scratch `planes`, one per
/// image of the round, their border zeroed by the caller), so that cutting a tile needs no test
/// for the border: on a 16 x 16 image, 12 of the 16 tiles of F(4x4, 3x3) touch the border.
template <int m, typename T>
void winograd_input_tiles(const ConvGeometry& g, const T* x, int grp, int n0, int cols, T* V,
                          T* planes) {
  constexpr int alpha = m + 2;
  const int Cg = g.C / g.G;
  const int tiles_h = (g.P() + m - 1) / m, tiles_w = (g.Q() + m - 1) / m;
  const int images = cols / (tiles_h * tiles_w);
  const int Hp = padded_side<m>(g.P()), Wp = padded_side<m>(g.Q());
  const std::size_t plane = std::size_t(Hp) * Wp;
  const int blocks = (cols + kTileLanes - 1) / kTileLanes;
  for (int c = 0; c < Cg; ++c) {
    for (int i = 0; i < images; ++i)
      copy_into_plane(g, x + (std::size_t(n0 + i) * g.C + grp * Cg + c) * g.H * g.W, Hp, Wp,
                      planes + i * plane);
    for (int blk = 0; blk < blocks; ++blk) {
      const int t0 = blk * kTileLanes, lanes = std::min(kTileLanes, cols - t0);
      // Where each tile's window starts in the padded planes; lanes past the last tile read
      // the first window again (their results are not stored).
      int start[kTileLanes] = {};
      TileWalk at(n0, t0, tiles_h, tiles_w);
      for (int l = 0; l < lanes; ++l, at.next())
        start[l] = int((at.n - n0) * plane) + at.ty * m * Wp + at.tx * m;
      // d[i][j][l] = window pixel (i, j) of tile l: with the tile innermost, one vector gather
      // per pixel of the window.
      T d[alpha][alpha][kTileLanes];
      for (int i = 0; i < alpha; ++i)
        for (int j = 0; j < alpha; ++j) {
#pragma omp simd
          for (int l = 0; l < kTileLanes; ++l) d[i][j][l] = planes[start[l] + i * Wp + j];
        }
      winograd_input_transform<m>(d, V + std::size_t(c) * cols + t0, std::size_t(Cg) * cols, lanes);
    }
  }
}

//! [winograd-forward]
// x: (N, C, H, W)  w: (K, Cg, 3, 3)  b: (K)  y: (N, K, P, Q); the padding may be negative
// (a crop), which backward-data uses. Scratch: U (alpha^2, K, Cg), then per thread
// V (alpha^2, Cg, cols), M (alpha^2, Kg, cols) and padded planes, cols = tiles in a round of
// images. One parallel region: the filters are shared out, then the threads take rounds of
// images one at a time, each with its own V and M, and run their GEMMs on themselves.
template <int m, typename T>
void winograd_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                      T* scratch) {
  constexpr int alpha = m + 2, positions = alpha * alpha;
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G, Kg = g.K / g.G;
  if (P <= 0 || Q <= 0 || g.N <= 0) return;
  const Rounds<m> r(g);
  const int tiles_h = r.tiles_h, tiles_w = r.tiles_w, tiles = r.tiles, round = r.images;
  const std::size_t KC = std::size_t(g.K) * Cg;
  T* U = scratch;

#pragma omp parallel num_threads(r.threads)
  {
    // 1. Filters, all groups at once: U[xi][k][c], so group grp's (Kg x Cg) block starts at
    //    U + xi*K*Cg + grp*Kg*Cg with leading dimension Cg. (The loop ends with a barrier.)
#pragma omp for schedule(static)
    for (std::ptrdiff_t kc = 0; kc < std::ptrdiff_t(KC); ++kc)
      winograd_filter_transform<m>(w + kc * 9, U + kc, KC);

    const int t = omp_get_thread_num();
    T* V = U + positions * KC + std::size_t(t) * r.per_thread;
    T* M = V + r.V_size;
    T* planes = M + r.M_size;
    std::fill(planes, planes + round * padded_plane_size<m>(g), T(0));  // borders stay 0
    // Rounds are handed out one at a time to whichever thread is free: a thread that the OS
    // slows down computes fewer of them instead of holding up the others at the end. Each
    // output is computed by one thread, so the result does not depend on the schedule.
    const int rounds = (g.N + round - 1) / round;
#pragma omp for schedule(dynamic, 1) nowait
    for (int rd = 0; rd < rounds; ++rd) {
      const int n0 = rd * round;
      const int cols = std::min(round, g.N - n0) * tiles;  // tiles (GEMM columns) in the round
      const int blocks = (cols + kTileLanes - 1) / kTileLanes;
      for (int grp = 0; grp < g.G; ++grp) {
        // 2. Input tiles: alpha x alpha windows every m pixels (they overlap by 2), zeros
        //    outside the image; V[xi][c][t].
        winograd_input_tiles<m>(g, x, grp, n0, cols, V, planes);
        // 3. The element-wise products summed over c: one GEMM per position xi,
        //    M[xi] (Kg x cols) = U[xi] (Kg x Cg) * V[xi] (Cg x cols), on this thread (gemm
        //    called inside a parallel region does not start threads of its own).
        for (int xi = 0; xi < positions; ++xi) {
          gemm(false, false, Kg, cols, Cg, T(1), U + xi * KC + std::size_t(grp) * Kg * Cg, Cg,
               V + std::size_t(xi) * Cg * cols, cols, T(0), M + std::size_t(xi) * Kg * cols, cols);
        }
        // 4. Output tiles Y = A^T M A (+ bias), the last row and column of tiles cut at P, Q.
        for (int k = 0; k < Kg; ++k) {
          for (int blk = 0; blk < blocks; ++blk) {
            const int t0 = blk * kTileLanes, lanes = std::min(kTileLanes, cols - t0);
            T out[m][m][kTileLanes];
            winograd_output_transform<m>(M + std::size_t(k) * cols + t0, std::size_t(Kg) * cols,
                                         lanes, out);
            const T b = bias ? bias[grp * Kg + k] : T(0);
            TileWalk at(n0, t0, tiles_h, tiles_w);
            for (int l = 0; l < lanes; ++l, at.next()) {
              const int ty = at.ty, tx = at.tx;
              T* yk = y + (std::size_t(at.n) * g.K + grp * Kg + k) * P * Q;
              for (int i = 0; i < m && ty * m + i < P; ++i)
                for (int j = 0; j < m && tx * m + j < Q; ++j)
                  yk[(ty * m + i) * Q + tx * m + j] = out[i][j][l] + b;
            }
          }
        }
      }
    }
  }
}
//! [winograd-forward]

//! [winograd-weight-gradient]
// dw (K, Cg, 3, 3) += the gradient of the forward's filter transform, through the adjoints
// above: per round of images and group, V from the same input tiles as the forward, dM from
// the dy tiles (zero past P, Q: those outputs were cut off), then for each position xi
// dU[xi] (Kg x Cg) += dM[xi] (Kg x cols) * V[xi]^T (cols x Cg). As in the forward, each thread
// takes a contiguous share of the images with its own V, dM and dU; after one barrier the dU of
// the threads are summed in thread order (the same result for the same thread count) and taken
// back to 3x3 filters. Scratch: one dU (alpha^2, K, Cg) per thread, then the forward's V and M
// per thread for V and dM.
template <int m, typename T>
void winograd_weight_gradient(const ConvGeometry& g, const T* x, const T* dy, T* dw, T* scratch) {
  constexpr int alpha = m + 2, positions = alpha * alpha;
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G, Kg = g.K / g.G;
  if (P <= 0 || Q <= 0 || g.N <= 0) return;
  const Rounds<m> r(g);
  const int tiles_h = r.tiles_h, tiles_w = r.tiles_w, tiles = r.tiles, round = r.images;
  const std::size_t KC = std::size_t(g.K) * Cg, dU_size = positions * KC;

#pragma omp parallel num_threads(r.threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    T* dU = scratch + std::size_t(t) * dU_size;  // dU[xi][k][c], as U in the forward
    T* V = scratch + std::size_t(r.threads) * dU_size + std::size_t(t) * r.per_thread;
    T* dM = V + r.V_size;
    T* planes = dM + r.M_size;
    std::fill(dU, dU + dU_size, T(0));
    std::fill(planes, planes + round * padded_plane_size<m>(g), T(0));  // borders stay 0
    const int n_begin = int(std::ptrdiff_t(g.N) * t / nt);
    const int n_end = int(std::ptrdiff_t(g.N) * (t + 1) / nt);
    for (int n0 = n_begin; n0 < n_end; n0 += round) {
      const int cols = std::min(round, n_end - n0) * tiles;
      const int blocks = (cols + kTileLanes - 1) / kTileLanes;
      for (int grp = 0; grp < g.G; ++grp) {
        winograd_input_tiles<m>(g, x, grp, n0, cols, V, planes);
        // dM[xi][k][t] = A dY A^T of tile t of output channel k
        for (int k = 0; k < Kg; ++k) {
          for (int blk = 0; blk < blocks; ++blk) {
            const int t0 = blk * kTileLanes, lanes = std::min(kTileLanes, cols - t0);
            T d[m][m][kTileLanes] = {};  // outside the output and past the last tile: 0
            TileWalk at(n0, t0, tiles_h, tiles_w);
            for (int l = 0; l < lanes; ++l, at.next()) {
              const int ty = at.ty, tx = at.tx;
              const T* dyk = dy + (std::size_t(at.n) * g.K + grp * Kg + k) * P * Q;
              for (int i = 0; i < m && ty * m + i < P; ++i)
                for (int j = 0; j < m && tx * m + j < Q; ++j)
                  d[i][j][l] = dyk[(ty * m + i) * Q + tx * m + j];
            }
            winograd_output_adjoint<m>(d, dM + std::size_t(k) * cols + t0, std::size_t(Kg) * cols,
                                       lanes);
          }
        }
        // One GEMM per position, each adding to this thread's dU[xi].
        for (int xi = 0; xi < positions; ++xi) {
          gemm(false, true, Kg, Cg, cols, T(1), dM + std::size_t(xi) * Kg * cols, cols,
               V + std::size_t(xi) * Cg * cols, cols, T(1),
               dU + xi * KC + std::size_t(grp) * Kg * Cg, Cg);
        }
      }
    }
#pragma omp barrier
    // The threads' dU summed into thread 0's, then G^T dU G per filter.
    add_thread_partials(scratch, dU_size, nt);
#pragma omp for schedule(static)
    for (std::ptrdiff_t kc = 0; kc < std::ptrdiff_t(KC); ++kc)
      winograd_filter_adjoint<m>(scratch + kc, KC, dw + kc * 9);
  }
}
//! [winograd-weight-gradient]

//! [winograd-blocked]
// Channels in the lanes. The kernels above put 16 neighbouring *tiles* in a vector, so cutting
// a tile out of the image is a gather: lane l reads its own window, somewhere else in the
// plane, and on this machine the 36 gathers per block of 16 tiles cost more than the
// transform's arithmetic and the GEMMs together (`perf` on 3x3_32-32_16x16: input tiles 34%,
// output tiles 20%, GEMMs 25% of the time). When both channel counts per group are multiples
// of 16, the layers below put 16 *channels* in a vector instead (oneDNN's nChw16c layout): 16
// channel planes of one image are first interleaved into one blocked plane, pixel (h, v) of
// channel c0 + l at pb[(h * Wp + v) * 16 + l]; then every pixel of a window is one contiguous
// vector load, and the same transforms (they never mix lanes) run unchanged. The transformed
// tiles are stored channel-innermost, V[xi][t][c], the products M[xi][t][k] likewise, so the
// GEMMs become M[xi] (tiles x Kg) = V[xi] (tiles x Cg) * U[xi] (Cg x Kg), and the output
// transform again reads 16 channels per vector, into a blocked output plane that is
// de-interleaved into the 16 planes of y.

/// dst[j * ld_dst + l] = src[l * ld_src + j] for l, j < kTileLanes: one 16 x 16 block
/// transposed, in registers for float where the target has AVX-512 (transpose.hpp), by a
/// plain double loop otherwise.
template <typename T>
void transpose_block(const T* src, std::size_t ld_src, T* dst, std::size_t ld_dst) {
#if defined(CONVBOOK_HAVE_TRANSPOSE_16X16)
  if constexpr (std::is_same_v<T, float> && kTileLanes == 16) {
    const float* runs[16];
    for (int l = 0; l < 16; ++l) runs[l] = src + l * ld_src;
    transpose_runs_16x16(runs, dst, ld_dst);
    return;
  }
#endif
  for (int l = 0; l < kTileLanes; ++l)
    for (int j = 0; j < kTileLanes; ++j) dst[j * ld_dst + l] = src[l * ld_src + j];
}

/// Interleaves kTileLanes planes (each H x W, `plane` scalars apart, starting at x) into the
/// blocked Hb x Wb plane pb, pixel (h, v) of plane l to pb[((h + pad_h) * Wb + v + pad_w) *
/// kTileLanes + l]; a negative padding crops, and pixels that land outside pb are dropped.
/// Only those pixels are written: the rest of pb (its border) is zeroed once by the caller.
/// The planes are read as flat runs of 16 pixels (rows of 8 or 16 pixels, or any other
/// width, alike), each run turned by transpose_block into 16 pixels of 16 lanes, which are
/// then copied to where their rows put them.
template <typename T>
void interleave_planes(const T* x, std::size_t plane, int H, int W, int pad_h, int pad_w, int Hb,
                       int Wb, T* pb) {
  constexpr int L = kTileLanes;
  const std::size_t HW = std::size_t(H) * W;
  int h = 0, v = 0;  // the pixel i0 + j below
  for (std::size_t i0 = 0; i0 < HW; i0 += L) {
    const int run = int(std::min<std::size_t>(L, HW - i0));
    alignas(64) T block[L][L];  // block[j][l] = pixel i0 + j of plane l
    if (run == L) {
      transpose_block(x + i0, plane, &block[0][0], L);
    } else {
      for (int j = 0; j < run; ++j)
        for (int l = 0; l < L; ++l) block[j][l] = x[l * plane + i0 + j];
    }
    for (int j = 0; j < run; ++j) {
      const int hb = h + pad_h, vb = v + pad_w;
      if (hb >= 0 && hb < Hb && vb >= 0 && vb < Wb) {
        T* to = pb + (std::size_t(hb) * Wb + vb) * L;
        for (int l = 0; l < L; ++l) to[l] = block[j][l];
      }
      if (++v == W) v = 0, ++h;
    }
  }
}

/// The inverse for the output: the top-left P x Q pixels of the blocked plane yb (Qb wide) to
/// kTileLanes dense P x Q planes of y, `plane` scalars apart; 16 pixels of the flat planes at
/// a time, as in interleave_planes.
template <typename T>
void deinterleave_planes(const T* yb, int Qb, int P, int Q, T* y, std::size_t plane) {
  constexpr int L = kTileLanes;
  const std::size_t PQ = std::size_t(P) * Q;
  int p = 0, q = 0;  // the pixel i0 + j below
  for (std::size_t i0 = 0; i0 < PQ; i0 += L) {
    const int run = int(std::min<std::size_t>(L, PQ - i0));
    alignas(64) T block[L][L];  // block[j][l] = pixel i0 + j of lane l
    for (int j = 0; j < run; ++j) {
      const T* from = yb + (std::size_t(p) * Qb + q) * L;
      for (int l = 0; l < L; ++l) block[j][l] = from[l];
      if (++q == Q) q = 0, ++p;
    }
    if (run == L) {
      transpose_block(&block[0][0], L, y + i0, plane);
    } else {
      for (int l = 0; l < L; ++l)
        for (int j = 0; j < run; ++j) y[l * plane + i0 + j] = block[j][l];
    }
  }
}

/// U = G w G^T for kTileLanes filters at once, w[r][s][l] = tap (r, s) of filter l; position
/// xi of filter l goes to u[xi * stride + l]. In the blocked layout the filters of 16
/// neighbouring output channels are neighbours in U, so the transform is vectors end to end.
template <int m, typename T>
void filter_transform_lanes(const T (&w)[3][3][kTileLanes], T* u, std::size_t stride) {
  using W = WinogradMatrices<m>;
  constexpr int alpha = m + 2;
  T gw[alpha][3][kTileLanes];  // G w
#pragma GCC unroll 8
  for (int i = 0; i < alpha; ++i)
    for (int j = 0; j < 3; ++j) {
      T sum[kTileLanes] = {};
      add_combination<3>([&](int k) { return W::G[i][k]; }, [&](int k) { return w[k][j]; }, sum);
      std::copy(sum, sum + kTileLanes, gw[i][j]);
    }
#pragma GCC unroll 8
  for (int i = 0; i < alpha; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < alpha; ++j) {
      T sum[kTileLanes] = {};
      add_combination<3>([&](int k) { return W::G[j][k]; }, [&](int k) { return gw[i][k]; }, sum);
      store_lanes(sum, kTileLanes, u + (i * alpha + j) * stride);
    }
}

/// dw[r][s][l] = (G^T dU G)[r][s] of kTileLanes filters, dU of filter l read at
/// du[xi * stride + l]: winograd_filter_adjoint, 16 filters at once.
template <int m, typename T>
void filter_adjoint_lanes(const T* du, std::size_t stride, T (&dw)[3][3][kTileLanes]) {
  using W = WinogradMatrices<m>;
  constexpr int alpha = m + 2;
  T gdu[3][alpha][kTileLanes];  // G^T dU
  for (int r = 0; r < 3; ++r)
#pragma GCC unroll 8
    for (int j = 0; j < alpha; ++j) {
      T sum[kTileLanes] = {};
      add_combination<alpha>([&](int i) { return W::G[i][r]; },
                             [&](int i) { return du + (i * alpha + j) * stride; }, sum);
      std::copy(sum, sum + kTileLanes, gdu[r][j]);
    }
  for (int r = 0; r < 3; ++r)
    for (int s = 0; s < 3; ++s) {
      T sum[kTileLanes] = {};
      add_combination<alpha>([&](int j) { return W::G[j][s]; }, [&](int j) { return gdu[r][j]; },
                             sum);
      std::copy(sum, sum + kTileLanes, dw[r][s]);
    }
}

/// Block blk of the filters in the blocked layout: input channel c of group grp (gc = grp Cg +
/// c, their row in U) with the group's output channels k0 .. k0 + 15 (neighbours in U).
struct FilterBlock {
  std::size_t Cg, Kg, gc, grp, c, k0;
  FilterBlock(std::size_t blk, int Cg_, int Kg_)
      : Cg(std::size_t(Cg_)),
        Kg(std::size_t(Kg_)),
        gc(blk / (Kg / kTileLanes)),
        grp(gc / Cg),
        c(gc % Cg),
        k0(blk % (Kg / kTileLanes) * kTileLanes) {}
  /// Where tap rs (0..8) of filter k0 + l sits in w (K, Cg, 3, 3).
  std::size_t tap(int l, int rs) const { return ((grp * Kg + k0 + l) * Cg + c) * 9 + rs; }
};

/// The window of tile (ty, tx) in a blocked plane Wb wide: d[i][j][l] = pixel
/// (ty m + i, tx m + j) of lane l; `side` is alpha for input tiles, m for dy tiles.
template <int side, int m, typename T>
void load_window(const T* pb, int Wb, int ty, int tx, T (&d)[side][side][kTileLanes]) {
  const T* base = pb + (std::size_t(ty) * m * Wb + std::size_t(tx) * m) * kTileLanes;
  for (int i = 0; i < side; ++i)
    for (int j = 0; j < side; ++j)
      for (int l = 0; l < kTileLanes; ++l) d[i][j][l] = base[(i * Wb + j) * kTileLanes + l];
}

/// The GEMMs of the blocked layout without gemm()'s packing. V (tiles x Cg) and M or dM
/// (tiles x Kg) were written a moment ago and are still in the cache, and with Cg and Kg at most
/// kSmallGemmChannels a column panel of U stays in the L1 cache too, so the kernels below read
/// all three where they are: each vector of 16 output channels is loaded once per input
/// channel (or tile) and every value on the other side is broadcast against it, R x VECS vector
/// sums in registers, as gemm()'s microkernel does on packed copies. Wider layers (the 3x3s of
/// resnet50) keep gemm() and its cache blocking.
constexpr int kSmallGemmChannels = 64;

/// C[r][.] (+)= sum over i < depth of A(r, i) B[i][.] for the rows r < n (at most R) of one
/// block and VECS vectors of columns, A(r, i) = A[r * a_row + i * a_step]: B's vectors loaded
/// once per i, the R values of A broadcast against them, R x VECS vector sums in registers.
/// With `accumulate` the sums start from C, else from 0. Rows past n repeat row 0 and are not
/// stored.
template <int R, int VECS, typename T>
void small_gemm_block(int n, int depth, const T* A, std::size_t a_row, std::size_t a_step,
                      const T* B, std::size_t ldb, T* C, std::size_t ldc, bool accumulate) {
  using Vec = xsimd::batch<T>;
  constexpr int L = int(Vec::size);
  Vec acc[R][VECS];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < VECS; ++v)
      acc[r][v] = accumulate && r < n ? Vec::load_unaligned(C + r * ldc + v * L) : Vec(T(0));
  for (int i = 0; i < depth; ++i) {
    Vec b[VECS];
    for (int v = 0; v < VECS; ++v) b[v] = Vec::load_unaligned(B + i * ldb + v * L);
    for (int r = 0; r < R; ++r) {
      const Vec a(A[std::size_t(r < n ? r : 0) * a_row + i * a_step]);
      for (int v = 0; v < VECS; ++v) acc[r][v] = xsimd::fma(a, b[v], acc[r][v]);
    }
  }
  for (int r = 0; r < R && r < n; ++r)
    for (int v = 0; v < VECS; ++v) acc[r][v].store_unaligned(C + r * ldc + v * L);
}

/// M (rows x Kg) = V (rows x Cg) * U (Cg x Kg), row-major: the forward's product at one
/// position, over the input channels. 14 tiles x 32 channels per block (28 sums), 24 x 16 where
/// 16 channels are left.
template <typename T>
void tiles_times_filters(int rows, int Kg, int Cg, const T* V, const T* U, T* M) {
  constexpr int L = int(xsimd::batch<T>::size);
  const std::size_t cg = std::size_t(Cg), kg = std::size_t(Kg);
  int k0 = 0;
  for (; k0 + 2 * L <= Kg; k0 += 2 * L)
    for (int t0 = 0; t0 < rows; t0 += 14)
      small_gemm_block<14, 2>(std::min(14, rows - t0), Cg, V + t0 * cg, cg, 1, U + k0, kg,
                              M + t0 * kg + k0, kg, false);
  for (; k0 < Kg; k0 += L)
    for (int t0 = 0; t0 < rows; t0 += 24)
      small_gemm_block<24, 1>(std::min(24, rows - t0), Cg, V + t0 * cg, cg, 1, U + k0, kg,
                              M + t0 * kg + k0, kg, false);
}

/// dU (Cg x Kg) += V^T (Cg x rows) dM (rows x Kg), row-major: the weight gradient's product at
/// one position, over the tiles. 8 input x 32 output channels per block (16 sums), 16 x 16
/// where 16 output channels are left (Cg is a multiple of 16).
template <typename T>
void filter_gradient(int rows, int Kg, int Cg, const T* V, const T* dM, T* dU) {
  constexpr int L = int(xsimd::batch<T>::size);
  const std::size_t cg = std::size_t(Cg), kg = std::size_t(Kg);
  int k0 = 0;
  for (; k0 + 2 * L <= Kg; k0 += 2 * L)
    for (int c0 = 0; c0 < Cg; c0 += 8)
      small_gemm_block<8, 2>(8, rows, V + c0, 1, cg, dM + k0, kg, dU + c0 * kg + k0, kg, true);
  for (; k0 < Kg; k0 += L)
    for (int c0 = 0; c0 < Cg; c0 += 16)
      small_gemm_block<16, 1>(16, rows, V + c0, 1, cg, dM + k0, kg, dU + c0 * kg + k0, kg, true);
}

/// For each image i < images of a round and each block of 16 channels c0 < channels (their
/// planes at first + i * image_stride + c0 * plane): interleave(planes) fills a blocked plane,
/// the next block's planes (after the last, the next image's first) are asked for, then
/// tiles(i, c0) cuts and transforms the block's tiles while they arrive.
template <typename T, typename Interleave, typename Tiles>
void over_channel_blocks(const T* first, std::size_t image_stride, std::size_t plane, int images,
                         int channels, Interleave interleave, Tiles tiles) {
  const std::size_t block = kTileLanes * plane;
  for (int i = 0; i < images; ++i)
    for (int c0 = 0; c0 < channels; c0 += kTileLanes) {
      const T* planes = first + i * image_stride + c0 * plane;
      interleave(planes);
      if (c0 + kTileLanes < channels)
        prefetch_next(planes + block, block);
      else if (i + 1 < images)
        prefetch_next(first + (i + 1) * image_stride, block);
      tiles(i, c0);
    }
}

/// Step 2 with channels in the lanes, for the images [n0, n0 + cols / tiles) of group grp:
/// V[xi][t][c] = position xi of the transformed tile t, channel c.
template <int m, typename T>
void blocked_input_tiles(const ConvGeometry& g, const T* x, int grp, int n0, int cols, T* V,
                         T* pb) {
  constexpr int alpha = m + 2;
  const int Cg = g.C / g.G;
  const int tiles_h = (g.P() + m - 1) / m, tiles_w = (g.Q() + m - 1) / m;
  const int tiles = tiles_h * tiles_w, images = cols / tiles;
  const int Hp = padded_side<m>(g.P()), Wp = padded_side<m>(g.Q());
  const std::size_t HW = std::size_t(g.H) * g.W;
  over_channel_blocks(
      x + (std::size_t(n0) * g.C + grp * Cg) * HW, std::size_t(g.C) * HW, HW, images, Cg,
      [&](const T* planes) {
        interleave_planes(planes, HW, g.H, g.W, g.pad_h, g.pad_w, Hp, Wp, pb);
      },
      [&](int i, int c0) {
        for (int ty = 0; ty < tiles_h; ++ty)
          for (int tx = 0; tx < tiles_w; ++tx) {
            const int t = i * tiles + ty * tiles_w + tx;
            T d[alpha][alpha][kTileLanes];
            load_window<alpha, m>(pb, Wp, ty, tx, d);
            winograd_input_transform<m>(d, V + std::size_t(t) * Cg + c0, std::size_t(cols) * Cg,
                                        kTileLanes);
          }
      });
}

// The forward with channels in the lanes: winograd_forward's steps and threads, blocked.
// Scratch: U (alpha^2, G, Cg, Kg), then per thread V, M and the two blocked planes.
template <int m, typename T>
void winograd_forward_blocked(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                              T* scratch) {
  constexpr int alpha = m + 2, positions = alpha * alpha;
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G, Kg = g.K / g.G;
  if (P <= 0 || Q <= 0 || g.N <= 0) return;
  const Rounds<m> r(g);
  const int tiles_h = r.tiles_h, tiles_w = r.tiles_w, tiles = r.tiles, round = r.images;
  const int Qb = tiles_w * m;  // the blocked output plane: whole tiles, cut when stored
  const std::size_t KC = std::size_t(g.K) * Cg, PQ = std::size_t(P) * Q;
  T* U = scratch;

#pragma omp parallel num_threads(r.threads)
  {
    // 1. Filters: U[xi][grp][c][k], so that group grp's U[xi] is a Cg x Kg matrix; 16
    //    output channels k0 .. k0 + 15 (neighbours in U) at a time.
#pragma omp for schedule(static)
    for (std::ptrdiff_t blk = 0; blk < std::ptrdiff_t(KC / kTileLanes); ++blk) {
      const FilterBlock f(std::size_t(blk), Cg, Kg);
      T w16[3][3][kTileLanes];
      for (int l = 0; l < kTileLanes; ++l)
        for (int rs = 0; rs < 9; ++rs) w16[rs / 3][rs % 3][l] = w[f.tap(l, rs)];
      filter_transform_lanes<m>(w16, U + f.gc * Kg + f.k0, KC);
    }
    T* V = U + positions * KC + std::size_t(omp_get_thread_num()) * r.per_thread;
    T* M = V + r.V_size;
    T* pb = M + r.M_size;
    T* yb = pb + kTileLanes * padded_plane_size<m>(g);
    std::fill(pb, yb, T(0));  // the padding ring stays 0
    const int rounds = (g.N + round - 1) / round;
#pragma omp for schedule(dynamic, 1) nowait
    for (int rd = 0; rd < rounds; ++rd) {
      const int n0 = rd * round, images = std::min(round, g.N - n0), cols = images * tiles;
      for (int grp = 0; grp < g.G; ++grp) {
        blocked_input_tiles<m>(g, x, grp, n0, cols, V, pb);
        for (int xi = 0; xi < positions; ++xi) {
          const T* V_xi = V + std::size_t(xi) * cols * Cg;
          const T* U_xi = U + xi * KC + std::size_t(grp) * Cg * Kg;
          T* M_xi = M + std::size_t(xi) * cols * Kg;
          if (std::max(Cg, Kg) <= kSmallGemmChannels)
            tiles_times_filters(cols, Kg, Cg, V_xi, U_xi, M_xi);
          else
            gemm(false, false, cols, Kg, Cg, T(1), V_xi, Cg, U_xi, Kg, T(0), M_xi, Kg);
        }
        for (int i = 0; i < images; ++i)
          for (int k0 = 0; k0 < Kg; k0 += kTileLanes) {
            const std::size_t k0g = std::size_t(grp) * Kg + k0;  // k0 among all K channels
            T b16[kTileLanes];
            for (int l = 0; l < kTileLanes; ++l) b16[l] = bias ? bias[k0g + l] : T(0);
            for (int ty = 0; ty < tiles_h; ++ty)
              for (int tx = 0; tx < tiles_w; ++tx) {
                const int t = i * tiles + ty * tiles_w + tx;
                T out[m][m][kTileLanes];
                winograd_output_transform<m>(M + std::size_t(t) * Kg + k0, std::size_t(cols) * Kg,
                                             kTileLanes, out);
                T* base = yb + (std::size_t(ty) * m * Qb + std::size_t(tx) * m) * kTileLanes;
                for (int a = 0; a < m; ++a)
                  for (int b = 0; b < m; ++b)
                    for (int l = 0; l < kTileLanes; ++l)
                      base[(a * Qb + b) * kTileLanes + l] = out[a][b][l] + b16[l];
              }
            deinterleave_planes(yb, Qb, P, Q, y + (std::size_t(n0 + i) * g.K + k0g) * PQ, PQ);
          }
      }
    }
  }
}

// The weight gradient with channels in the lanes: winograd_weight_gradient's steps, blocked.
// dU[xi] (Cg x Kg) += V[xi]^T (Cg x cols) * dM[xi] (cols x Kg). Scratch: one dU per thread,
// then per thread V, dM and the two blocked planes (input, dy).
template <int m, typename T>
void winograd_weight_gradient_blocked(const ConvGeometry& g, const T* x, const T* dy, T* dw,
                                      T* scratch) {
  constexpr int alpha = m + 2, positions = alpha * alpha;
  const int P = g.P(), Q = g.Q(), Cg = g.C / g.G, Kg = g.K / g.G;
  if (P <= 0 || Q <= 0 || g.N <= 0) return;
  const Rounds<m> r(g);
  const int tiles_h = r.tiles_h, tiles_w = r.tiles_w, tiles = r.tiles, round = r.images;
  const int Pb = tiles_h * m, Qb = tiles_w * m;  // dy padded with zeros to whole tiles
  const std::size_t KC = std::size_t(g.K) * Cg, dU_size = positions * KC;
  const std::size_t PQ = std::size_t(P) * Q;

#pragma omp parallel num_threads(r.threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    T* dU = scratch + std::size_t(t) * dU_size;  // dU[xi][grp][c][k], as U in the forward
    T* V = scratch + std::size_t(r.threads) * dU_size + std::size_t(t) * r.per_thread;
    T* dM = V + r.V_size;
    T* pb = dM + r.M_size;
    T* dyb = pb + kTileLanes * padded_plane_size<m>(g);
    std::fill(dU, dU + dU_size, T(0));
    std::fill(pb, dyb + std::size_t(kTileLanes) * Pb * Qb, T(0));  // borders stay 0
    const int n_begin = int(std::ptrdiff_t(g.N) * t / nt);
    const int n_end = int(std::ptrdiff_t(g.N) * (t + 1) / nt);
    for (int n0 = n_begin; n0 < n_end; n0 += round) {
      const int images = std::min(round, n_end - n0), cols = images * tiles;
      for (int grp = 0; grp < g.G; ++grp) {
        blocked_input_tiles<m>(g, x, grp, n0, cols, V, pb);
        // dM[xi][t][k] = A dY A^T of tile t, 16 output channels at a time
        over_channel_blocks(
            dy + (std::size_t(n0) * g.K + grp * Kg) * PQ, std::size_t(g.K) * PQ, PQ, images, Kg,
            [&](const T* planes) { interleave_planes(planes, PQ, P, Q, 0, 0, Pb, Qb, dyb); },
            [&](int i, int k0) {
              for (int ty = 0; ty < tiles_h; ++ty)
                for (int tx = 0; tx < tiles_w; ++tx) {
                  const int tile = i * tiles + ty * tiles_w + tx;
                  T d[m][m][kTileLanes];
                  load_window<m, m>(dyb, Qb, ty, tx, d);
                  winograd_output_adjoint<m>(d, dM + std::size_t(tile) * Kg + k0,
                                             std::size_t(cols) * Kg, kTileLanes);
                }
            });
        for (int xi = 0; xi < positions; ++xi) {
          const T* V_xi = V + std::size_t(xi) * cols * Cg;
          const T* dM_xi = dM + std::size_t(xi) * cols * Kg;
          T* dU_xi = dU + xi * KC + std::size_t(grp) * Cg * Kg;
          if (std::max(Cg, Kg) <= kSmallGemmChannels)
            filter_gradient(cols, Kg, Cg, V_xi, dM_xi, dU_xi);
          else
            gemm(true, false, Cg, Kg, cols, T(1), V_xi, Cg, dM_xi, Kg, T(1), dU_xi, Kg);
        }
      }
    }
#pragma omp barrier
    // The threads' dU summed into thread 0's, then G^T dU G for 16 filters at a time
    // (neighbours in dU), added to dw.
    add_thread_partials(scratch, dU_size, nt);
#pragma omp for schedule(static)
    for (std::ptrdiff_t blk = 0; blk < std::ptrdiff_t(KC / kTileLanes); ++blk) {
      const FilterBlock f(std::size_t(blk), Cg, Kg);
      T dw16[3][3][kTileLanes];
      filter_adjoint_lanes<m>(scratch + f.gc * Kg + f.k0, KC, dw16);
      for (int l = 0; l < kTileLanes; ++l)
        for (int rs = 0; rs < 9; ++rs) dw[f.tap(l, rs)] += dw16[rs / 3][rs % 3][l];
    }
  }
}
//! [winograd-blocked]

/// Scalars the forward and the weight gradient use: one U (or dU) and one round's V, M and
/// padded planes per thread (the forward shares one U and leaves the others unused).
std::size_t winograd_scratch_size(const ConvGeometry& g, int m) {
  const std::size_t positions = std::size_t(m + 2) * (m + 2);
  const std::size_t per_thread = m == 2 ? Rounds<2>(g).per_thread : Rounds<4>(g).per_thread;
  return std::size_t(winograd_threads(g, m)) *
         (positions * std::size_t(g.K) * (g.C / g.G) + per_thread);
}

template <typename T>
void winograd_conv(const ConvGeometry& g, int m, const T* x, const T* w, const T* bias, T* y,
                   T* scratch) {
  if (channels_in_lanes(g)) {
    if (m == 2)
      winograd_forward_blocked<2>(g, x, w, bias, y, scratch);
    else
      winograd_forward_blocked<4>(g, x, w, bias, y, scratch);
  } else if (m == 2) {
    winograd_forward<2>(g, x, w, bias, y, scratch);
  } else {
    winograd_forward<4>(g, x, w, bias, y, scratch);
  }
}

}  // namespace

bool winograd_channels_in_lanes(const ConvGeometry& g) {
  return channels_in_lanes(g);
}

bool winograd_supports(const ConvGeometry& g) {
  return g.R == 3 && g.S == 3 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 && g.dil_w == 1;
}

std::size_t conv2d_winograd_workspace_size(const ConvGeometry& g, int m) {
  check_winograd(g, m, "conv2d_winograd_workspace_size");
  return winograd_scratch_size(g, m);
}

template <typename T>
void conv2d_forward_winograd(const ConvGeometry& g, int m, const T* x, const T* w, const T* bias,
                             T* y, std::vector<T>& workspace) {
  check_winograd(g, m, "conv2d_forward_winograd");
  winograd_conv(g, m, x, w, bias, y, reserve_workspace(workspace, winograd_scratch_size(g, m)));
}

/// Fewest channels per group, in and out, for which the Winograd weight gradient is used (see
/// conv2d_backward_winograd); 16 is the smallest measured count where it beat im2col, 8 was not
/// measured.
constexpr int kWinogradWeightMinChannels = 16;

//! [winograd-backward]
// dx[n, c, h, v] = sum over k, r, s of w[k, c, r, s] * dy[n, k, h + pad - r, v + pad - s]:
// a convolution of dy with w turned by 180 degrees (r -> 2 - r, s -> 2 - s) and its channels
// swapped (K in, C out, per group), padded by 2 - pad so that the output is H x W again.
// It runs through the same Winograd forward; only the weight is rearranged first.
template <typename T>
void conv2d_backward_winograd(const ConvGeometry& g, int m, const T* x, const T* w, const T* dy,
                              T* dx, T* dw, T* db, std::vector<T>& workspace) {
  check_winograd(g, m, "conv2d_backward_winograd");
  const int Cg = g.C / g.G, Kg = g.K / g.G;
  if (dx) {
    ConvGeometry gt = g;  // the transposed convolution: dy in, dx out
    gt.C = g.K;
    gt.K = g.C;
    gt.H = g.P();
    gt.W = g.Q();
    gt.pad_h = 2 - g.pad_h;
    gt.pad_w = 2 - g.pad_w;
    const std::size_t w_size = std::size_t(g.C) * Kg * 9;
    T* w_rot = reserve_workspace(workspace, w_size + winograd_scratch_size(gt, m));
    // w_rot: (C, Kg, 3, 3), w_rot[grp*Cg + c][k][r][s] = w[grp*Kg + k][c][2 - r][2 - s]
    for (int grp = 0; grp < g.G; ++grp)
      for (int c = 0; c < Cg; ++c)
        for (int k = 0; k < Kg; ++k)
          for (int rs = 0; rs < 9; ++rs)
            w_rot[((std::size_t(grp) * Cg + c) * Kg + k) * 9 + rs] =
                w[((std::size_t(grp) * Kg + k) * Cg + c) * 9 + (8 - rs)];
    if (gt.P() == g.H && gt.Q() == g.W) {
      winograd_conv(gt, m, dy, w_rot, static_cast<const T*>(nullptr), dx, w_rot + w_size);
    } else {  // P or Q is 0: no output, so nothing flows back
      std::fill(dx, dx + std::size_t(g.N) * g.C * g.H * g.W, T(0));
    }
  }
  // Weight: the adjoint Winograd transforms (winograd_weight_gradient) when the groups have
  // channels enough for its GEMMs to outweigh its transforms; otherwise the im2col path.
  // Measured fwd+bwd with winograd4, `convbook bench conv --threads 1`, ms, im2col dw -> this:
  // 16 channels per group (3x3_16-16_32x32) 57.1 -> 49.4, 32 channels 33.0 -> 24.5, 64 channels
  // 24.8 -> 18.5; but 4 channels (3x3g32_128-128_16x16) 124 -> 130 and 1 channel
  // (dw3x3_128_8x8) 65 -> 81: with Cg x Kg GEMM outputs of 16 or 1, the transforms dominate.
  if (dw && std::min(Cg, Kg) < kWinogradWeightMinChannels) {
    conv2d_backward_im2col(g, x, w, dy, static_cast<T*>(nullptr), dw, static_cast<T*>(nullptr),
                           workspace);
  } else if (dw) {
    T* scratch = reserve_workspace(workspace, winograd_scratch_size(g, m));
    if (channels_in_lanes(g) && m == 2)
      winograd_weight_gradient_blocked<2>(g, x, dy, dw, scratch);
    else if (channels_in_lanes(g))
      winograd_weight_gradient_blocked<4>(g, x, dy, dw, scratch);
    else if (m == 2)
      winograd_weight_gradient<2>(g, x, dy, dw, scratch);
    else
      winograd_weight_gradient<4>(g, x, dy, dw, scratch);
  }
  // Bias: db[k] += the sum of dy over images and pixels, lanes of a vector summed per plane.
  if (db) {
    const std::size_t PQ = std::size_t(g.P()) * g.Q();
#pragma omp parallel for schedule(static) if (std::size_t(g.N) * g.K * PQ > (std::size_t(1) << 16))
    for (int k = 0; k < g.K; ++k) {
      T sum = 0;
      for (int n = 0; n < g.N; ++n) {
        const T* plane = dy + (std::size_t(n) * g.K + k) * PQ;
        T part = 0;
#pragma omp simd reduction(+ : part)
        for (std::size_t i = 0; i < PQ; ++i) part += plane[i];
        sum += part;
      }
      db[k] += sum;
    }
  }
}
//! [winograd-backward]

template void conv2d_forward_winograd<float>(const ConvGeometry&, int, const float*, const float*,
                                             const float*, float*, std::vector<float>&);
template void conv2d_forward_winograd<double>(const ConvGeometry&, int, const double*,
                                              const double*, const double*, double*,
                                              std::vector<double>&);
template void conv2d_backward_winograd<float>(const ConvGeometry&, int, const float*, const float*,
                                              const float*, float*, float*, float*,
                                              std::vector<float>&);
template void conv2d_backward_winograd<double>(const ConvGeometry&, int, const double*,
                                               const double*, const double*, double*, double*,
                                               double*, std::vector<double>&);

}  // namespace convbook
