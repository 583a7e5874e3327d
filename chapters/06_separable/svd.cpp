#include "chapters/06_separable/svd.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "convbook/error.hpp"

namespace convbook {

namespace {

constexpr int kMaxSweeps = 60;

// The transpose of an (m, n) row-major matrix.
std::vector<double> transposed(const std::vector<double>& a, std::size_t m, std::size_t n) {
  std::vector<double> t(m * n);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) t[j * m + i] = a[i * n + j];
  return t;
}

// Makes the columns of the (m, k) matrix U that are not `filled` (those of zero singular
// values) unit vectors orthogonal to all others: Gram-Schmidt on e_0, e_1, ... in turn.
void complete_columns(std::vector<double>& U, std::size_t m, std::size_t k,
                      std::vector<bool> filled) {
  std::size_t basis = 0;
  for (std::size_t j = 0; j < k; ++j) {
    for (; !filled[j] && basis < m; ++basis) {
      std::vector<double> v(m, 0.0);
      v[basis] = 1.0;
      for (std::size_t o = 0; o < k; ++o) {
        if (!filled[o]) continue;
        double dot = 0;
        for (std::size_t i = 0; i < m; ++i) dot += U[i * k + o] * v[i];
        for (std::size_t i = 0; i < m; ++i) v[i] -= dot * U[i * k + o];
      }
      const double norm = std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0));
      if (norm > 1e-6) {
        for (std::size_t i = 0; i < m; ++i) U[i * k + j] = v[i] / norm;
        filled[j] = true;
      }
    }
  }
}

// One-sided Jacobi for m >= n: returns U (m, n), S (n), V (n, n), unsorted.
//! [svd-jacobi]
Svd jacobi_tall(const std::vector<double>& a, std::size_t m, std::size_t n) {
  Svd r;
  r.m = m, r.n = n, r.k = n;
  std::vector<double> B = a;          // (m, n): its columns are rotated until orthogonal
  std::vector<double> V(n * n, 0.0);  // (n, n): the product of the rotations
  for (std::size_t j = 0; j < n; ++j) V[j * n + j] = 1.0;
  // A column of squared norm below 1e-30 of the matrix's (rotations keep it) is rounding
  // residue of a zero singular value: rotating it against others would never settle.
  double frobenius2 = 0;
  for (double v : B) frobenius2 += v * v;
  const double negligible = 1e-30 * frobenius2;
  bool rotated = true;
  while (rotated) {
    if (r.sweeps == kMaxSweeps) {
      throw Error("svd_jacobi: no convergence after " + std::to_string(kMaxSweeps) +
                  " sweeps on a " + std::to_string(m) + "x" + std::to_string(n) +
                  " matrix; expected finite values");
    }
    ++r.sweeps;
    rotated = false;
    for (std::size_t p = 0; p + 1 < n; ++p) {
      for (std::size_t q = p + 1; q < n; ++q) {
        double alpha = 0, beta = 0, gamma = 0;  // |b_p|^2, |b_q|^2, b_p . b_q
        for (std::size_t i = 0; i < m; ++i) {
          alpha += B[i * n + p] * B[i * n + p];
          beta += B[i * n + q] * B[i * n + q];
          gamma += B[i * n + p] * B[i * n + q];
        }
        if (std::abs(gamma) <= 1e-14 * std::sqrt(alpha * beta) || alpha <= negligible ||
            beta <= negligible) {
          continue;  // orthogonal already, or one column is zero
        }
        rotated = true;
        // The rotation by theta that zeroes b_p . b_q: tan(2 theta) = 2 gamma / (beta - alpha);
        // t = tan(theta), the smaller root, keeps the rotation small and stable.
        const double zeta = (beta - alpha) / (2 * gamma);
        const double t = std::copysign(1.0, zeta) / (std::abs(zeta) + std::sqrt(1 + zeta * zeta));
        const double c = 1 / std::sqrt(1 + t * t), s = c * t;
        auto rotate = [&](std::vector<double>& M, std::size_t rows) {
          for (std::size_t i = 0; i < rows; ++i) {
            const double mp = M[i * n + p], mq = M[i * n + q];
            M[i * n + p] = c * mp - s * mq;
            M[i * n + q] = s * mp + c * mq;
          }
        };
        rotate(B, m);  // A V stays equal to B: the same rotation on V's columns
        rotate(V, n);
      }
    }
  }
  // B = A V has orthogonal columns b_j = sigma_j u_j.
  r.S.assign(n, 0.0);
  r.U.assign(m * n, 0.0);
  std::vector<bool> filled(n, false);
  const double largest = [&] {
    double big = 0;
    for (std::size_t j = 0; j < n; ++j) {
      double ss = 0;
      for (std::size_t i = 0; i < m; ++i) ss += B[i * n + j] * B[i * n + j];
      big = std::max(big, std::sqrt(ss));
    }
    return big;
  }();
  for (std::size_t j = 0; j < n; ++j) {
    double ss = 0;
    for (std::size_t i = 0; i < m; ++i) ss += B[i * n + j] * B[i * n + j];
    r.S[j] = std::sqrt(ss);
    if (r.S[j] > 1e-13 * largest && r.S[j] > 0) {
      for (std::size_t i = 0; i < m; ++i) r.U[i * n + j] = B[i * n + j] / r.S[j];
      filled[j] = true;
    } else {
      r.S[j] = 0;
    }
  }
  complete_columns(r.U, m, n, filled);
  r.V = std::move(V);
  return r;
}
//! [svd-jacobi]

// Puts the singular values in descending order, permuting the columns of U and V with them.
void sort_descending(Svd& r) {
  std::vector<std::size_t> order(r.k);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return r.S[a] > r.S[b]; });
  Svd s = r;
  for (std::size_t j = 0; j < r.k; ++j) {
    s.S[j] = r.S[order[j]];
    for (std::size_t i = 0; i < r.m; ++i) s.U[i * r.k + j] = r.U[i * r.k + order[j]];
    for (std::size_t i = 0; i < r.n; ++i) s.V[i * r.k + j] = r.V[i * r.k + order[j]];
  }
  r = std::move(s);
}

}  // namespace

Svd svd_jacobi(const std::vector<double>& a, std::size_t m, std::size_t n) {
  if (m == 0 || n == 0 || a.size() != m * n) {
    throw Error("svd_jacobi: a matrix of " + std::to_string(a.size()) + " values for " +
                std::to_string(m) + "x" + std::to_string(n) +
                "; expected m, n >= 1 and m n values");
  }
  Svd r;
  if (m >= n) {
    r = jacobi_tall(a, m, n);
  } else {
    // A^T = V S U^T: decompose the tall transpose and swap the roles of U and V.
    r = jacobi_tall(transposed(a, m, n), n, m);
    std::swap(r.U, r.V);
    std::swap(r.m, r.n);
  }
  sort_descending(r);
  return r;
}

//! [rank1-energy]
double rank1_energy(const std::vector<double>& singular_values) {
  if (singular_values.empty()) throw Error("rank1_energy: no singular values");
  double total = 0, largest = 0;
  for (double s : singular_values) {
    total += s * s;
    largest = std::max(largest, s);
  }
  return total == 0 ? 1.0 : largest * largest / total;
}

std::vector<double> rank1_approximation(const Svd& svd) {
  std::vector<double> a(svd.m * svd.n);
  for (std::size_t i = 0; i < svd.m; ++i)
    for (std::size_t j = 0; j < svd.n; ++j)
      a[i * svd.n + j] = svd.S[0] * svd.U[i * svd.k] * svd.V[j * svd.k];
  return a;
}
//! [rank1-energy]

}  // namespace convbook
