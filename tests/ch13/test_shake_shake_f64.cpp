// Chapter 13: the Shake-Shake block's hand-written backward against central finite differences,
// in double.
//
// With beta = alpha the backward is the chain rule of the forward, so it must match central
// differences of L = sum(y * g) like every other block (each gradient tensor at its own scale,
// check.hpp's scaled_error, below 1e-7: chapter 10's bound for blocks with BatchNorms).
// With beta != alpha the backward is *not* the gradient of the forward (the check below
// requires it to miss by more than 1e-2), but it has a closed form: the branches do not depend
// on alpha, so beta dy into b1 and (1 - beta) dy into b2 is exactly the gradient of the block
// whose forward mixes with beta. That is what the second check compares against: the backward
// under (alpha, beta) and central differences of the forward under (beta, beta).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chapters/13_shake_shake/shake_shake.hpp"
#include "chapters/13_shake_shake/shake_shake_net.hpp"
#include "convbook/random.hpp"
#include "support/block_gradcheck.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

namespace {

// The backward of `block` run with (alpha, beta), against central differences of the forward
// run with (mix, mix): the worst scaled error over dx and the parameter gradients.
double backward_vs_forward_mixed_with(ShakeShakeBlock& block, const Shape& input,
                                      const std::vector<double>& alpha,
                                      const std::vector<double>& beta,
                                      const std::vector<double>& mix) {
  test::randomize_batchnorms(block, 4);
  Tensor x = test::random_tensor(input, 5);
  block.set_coefficients(alpha, beta);
  const Tensor g = test::random_tensor(shape_of(block.forward(x)), 6);
  block.zero_grad();
  const Tensor dx = block.backward(g);
  block.set_coefficients(mix, mix);
  auto loss = [&] { return test::weighted_output(block, x, g); };
  double worst = test::scaled_error(dx, test::numeric_gradient(loss, x, 1e-5));
  block.visit_parameters([&](const std::string& name, Parameter& p) {
    if (p.is_buffer) return;
    const double e = test::scaled_error(p.grad, test::numeric_gradient(loss, p.value, 1e-5));
    INFO(name << " scaled error " << e);
    worst = std::max(worst, e);
  });
  block.clear_coefficients();
  return worst;
}

const std::vector<double> kAlpha = {0.2, 0.9, 0.55};
const std::vector<double> kBeta = {0.7, 0.1, 0.35};

}  // namespace

TEST_CASE("Shake-Shake with beta = alpha: the backward is the true gradient (double)",
          "[shake][gradcheck]") {
  manual_seed(131);
  ShakeShakeBlock identity(4, 4);
  identity.set_coefficients(kAlpha, kAlpha);
  test::check_block_gradients(identity, {3, 4, 5, 6});
  ShakeShakeBlock widen(4, 8, 1);  // the two-path shortcut at stride 1 (stage 1 of 2x32d)
  widen.set_coefficients(kAlpha, kAlpha);
  test::check_block_gradients(widen, {3, 4, 5, 5});
  ShakeShakeBlock stride2(3, 6, 2);  // odd sides: the shifted path reads past the border
  stride2.set_coefficients(kAlpha, kAlpha);
  test::check_block_gradients(stride2, {3, 3, 7, 5});
}

TEST_CASE("Shake-Keep draws alpha and uses it as beta: the true gradient (double)",
          "[shake][gradcheck]") {
  manual_seed(132);
  ShakeShakeBlock keep(3, 6, 2, {ShakeForward::Shake, ShakeBackward::Keep, ShakeLevel::Image});
  test::randomize_batchnorms(keep, 4);
  // Reseeding before every forward makes each draw the same alpha, so L is one function of x.
  const test::GradCheckResult r = test::gradcheck_with(
      keep, test::random_tensor({3, 3, 5, 6}, 5), [] { manual_seed(7); }, 1e-5,
      [](const Tensor& a, const std::vector<double>& b) { return test::scaled_error(a, b); });
  INFO("dx " << r.input << ", worst parameter " << r.worst_parameter << " " << r.parameters);
  CHECK(r.worst() < 1e-7);
  CHECK(keep.alpha() == keep.beta());
}

TEST_CASE("Shake-Shake with beta != alpha: the backward is the closed form, not the gradient "
          "(double)",
          "[shake][gradcheck]") {
  for (const auto& [C, K, stride] :
       std::vector<std::array<std::size_t, 3>>{{{4, 4, 1}}, {{3, 6, 2}}}) {
    manual_seed(133);
    ShakeShakeBlock block(C, K, stride);
    const Shape input{3, C, 7, 5};
    INFO(block.repr());
    // The formula: beta dy and (1 - beta) dy into the branches = the gradient of the beta mix.
    CHECK(backward_vs_forward_mixed_with(block, input, kAlpha, kBeta, kBeta) < 1e-7);
    // And not the gradient of what the forward computed: that misses by a whole term.
    CHECK(backward_vs_forward_mixed_with(block, input, kAlpha, kBeta, kAlpha) > 1e-2);
  }
}

TEST_CASE("A tiny Shake-Shake network with beta = alpha: the true gradient (double)",
          "[shake][gradcheck][net]") {
  manual_seed(134);
  auto net = shake_shake_cifar(8, 4);  // 8 2x4d: one block per stage, widths 4-8-16
  for_each_shake_block(*net, [](const std::string&, ShakeShakeBlock& b) {
    b.set_coefficients({0.3, 0.8}, {0.3, 0.8});
  });
  test::check_block_gradients(*net, {2, 3, 8, 8});
}

TEST_CASE("shifted_subsample's backward is the exact transpose of its copy (double)",
          "[shake][gradcheck][shortcut]") {
  // A linear copy: central differences are exact up to rounding for any step, so the
  // element-wise rel_error applies (1e-7, as chapter 10's PadShortcut). The step is 1e-3, not
  // 1e-6: the rounding of L (about 1e-16 |L|) divided by the step is what remains, and with
  // 1e-6 it measured 1.2e-7 on the smallest gradients; a 1000 times larger step divides it by 1000.
  for (const auto& [stride, offset] :
       std::vector<std::array<std::size_t, 2>>{{{2, 0}}, {{2, 1}}, {{1, 1}}, {{3, 1}}}) {
    Tensor x = test::random_tensor({2, 3, 7, 5}, 8);
    const Tensor g = test::random_tensor(shape_of(shifted_subsample(x, stride, offset)), 9);
    const Tensor dx = shifted_subsample_backward(g, shape_of(x), stride, offset);
    auto loss = [&] {
      const Tensor y = shifted_subsample(x, stride, offset);
      double l = 0;
      for (std::size_t i = 0; i < y.size(); ++i) l += y.data()[i] * g.data()[i];
      return l;
    };
    INFO("stride " << stride << " offset " << offset);
    CHECK(test::rel_error(dx, test::numeric_gradient(loss, x, 1e-3)) < 1e-7);
  }
}
