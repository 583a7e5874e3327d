/// @file gemm_packed.cpp
/// @brief The fast SGEMM: packed panels, three levels of cache blocking, an xsimd microkernel.
///
/// Legend: op(A) is M x K, op(B) is K x N, C is M x N, all row-major. MR x NR is the register
/// tile, KC the depth of a block, MC x KC the block of op(A) kept in L2, KC x NC the panel of
/// op(B) kept in L2 and L3.
///
/// Same sums as gemm_naive and the same Goto/BLIS loop nest as gemm_blocked, but the
/// microkernel is written by hand with xsimd batches (FMA, 2*MR accumulators in registers)
/// instead of being left to the auto-vectorizer, and the block sizes are chosen for the
/// register file and caches of the machine the code is compiled for:
///
///     for jc in 0..N step NC          panel of op(B), KC x NC, lives in L2 and L3
///       for pc in 0..K step KC        depth block (K cut into equal blocks of at most KC)
///         pack op(B)[pc:, jc:] into NR-column slivers (pack_b_panel)
///         for ic in 0..M step MC      block of op(A), MC x KC, lives in L2
///           pack op(A)[ic:, pc:] into MR-row slivers
///           for jr in 0..nc step NR   sliver of op(B), KC x NR, streams through L1
///             for ir in 0..mc step MR microkernel: C[ir:ir+MR, jr:jr+NR] += A sliver * B sliver
///
/// With several threads, each computes its own rectangle of C (the longer side of C is cut)
/// with this loop nest and its own packing buffers.
///
/// Packing copies each operand once per block into the exact order the microkernel reads it:
/// unit stride, aligned, transposes resolved and edges padded with zeros, so the microkernel
/// has one shape and no branches. The copy costs O(MK + KN) per block against the O(MNK) of
/// the product.
///
/// Float and double share the code (xsimd::batch<double> has half the lanes, so NR halves).
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef CONVBOOK_GEMM_NO_SIMD
#include <xsimd/xsimd.hpp>
#endif

#include "convbook/error.hpp"
#include "convbook/gemm/gemm.hpp"
#include "convbook/gemm/transpose.hpp"

#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE) && !defined(CONVBOOK_GEMM_NO_SIMD)
#define CONVBOOK_GEMM_NO_SIMD
#endif

