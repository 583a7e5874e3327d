// gemm_packed against gemm_naive (oracle 2): odd sizes, every transpose, alpha/beta, padded
// leading dimensions, 1 and 2 threads, and calls from inside a parallel region.
//
// Error measure: both versions add the same K products in a different order, so each element
// may differ by up to K * u * sum_p |alpha a_ip b_pj| + u |beta c_ij| (Higham's dot-product
// bound, u = unit roundoff). We divide the difference by that scale, sum_p |alpha a b| +
// |beta c|, and require it below K * u: 2^-24 * K for float, 2^-53 * K for double. A wrong index,
// a missed edge or a lost block of depth gives an error of order 1, far above.
#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "convbook/error.hpp"
#include "convbook/gemm/gemm.hpp"

namespace {

using convbook::gemm_naive;
using convbook::gemm_packed;

struct GemmCase {
  bool trans_a, trans_b;
  int M, N, K;
  double alpha, beta;
  int pad = 0;  // extra elements at the end of every stored row (lda, ldb, ldc > row length)
};

std::string describe(const GemmCase& c) {
  return "trans_a=" + std::to_string(c.trans_a) + " trans_b=" + std::to_string(c.trans_b) +
         " M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) +
         " alpha=" + std::to_string(c.alpha) + " beta=" + std::to_string(c.beta) +
         " pad=" + std::to_string(c.pad);
}

/// Runs gemm_packed and gemm_naive on the same random operands and returns the worst scaled
/// error (see the top of the file). Padding elements of A and B hold NaN, so reading past a row
/// poisons the result; padding of C must come back untouched. With beta == 0, C starts as NaN,
/// which must not leak into the result (BLAS does not read C then).
// Matrices start on a cache line, as a BLAS user allocates them (and as the streaming stores of
// a large C need).
template <typename T>
using Matrix = std::vector<T, xsimd::aligned_allocator<T, 64>>;

template <typename T>
double packed_vs_naive(const GemmCase& c, int threads) {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const int a_rows = c.trans_a ? c.K : c.M, a_cols = c.trans_a ? c.M : c.K;
  const int b_rows = c.trans_b ? c.N : c.K, b_cols = c.trans_b ? c.K : c.N;
  const int lda = a_cols + c.pad, ldb = b_cols + c.pad, ldc = c.N + c.pad;
  std::mt19937 rng(std::uint32_t(c.M * 7919 + c.N * 131 + c.K));
  std::normal_distribution<double> normal;
  auto fill = [&](int rows, int cols, int ld, bool random) {
    Matrix<T> m(std::size_t(rows) * ld, nan);
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) m[std::size_t(i) * ld + j] = random ? T(normal(rng)) : nan;
    }
    return m;
  };
  const Matrix<T> A = fill(a_rows, a_cols, lda, true);
  const Matrix<T> B = fill(b_rows, b_cols, ldb, true);
  const Matrix<T> C0 = fill(c.M, c.N, ldc, c.beta != 0);
  Matrix<T> fast = C0, slow = C0;

  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(threads);
  gemm_packed<T>(c.trans_a, c.trans_b, c.M, c.N, c.K, T(c.alpha), A.data(), lda, B.data(), ldb,
                 T(c.beta), fast.data(), ldc);
  omp_set_num_threads(saved_threads);
  gemm_naive<T>(c.trans_a, c.trans_b, c.M, c.N, c.K, T(c.alpha), A.data(), lda, B.data(), ldb,
                T(c.beta), slow.data(), ldc);

  double worst = 0;
  for (int i = 0; i < c.M; ++i) {
    for (int j = 0; j < c.N; ++j) {
      double scale = c.beta == 0 ? 0 : std::abs(c.beta * double(C0[std::size_t(i) * ldc + j]));
      for (int p = 0; p < c.K; ++p) {
        const double a = c.trans_a ? A[std::size_t(p) * lda + i] : A[std::size_t(i) * lda + p];
        const double b = c.trans_b ? B[std::size_t(j) * ldb + p] : B[std::size_t(p) * ldb + j];
        scale += std::abs(c.alpha * a * b);
      }
      const double diff =
          std::abs(double(fast[std::size_t(i) * ldc + j]) - double(slow[std::size_t(i) * ldc + j]));
      if (std::isnan(diff)) return std::numeric_limits<double>::infinity();
      worst = std::max(worst, diff / std::max(scale, 1e-30));
    }
    for (int j = c.N; j < ldc; ++j) {  // padding of C: never written
      if (!std::isnan(fast[std::size_t(i) * ldc + j]))
        return std::numeric_limits<double>::infinity();
    }
  }
  return worst;
}

