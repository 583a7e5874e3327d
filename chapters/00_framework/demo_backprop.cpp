/// @file demo_backprop.cpp
/// @brief Chapter 00's demo: (1) the hand-written backward of a tiny CNN agrees with finite
/// differences, (2) SGD on one fixed batch of real images drives the loss down.
///
/// Run: ./ch00_demo_backprop [data folder]   (default: the usual CIFAR-10 lookup)
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "chapters/00_framework/small_cnn.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/data/cifar.hpp"
#include "convbook/data/loader.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/layers/loss.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/optim/sgd.hpp"
#include "convbook/random.hpp"

using namespace convbook;

namespace {

// Loss of `model` on (x, labels); the model is in training mode, so BN uses batch statistics,
// which are deterministic: the same x gives the same loss.
double loss_of(Module& model, const Tensor& x, const std::vector<int>& labels) {
  CrossEntropyLoss criterion;
  return criterion.forward(model.forward(x), labels);
}

//! [gradient-check]
// Central differences dL/dw ~ (L(w + eps) - L(w - eps)) / 2 eps for every weight, compared
// with what backward() accumulated. In float, eps = 1e-3 balances truncation error (eps^2)
// against rounding error (1e-7 / eps); the test suite repeats this in double to ~1e-7.
void gradient_check(Module& model, const Tensor& x, const std::vector<int>& labels) {
  CrossEntropyLoss criterion;
  model.zero_grad();
  criterion.forward(model.forward(x), labels);
  model.backward(criterion.backward());
  const double eps = 1e-3;
  std::printf("%-16s %8s %14s\n", "parameter", "numel", "rel. error");
  model.visit_parameters([&](const std::string& name, Parameter& p) {
    if (p.is_buffer) return;
    double worst = 0;
    for (std::size_t i = 0; i < p.numel(); ++i) {
      Scalar& w = p.value.data()[i];
      const Scalar saved = w;
      w = saved + Scalar(eps);
      const double plus = loss_of(model, x, labels);
      w = saved - Scalar(eps);
      const double minus = loss_of(model, x, labels);
      w = saved;
      const double numeric = (plus - minus) / (2 * eps);
      const double analytic = p.grad.data()[i];
      // cs231n's relative error, with a floor so that tiny gradients do not blow it up
      worst = std::max(worst, std::abs(numeric - analytic) /
                                  std::max(1e-3, std::abs(numeric) + std::abs(analytic)));
    }
    std::printf("%-16s %8zu %14.2e\n", name.c_str(), p.numel(), worst);
  });
}
//! [gradient-check]

}  // namespace

int main(int argc, char** argv) {
  try {
    // (1) A tiny CNN: conv -> BN -> ReLU -> global average pool -> linear, on random 7x5 images.
    manual_seed(1);
    Sequential tiny;
    tiny.emplace<Conv2d>(Conv2dOptions(3, 4, 3).padding(1));
    tiny.emplace<BatchNorm2d>(4);
    tiny.emplace<ReLU>();
    tiny.emplace<AdaptiveAvgPool2d>(1);
    tiny.emplace<Flatten>();
    tiny.emplace<Linear>(4, 3);
    Tensor x = zeros({4, 3, 7, 5});
    Rng rng(7);
    for (auto& v : x) v = Scalar(rng.normal());
    const std::vector<int> labels = {0, 2, 1, 2};
    std::printf(
        "== gradient check of a tiny CNN (float32: errors up to ~1e-2 are rounding; a wrong "
        "backward gives ~1)\n");
    gradient_check(tiny, x, labels);

    // (2) small_cnn overfits one fixed batch of 64 real images: the loss must fall.
    const CifarData data = load_cifar10(argc > 1 ? argv[1] : "");
    std::printf("\n== 30 SGD steps on one fixed batch of 64 images\n%s\n",
                data.description.c_str());
    BatchLoader loader(data.train, 64, /*train=*/false, /*seed=*/0);
    loader.start_epoch(0);
    Batch batch;
    loader.next(batch);
    manual_seed(0);
    ModulePtr model = small_cnn(10);
    SgdOptions o;
    o.lr = 0.05;
    o.momentum = 0.9;
    SGD sgd(*model, o);
    CrossEntropyLoss criterion;
    for (int step = 1; step <= 30; ++step) {
      const Tensor logits = model->forward(batch.images);
      const double loss = criterion.forward(logits, batch.labels);
      const std::size_t right = count_correct(logits, batch.labels);
      model->zero_grad();
      model->backward(criterion.backward());
      sgd.step();
      if (step == 1 || step % 5 == 0) {
        std::printf("step %2d  loss %.4f  batch accuracy %2zu/64\n", step, loss, right);
      }
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "ch00_demo_backprop: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