namespace convbook {

namespace {

//! [gemm-packed-vec]
// The SIMD vector the microkernel computes with, chosen when the file is compiled: xsimd's best
// architecture for the -march flags (AVX-512: 16 floats, AVX2: 8 floats), or, on a machine xsimd
// does not know, a plain struct of 4 scalars the compiler may vectorize as it can.
#ifndef CONVBOOK_GEMM_NO_SIMD
template <typename T>
using Vec = xsimd::batch<T>;
template <typename T>
using AlignedVector = std::vector<T, xsimd::aligned_allocator<T, 64>>;
template <typename T>
Vec<T> load(const T* p) {
  return Vec<T>::load_aligned(p);
}
template <typename T>
Vec<T> loadu(const T* p) {
  return Vec<T>::load_unaligned(p);
}
template <typename T>
void storeu(Vec<T> v, T* p) {
  v.store_unaligned(p);
}
template <typename T>
Vec<T> fma(Vec<T> a, Vec<T> b, Vec<T> c) {
  return xsimd::fma(a, b, c);  // a * b + c in one instruction, one rounding
}
// A streaming (non-temporal) store to a 64-byte aligned address: the line goes to memory through
// a write-combining buffer instead of first being read into the cache to be overwritten (the
// read-for-ownership of an ordinary store doubles the memory traffic of a write-only C).
template <typename T>
void store_stream(Vec<T> v, T* p) {
#if XSIMD_WITH_AVX512F
  if constexpr (std::is_same_v<T, float>) _mm512_stream_ps(p, v); else _mm512_stream_pd(p, v);
#elif XSIMD_WITH_AVX
  if constexpr (std::is_same_v<T, float>) _mm256_stream_ps(p, v); else _mm256_stream_pd(p, v);
#else
  v.store_aligned(p);
#endif
}
// Streaming stores are weakly ordered: this fence makes them visible before the product returns.
inline void stream_fence() {
#if XSIMD_WITH_AVX
  _mm_sfence();
#endif
}
#if XSIMD_WITH_AVX512F
constexpr int kVectorRegisters = 32;  // zmm0..zmm31
#else
constexpr int kVectorRegisters = 16;  // xmm/ymm0..15
#endif
#else
template <typename T>
struct Vec {
  static constexpr int size = 4;
  T v[size];
  Vec() = default;
  explicit Vec(T s) {
    for (T& e : v) e = s;
  }
};
template <typename T>
using AlignedVector = std::vector<T>;
template <typename T>
Vec<T> load(const T* p) {
  Vec<T> r;
  for (int i = 0; i < Vec<T>::size; ++i) r.v[i] = p[i];
  return r;
}
template <typename T>
Vec<T> loadu(const T* p) {
  return load(p);
}
template <typename T>
void storeu(Vec<T> a, T* p) {
  for (int i = 0; i < Vec<T>::size; ++i) p[i] = a.v[i];
}
template <typename T>
Vec<T> fma(Vec<T> a, Vec<T> b, Vec<T> c) {
  for (int i = 0; i < Vec<T>::size; ++i) c.v[i] += a.v[i] * b.v[i];
  return c;
}
template <typename T>
void store_stream(Vec<T> a, T* p) {
  storeu(a, p);
}
inline void stream_fence() {}
template <typename T>
Vec<T> operator*(Vec<T> a, Vec<T> b) {
  for (int i = 0; i < Vec<T>::size; ++i) a.v[i] *= b.v[i];
  return a;
}
template <typename T>
Vec<T> operator+(Vec<T> a, Vec<T> b) {
  for (int i = 0; i < Vec<T>::size; ++i) a.v[i] += b.v[i];
  return a;
}
constexpr int kVectorRegisters = 16;
#endif
//! [gemm-packed-vec]

//! [gemm-packed-sizes]
// The register tile is MR rows x NR = 2 vectors. The microkernel holds 2*MR accumulators, the
// two vectors of the current row of B and one broadcast of A: 2*MR + 3 registers. With 32
// registers (AVX-512) that gives MR = 14 (31 registers), with 16 (AVX2, SSE) MR = 6 (15).
// 28 independent accumulators are also what keeps the FMA units busy: each FMA waits 4 cycles
// for its input and up to 2 can start per cycle (Intel with two 512-bit units; Zen 4 starts
// one 512-bit FMA per cycle), so at least 4 x 2 = 8 chains must be in flight.
template <typename T>
constexpr int NR = 2 * int(Vec<T>::size);
constexpr int MR = kVectorRegisters == 32 ? 14 : 6;

// KC, MC and NC were measured, not derived (sweeps over a dozen combinations on the Zen 4 of the
// book, 1024^3 and the ResNet-20 shapes). The textbook rule, a KC x NR sliver of B small enough to
// stay in L1 beside the A sliver (KC = 192: 24 KB of 32 KB), lost to KC = 256 (32 KB, 1024^3:
// 82 -> 88 GFLOP/s): the sliver is read in order, so the prefetcher streams it from L2 in time,
// and a deeper block loads and stores each C tile fewer times (once per block of depth).
constexpr int KC = 256;
// MC: the MC x KC block of A stays in L2 while the jr loop runs over the whole panel:
// 168 x 256 x 4 B = 168 KB (MC is a multiple of MR = 14 and of 6).
constexpr int MC = 168;
// NC: the KC x NC panel of B, 256 x 1024 x 4 B = 1 MB per thread, is re-read by every MC block,
// from L2 and L3; 512 columns measured 7 % slower on 1024^3, 2048 no faster.
constexpr int NC = 1024;
//! [gemm-packed-sizes]

int ceil_div(int a, int b) {
  return (a + b - 1) / b;
}

//! [gemm-packed-pack]
#if !defined(CONVBOOK_GEMM_NO_SIMD) && XSIMD_WITH_AVX512F
// The packing of a float sliver of A stored M x K (rows i0 .. i0+rows, at most MR <= 16), 16
// depths at a time: 16 values of each row loaded with unit stride (rows past the sliver as
// zeros), transposed in registers, the MR values of each depth stored under a mask. Returns how
// many depths it packed (kc rounded down to 16).
inline int pack_a_sliver_16x16(const float* A, int lda, int i0, int rows, int p0, int kc,
                               float* Ap) {
  static_assert(MR <= 16, "a column of the sliver must fit in one vector");
  const int depth = kc / 16 * 16;
  const __mmask16 sliver_rows = __mmask16((1u << MR) - 1);
  for (int pb = 0; pb < depth; pb += 16) {
    __m512 r[16];
    for (int i = 0; i < 16; ++i) {
      r[i] =
          i < rows ? _mm512_loadu_ps(A + std::size_t(i0 + i) * lda + p0 + pb) : _mm512_setzero_ps();
    }
    transpose_16x16(r);
    for (int p = 0; p < 16; ++p) _mm512_mask_storeu_ps(Ap + (pb + p) * MR, sliver_rows, r[p]);
  }
  return depth;
}

// The transposed packing of a whole float sliver (NR = 32 columns, rows j0.. of B stored N x K),
// 16 depths at a time: two 16 x 16 blocks read along the rows of B, transposed in registers,
// stored as 16 rows of the sliver. Returns how many depths it packed (kc rounded down to 16).
// Each step reads the next cache line of 32 rows ldb apart: more streams than the hardware
// prefetcher follows, so every row's line 4 steps ahead is prefetched by hand (a weight
// gradient's col^T, 288 x 32768: 14.2 -> 11.7 ms at 1 thread; 2 and 8 lines ahead measured
// the same within noise, 16 slower).
inline int pack_b_sliver_transposed_16x16(const float* B, int ldb, int p0, int kc, int j0,
                                          float* Bp) {
  const int depth = kc / 16 * 16;
  for (int pb = 0; pb < depth; pb += 16) {
    for (int half = 0; half < 2; ++half) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i) {
        const float* row = B + std::size_t(j0 + 16 * half + i) * ldb + p0 + pb;
        __builtin_prefetch(row + 64);  // this row's line 4 steps ahead (see above)
        r[i] = _mm512_loadu_ps(row);
      }
      transpose_16x16(r);
      for (int p = 0; p < 16; ++p) _mm512_storeu_ps(Bp + (pb + p) * 32 + 16 * half, r[p]);
    }
  }
  return depth;
}
#endif

