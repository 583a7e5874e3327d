/// @file gemm_blocked.cpp
/// @brief Cache-blocked GEMM: the same sums as gemm_naive, computed tile by tile.
///
/// Legend: op(A) is M x K, op(B) is K x N, C is M x N, all row-major.
///
/// Same loops as gemm_naive, but reordered in the classic Goto/BLIS way so every operand is
/// read from the cache level it fits in:
/// - a KC x NC panel of op(B) is packed once per (jc, pc) block (fits in L2);
/// - the MC x KC blocks of op(A) are packed in slivers of MR rows (one sliver fits in L1);
/// - a micro-kernel updates an MR x NR tile of C kept in registers, reading one sliver of A
///   and one sliver of B (KC x NR, also L1-sized) per step of p.
/// Packing also resolves trans_a/trans_b and folds alpha into A, so the micro-kernel has a
/// single, unit-stride shape that the compiler vectorizes. The SIMD micro-kernel written by hand
/// with xsimd comes in chapter 01's second half; this one relies on the auto-vectorizer.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "convbook/gemm/gemm.hpp"

namespace convbook {

namespace {

/// Rows of a register tile: MR x NR accumulators (6 x 2 vectors of 16 floats or 8 doubles).
constexpr int MR = 6;
/// Columns of a register tile: two 64-byte vectors.
template <typename T>
constexpr int NR = 128 / int(sizeof(T));
/// Depth of a block: a KC x NR sliver of B is 32 KB in float, an MR x KC sliver of A 6 KB.
constexpr int KC = 256;
/// Rows of op(A) per parallel task (a multiple of MR).
constexpr int MC = 96;
/// Columns of op(B) per packed panel (a multiple of NR): a KC x NC float panel is 512 KB.
constexpr int NC = 512;

int ceil_div(int a, int b) {
  return (a + b - 1) / b;
}

//! [gemm-pack]
// Packs rows [i0, i0+mc) x depths [p0, p0+kc) of alpha * op(A) as slivers of MR rows:
// sliver s holds element (i0 + s*MR + r, p0 + p) at Ap[s*MR*kc + p*MR + r]; rows past M are 0.
template <typename T>
void pack_a(bool trans_a, const T* A, int lda, T alpha, int M, int i0, int mc, int p0, int kc,
            T* Ap) {
  for (int s = 0; s < ceil_div(mc, MR); ++s) {
    T* out = Ap + s * MR * kc;
    for (int p = 0; p < kc; ++p) {
      for (int r = 0; r < MR; ++r) {
        const int i = i0 + s * MR + r;
        const int k = p0 + p;
        out[p * MR + r] = i < M ? alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]) : T(0);
      }
    }
  }
}

// Packs depths [p0, p0+kc) x columns [j0, j0+nc) of op(B) as slivers of NR columns:
// sliver s holds element (p0 + p, j0 + s*NR + c) at Bp[s*NR*kc + p*NR + c]; columns past N are 0.
template <typename T>
void pack_b(bool trans_b, const T* B, int ldb, int N, int p0, int kc, int j0, int s, T* Bp) {
  constexpr int nr = NR<T>;
  T* out = Bp + s * nr * kc;
  if (!trans_b) {  // row p of the sliver is a contiguous piece of row p0 + p of B
    for (int p = 0; p < kc; ++p) {
      for (int c = 0; c < nr; ++c) {
        const int j = j0 + s * nr + c;
        out[p * nr + c] = j < N ? B[(p0 + p) * ldb + j] : T(0);
      }
    }
  } else {  // column c of the sliver is a contiguous piece of row j of B: read along it
    for (int c = 0; c < nr; ++c) {
      const int j = j0 + s * nr + c;
      for (int p = 0; p < kc; ++p) out[p * nr + c] = j < N ? B[j * ldb + p0 + p] : T(0);
    }
  }
}
//! [gemm-pack]

