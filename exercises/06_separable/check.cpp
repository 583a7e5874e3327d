// Checks chapter 06's exercises against the framework itself: svd_jacobi and rank1_energy,
// DepthwiseSeparable / Conv2d / BatchNorm2d's own parameter and FLOP counts (what `convbook
// info` prints), and flattened_kernel.
#include <catch2/catch.hpp>
#include <vector>

#include "chapters/06_separable/separable_blocks.hpp"
#include "chapters/06_separable/svd.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/random.hpp"
#include "exercise.hpp"
#include "support/exercise_check.hpp"

using namespace convbook;
using exercise::allclose_ratio;
using exercise::as_tensor;
using exercise::random_vector;

TEST_CASE("06.1 the rank-1 energy of a 3x3 kernel, and the factors of a separable one",
          "[exercise]") {
  std::vector<std::vector<float>> kernels = {
      {1, 2, 1, 2, 4, 2, 1, 2, 1},     // binomial blur: separable
      {-1, 0, 1, -2, 0, 2, -1, 0, 1},  // Sobel: separable
      {0, 1, 0, 1, -4, 1, 0, 1, 0},    // Laplacian: rank 2
      {1, 0, 0, 0, 1, 0, 0, 0, 1},     // identity: energy 1/3
      {0, 0, 0, 0, 0, 0, 0, 0, 0}};    // zero: energy 1 by convention
  for (std::uint64_t seed = 1; seed <= 10; ++seed) kernels.push_back(random_vector(9, seed));
  for (const std::vector<float>& k : kernels) {
    const std::vector<double> a(k.begin(), k.end());
    INFO("kernel " << k[0] << " " << k[1] << " " << k[2] << " / " << k[3] << " ...");
    CHECK(ex06::rank1_energy_3x3(k) == Approx(rank1_energy(svd_jacobi(a, 3, 3).S)).epsilon(1e-4));
  }
  // factors of rank-1 kernels: v h^T gives the kernel back
  std::vector<std::vector<float>> separable = {kernels[0], kernels[1]};
  const std::vector<float> v0 = random_vector(3, 11), h0 = random_vector(3, 12);
  std::vector<float> outer(9);
  for (int r = 0; r < 3; ++r)
    for (int s = 0; s < 3; ++s) outer[3 * r + s] = v0[r] * h0[s];
  separable.push_back(outer);
  separable.push_back({0, 0, 0, 0, 5, -1, 0, 0, 0});  // one non-zero row
  for (const std::vector<float>& k : separable) {
    std::vector<float> v, h;
    ex06::separable_factors(k, v, h);
    REQUIRE(v.size() == 3);
    REQUIRE(h.size() == 3);
    std::vector<float> back(9);
    for (int r = 0; r < 3; ++r)
      for (int s = 0; s < 3; ++s) back[3 * r + s] = v[r] * h[s];
    CHECK(allclose_ratio(back, k) <= 1.0);
  }
}

namespace {
// A module's trainable parameters and FLOPs after a forward of one (C, H, W) image.
ex06::Cost measure(Module& m, std::size_t C, std::size_t H, std::size_t W) {
  m.eval();
  m.forward(zeros({1, C, H, W}));
  return {m.num_parameters(), m.flops()};
}
}  // namespace

TEST_CASE(
    "06.2 a depthwise-separable block against the dense convolution, as convbook info "
    "counts them",
    "[exercise]") {
  struct Case {
    std::size_t C, K, R, S, stride, H, W;
  };
  for (const Case& c : std::vector<Case>{{32, 64, 3, 3, 1, 32, 32},
                                         {64, 128, 3, 3, 2, 16, 16},
                                         {5, 7, 3, 5, 2, 9, 7},
                                         {8, 8, 5, 1, 1, 6, 11}}) {
    INFO("C=" << c.C << " K=" << c.K << " R=" << c.R << " S=" << c.S << " stride=" << c.stride);
    manual_seed(1);
    DepthwiseSeparable ds(SeparableOptions(c.C, c.K).kernel_size({c.R, c.S}).stride(c.stride));
    const ex06::Cost lib_ds = measure(ds, c.C, c.H, c.W);
    const ex06::Cost your_ds =
        ex06::depthwise_separable_cost(c.C, c.K, c.R, c.S, c.stride, c.H, c.W);
    CHECK(your_ds.params == lib_ds.params);
    CHECK(your_ds.flops == Approx(lib_ds.flops));
    Sequential dense;
    dense.emplace<Conv2d>(Conv2dOptions(c.C, c.K, {c.R, c.S})
                              .stride(c.stride)
                              .padding({c.R / 2, c.S / 2})
                              .bias(false));
    dense.emplace<BatchNorm2d>(c.K);
    const ex06::Cost lib_dense = measure(dense, c.C, c.H, c.W);
    const ex06::Cost your_dense = ex06::dense_conv_bn_cost(c.C, c.K, c.R, c.S, c.stride, c.H, c.W);
    CHECK(your_dense.params == lib_dense.params);
    CHECK(your_dense.flops == Approx(lib_dense.flops));
  }
}

TEST_CASE("06.3 the dense kernel of a flattened convolution", "[exercise]") {
  const std::size_t K = 4, C = 3, R = 3, S = 5;
  const std::vector<float> l = random_vector(K * C, 1), v = random_vector(K * R, 2),
                           h = random_vector(K * S, 3);
  const Tensor library = flattened_kernel(as_tensor(l, {K, C, 1, 1}), as_tensor(v, {K, 1, R, 1}),
                                          as_tensor(h, {K, 1, 1, S}));
  CHECK(allclose_ratio(ex06::flattened_dense_kernel(l, v, h, K, C, R, S), library) <= 1.0);
}