// Packs rows [i0, i0+MR) x depths [p0, p0+kc) of op(A) into one sliver, column by column:
// element (i0 + r, p0 + p) goes to Ap[p*MR + r], so the microkernel reads MR consecutive values
// per step of p. Rows past M are never read: the last sliver runs the microkernel made for its
// own row count (the vector path writes zeros there, the scalar one leaves them).
template <typename T>
void pack_a_sliver(bool trans_a, const T* A, int lda, int M, int i0, int p0, int kc, T* Ap) {
  const int rows = std::min(MR, M - i0);
  if (trans_a) {  // A is stored K x M: row p0 + p holds the MR values side by side
    for (int p = 0; p < kc; ++p) {
      const T* src = A + std::size_t(p0 + p) * lda + i0;
      for (int r = 0; r < rows; ++r) Ap[p * MR + r] = src[r];
    }
  } else {           // A is stored M x K: read each row along its length, write with stride MR
    int packed = 0;  // depths already packed 16 x 16 blocks at a time
#if !defined(CONVBOOK_GEMM_NO_SIMD) && XSIMD_WITH_AVX512F
    if constexpr (std::is_same_v<T, float>) {
      packed = pack_a_sliver_16x16(A, lda, i0, rows, p0, kc, Ap);
    }
#endif
    for (int r = 0; r < rows; ++r) {
      const T* src = A + std::size_t(i0 + r) * lda + p0;
      for (int p = packed; p < kc; ++p) Ap[p * MR + r] = src[p];
    }
  }
}

