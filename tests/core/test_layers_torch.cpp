// PyTorch parity of the core layers, from fixtures written by tests/tools/make_layer_fixtures.py
// (torch 1.13, float32). Both sides compute in float32 but sum in different orders, so values
// agree to a few ulps of their scale: we accept |ours - torch| <= 1e-5 + 1e-4 |torch|, as
// torch.allclose would with rtol=1e-4, atol=1e-5. A wrong formula misses by far more.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "convbook/io/safetensors.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/layers/loss.hpp"
#include "convbook/layers/pooling.hpp"
#include "support/fixture.hpp"

using namespace convbook;

namespace {
using test::Fixture;

// Worst |a - b| / (atol + rtol |b|) over all elements: <= 1 means allclose.
double allclose_ratio(const Tensor& ours, const Tensor& torch, double rtol = 1e-4,
                      double atol = 1e-5) {
  REQUIRE(shape_of(ours) == shape_of(torch));
  double worst = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const double a = ours.data()[i], b = torch.data()[i];
    worst = std::max(worst, std::abs(a - b) / (atol + rtol * std::abs(b)));
  }
  return worst;
}

#define CHECK_CLOSE(ours, torch) CHECK(allclose_ratio(ours, torch) <= 1.0)
}  // namespace

TEST_CASE("Linear matches torch.nn.Linear forward and gradients", "[layers][torch]") {
  const Fixture f("layers_linear.safetensors");
  Linear fc(5, 3);
  fc.weight.value = f["weight"];
  fc.bias.value = f["bias"];
  CHECK_CLOSE(fc.forward(f["x"]), f["y"]);
  fc.zero_grad();
  CHECK_CLOSE(fc.backward(f["dy"]), f["dx"]);
  CHECK_CLOSE(fc.weight.grad, f["dweight"]);
  CHECK_CLOSE(fc.bias.grad, f["dbias"]);
}

TEST_CASE("BatchNorm2d matches torch.nn.BatchNorm2d over two training steps and in eval",
          "[layers][torch][batchnorm]") {
  const Fixture f("layers_batchnorm.safetensors");
  BatchNorm2d bn(4);
  bn.weight.value = f["weight"];
  bn.bias.value = f["bias"];

  CHECK_CLOSE(bn.forward(f["x1"]), f["train_y1"]);
  bn.backward(f["dy"]);
  bn.zero_grad();
  CHECK_CLOSE(bn.forward(f["x2"]), f["train_y2"]);
  CHECK_CLOSE(bn.backward(f["dy"]), f["train_dx2"]);
  CHECK_CLOSE(bn.weight.grad, f["train_dweight2"]);
  CHECK_CLOSE(bn.bias.grad, f["train_dbias2"]);
  // running_var must use the unbiased variance, or this misses by a factor (M-1)/M = 44/45
  CHECK_CLOSE(bn.running_mean.value, f["running_mean"]);
  CHECK_CLOSE(bn.running_var.value, f["running_var"]);
  CHECK(bn.num_batches_tracked.value(0, 0, 0, 0) == f.scalar("num_batches_tracked"));

  bn.eval();
  bn.zero_grad();
  CHECK_CLOSE(bn.forward(f["x3"]), f["eval_y3"]);
  CHECK_CLOSE(bn.backward(f["dy3"]), f["eval_dx3"]);
  CHECK_CLOSE(bn.weight.grad, f["eval_dweight3"]);
  CHECK_CLOSE(bn.bias.grad, f["eval_dbias3"]);
}

TEST_CASE("Pools match torch.nn pools on odd shapes, stride and padding",
          "[layers][torch][pooling]") {
  const Fixture f("layers_pool.safetensors");
  struct Case {
    std::string name;
    std::unique_ptr<Module> pool;
  };
  std::vector<Case> cases;
  cases.push_back({"max_k3_s2_p1", std::make_unique<MaxPool2d>(3, 2, 1)});
  cases.push_back({"max_k2_s1_p0", std::make_unique<MaxPool2d>(2, 1, 0)});
  cases.push_back({"max_k2_s2_p0", std::make_unique<MaxPool2d>(2)});
  cases.push_back({"avg_k3_s2_p1", std::make_unique<AvgPool2d>(3, 2, 1)});
  cases.push_back({"avg_k3_s2_p1_nopad", std::make_unique<AvgPool2d>(3, 2, 1, false)});
  cases.push_back({"avg_k2_s2_p0", std::make_unique<AvgPool2d>(2)});
  cases.push_back({"adaptive_avg", std::make_unique<AdaptiveAvgPool2d>(1)});
  for (auto& c : cases) {
    INFO(c.name << ": " << c.pool->repr());
    CHECK_CLOSE(c.pool->forward(f[c.name + ".x"]), f[c.name + ".y"]);
    CHECK_CLOSE(c.pool->backward(f[c.name + ".dy"]), f[c.name + ".dx"]);
  }
}

TEST_CASE("CrossEntropyLoss matches torch with and without label smoothing",
          "[layers][torch][loss]") {
  const Fixture f("layers_cross_entropy.safetensors");
  std::vector<int> labels;
  for (double v : f.file.tensors.at("labels").data) labels.push_back(int(v));
  for (const auto& [name, eps] : {std::pair<std::string, double>{"plain", 0.0}, {"smooth", 0.1}}) {
    INFO(name);
    CrossEntropyLoss loss(eps);
    CHECK(loss.forward(f["logits"], labels) == Approx(f.scalar(name + ".loss")).epsilon(1e-5));
    CHECK_CLOSE(loss.backward(), f[name + ".dlogits"]);
  }
}
