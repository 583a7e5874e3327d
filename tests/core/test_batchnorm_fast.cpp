// The fast BatchNorm2d kernels against the naive ones they replace in the layer. Odd shapes
// (7x5 images, 5 channels), inputs off-centre (mean 3, std 2) so a wrong mean would show, both
// BN modes, 1 and 2 threads.
// Tolerance: scaled_error < 1e-5, float rounding of two orderings of the same double sums.
#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "convbook/layers/batchnorm.hpp"
#include "support/check.hpp"

using namespace convbook;
using test::scaled_error;

namespace {

std::vector<Scalar> randoms(std::size_t n, std::uint64_t seed, double mean, double stddev) {
  Rng rng(seed);
  std::vector<Scalar> v(n);
  for (Scalar& x : v) x = Scalar(rng.normal(mean, stddev));
  return v;
}

}  // namespace

TEST_CASE("BatchNorm2d fast kernels equal the naive ones", "[batchnorm][fast]") {
  const std::size_t N = 3, C = 5, H = 7, W = 5, n = N * C * H * W;
  const std::vector<Scalar> x = randoms(n, 1, 3, 2), dy = randoms(n, 2, 0, 1);
  const std::vector<Scalar> gamma = randoms(C, 3, 1, 0.5), beta = randoms(C, 4, 0, 1);
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    std::vector<Scalar> mean(C), var(C), mean_f(C), var_f(C);
    batchnorm2d_batch_stats(x.data(), mean.data(), var.data(), N, C, H, W);
    batchnorm2d_batch_stats_fast(x.data(), mean_f.data(), var_f.data(), N, C, H, W);
    CHECK(scaled_error(mean_f, mean) < 1e-5);
    CHECK(scaled_error(var_f, var) < 1e-5);

    std::vector<Scalar> invstd(C);
    for (std::size_t c = 0; c < C; ++c) invstd[c] = Scalar(1 / std::sqrt(double(var[c]) + 1e-5));
    std::vector<Scalar> y(n), y_f(n);
    batchnorm2d_forward(x.data(), mean.data(), invstd.data(), gamma.data(), beta.data(), y.data(),
                        N, C, H, W);
    batchnorm2d_forward_fast(x.data(), mean.data(), invstd.data(), gamma.data(), beta.data(),
                             y_f.data(), N, C, H, W);
    CHECK(scaled_error(y_f, y) < 1e-5);

    for (bool batch_stats : {true, false}) {
      INFO("threads " << threads << ", batch_stats " << batch_stats);
      // dgamma and dbeta accumulate (+=): start both from the same nonzero values
      std::vector<Scalar> dx(n), dx_f(n), dg(C, 1), db(C, 1), dg_f(C, 1), db_f(C, 1);
      batchnorm2d_backward(x.data(), mean.data(), invstd.data(), gamma.data(), dy.data(), dx.data(),
                           dg.data(), db.data(), N, C, H, W, batch_stats);
      batchnorm2d_backward_fast(x.data(), mean.data(), invstd.data(), gamma.data(), dy.data(),
                                dx_f.data(), dg_f.data(), db_f.data(), N, C, H, W, batch_stats);
      CHECK(scaled_error(dx_f, dx) < 1e-5);
      CHECK(scaled_error(dg_f, dg) < 1e-5);
      CHECK(scaled_error(db_f, db) < 1e-5);
    }
  }
}

TEST_CASE("BatchNorm2d fast statistics stay exact far off centre and on large planes",
          "[batchnorm][fast]") {
  // One pass over x with float lanes per plane: the shift keeps the variance from cancelling
  // when the mean is 1000 times the spread, and 32 x 32 planes put 64 values in each lane.
  const std::size_t N = 4, C = 3, H = 32, W = 32, n = N * C * H * W;
  for (double centre : {0.0, 1000.0}) {
    INFO("mean " << centre << ", std 1");
    const std::vector<Scalar> x = randoms(n, 7, centre, 1);
    std::vector<Scalar> mean(C), var(C), mean_f(C), var_f(C);
    batchnorm2d_batch_stats(x.data(), mean.data(), var.data(), N, C, H, W);
    batchnorm2d_batch_stats_fast(x.data(), mean_f.data(), var_f.data(), N, C, H, W);
    for (std::size_t c = 0; c < C; ++c) {
      CHECK(std::abs(double(mean_f[c]) - double(mean[c])) < 1e-5 * (1 + centre));
      CHECK(std::abs(double(var_f[c]) / double(var[c]) - 1) < 1e-4);
    }
  }
}