// Packs depths [p0, p0+kc) x columns [j0, j0+NR) of op(B) into one sliver, row by row:
// element (p0 + p, j0 + c) goes to Bp[p*NR + c]. Columns past N are zeros.
template <typename T>
void pack_b_sliver(bool trans_b, const T* B, int ldb, int N, int p0, int kc, int j0, T* Bp) {
  constexpr int nr = NR<T>;
  const int cols = std::min(nr, N - j0);
  if (trans_b) {     // B is stored N x K: column c of the sliver is a piece of row j0 + c of B
    int packed = 0;  // depths already packed 16 x 16 blocks at a time
#if !defined(CONVBOOK_GEMM_NO_SIMD) && XSIMD_WITH_AVX512F
    if constexpr (std::is_same_v<T, float>) {
      if (cols == nr) packed = pack_b_sliver_transposed_16x16(B, ldb, p0, kc, j0, Bp);
    }
#endif
    for (int c = 0; c < cols; ++c) {
      const T* src = B + std::size_t(j0 + c) * ldb + p0;
      for (int p = packed; p < kc; ++p) Bp[p * nr + c] = src[p];
    }
    for (int c = cols; c < nr; ++c) {
      for (int p = 0; p < kc; ++p) Bp[p * nr + c] = T(0);
    }
  } else {  // B is stored K x N: row p of the sliver is a contiguous piece of row p0 + p of B
    for (int p = 0; p < kc; ++p) {
      const T* src = B + std::size_t(p0 + p) * ldb + j0;
      if (cols == nr) {  // a whole sliver row: a fixed-size copy (two vector moves), no memmove
        for (int c = 0; c < nr; ++c) Bp[p * nr + c] = src[c];
        continue;
      }
      for (int c = 0; c < cols; ++c) Bp[p * nr + c] = src[c];
      for (int c = cols; c < nr; ++c) Bp[p * nr + c] = T(0);
    }
  }
}

// Packs the panel of one block, depths [p0, p0+kc) x columns [j0, j0+nc) of op(B), as the
// slivers of kc x NR that pack_b_sliver makes, one after the other. When B is stored K x N, the
// panel is copied row by row, each row of B read once along all nc columns: one stream the
// hardware prefetcher follows, where sliver by sliver would read NR columns from each of kc rows
// ldb apart (for a column matrix of 131072 pixels, kc streams 512 KB apart, more than the
// prefetcher tracks: DRAM latency on every line).
template <typename T>
void pack_b_panel(bool trans_b, const T* B, int ldb, int N, int p0, int kc, int j0, int nc, T* Bp) {
  constexpr int nr = NR<T>;
  const int whole = trans_b ? 0 : nc / nr * nr;  // columns packed row by row
  for (int p = 0; p < kc && whole > 0; ++p) {
    const T* src = B + std::size_t(p0 + p) * ldb + j0;
    for (int jr = 0; jr < whole; jr += nr) {
      for (int c = 0; c < nr; ++c) Bp[std::size_t(jr) * kc + p * nr + c] = src[jr + c];
    }
  }
  for (int jr = whole; jr < nc; jr += nr) {  // B transposed, or the last, partial sliver
    pack_b_sliver(trans_b, B, ldb, N, p0, kc, j0 + jr, Bp + std::size_t(jr) * kc);
  }
}
//! [gemm-packed-pack]

