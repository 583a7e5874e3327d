#pragma once
/// @file svd.hpp
/// @brief A singular value decomposition for small matrices (a 3x3 kernel, a 7x5 block) by
/// one-sided Jacobi rotations, and what the book needs from it: the rank-1 energy and the
/// best rank-1 approximation of a filter.
///
/// Legend: m x n the matrix, k = min(m, n) singular values. Matrices are row-major
/// std::vector<double>.
#include <cstddef>
#include <vector>

namespace convbook {

/// @brief A = U diag(S) V^T with orthonormal columns in U and V and S sorted descending.
struct Svd {
  std::size_t m = 0;      ///< rows of A
  std::size_t n = 0;      ///< columns of A
  std::size_t k = 0;      ///< min(m, n): singular values kept
  std::vector<double> U;  ///< (m, k) row-major, orthonormal columns
  std::vector<double> S;  ///< (k), descending, >= 0
  std::vector<double> V;  ///< (n, k) row-major, orthonormal columns
  int sweeps = 0;         ///< Jacobi sweeps until every pair of columns was orthogonal
};

/// @brief The SVD of the m x n matrix `a` (row-major) by one-sided Jacobi (Hestenes 1958):
/// rotate pairs of columns of A until they are orthogonal; then the column norms are the
/// singular values, the normalized columns U, and the product of the rotations V.
///
/// Columns of U belonging to zero singular values are completed to an orthonormal set.
/// @throws Error when a.size() != m n, m or n is 0, or the rotations have not converged
///   after 60 sweeps (a NaN or infinity in `a`).
Svd svd_jacobi(const std::vector<double>& a, std::size_t m, std::size_t n);

/// @brief sigma_1^2 / sum_i sigma_i^2: the share of the filter's energy (its squared Frobenius
/// norm) that its best rank-1 approximation keeps. 1 exactly when the filter is an outer
/// product u v^T (separable); 1 for the zero matrix; at least 1/k otherwise.
/// @throws Error when `singular_values` is empty.
double rank1_energy(const std::vector<double>& singular_values);

/// @brief sigma_1 u_1 v_1^T, the best rank-1 approximation of A in the Frobenius norm
/// (Eckart-Young), as an (m, n) row-major matrix.
std::vector<double> rank1_approximation(const Svd& svd);

}  // namespace convbook
