// Chapter 13: Shake-Shake's forward mix, train vs eval, the drawn coefficients, shapes and
// state_dict names, parameter counts, and the errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "chapters/13_shake_shake/shake_shake.hpp"
#include "chapters/13_shake_shake/shake_shake_net.hpp"
#include "convbook/error.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using Catch::Matchers::Contains;

namespace {

// shortcut(x) + alpha_n b1(x) + (1 - alpha_n) b2(x), computed from the block's own children in
// their current mode (train or eval): what forward must give.
Tensor expected_mix(ShakeShakeBlock& block, const Tensor& x, const std::vector<double>& alpha) {
  const Tensor b1 = block.residual_path1->forward(x);
  const Tensor b2 = block.residual_path2->forward(x);
  Tensor y = block.shortcut() ? block.shortcut()->forward(x) : x;
  const std::size_t M = b1.size() / alpha.size();
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double a = alpha[i / M];
    y.data()[i] += Scalar(a * b1.data()[i] + (1 - a) * b2.data()[i]);
  }
  return y;
}

// The alphas (or betas) of one forward of a 1-channel block on n images of 1x1.
ShakeShakeBlock& forward_n(ShakeShakeBlock& block, std::size_t n) {
  block.forward(test::random_tensor({n, 1, 1, 1}, 3));
  return block;
}

double mean(const std::vector<Scalar>& v) {
  double s = 0;
  for (Scalar a : v) s += a;
  return s / double(v.size());
}

}  // namespace

TEST_CASE("Training mixes the branches with alpha per image, eval with 0.5", "[shake]") {
  manual_seed(1);
  ShakeShakeBlock block(3, 6, 2);
  test::randomize_batchnorms(block, 2);
  const Tensor x = test::random_tensor({3, 3, 7, 5}, 4);
  const std::vector<double> alpha = {0.1, 0.6, 0.95};
  block.set_coefficients(alpha, {0.5, 0.5, 0.5});
  const Tensor y = block.forward(x);
  CHECK(shape_of(y) == Shape{3, 6, 4, 3});
  // BatchNorm in training mode gives the same branch outputs on the same batch.
  CHECK(test::scaled_error(y, expected_mix(block, x, alpha)) < 1e-6);

  block.eval();  // the fixed coefficients are for training only: eval always takes 0.5
  const Tensor y_eval = block.forward(x);
  CHECK(test::scaled_error(y_eval, expected_mix(block, x, {0.5, 0.5, 0.5})) < 1e-6);
  CHECK(block.alpha() == std::vector<Scalar>(3, Scalar(0.5)));
  CHECK(block.beta() == std::vector<Scalar>(3, Scalar(0.5)));
  // The eval backward splits dy evenly: 0.5 dy into each branch, dy into the shortcut. Each
  // child's backward reads its own cache of the last forward, so calling them again repeats it.
  const Tensor dy = test::random_tensor(shape_of(y_eval), 5);
  const Tensor dx = block.backward(dy);
  const Tensor half = dy * Scalar(0.5);
  Tensor expected = block.residual_path1->backward(half);
  expected += block.residual_path2->backward(half);
  expected += block.shortcut()->backward(dy);
  CHECK(test::scaled_error(dx, expected) < 1e-6);
}

TEST_CASE("The eval output does not depend on the seed, the training output does", "[shake]") {
  manual_seed(2);
  ShakeShakeBlock block(4, 4);
  const Tensor x = test::random_tensor({4, 4, 5, 5}, 6);
  block.eval();
  manual_seed(10);
  const Tensor a = block.forward(x);
  manual_seed(11);
  CHECK(test::same_values(block.forward(x), a));
  block.train();
  manual_seed(10);
  const Tensor t1 = block.forward(x);
  manual_seed(10);
  CHECK(test::same_values(block.forward(x), t1));  // seeded: reproducible
  manual_seed(11);
  CHECK(test::scaled_error(block.forward(x), t1) > 1e-3);  // another seed, another alpha
}