//! [gemm-packed-microkernel]
// C[0:ROWS, 0:nr] = alpha * (Ap * Bp) + beta * C for the first ROWS rows of one MR x kc sliver
// of A and the first VECS vectors of columns of one kc x NR sliver of B. The ROWS x NR sums
// stay in VECS*ROWS vector registers for the whole loop over p: each step loads 2 vectors of B,
// broadcasts ROWS values of A and issues 2*ROWS FMAs, so the loads are 2 + ROWS per 2*ROWS FMAs
// and the FMA units, not the memory, set the pace. beta == 0 writes C without reading it, and
// with `stream` (C much larger than the caches and written once: see gemm_packed_serial)
// through streaming stores, which do not read its lines into the cache first.
//
// ROWS and VECS are compile-time constants so that the accumulators are registers. Full tiles
// run with ROWS = MR, VECS = 2. The last sliver of a block, when M is not a multiple of MR, runs
// the kernel instantiated for its own row count, and a sliver of B with at most one vector of
// columns (N = 16 in a weight gradient, or the right edge of C) the one-vector kernel.
// Computing the missing rows and columns on the zero padding instead would waste their FMAs:
// with M = 16 (a 16-channel conv), 12 rows of 28; with N = 16, half of every tile.
template <int ROWS, int VECS, typename T>
void microkernel(int kc, const T* Ap, const T* Bp, T alpha, T beta, bool stream, T* C, int ldc,
                 int nr) {
  constexpr int L = int(Vec<T>::size);
  Vec<T> acc[ROWS][VECS];  // accumulators: row r of the tile is acc[r][0] | acc[r][1]
#pragma GCC unroll 16
  for (int r = 0; r < ROWS; ++r)
    for (int v = 0; v < VECS; ++v) acc[r][v] = Vec<T>(T(0));

  // The tile of C is loaded (beta != 0) or written at the end; ask for its lines now, so that
  // they arrive while the FMAs run instead of stalling the stores (rows of C are ldc apart: a
  // different page each, which the hardware prefetcher does not follow).
  for (int r = 0; r < ROWS && !stream; ++r) {
    __builtin_prefetch(C + std::size_t(r) * ldc, 1);
    __builtin_prefetch(C + std::size_t(r) * ldc + VECS * L - 1, 1);
  }
  for (int p = 0; p < kc; ++p) {
    Vec<T> b[VECS];
    for (int v = 0; v < VECS; ++v) b[v] = load(Bp + p * NR<T> + v * L);
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r) {
      const Vec<T> a(Ap[p * MR + r]);  // broadcast op(A)[r][p] to every lane
      for (int v = 0; v < VECS; ++v) acc[r][v] = fma(a, b[v], acc[r][v]);
    }
  }

  const Vec<T> va(alpha), vb(beta);
  if (nr == VECS * L) {  // the common case: full rows, stored straight into C
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r) {
      T* row = C + std::size_t(r) * ldc;
      for (int v = 0; v < VECS; ++v) {
        if (stream)
          store_stream(va * acc[r][v], row + v * L);
        else if (beta == T(0))
          storeu(va * acc[r][v], row + v * L);
        else
          storeu(fma(va, acc[r][v], vb * loadu(row + v * L)), row + v * L);
      }
    }
    return;
  }
  alignas(64) T tile[ROWS * VECS * L];  // a partial vector of columns: spill, store nr of them
  for (int r = 0; r < ROWS; ++r)
    for (int v = 0; v < VECS; ++v) storeu(acc[r][v], tile + (r * VECS + v) * L);
  for (int r = 0; r < ROWS; ++r) {
    T* row = C + std::size_t(r) * ldc;
    for (int c = 0; c < nr; ++c) {
      const T sum = alpha * tile[r * VECS * L + c];
      row[c] = beta == T(0) ? sum : sum + beta * row[c];
    }
  }
}

// The kernels for 1..MR rows, indexed [vectors - 1][rows - 1].
template <typename T>
using Microkernel = void (*)(int, const T*, const T*, T, T, bool, T*, int, int);

template <typename T, int VECS, int... R>
constexpr std::array<Microkernel<T>, MR> microkernel_row(std::integer_sequence<int, R...>) {
  return {&microkernel<R + 1, VECS, T>...};
}

template <typename T>
constexpr std::array<std::array<Microkernel<T>, MR>, 2> kMicrokernels = {
    microkernel_row<T, 1>(std::make_integer_sequence<int, MR>()),
    microkernel_row<T, 2>(std::make_integer_sequence<int, MR>())};

// The kernel for an mr x nr tile.
template <typename T>
Microkernel<T> microkernel_for(int mr, int nr) {
  return kMicrokernels<T>[nr > int(Vec<T>::size) ? 1 : 0][mr - 1];
}
//! [gemm-packed-microkernel]