//! [gemm-microkernel]
// C[0:mr, 0:nr] = beta * C + Ap (MR x kc sliver) * Bp (kc x NR sliver); the MR x NR sums live in
// registers for the whole p loop, so C is read and written once per block of depth kc.
// beta is the caller's for the first block of depth and 1 for the next ones.
template <typename T>
void micro_kernel(int kc, const T* Ap, const T* Bp, T beta, T* C, int ldc, int mr, int nr) {
  constexpr int nr_full = NR<T>;
  T acc[MR][nr_full] = {};
  for (int p = 0; p < kc; ++p) {
    const T* b = Bp + p * nr_full;
    for (int r = 0; r < MR; ++r) {
      const T a = Ap[p * MR + r];
#pragma omp simd
      for (int c = 0; c < nr_full; ++c) acc[r][c] += a * b[c];
    }
  }
  for (int r = 0; r < mr; ++r) {
    T* c_row = C + r * ldc;
    for (int c = 0; c < nr; ++c) {
      c_row[c] = beta == T(0) ? acc[r][c] : beta * c_row[c] + acc[r][c];  // beta 0: C not read
    }
  }
}
//! [gemm-microkernel]

/// Packing buffers reused across calls (one set per calling thread; they only grow).
template <typename T>
struct PackBuffers {
  std::vector<T> a, b;
};

template <typename T>
PackBuffers<T>& pack_buffers() {
  static thread_local PackBuffers<T> buffers;
  return buffers;
}

}  // namespace

//! [gemm-blocked]
template <typename T>
void gemm_blocked(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda,
                  const T* B, int ldb, T beta, T* C, int ldc) {
  constexpr int nr = NR<T>;
  if (M <= 0 || N <= 0) return;

  if (K <= 0 || alpha == T(0)) {  // nothing to add: C = beta * C
    for (int i = 0; i < M; ++i) {
      for (int j = 0; j < N; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
    }
    return;
  }

  PackBuffers<T>& buf = pack_buffers<T>();
  const int m_slivers = ceil_div(M, MR);
  buf.a.resize(std::size_t(m_slivers) * MR * KC);
  buf.b.resize(std::size_t(NC) * KC);
  T* Ap = buf.a.data();
  T* Bp = buf.b.data();
  const double flops = 2.0 * M * N * K;

  // Threads share the work of one big product; called from code that is already parallel
  // (conv2d_forward_im2col runs images in parallel), the product runs on the calling thread.
#pragma omp parallel if (flops > 2e5 && !omp_in_parallel())
  for (int j0 = 0; j0 < N; j0 += NC) {
    const int nc = std::min(NC, N - j0);
    const int n_slivers = ceil_div(nc, nr);
    for (int p0 = 0; p0 < K; p0 += KC) {
      const int kc = std::min(KC, K - p0);
      // Pack the KC x NC panel of op(B) and all of alpha * op(A)[:, p0:p0+kc].
#pragma omp for schedule(static) nowait
      for (int s = 0; s < n_slivers; ++s) pack_b(trans_b, B, ldb, N, p0, kc, j0, s, Bp);
#pragma omp for schedule(static)
      for (int s = 0; s < m_slivers; ++s) {
        pack_a(trans_a, A, lda, alpha, M, s * MR, MR, p0, kc, Ap + s * MR * kc);
      }
      // Each task: MC rows of C times one NR-wide sliver of the panel.
      const int m_blocks = ceil_div(M, MC);
#pragma omp for collapse(2) schedule(static)
      for (int ib = 0; ib < m_blocks; ++ib) {
        for (int s = 0; s < n_slivers; ++s) {
          const int j = j0 + s * nr;
          for (int i = ib * MC; i < std::min(M, (ib + 1) * MC); i += MR) {
            micro_kernel(kc, Ap + (i / MR) * MR * kc, Bp + s * nr * kc, p0 == 0 ? beta : T(1),
                         C + i * ldc + j, ldc, std::min(MR, M - i), std::min(nr, N - j));
          }
        }
      }
    }
  }
}
//! [gemm-blocked]

template void gemm_blocked<float>(bool, bool, int, int, int, float, const float*, int, const float*,
                                  int, float, float*, int);
template void gemm_blocked<double>(bool, bool, int, int, int, double, const double*, int,
                                   const double*, int, double, double*, int);

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  gemm_packed(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm(bool trans_a, bool trans_b, int M, int N, int K, double alpha, const double* A, int lda,
          const double* B, int ldb, double beta, double* C, int ldc) {
  gemm_packed(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace convbook