template <typename T>
double tolerance(int K) {
  return std::max(1, K) * std::numeric_limits<T>::epsilon() / 2;  // K * u
}

}  // namespace

TEST_CASE("gemm_packed equals gemm_naive on odd sizes, all transposes, 1 and 2 threads",
          "[gemm][ch01]") {
  // 1 and the neighbours of the SIMD width (16) and of the register tile (14 x 32).
  const int sizes[] = {1, 15, 17, 31, 33};
  for (int threads : {1, 2}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (int M : sizes) {
          for (int N : sizes) {
            for (int K : sizes) {
              const GemmCase c{ta, tb, M, N, K, 1.0, 0.0, 0};
              INFO(describe(c) << " threads=" << threads);
              CHECK(packed_vs_naive<float>(c, threads) <= tolerance<float>(K));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("gemm_packed crosses every block boundary (MC, KC, NC) with alpha, beta and padding",
          "[gemm][ch01]") {
  // 181 rows > MC = 168; K = 401 > KC = 256 (two blocks of depth, 201 + 200, so beta is
  // applied once and the second block adds); K = 513 is three blocks of 171; N = 4133 > NC =
  // 1024 (five panels of B, the last of 37 columns: one whole sliver packed row by row, then a
  // partial one); N = 1057 leaves a last panel of 33 columns. pad = 3 makes every leading
  // dimension odd, so rows of C are not aligned.
  const GemmCase cases[] = {
      {false, false, 181, 103, 401, 1.0, 0.0, 3}, {true, false, 181, 103, 401, -0.5, 2.0, 3},
      {false, true, 181, 103, 401, 2.0, 1.0, 3},  {true, true, 181, 103, 401, 0.75, -1.5, 3},
      {false, false, 20, 4133, 130, 1.0, 0.5, 1}, {true, true, 20, 4133, 130, 1.0, 0.0, 5},
      {false, true, 129, 100, 257, 1.25, 0.0, 0}, {true, false, 100, 129, 1, -1.0, 0.25, 2},
      {false, false, 30, 1057, 513, 1.5, 0.5, 2}, {true, true, 30, 1057, 513, -1.0, 0.0, 1},
  };
  for (const GemmCase& c : cases) {
    for (int threads : {1, 2}) {
      INFO(describe(c) << " threads=" << threads);
      CHECK(packed_vs_naive<float>(c, threads) <= tolerance<float>(c.K));
      CHECK(packed_vs_naive<double>(c, threads) <= tolerance<double>(c.K));
    }
  }
}

TEST_CASE("gemm_packed cuts a long depth between the threads when C has few slivers",
          "[gemm][ch01]") {
  // C of 16 x 45 or 45 x 16 (two slivers) summed over K = 3001 (K >= 8 max(M, N)): with two
  // threads each sums half of K into its own copy of C, and the copies are added (with beta C).
  const GemmCase cases[] = {
      {false, true, 16, 45, 3001, 1.0, 0.0, 3},  {false, true, 16, 45, 3001, -0.5, 2.0, 0},
      {true, false, 45, 16, 3001, 2.0, 1.0, 1},  {true, true, 7, 45, 3001, 0.75, -1.5, 2},
      {false, false, 45, 7, 3001, 1.0, 0.5, 0},
  };
  for (const GemmCase& c : cases) {
    for (int threads : {1, 2}) {
      INFO(describe(c) << " threads=" << threads);
      CHECK(packed_vs_naive<float>(c, threads) <= tolerance<float>(c.K));
      CHECK(packed_vs_naive<double>(c, threads) <= tolerance<double>(c.K));
    }
  }
}

TEST_CASE("gemm_packed writes a C larger than the caches with streaming stores, same result",
          "[gemm][ch01]") {
  // 32 x 262144 floats = 32 MB of C with K = 16 (the shape of a batched dX): beta 0, one depth
  // block and C at least kGemmStreamBytes a thread (also with 2 threads), so gemm_packed streams
  // C to memory; NaN in C (beta 0) and aligned rows. With a padded ldc (rows off the cache line)
  // or beta != 0 it stores as usual.
  static_assert(std::size_t(32) * 262144 * sizeof(float) >= 2 * convbook::kGemmStreamBytes);
  const GemmCase cases[] = {
      {false, false, 32, 262144, 16, 1.0, 0.0, 0},
      {true, false, 32, 262144, 16, -1.5, 0.0, 0},
      {false, false, 32, 262144, 16, 1.0, 0.0, 3},
      {false, false, 32, 262144, 16, 1.0, 0.5, 0},
  };
  for (const GemmCase& c : cases) {
    for (int threads : {1, 2}) {
      INFO(describe(c) << " threads=" << threads);
      CHECK(packed_vs_naive<float>(c, threads) <= tolerance<float>(c.K));
    }
  }
}

TEST_CASE("gemm_packed with beta 0 ignores NaN in C; with K 0 or alpha 0 it only scales C",
          "[gemm][ch01]") {
  // beta = 0 on a C full of NaN is covered by packed_vs_naive (C0 is NaN then); here the
  // degenerate products that never reach the microkernel.
  const GemmCase cases[] = {
      {false, false, 17, 33, 0, 1.0, 0.0, 1},   // K = 0, beta = 0: C = 0 even though it was NaN
      {false, false, 17, 33, 0, 1.0, -2.0, 1},  // K = 0: C = beta * C
      {true, true, 15, 31, 17, 0.0, 3.0, 2},    // alpha = 0: C = beta * C, A and B not needed
  };
  for (const GemmCase& c : cases) {
    INFO(describe(c));
    CHECK(packed_vs_naive<float>(c, 1) <= tolerance<float>(c.K));
  }
  std::vector<float> C = {std::nanf(""), 1.0f};
  gemm_packed<float>(false, false, 1, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.0f, C.data(), 2);
  CHECK(C[0] == 0.0f);
  CHECK(C[1] == 0.0f);
}

TEST_CASE("gemm_packed called from inside a parallel region runs on the calling thread",
          "[gemm][ch01]") {
  // Each thread of the outer region multiplies its own matrices with its own packing buffers;
  // gemm_packed must not open a nested team nor share its buffers between the callers.
  const GemmCase c{false, true, 47, 65, 75, 1.0, 0.5, 1};
  double worst[4] = {-1, -1, -1, -1};
#pragma omp parallel for num_threads(2)
  for (int t = 0; t < 4; ++t) worst[t] = packed_vs_naive<float>(c, 2);
  for (double w : worst) {
    CHECK(w >= 0);
    CHECK(w <= tolerance<float>(c.K));
  }
}

TEST_CASE("gemm_packed rejects negative sizes and short leading dimensions", "[gemm][ch01]") {
  std::vector<float> A(64), B(64), C(64);
  CHECK_THROWS_AS(
      gemm_packed<float>(false, false, -1, 4, 4, 1.0f, A.data(), 4, B.data(), 4, 0.0f, C.data(), 4),
      convbook::Error);
  CHECK_THROWS_WITH(
      gemm_packed<float>(false, false, 4, 4, 5, 1.0f, A.data(), 4, B.data(), 4, 0.0f, C.data(), 4),
      Catch::Contains("lda=4 must be >= 5"));
  CHECK_THROWS_WITH(
      gemm_packed<float>(false, true, 4, 6, 4, 1.0f, A.data(), 4, B.data(), 3, 0.0f, C.data(), 6),
      Catch::Contains("ldb=3 must be >= 4"));
  CHECK_THROWS_WITH(
      gemm_packed<float>(true, false, 4, 6, 4, 1.0f, A.data(), 4, B.data(), 6, 0.0f, C.data(), 5),
      Catch::Contains("ldc=5 must be >= 6"));
}