/// Packing buffers, one pair per calling thread, reused across calls; they only grow, so once
/// the largest product has been seen no call allocates.
template <typename T>
struct PackedBuffers {
  AlignedVector<T> a, b;
};

template <typename T>
PackedBuffers<T>& packed_buffers() {
  static thread_local PackedBuffers<T> buffers;
  return buffers;
}

void fail(const std::string& what) {
  throw Error("gemm_packed: " + what);
}

// The checks every entry point shares: sizes, and the leading dimensions of A and C.
void check_a_and_c(bool trans_a, int M, int N, int K, int lda, int ldc) {
  if (M < 0 || N < 0 || K < 0) {
    fail("sizes M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
         " must be >= 0");
  }
  const int a_cols = trans_a ? M : K;
  if (lda < std::max(1, a_cols)) {
    fail("lda=" + std::to_string(lda) + " must be >= " + std::to_string(std::max(1, a_cols)));
  }
  if (ldc < std::max(1, N)) {
    fail("ldc=" + std::to_string(ldc) + " must be >= " + std::to_string(std::max(1, N)));
  }
}

void check_arguments(bool trans_a, bool trans_b, int M, int N, int K, int lda, int ldb, int ldc) {
  check_a_and_c(trans_a, M, N, K, lda, ldc);
  const int b_cols = trans_b ? K : N;
  if (ldb < std::max(1, b_cols)) {
    fail("ldb=" + std::to_string(ldb) + " must be >= " + std::to_string(std::max(1, b_cols)));
  }
}

// C = beta * C, the whole product when there is nothing to add (K == 0 or alpha == 0); beta 0
// writes zeros without reading C.
template <typename T>
void scale_c(int M, int N, T beta, T* C, int ldc) {
  for (int i = 0; i < M; ++i) {
    T* row = C + std::size_t(i) * ldc;
    for (int j = 0; j < N; ++j) row[j] = beta == T(0) ? T(0) : beta * row[j];
  }
}

//! [gemm-packed-serial]
// The loop nest on one thread: C (M x N) = alpha op(A) op(B) + beta C, with K > 0 and alpha != 0.
// op(B) is read only through pack_b(p0, kc, j0, nc, Bp), which writes the kc x nc panel at
// depth p0 and column j0 as kc x NR slivers one after the other, the way pack_b_panel does: a
// plain matrix for gemm_packed, a convolution's input for gemm_packed_b (the implicit im2col of
// chapter 01), whose column matrix never exists in memory.
template <typename T, typename PackB>
void gemm_packed_serial(bool trans_a, int M, int N, int K, T alpha, const T* A, int lda,
                        const PackB& pack_b, T beta, T* C, int ldc) {
  constexpr int nr = NR<T>;
  PackedBuffers<T>& buf = packed_buffers<T>();
  const std::size_t a_size = std::size_t(MC) * std::min(K, KC);
  const std::size_t b_size = std::size_t(ceil_div(std::min(N, NC), nr)) * nr * std::min(K, KC);
  if (buf.a.size() < a_size) buf.a.resize(a_size);  // only grows: no allocation once warm
  if (buf.b.size() < b_size) buf.b.resize(b_size);
  T* Ap = buf.a.data();  // an MC x KC block of op(A), as slivers of MR x kc
  T* Bp = buf.b.data();  // a KC x NC panel of op(B), as slivers of kc x NR

  // K is cut into blocks of equal depth, at most KC: K = 288 runs as 144 + 144, not 256 + 32
  // (a thin last block would load and store every C tile again for 32 FMAs a value).
  const int kc_step = ceil_div(K, ceil_div(K, KC));
  // A C far larger than the caches, computed in one depth block with beta == 0, is only ever
  // written: streaming stores spare the read of every line (batched dX, 144 x 131072 with K =
  // 16: 75 MB of C for 16 FMAs a value). Full vectors must be 64-byte aligned.
  const bool stream = beta == T(0) && kc_step == K &&
                      std::size_t(M) * N * sizeof(T) >= kGemmStreamBytes &&
                      reinterpret_cast<std::uintptr_t>(C) % 64 == 0 && (ldc * sizeof(T)) % 64 == 0;
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    for (int pc = 0; pc < K; pc += kc_step) {
      const int kc = std::min(kc_step, K - pc);
      // Blocks of depth after the first add to what the first one stored: beta becomes 1.
      const T beta_block = pc == 0 ? beta : T(1);
      pack_b(pc, kc, jc, nc, Bp);
      for (int ic = 0; ic < M; ic += MC) {
        const int mc = std::min(MC, M - ic);
        for (int ir = 0; ir < mc; ir += MR) {
          pack_a_sliver(trans_a, A, lda, M, ic + ir, pc, kc, Ap + std::size_t(ir) * kc);
        }
        // jr outside, ir inside: one B sliver stays in L1 while the A block streams from L2.
        for (int jr = 0; jr < nc; jr += nr) {
          for (int ir = 0; ir < mc; ir += MR) {
            const int rows = std::min(MR, mc - ir), cols = std::min(nr, nc - jr);
            microkernel_for<T>(rows, cols)(kc, Ap + std::size_t(ir) * kc, Bp + std::size_t(jr) * kc,
                                           alpha, beta_block, stream,
                                           C + std::size_t(ic + ir) * ldc + jc + jr, ldc, cols);
          }
        }
      }
    }
  }
  if (stream) stream_fence();
}
//! [gemm-packed-serial]

}  // namespace

