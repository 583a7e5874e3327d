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
/// Three versions, kept side by side as everywhere in convbook:
/// - gemm_naive: the triple loop, the reference every other version is tested against;
/// - gemm_blocked: the same sums, computed tile by tile so the tiles stay in the caches;
/// - gemm_packed: the same blocking with block sizes fitted to the caches and a hand-written
///   xsimd microkernel (chapter 01, second half).
/// `gemm` is the best available one (gemm_packed) and is what the layers call.

#include <cstddef>

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

/// @brief The fast GEMM: same arguments and result as gemm_naive.
///
/// Goto/BLIS style: op(B) is packed in KC x NR slivers and op(A) in MR x KC slivers (transposes
/// resolved, edges zero-padded), blocked NC/KC/MC for L3/L2/L1, and an MR x NR register tile
/// (14 x 32 floats with AVX-512, 6 x 16 with AVX2) is computed by an xsimd FMA microkernel.
/// With OpenMP, each thread computes its own rectangle of C (no barrier inside the product);
/// called inside a parallel region, it runs on the calling thread. Packing buffers belong to
/// each thread and only grow. Float and double share the code.
/// @throws Error if a size is negative or a leading dimension is smaller than its row length
template <typename T>
void gemm_packed(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda,
                 const T* B, int ldb, T beta, T* C, int ldc);

/// @brief op(B) of gemm_packed_b, given as the code that packs it instead of as a matrix.
///
/// gemm_packed copies op(B) into slivers of kc rows x nr columns before the microkernel reads
/// it; a packer writes those slivers itself, from wherever op(B)'s values come from. The
/// implicit im2col of chapter 01 packs the column matrix of a convolution straight from the
/// image, so the matrix is never stored.
template <typename T>
class GemmBPacker {
 public:
  virtual ~GemmBPacker() = default;
  /// @brief Writes op(B)[p0 + p][j0 + c] to Bp[p * nr + c] for p < kc and c < nr, with zeros
  /// for the columns j0 + c >= N.
  /// @param p0  first row (depth) of the sliver
  /// @param kc  rows in the sliver
  /// @param j0  first column of the sliver
  /// @param nr  columns in the sliver: gemm_packed_nr<T>()
  /// @param Bp  the sliver, kc * nr scalars, aligned for the microkernel
  virtual void pack(int p0, int kc, int j0, int nr, T* Bp) const = 0;
};

/// @brief From this size of C (bytes of M x N, per thread) on, gemm_packed writes C with
/// streaming stores when it is computed in one depth block with beta == 0: it is larger than
/// the caches and only ever written, so reading its lines before overwriting them is waste.
inline constexpr std::size_t kGemmStreamBytes = std::size_t(16) << 20;

/// @brief Width NR of gemm_packed's B slivers (and of its register tile): 32 floats or 16
/// doubles with AVX-512.
template <typename T>
int gemm_packed_nr();

/// @brief gemm_packed with op(B) (K x N) supplied by a packer: C = alpha * op(A) * op(B) +
/// beta * C. Runs on the calling thread only (its users already run images in parallel).
/// @param trans_a  A is stored K x M (row-major) and used transposed
/// @param M,N,K    op(A) is M x K, op(B) is K x N, C is M x N
/// @param alpha    scales op(A) * op(B)
/// @param A,lda    first operand and its leading dimension
/// @param b        writes the slivers of op(B)
/// @param beta     scales the old C (0: C is overwritten, not read)
/// @param C,ldc    result and its leading dimension
/// @throws Error if a size is negative or lda, ldc is smaller than its row length
template <typename T>
void gemm_packed_b(bool trans_a, int M, int N, int K, T alpha, const T* A, int lda,
                   const GemmBPacker<T>& b, T beta, T* C, int ldc);

/// @brief The GEMM the layers use (currently gemm_packed), in float.
void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);
/// @brief The GEMM the layers use (currently gemm_packed), in double.
void gemm(bool trans_a, bool trans_b, int M, int N, int K, double alpha, const double* A, int lda,
          const double* B, int ldb, double beta, double* C, int ldc);

}  // namespace convbook
