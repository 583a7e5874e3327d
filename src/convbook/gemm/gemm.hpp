#pragma once
/// @file gemm.hpp
/// @brief General matrix multiply, C = alpha * op(A) * op(B) + beta * C, row-major.
///
/// Legend: op(A) is M x K, op(B) is K x N, C is M x N. All matrices are row-major with leading
/// dimensions lda, ldb, ldc (the distance, in elements, between the starts of two rows as
/// stored). `trans_a` means A is stored as K x M and op(A) = A^T; likewise for B.
///
/// As in BLAS, beta == 0 overwrites C without reading it (so C may hold garbage or NaN).
///
/// Two versions, kept side by side as everywhere in convbook:
/// - gemm_naive: the triple loop, the reference every other version is tested against;
/// - gemm_blocked: the same sums, computed tile by tile so the tiles stay in the caches.
/// `gemm` is the best available one and is what the layers call.

namespace convbook {

/// @brief The reference GEMM: one dot product per element of C.
/// @param trans_a  A is stored K x M (row-major) and used transposed
/// @param trans_b  B is stored N x K (row-major) and used transposed
/// @param M,N,K    op(A) is M x K, op(B) is K x N, C is M x N
/// @param alpha    scales op(A) * op(B)
/// @param A,lda    first operand and its leading dimension (row stride, as stored)
/// @param B,ldb    second operand and its leading dimension
/// @param beta     scales the old C (0: C is overwritten, not read)
/// @param C,ldc    result and its leading dimension
template <typename T>
void gemm_naive(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda,
                const T* B, int ldb, T beta, T* C, int ldc);

/// @brief Cache-blocked GEMM: same arguments and result as gemm_naive.
///
/// Packs MC x KC panels of A and KC x NC panels of B (transposes resolved while packing),
/// multiplies them with a register-blocked 6 x 32 (float) kernel whose inner loop the compiler
/// vectorizes, and runs the C tiles in parallel with OpenMP.
template <typename T>
void gemm_blocked(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda,
                  const T* B, int ldb, T beta, T* C, int ldc);

/// @brief The GEMM the layers use (currently gemm_blocked), in float.
void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);
/// @brief The GEMM the layers use (currently gemm_blocked), in double.
void gemm(bool trans_a, bool trans_b, int M, int N, int K, double alpha, const double* A, int lda,
          const double* B, int ldb, double beta, double* C, int ldc);

}  // namespace convbook
