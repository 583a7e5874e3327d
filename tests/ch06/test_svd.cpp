// Chapter 06: the small-matrix SVD (one-sided Jacobi) and the rank-1 tools built on it.
//
// The SVD works in double whatever Scalar is, so its checks are tight: A = U S V^T and
// U^T U = V^T V = I to 1e-12 (a handful of rotations on a 3x3 matrix, each exact to rounding);
// numpy's singular values were stored as float32, so against them 1e-6 relative.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "chapters/06_separable/rank1.hpp"
#include "chapters/06_separable/svd.hpp"
#include "convbook/error.hpp"
#include "convbook/random.hpp"
#include "support/fixture.hpp"

using namespace convbook;
using Catch::Matchers::Contains;

namespace {

std::vector<double> random_matrix(std::size_t m, std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> a(m * n);
  for (double& v : a) v = rng.normal();
  return a;
}

// max |A - U diag(S) V^T|
double reconstruction_error(const std::vector<double>& a, const Svd& r) {
  double worst = 0;
  for (std::size_t i = 0; i < r.m; ++i) {
    for (std::size_t j = 0; j < r.n; ++j) {
      double v = 0;
      for (std::size_t l = 0; l < r.k; ++l) v += r.U[i * r.k + l] * r.S[l] * r.V[j * r.k + l];
      worst = std::max(worst, std::abs(v - a[i * r.n + j]));
    }
  }
  return worst;
}

// max |Q^T Q - I| for a (rows, k) matrix Q
double orthogonality_error(const std::vector<double>& q, std::size_t rows, std::size_t k) {
  double worst = 0;
  for (std::size_t a = 0; a < k; ++a) {
    for (std::size_t b = 0; b < k; ++b) {
      double dot = 0;
      for (std::size_t i = 0; i < rows; ++i) dot += q[i * k + a] * q[i * k + b];
      worst = std::max(worst, std::abs(dot - (a == b ? 1.0 : 0.0)));
    }
  }
  return worst;
}

void check_decomposition(const std::vector<double>& a, std::size_t m, std::size_t n) {
  INFO(m << "x" << n);
  const Svd r = svd_jacobi(a, m, n);
  REQUIRE(r.k == std::min(m, n));
  CHECK(reconstruction_error(a, r) < 1e-12);
  CHECK(orthogonality_error(r.U, m, r.k) < 1e-12);
  CHECK(orthogonality_error(r.V, n, r.k) < 1e-12);
  for (std::size_t i = 0; i + 1 < r.k; ++i) CHECK(r.S[i] >= r.S[i + 1]);
  CHECK(r.S.back() >= 0);
}

}  // namespace

TEST_CASE("svd_jacobi: A = U S V^T with orthonormal U and V, S descending", "[ch06][svd]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed)
    check_decomposition(random_matrix(3, 3, seed), 3, 3);
  check_decomposition(random_matrix(7, 5, 21), 7, 5);  // tall
  check_decomposition(random_matrix(2, 6, 22), 2, 6);  // wide: through the transpose
  check_decomposition(random_matrix(1, 1, 23), 1, 1);
}

TEST_CASE("svd_jacobi: rank-deficient matrices keep an orthonormal U", "[ch06][svd]") {
  // rank 1, rank 2 and zero: the columns of U for zero singular values are completed
  const std::vector<double> outer = {2, -4, 6, 1, -2, 3, -1, 2, -3};  // (2,1,-1)^T (1,-2,3)
  const std::vector<double> rank2 = {1, 0, 1, 0, 1, 1, 1, 1, 2};      // row 3 = row 1 + row 2
  const std::vector<double> zero(9, 0.0);
  for (const auto& a : {outer, rank2, zero}) check_decomposition(a, 3, 3);
  const Svd r = svd_jacobi(outer, 3, 3);
  CHECK(r.S[0] == Approx(std::sqrt(6.0) * std::sqrt(14.0)));
  CHECK(r.S[1] < 1e-12);
  CHECK(svd_jacobi(rank2, 3, 3).S[2] < 1e-12);
}

