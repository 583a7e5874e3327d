// Chapter 09: the hand-written backward passes of the select kernels, SelectiveKernel and
// SplitAttention against central finite differences, in double.
//
// The kernels alone (r-softmax, weighted sum of splits) are smooth and shallow: cs231n's
// element-wise rel_error must be below 1e-7. The blocks go through BatchNorms in training mode
// and ReLUs, where many true gradients are tiny and their element-wise relative error is
// finite-difference noise (chapter 05 measured it), so each gradient tensor is measured at its
// own scale, max |analytic - numeric| / max |numeric| (check.hpp's scaled_error): this
// backward scores 1e-10 to 5e-8 here and we require < 1e-7.
//
// Two measured traps of finite differences, not of the backward: (1) the attention's BatchNorm
// normalizes (N, d, 1, 1), N values per channel. With N = 3 the fuse FC's weights scored 3e-7 at
// eps 1e-5 and 3e-5 at eps 1e-4 (truncation error, falling as eps^2: the curvature of a
// 3-sample normalization); with N = 2 its output is +-1 whatever the input. So every block runs
// on N = 4, and the blocks with eps 1e-6: at 1e-5 the fuse FC still scored 2e-7 for one draw of the
// BatchNorms' gamma and beta (truncation again: 100x smaller at 1e-6). (2) A pre-activation within
// eps of a ReLU kink makes one numeric entry wrong: the R = 3 block on a 7x6 input scored 6e-2 for
// conv.weight (dx 5e-10) and 1.3e-9 on 7x7; the PyTorch fixture agrees with the same backward.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "chapters/09_attention/rsoftmax.hpp"
#include "chapters/09_attention/selective_kernel.hpp"
#include "chapters/09_attention/sk_select.hpp"
#include "chapters/09_attention/split_attention.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/random.hpp"
#include "support/block_gradcheck.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

namespace {

constexpr double kEps = 1e-5;       // the kernels' element-wise checks
constexpr double kBlockEps = 1e-6;  // the blocks' (see trap 1 above)
constexpr double kTolerance = 1e-7;

}  // namespace

TEST_CASE("rsoftmax kernels in SK's and ResNeSt's layouts vs finite differences (double)",
          "[sk][gradcheck]") {
  // (G, R, Cg): ResNeSt's grouped layout, SK's single group, and the sigmoid of radix 1.
  for (const auto& [G, R, Cg] :
       std::vector<std::array<std::size_t, 3>>{{2, 3, 2}, {1, 2, 5}, {3, 1, 2}}) {
    const std::size_t N = 2, C = G * Cg;
    Tensor z = test::random_tensor({N, R * C, 1, 1}, 7);
    const Tensor da = test::random_tensor({N, R * C, 1, 1}, 8);
    Tensor a = zeros(shape_of(z));
    auto loss = [&] {
      rsoftmax_forward(z.data(), a.data(), N, G, R, Cg);
      double l = 0;
      for (std::size_t i = 0; i < a.size(); ++i) l += a.data()[i] * da.data()[i];
      return l;
    };
    loss();
    Tensor dz = zeros(shape_of(z));
    rsoftmax_backward(a.data(), da.data(), dz.data(), N, G, R, Cg);
    INFO("G=" << G << " R=" << R << " Cg=" << Cg);
    CHECK(test::rel_error(dz, test::numeric_gradient(loss, z, kEps)) < 1e-7);
  }
}

TEST_CASE("weighted_sum_splits backward matches finite differences (double)", "[sk][gradcheck]") {
  const std::size_t R = 3;
  Tensor u = test::random_tensor({2, R * 4, 3, 5}, 9);
  Tensor a = test::random_tensor({2, R * 4, 1, 1}, 10);
  const Tensor dv = test::random_tensor({2, 4, 3, 5}, 11);
  auto loss = [&] {
    const Tensor v = weighted_sum_splits(u, a, R);
    double l = 0;
    for (std::size_t i = 0; i < v.size(); ++i) l += v.data()[i] * dv.data()[i];
    return l;
  };
  Tensor du, da;
  weighted_sum_splits_backward(u, a, dv, R, du, da);
  CHECK(test::rel_error(du, test::numeric_gradient(loss, u, kEps)) < 1e-7);
  CHECK(test::rel_error(da, test::numeric_gradient(loss, a, kEps)) < 1e-7);
}

TEST_CASE("SelectiveKernel backward matches finite differences (double)", "[sk][gradcheck]") {
  manual_seed(21);
  SelectiveKernel two(SelectiveKernelOptions(4, 6).branches(2).groups(2).reduction(2).min_dim(3));
  test::check_block_gradients_with_zeros(two, {4, 4, 5, 6}, {}, kBlockEps);
  SelectiveKernel three(
      SelectiveKernelOptions(6, 3).branches(3).groups(3).reduction(1).min_dim(2).stride(2));
  test::check_block_gradients_with_zeros(three, {4, 6, 7, 5}, {}, kBlockEps);
}

TEST_CASE("SplitAttention backward matches finite differences (double)", "[splat][gradcheck]") {
  manual_seed(22);
  // fc1's bias feeds bn1 in training mode, which subtracts its batch mean: true gradient 0.
  SplitAttention r2g2(SplitAttentionOptions(4, 6, 3)
                          .padding(1)
                          .radix(2)
                          .cardinality(2)
                          .reduction_factor(2)
                          .min_inter_channels(4));
  test::check_block_gradients_with_zeros(r2g2, {4, 4, 5, 6}, {"fc1.bias"}, kBlockEps);
  SplitAttention r1g2(
      SplitAttentionOptions(4, 4, 3).padding(1).radix(1).cardinality(2).min_inter_channels(4));
  test::check_block_gradients_with_zeros(r1g2, {4, 4, 4, 5}, {"fc1.bias"}, kBlockEps);
  SplitAttention r3g1(
      SplitAttentionOptions(3, 5, 3).stride(2).padding(1).radix(3).min_inter_channels(3));
  test::check_block_gradients_with_zeros(r3g1, {4, 3, 7, 7}, {"fc1.bias"}, kBlockEps);
}
