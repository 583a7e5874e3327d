/// @file gemm_naive.cpp
/// @brief The reference GEMM: C = alpha * op(A) * op(B) + beta * C, one dot product per element.
///
/// Legend: op(A) is M x K, op(B) is K x N, C is M x N, all row-major.
#include "convbook/gemm/gemm.hpp"

namespace convbook {

//! [gemm-naive]
// A: (M, K) or, transposed, stored (K, M)   B: (K, N) or stored (N, K)   C: (M, N)
template <typename T>
void gemm_naive(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda,
                const T* B, int ldb, T beta, T* C, int ldc) {
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      T sum = 0;
      for (int p = 0; p < K; ++p) {
        const T a = trans_a ? A[p * lda + i] : A[i * lda + p];  // op(A)[i][p]
        const T b = trans_b ? B[j * ldb + p] : B[p * ldb + j];  // op(B)[p][j]
        sum += a * b;
      }
      T& c = C[i * ldc + j];
      c = alpha * sum + (beta == T(0) ? T(0) : beta * c);  // beta == 0: C is not read
    }
  }
}
//! [gemm-naive]

template void gemm_naive<float>(bool, bool, int, int, int, float, const float*, int, const float*,
                                int, float, float*, int);
template void gemm_naive<double>(bool, bool, int, int, int, double, const double*, int,
                                 const double*, int, double, double*, int);

}  // namespace convbook
