// Checks chapter 00's exercises against the framework itself: the answer key is the library's
// BatchNorm2d, CrossEntropyLoss, MaxPool2d and SGD, run on random inputs. Both sides compute in
// float in different orders, so we accept |yours - library| <= 1e-5 + 1e-4 |library|.
#include "support/check.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/loss.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/optim/sgd.hpp"
#include "convbook/random.hpp"
#include "exercise.hpp"
#include "support/exercise_check.hpp"

using namespace convbook;
using convbook::exercise::allclose_ratio;
using convbook::test::random_tensor;

namespace {
std::vector<float> to_vector(const Tensor& t) {
  return std::vector<float>(t.begin(), t.end());
}
}  // namespace

TEST_CASE("00.1 BatchNorm2d backward in training mode", "[exercise]") {
  const std::size_t N = 3, C = 4, H = 5, W = 3;
  BatchNorm2d bn(C);
  Rng rng(1);
  for (auto& v : bn.weight.value) v = float(rng.uniform(0.5, 1.5));
  const Tensor x = random_tensor({N, C, H, W}, 2) * 2.0f + 1.0f;
  const Tensor dy = random_tensor({N, C, H, W}, 3);
  bn.forward(x);
  const Tensor dx = bn.backward(dy);

  std::vector<float> your_dx, your_dgamma, your_dbeta;
  ex00::batchnorm2d_backward_train(to_vector(x), to_vector(bn.weight.value), to_vector(dy), N, C, H,
                                   W, bn.eps(), your_dx, your_dgamma, your_dbeta);
  CHECK(allclose_ratio(your_dx, to_vector(dx)) <= 1);
  CHECK(allclose_ratio(your_dgamma, to_vector(bn.weight.grad)) <= 1);
  CHECK(allclose_ratio(your_dbeta, to_vector(bn.bias.grad)) <= 1);
}

TEST_CASE("00.2 softmax cross-entropy backward with label smoothing", "[exercise]") {
  const double smoothing = GENERATE(0.0, 0.1);
  const std::size_t N = 5, K = 7;
  const Tensor logits = random_tensor({N, K, 1, 1}, 4) * 3.0f;
  const std::vector<int> labels = {6, 0, 2, 2, 5};
  CrossEntropyLoss loss(smoothing);
  loss.forward(logits, labels);
  INFO("label_smoothing " << smoothing);
  CHECK(allclose_ratio(ex00::cross_entropy_backward(to_vector(logits), labels, N, K, smoothing),
                       to_vector(loss.backward())) <= 1);
}

TEST_CASE("00.3 max-pool backward routes dy to the maxima", "[exercise]") {
  struct Config {
    std::size_t kernel, stride, padding;
  };
  const Config cfg = GENERATE(Config{2, 2, 0}, Config{3, 2, 1}, Config{2, 1, 0});
  const std::size_t N = 2, C = 3, H = 7, W = 5;
  MaxPool2d pool(cfg.kernel, cfg.stride, cfg.padding);
  const Tensor x = random_tensor({N, C, H, W}, 5);
  const Tensor y = pool.forward(x);
  const Tensor dy = random_tensor(shape_of(y), 6);
  INFO("kernel " << cfg.kernel << " stride " << cfg.stride << " padding " << cfg.padding);
  CHECK(allclose_ratio(ex00::maxpool2d_backward(to_vector(x), to_vector(dy), N, C, H, W, cfg.kernel,
                                                cfg.stride, cfg.padding),
                       to_vector(pool.backward(dy))) <= 1);
}

TEST_CASE("00.4 SGD step with momentum, Nesterov and weight decay", "[exercise]") {
  const bool nesterov = GENERATE(false, true);
  SgdOptions opt;
  opt.lr = 0.1;
  opt.momentum = 0.9;
  opt.weight_decay = 5e-4;
  opt.nesterov = nesterov;
  Parameter p = Parameter::make({6, 4});
  p.value = random_tensor({6, 4, 1, 1}, 7);
  SGD sgd({{"w", &p}}, opt);
  std::vector<float> w = to_vector(p.value), buffer;
  for (int step = 0; step < 3; ++step) {  // three steps: the first one starts the buffer
    p.grad = random_tensor({6, 4, 1, 1}, 10 + std::uint64_t(step));
    ex00::sgd_step(w, to_vector(p.grad), buffer, step == 0, opt.lr, opt.momentum, opt.weight_decay,
                   nesterov);
    sgd.step();
    INFO("nesterov " << nesterov << ", step " << step);
    CHECK(allclose_ratio(w, to_vector(p.value)) <= 1);
  }
}