namespace {

// The depth-split product of gemm_packed (see there): thread t computes
// partial_t = alpha op(A)[:, k0:k1] op(B)[k0:k1, :] into its own M x N buffer with the serial
// loop nest, then the rows of C are shared out and each is beta C + partial_0 + partial_1 + ...
template <typename T>
void gemm_packed_split_k(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A,
                         int lda, const T* B, int ldb, T beta, T* C, int ldc) {
  static thread_local AlignedVector<T> partials;  // grow-only, owned by the calling thread
  const int max_team = omp_get_max_threads();
  const std::size_t mn = std::size_t(M) * N;
  if (partials.size() < mn * max_team) partials.resize(mn * max_team);
  T* const sums = partials.data();
#pragma omp parallel num_threads(max_team)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    const int k0 = int(std::ptrdiff_t(K) * t / team), k1 = int(std::ptrdiff_t(K) * (t + 1) / team);
    T* mine = sums + mn * t;
    if (k1 > k0) {
      const T* A_part = trans_a ? A + std::size_t(k0) * lda : A + k0;
      const T* B_part = trans_b ? B + k0 : B + std::size_t(k0) * ldb;
      const auto pack_b = [&](int p0, int kc, int j0, int nc, T* Bp) {
        pack_b_panel(trans_b, B_part, ldb, N, p0, kc, j0, nc, Bp);
      };
      gemm_packed_serial(trans_a, M, N, k1 - k0, alpha, A_part, lda, pack_b, T(0), mine, N);
    } else {
      std::fill(mine, mine + mn, T(0));
    }
#pragma omp barrier
#pragma omp for schedule(static)
    for (int i = 0; i < M; ++i) {
      T* row = C + std::size_t(i) * ldc;
      for (int j = 0; j < N; ++j) {
        T sum = beta == T(0) ? T(0) : beta * row[j];
        for (int s = 0; s < team; ++s) sum += sums[mn * s + std::size_t(i) * N + j];
        row[j] = sum;
      }
    }
  }
}

}  // namespace