TEST_CASE("The drawn alpha and beta: uniform between 0 and 1, one per image, independent", "[shake]") {
  manual_seed(3);
  const std::size_t n = 4000;
  ShakeShakeBlock block(1, 1);
  forward_n(block, n);
  const std::vector<Scalar> alpha = block.alpha(), beta = block.beta();
  REQUIRE(alpha.size() == n);
  REQUIRE(beta.size() == n);
  // U(0, 1): mean 1/2 and variance 1/12; the standard error of the mean is 0.29 / sqrt(n) =
  // 0.0046, of the variance 0.075 / sqrt(n) = 0.0012: 5 of each as bounds.
  for (const auto* v : {&alpha, &beta}) {
    const double m = mean(*v);
    double var = 0;
    std::vector<std::size_t> bins(10, 0);
    for (Scalar a : *v) {
      CHECK((a >= 0 && a < 1));
      var += (a - m) * (a - m) / double(n);
      ++bins[std::size_t(a * 10)];
    }
    CHECK(std::abs(m - 0.5) < 0.023);
    CHECK(std::abs(var - 1.0 / 12) < 0.006);
    for (std::size_t count : bins) CHECK((count > 330 && count < 470));  // 400 +- 3.5 sigma
  }
  // Independent: the correlation of alpha and beta is ~N(0, 1 / n), |r| < 5 / sqrt(n) = 0.08.
  const double ma = mean(alpha), mb = mean(beta);
  double cov = 0, va = 0, vb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    cov += (alpha[i] - ma) * (beta[i] - mb);
    va += (alpha[i] - ma) * (alpha[i] - ma);
    vb += (beta[i] - mb) * (beta[i] - mb);
  }
  CHECK(std::abs(cov / std::sqrt(va * vb)) < 0.08);
  // Per image: nearly all distinct; and a new forward draws new ones.
  CHECK(std::set<Scalar>(alpha.begin(), alpha.end()).size() > n - 10);
  forward_n(block, n);
  CHECK(block.alpha() != alpha);
}

TEST_CASE("The variants: Batch level, Keep, Even", "[shake]") {
  manual_seed(4);
  ShakeShakeBlock batch(1, 1, 1, {ShakeForward::Shake, ShakeBackward::Shake, ShakeLevel::Batch});
  forward_n(batch, 50);
  CHECK(std::set<Scalar>(batch.alpha().begin(), batch.alpha().end()).size() == 1);
  CHECK(std::set<Scalar>(batch.beta().begin(), batch.beta().end()).size() == 1);
  CHECK(batch.alpha()[0] != batch.beta()[0]);
  CHECK(batch.options().name() == "Shake-Shake-Batch");

  ShakeShakeBlock keep(1, 1, 1, {ShakeForward::Shake, ShakeBackward::Keep, ShakeLevel::Image});
  forward_n(keep, 50);
  CHECK(keep.alpha() == keep.beta());
  CHECK(std::set<Scalar>(keep.alpha().begin(), keep.alpha().end()).size() == 50);
  CHECK(keep.options().name() == "Shake-Keep-Image");

  ShakeShakeBlock even(1, 1, 1, {ShakeForward::Shake, ShakeBackward::Even, ShakeLevel::Image});
  forward_n(even, 50);
  CHECK(even.beta() == std::vector<Scalar>(50, Scalar(0.5)));
  CHECK(std::set<Scalar>(even.alpha().begin(), even.alpha().end()).size() == 50);

  ShakeShakeBlock none(1, 1, 1, {ShakeForward::Even, ShakeBackward::Even, ShakeLevel::Image});
  forward_n(none, 50);
  CHECK(none.alpha() == std::vector<Scalar>(50, Scalar(0.5)));
  CHECK(none.options().name() == "Even-Even-Image");
  CHECK(ShakeOptions{}.name() == "Shake-Shake-Image");
}

TEST_CASE("The backward sends beta dy and (1 - beta) dy into the branches", "[shake]") {
  const float dy[6] = {1, 2, 3, 4, 5, 6}, beta[2] = {0.25f, 1.0f};
  float db1[6], db2[6];
  shake_mix_backward(dy, beta, db1, db2, 2, 3);
  CHECK(std::vector<float>(db1, db1 + 6) == std::vector<float>{0.25f, 0.5f, 0.75f, 4, 5, 6});
  CHECK(std::vector<float>(db2, db2 + 6) == std::vector<float>{0.75f, 1.5f, 2.25f, 0, 0, 0});
  const float b1[4] = {1, 1, 2, 2}, b2[4] = {3, 3, 4, 4}, alpha[2] = {0.5f, 0.0f};
  float y[4];
  shake_mix_forward(b1, b2, alpha, y, 2, 2);
  CHECK(std::vector<float>(y, y + 4) == std::vector<float>{2, 2, 4, 4});
}

TEST_CASE("shifted_subsample copies pixel (p s + o, q s + o), zero past the border", "[shake][shortcut]") {
  Tensor x = zeros({1, 1, 3, 3});
  for (std::size_t i = 0; i < 9; ++i) x.data()[i] = Scalar(i + 1);
  const Tensor a = shifted_subsample(x, 2, 0), b = shifted_subsample(x, 2, 1);
  CHECK(shape_of(a) == Shape{1, 1, 2, 2});
  CHECK(std::vector<Scalar>(a.begin(), a.end()) == std::vector<Scalar>{1, 3, 7, 9});
  CHECK(std::vector<Scalar>(b.begin(), b.end()) == std::vector<Scalar>{5, 0, 0, 0});
  const Tensor c = shifted_subsample(x, 1, 1);
  CHECK(std::vector<Scalar>(c.begin(), c.end()) == std::vector<Scalar>{5, 6, 0, 8, 9, 0, 0, 0, 0});
}