TEST_CASE("svd_jacobi matches numpy.linalg.svd's singular values", "[ch06][svd][torch]") {
  const test::Fixture f("ch06_svd.safetensors");
  const std::size_t count = f.meta("count");
  REQUIRE(count >= 8);
  for (std::size_t i = 0; i < count; ++i) {
    const Tensor a = f["a" + std::to_string(i)], s = f["s" + std::to_string(i)];
    const Shape shape = shape_of(a);
    INFO("matrix a" << i << " " << shape[2] << "x" << shape[3]);
    const Svd r = svd_jacobi(std::vector<double>(a.begin(), a.end()), shape[2], shape[3]);
    REQUIRE(r.S.size() == s.size());
    for (std::size_t j = 0; j < r.S.size(); ++j) {
      CHECK(std::abs(r.S[j] - double(s.data()[j])) < 1e-6 * (1 + double(s.data()[0])));
    }
  }
}

TEST_CASE("rank-1 energy: 1 for separable kernels, less otherwise, the best rank-1 kept",
          "[ch06][svd]") {
  // The binomial blur and the Sobel filter factor (column times row); the Laplacian does not.
  const std::vector<double> blur = {1, 2, 1, 2, 4, 2, 1, 2, 1};
  const std::vector<double> sobel = {-1, 0, 1, -2, 0, 2, -1, 0, 1};
  const std::vector<double> laplacian = {0, 1, 0, 1, -4, 1, 0, 1, 0};
  CHECK(rank1_energy(svd_jacobi(blur, 3, 3).S) == Approx(1.0));
  CHECK(rank1_energy(svd_jacobi(sobel, 3, 3).S) == Approx(1.0));
  // The Laplacian has rank 2 (sigma = 2 + sqrt 6, sqrt 6 - 2, 0), yet its first direction
  // holds 99% of its energy: nearly separable, not exactly.
  const Svd lap = svd_jacobi(laplacian, 3, 3);
  CHECK(lap.S[0] == Approx(2 + std::sqrt(6.0)));
  CHECK(lap.S[1] == Approx(std::sqrt(6.0) - 2));
  CHECK(rank1_energy(lap.S) == Approx(0.98990).epsilon(1e-4));
  CHECK(rank1_energy({0.0, 0.0, 0.0}) == 1.0);
  CHECK(rank1_energy({1.0, 1.0, 1.0}) == Approx(1.0 / 3));  // the identity: no direction wins
  CHECK_THROWS_WITH(rank1_energy({}), Contains("no singular values"));

  // The rank-1 approximation of a separable kernel is the kernel, and its error is what the
  // other singular values say (Eckart-Young: ||A - A1||^2 = sigma_2^2 + sigma_3^2).
  const std::vector<double> a1 = rank1_approximation(svd_jacobi(sobel, 3, 3));
  for (std::size_t i = 0; i < 9; ++i) CHECK(a1[i] == Approx(sobel[i]).margin(1e-12));
  const std::vector<double> a = random_matrix(3, 3, 5);
  const Svd r = svd_jacobi(a, 3, 3);
  const std::vector<double> approx = rank1_approximation(r);
  double err2 = 0;
  for (std::size_t i = 0; i < 9; ++i) err2 += (a[i] - approx[i]) * (a[i] - approx[i]);
  CHECK(err2 == Approx(r.S[1] * r.S[1] + r.S[2] * r.S[2]));
  CHECK(rank1_energy(svd_jacobi(approx, 3, 3).S) == Approx(1.0));
}

TEST_CASE("svd_jacobi and quantile reject bad input by name", "[ch06][svd]") {
  CHECK_THROWS_WITH(svd_jacobi({1, 2, 3}, 2, 2), Contains("expected m, n >= 1 and m n values"));
  CHECK_THROWS_WITH(svd_jacobi({}, 0, 3), Contains("0x3"));
  CHECK_THROWS_WITH(svd_jacobi({1, std::nan(""), 3, 4}, 2, 2), Contains("expected finite values"));
  CHECK(quantile({3, 1, 2, 4}, 0.5) == Approx(2.5));
  CHECK(quantile({3, 1, 2, 4}, 0.0) == 1);
  CHECK(quantile({3, 1, 2, 4}, 1.0) == 4);
  CHECK_THROWS_WITH(quantile({}, 0.5), Contains("expected at least one value"));
  CHECK_THROWS_WITH(quantile({1}, 1.5), Contains("0 <= q <= 1"));
}
