// Gradient checks of every core layer in double (Scalar = double in this program).
//
// Each case compares the hand-written backward with central differences of
// L = sum(y * g) for a fixed random g (tests/support/check.hpp). The numeric derivative has an
// absolute error of about u |L| / h (rounding, u = 1e-16, |L| ~ 10) plus h^2 |f'''| / 6
// (truncation); h = 1e-5 balances the two near 1e-10. cs231n's relative error is taken per
// element, so the smallest gradients (BatchNorm's dx sums to zero per channel, softmax
// probabilities of unlikely classes) dominate it: a correct backward scores 1e-9 to 1e-7, we
// require < 1e-6, and a wrong one (a missing term, a transposed index) scores 1e-2 to 1.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/dropout.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/layers/loss.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using convbook::test::gradcheck;
using convbook::test::random_tensor;
using convbook::test::rel_error;

static_assert(sizeof(Scalar) == 8, "gradient checks must run in double");

namespace {
constexpr double kTolerance = 1e-6;
constexpr double kEps = 1e-5;  // finite-difference step, see above

// Runs the gradient check and reports which part failed.
void check_gradients(Module& m, const Shape& input, std::uint64_t seed = 1) {
  const auto r = gradcheck(m, random_tensor(input, seed), kEps);
  INFO(m.repr() << " on " << to_string(input) << ": input " << r.input << ", parameters "
                << r.parameters << " (" << r.worst_parameter << ")");
  CHECK(r.input < kTolerance);
  CHECK(r.parameters < kTolerance);
}
}  // namespace

TEST_CASE("Linear backward matches finite differences", "[layers][gradcheck]") {
  manual_seed(0);
  Linear with_bias(5, 3);
  check_gradients(with_bias, {4, 5, 1, 1});
  Linear without_bias(7, 2, false);
  check_gradients(without_bias, {3, 7, 1, 1});
}

TEST_CASE("ReLU backward matches finite differences", "[layers][gradcheck]") {
  ReLU relu;  // N(0,1) inputs are ~never within eps = 1e-6 of the kink at 0
  check_gradients(relu, {2, 3, 7, 5});
}

TEST_CASE("BatchNorm2d backward matches finite differences in train and eval",
          "[layers][gradcheck]") {
  BatchNorm2d bn(4);
  Rng rng(5);
  for (auto& v : bn.weight.value) v = rng.uniform(0.5, 1.5);  // gamma != 1 tests the scale
  for (auto& v : bn.bias.value) v = rng.normal();
  SECTION("training mode: batch statistics depend on x") {
    check_gradients(bn, {3, 4, 5, 3});
  }
  SECTION("training mode, 1x1 images: statistics over the batch only") {
    check_gradients(bn, {5, 4, 1, 1});
  }
  SECTION("eval mode: running statistics are constants") {
    for (auto& v : bn.running_mean.value) v = rng.normal();
    for (auto& v : bn.running_var.value) v = rng.uniform(0.5, 2.0);
    bn.eval();
    check_gradients(bn, {2, 4, 3, 5});
  }
}

TEST_CASE("Pooling backward matches finite differences on odd shapes", "[layers][gradcheck]") {
  SECTION("MaxPool2d 3x3 stride 2 padding 1 on 7x5") {
    MaxPool2d pool(3, 2, 1);
    check_gradients(pool, {2, 3, 7, 5});
  }
  SECTION("MaxPool2d 2x2 stride 1: overlapping windows accumulate") {
    MaxPool2d pool(2, 1);
    check_gradients(pool, {2, 3, 5, 4});
  }
  SECTION("AvgPool2d 3x3 stride 2 padding 1, count_include_pad true and false") {
    AvgPool2d with_pad(3, 2, 1);
    check_gradients(with_pad, {2, 3, 7, 5});
    AvgPool2d without_pad(3, 2, 1, false);
    check_gradients(without_pad, {2, 3, 7, 5});
  }
  SECTION("AvgPool2d 2x2 on 7x5: the last row and column are dropped") {
    AvgPool2d pool(2);
    check_gradients(pool, {1, 2, 7, 5});
  }
  SECTION("AdaptiveAvgPool2d(1)") {
    AdaptiveAvgPool2d pool;
    check_gradients(pool, {2, 3, 5, 7});
  }
}

TEST_CASE("Flatten backward matches finite differences", "[layers][gradcheck]") {
  Flatten flatten;
  check_gradients(flatten, {2, 3, 4, 5});
}

TEST_CASE("Dropout backward matches finite differences with the same mask", "[layers][gradcheck]") {
  Dropout dropout(0.3);
  // reseeding before every forward replays the same mask, so y is a fixed linear map of x
  const auto r = gradcheck(
      dropout, random_tensor({2, 3, 4, 5}, 2), [] { manual_seed(77); }, kEps);
  CHECK(r.input < kTolerance);
}

TEST_CASE("Sequential backward chains its children in reverse", "[layers][gradcheck]") {
  manual_seed(3);
  Sequential net;
  net.emplace<BatchNorm2d>(3);
  net.emplace<ReLU>();
  net.emplace<MaxPool2d>(2);
  net.emplace<Flatten>();
  net.emplace<Linear>(3 * 3 * 2, 4);
  net.emplace<Dropout>(0.2);
  const auto r = gradcheck(
      net, random_tensor({3, 3, 7, 5}, 4), [] { manual_seed(11); }, kEps);
  INFO("input " << r.input << ", parameters " << r.parameters << " (" << r.worst_parameter << ")");
  // BatchNorm's dx reaches inputs whose units were clipped by ReLU or lost the max only through
  // its mean and projection terms, so some input gradients are ~1e-4 and their per-element
  // relative error ~1e-7 to 1e-6 (measured 6.7e-7): allow 1e-5, still far below a wrong chain.
  CHECK(r.input < 1e-5);
  CHECK(r.parameters < kTolerance);
}

TEST_CASE("CrossEntropyLoss backward matches finite differences", "[layers][gradcheck][loss]") {
  // The loss is not a Module, so the check is written out: perturb each logit, difference the loss.
  const double smoothing = GENERATE(0.0, 0.1, 0.5);
  CrossEntropyLoss loss(smoothing);
  Tensor z = random_tensor({4, 7, 1, 1}, 9) * 3.0;
  const std::vector<int> labels = {3, 0, 6, 3};
  loss.forward(z, labels);
  const Tensor analytic = loss.backward();

  const double eps = kEps;
  std::vector<double> numeric(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double saved = z.data()[i];
    z.data()[i] = saved + eps;
    const double plus = loss.forward(z, labels);
    z.data()[i] = saved - eps;
    const double minus = loss.forward(z, labels);
    z.data()[i] = saved;
    numeric[i] = (plus - minus) / (2 * eps);
  }
  INFO("label_smoothing " << smoothing << ": rel error " << rel_error(analytic, numeric));
  CHECK(rel_error(analytic, numeric) < kTolerance);
}