TEST_CASE("Shake-Shake networks: shapes, state_dict names, parameter counts", "[shake][net]") {
  // Counts from the PyTorch definition in tests/tools/make_ch13_fixtures.py; the paper gives
  // 2.9M and 26.2M (Gastaldi 2017, table 1).
  CHECK(shake_shake_cifar(26, 32)->num_parameters() == 2923162);
  CHECK(shake_shake_cifar(14, 16)->num_parameters() == 346650);
  CHECK(shake_shake_cifar(26, 16)->num_parameters() == 735514);
  CHECK(shake_shake_cifar(8, 16)->num_parameters() == 152218);
  CHECK(shake_shake_cifar(26, 96)->num_parameters() == 26192922);

  auto net = shake_shake_cifar(14, 16);
  std::vector<std::string> names;
  net->visit_parameters([&](const std::string& name, Parameter&) { names.push_back(name); });
  CHECK(names.front() == "conv1.weight");
  const std::set<std::string> all(names.begin(), names.end());
  for (const char* key :
       {"layer1.0.residual_path1.conv1.weight", "layer1.1.residual_path2.bn2.running_var",
        "layer2.0.shortcut.conv1.weight", "layer2.0.shortcut.conv2.weight",
        "layer3.0.shortcut.bn.bias", "fc.weight"}) {
    CHECK(all.count(key) == 1);
  }
  CHECK(all.count("layer1.0.shortcut.conv1.weight") == 0);  // 16 -> 16: identity
  std::vector<std::string> blocks;
  for_each_shake_block(*net, [&](const std::string& name, ShakeShakeBlock&) {
    blocks.push_back(name);
  });
  CHECK(blocks == std::vector<std::string>{"layer1.0", "layer1.1", "layer2.0", "layer2.1",
                                           "layer3.0", "layer3.1"});
  const Tensor y = net->forward(test::random_tensor({2, 3, 32, 32}, 7));
  CHECK(shape_of(y) == Shape{2, 10, 1, 1});
}

TEST_CASE("Bad Shake-Shake configurations throw convbook::Error saying what was expected",
          "[shake][errors]") {
  REQUIRE_THROWS_WITH(shake_shake_cifar(25, 32), Contains("depth=25") && Contains("6n + 2"));
  REQUIRE_THROWS_WITH(shake_shake_cifar(2, 32), Contains("depth=2"));
  REQUIRE_THROWS_WITH(shake_shake_cifar(26, 0), Contains("width=0") && Contains("even"));
  REQUIRE_THROWS_WITH(shake_shake_cifar(26, 15), Contains("width=15"));
  REQUIRE_THROWS_WITH(shake_shake_cifar(26, 32, {}, 0), Contains("num_classes=0"));
  REQUIRE_THROWS_AS(shake_shake_cifar(25, 32), Error);
  REQUIRE_THROWS_WITH(ShakeShakeBlock(0, 4), Contains("at least 1"));
  REQUIRE_THROWS_WITH(ShakeShakeBlock(4, 4, 0), Contains("at least 1"));
  REQUIRE_THROWS_WITH(ShakeShakeBlock(4, 7, 2), Contains("out_channels must be even"));
  REQUIRE_THROWS_WITH(ShakeShortcut(4, 8, 0), Contains("at least 1"));

  ShakeShakeBlock block(2, 2);
  REQUIRE_THROWS_WITH(block.set_coefficients({0.5, 0.5}, {0.5}),
                      Contains("2 alphas and 1 betas"));
  REQUIRE_THROWS_WITH(block.set_coefficients({}, {}), Contains("at least 1"));
  REQUIRE_THROWS_WITH(block.set_coefficients({0.5, 1.5}, {0.5, 0.5}),
                      Contains("1.5") && Contains("[0, 1]"));
  REQUIRE_THROWS_WITH(block.set_coefficients({0.5, 0.5}, {-0.1, 0.5}), Contains("[0, 1]"));
  block.set_coefficients({0.5, 0.5}, {0.5, 0.5});
  REQUIRE_THROWS_WITH(block.forward(test::random_tensor({3, 2, 4, 4}, 1)),
                      Contains("2 values but the batch has 3 images"));
  block.clear_coefficients();
  REQUIRE_THROWS_WITH(block.backward(zeros({3, 2, 4, 4})), Contains("expected the last forward"));
  block.forward(test::random_tensor({3, 2, 4, 4}, 1));
  REQUIRE_THROWS_WITH(block.backward(zeros({3, 2, 4, 5})), Contains("backward got dy"));
}
