// Chapter 09: the hand-written backward passes of SE and CBAM against central finite
// differences of L = sum(y * g), in double, through the blocks' own forward and backward, on
// both the naive and the fused kernels.
//
// Each gradient tensor is measured at its own scale, max |analytic - numeric| / max |numeric|
// (check.hpp's scaled_error), as chapters 05 and 07 do: the spatial gate's BatchNorm runs in
// training mode, where true gradients near zero make the element-wise relative error
// finite-difference noise. Step 1e-6: the max pools and the ReLU of the MLP have kinks, and a
// step this small does not cross one on these random inputs (a crossing shows as an error of
// O(1e-2), not as noise). Measured for a correct backward: 1e-10 to 1e-9; we require < 1e-7.
// A dropped path (the product's dx = dy * s, the squeeze's dz / L, the max pool's route, one
// half of the shared MLP) scores 1e-2 to 1.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chapters/09_attention/cbam.hpp"
#include "chapters/09_attention/rsoftmax.hpp"
#include "chapters/09_attention/squeeze_excitation.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

namespace {

constexpr double kEps = 1e-6;
constexpr double kTolerance = 1e-7;

// scaled_error of dx and of every trainable parameter's gradient; each one a CHECK.
void check_block(Module& block, const Shape& input, double scale = 1.0) {
  Tensor x = test::random_tensor(input, 5) * scale;
  const Tensor g = test::random_tensor(shape_of(block.forward(x)), 6);
  block.zero_grad();
  const Tensor dx = block.backward(g);
  auto loss = [&] { return test::weighted_output(block, x, g); };
  INFO(block.repr() << " on " << to_string(input));
  const double dx_error = test::scaled_error(dx, test::numeric_gradient(loss, x, kEps));
  INFO("dx scaled error " << dx_error);
  CHECK(dx_error < kTolerance);
  block.visit_parameters([&](const std::string& name, Parameter& p) {
    if (p.is_buffer) return;
    const double e = test::scaled_error(p.grad, test::numeric_gradient(loss, p.value, kEps));
    INFO(name << " scaled error " << e);
    CHECK(e < kTolerance);
  });
}

}  // namespace

TEST_CASE("Sigmoid backward matches central differences", "[sigmoid][f64]") {
  Sigmoid s;
  check_block(s, {2, 3, 4, 5}, 4.0);  // logits up to ~12: into both tails
}

TEST_CASE("r-softmax backward matches central differences", "[rsoftmax][f64]") {
  for (std::size_t radix : {1, 2, 4}) {
    RSoftmax rs(radix, 3);
    check_block(rs, {2, radix * 3 * 5, 1, 1}, 3.0);
  }
}

TEST_CASE("SqueezeExcitation gradient check, naive and fused", "[se][f64]") {
  for (bool naive : {true, false}) {
    INFO((naive ? "naive" : "fused"));
    manual_seed(3);
    SqueezeExcitation se(8, 2);
    se.set_naive(naive);
    check_block(se, {2, 8, 5, 3});
    manual_seed(4);
    SqueezeExcitation odd(6, 4);  // 6 / 4 = 1 squeeze channel
    odd.set_naive(naive);
    check_block(odd, {3, 6, 1, 7});
  }
}

TEST_CASE("CBAM's gates and the block: gradient check, naive and fused", "[cbam][f64]") {
  for (bool naive : {true, false}) {
    INFO((naive ? "naive" : "fused"));
    manual_seed(7);
    ChannelGate channel(6, 3);
    channel.set_naive(naive);
    check_block(channel, {2, 6, 4, 5});
    SpatialGate spatial7(7);
    spatial7.set_naive(naive);
    check_block(spatial7, {2, 5, 6, 7});
    SpatialGate spatial3(3);
    spatial3.set_naive(naive);
    check_block(spatial3, {3, 4, 5, 3});
    CBAM cbam(8, 2, 7);
    cbam.set_naive(naive);
    check_block(cbam, {2, 8, 5, 6});
  }
}