//! [gemm-packed]
template <typename T>
void gemm_packed(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda,
                 const T* B, int ldb, T beta, T* C, int ldc) {
  check_arguments(trans_a, trans_b, M, N, K, lda, ldb, ldc);
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) return scale_c(M, N, beta, C, ldc);
  // Threads: each one computes its own rectangle of C with the serial loop nest and its own
  // packing buffers, the longer side of C cut in whole slivers. No buffer is shared, so there
  // is no barrier inside the product, only the join at its end: a thread that the OS pauses
  // delays its own rectangle, not every step of the others. Called from code that is already
  // parallel (a conv running images in parallel), the product stays on the calling thread;
  // tiny products are not worth waking the team.
  const bool parallel = 2.0 * M * N * K > 1e6 && !omp_in_parallel() && omp_get_max_threads() > 1;
  // A product with a small C and a long depth (a weight gradient over a whole batch: 16 x 144
  // summed over 131072 pixels) has too few slivers of C to share evenly (144 columns are 5
  // slivers: 3 for one thread, 2 for the other): its depth is cut instead. Each thread sums its
  // part of K into its own copy of C, and the copies are added in thread order (the same result
  // for the same number of threads). With 4 or more slivers a thread, cutting C was measured
  // faster (64 x 576 x 8192: 4.4 ms cutting C, 6.2 cutting K, 2 threads).
  const int slivers = N >= M ? ceil_div(N, NR<T>) : ceil_div(M, MR);
  if (parallel && K >= 8 * std::max(M, N) && slivers < 4 * omp_get_max_threads()) {
    return gemm_packed_split_k(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
#pragma omp parallel if (parallel)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    const bool split_n = N >= M;
    const int step = split_n ? NR<T> : MR;
    const int length = split_n ? N : M;
    const int per_thread = ceil_div(ceil_div(length, step), team) * step;
    const int begin = std::min(length, t * per_thread);
    const int end = std::min(length, begin + per_thread);
    if (begin < end && split_n) {  // columns [begin, end) of op(B) and C
      const T* B_part = trans_b ? B + std::size_t(begin) * ldb : B + begin;
      const int n_part = end - begin;
      const auto pack_b = [&](int p0, int kc, int j0, int nc, T* Bp) {
        pack_b_panel(trans_b, B_part, ldb, n_part, p0, kc, j0, nc, Bp);
      };
      gemm_packed_serial(trans_a, M, n_part, K, alpha, A, lda, pack_b, beta, C + begin, ldc);
    } else if (begin < end) {  // rows [begin, end) of op(A) and C
      const T* A_part = trans_a ? A + begin : A + std::size_t(begin) * lda;
      const auto pack_b = [&](int p0, int kc, int j0, int nc, T* Bp) {
        pack_b_panel(trans_b, B, ldb, N, p0, kc, j0, nc, Bp);
      };
      gemm_packed_serial(trans_a, end - begin, N, K, alpha, A_part, lda, pack_b, beta,
                         C + std::size_t(begin) * ldc, ldc);
    }
  }
}
//! [gemm-packed]

template <typename T>
int gemm_packed_nr() {
  return NR<T>;
}

//! [gemm-packed-b]
// The same serial loop nest with the B slivers written by the caller's packer instead of copied
// from a matrix; no threads of its own (its callers run images in parallel).
template <typename T>
void gemm_packed_b(bool trans_a, int M, int N, int K, T alpha, const T* A, int lda,
                   const GemmBPacker<T>& b, T beta, T* C, int ldc) {
  check_a_and_c(trans_a, M, N, K, lda, ldc);
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) return scale_c(M, N, beta, C, ldc);
  const auto pack_b = [&](int p0, int kc, int j0, int nc, T* Bp) {
    for (int jr = 0; jr < nc; jr += NR<T>) b.pack(p0, kc, j0 + jr, NR<T>, Bp + std::size_t(jr) * kc);
  };
  gemm_packed_serial(trans_a, M, N, K, alpha, A, lda, pack_b, beta, C, ldc);
}
//! [gemm-packed-b]

template int gemm_packed_nr<float>();
template int gemm_packed_nr<double>();
template void gemm_packed_b<float>(bool, int, int, int, float, const float*, int,
                                   const GemmBPacker<float>&, float, float*, int);
template void gemm_packed_b<double>(bool, int, int, int, double, const double*, int,
                                    const GemmBPacker<double>&, double, double*, int);
template void gemm_packed<float>(bool, bool, int, int, int, float, const float*, int, const float*,
                                 int, float, float*, int);
template void gemm_packed<double>(bool, bool, int, int, int, double, const double*, int,
                                  const double*, int, double, double*, int);

}  // namespace convbook
