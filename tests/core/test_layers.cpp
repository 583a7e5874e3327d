// The core layers' contracts: shapes, PyTorch-style names and reprs, train/eval behaviour,
// clear errors on bad arguments, and a short learning test. Gradients are checked in
// test_layers_f64.cpp, PyTorch parity in test_layers_torch.cpp.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
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
using Catch::Matchers::Contains;
using convbook::test::random_tensor;

namespace {
std::vector<std::string> parameter_names(Module& m) {
  std::vector<std::string> names;
  m.visit_parameters([&](const std::string& name, Parameter&) { names.push_back(name); });
  return names;
}
}  // namespace

TEST_CASE("Linear maps (N, C, 1, 1) to (N, K, 1, 1) and rejects other shapes", "[layers]") {
  Linear fc(6, 4);
  CHECK(shape_of(fc.forward(random_tensor({3, 6, 1, 1}, 1))) == Shape{3, 4, 1, 1});
  CHECK(fc.weight.shape == std::vector<std::size_t>{4, 6});
  CHECK(fc.bias.shape == std::vector<std::size_t>{4});
  CHECK(fc.flops() == 2.0 * 3 * 6 * 4);
  CHECK(fc.num_parameters() == 6 * 4 + 4);
  CHECK(fc.repr() == "Linear(in_features=6, out_features=4, bias=True)");
  CHECK_THROWS_WITH(fc.forward(random_tensor({3, 6, 2, 1}, 1)),
                    Contains("(3, 6, 2, 1)") && Contains("(N, 6, 1, 1)"));
  CHECK_THROWS_AS(Linear(0, 3), Error);
  Linear no_bias(6, 4, false);
  CHECK(parameter_names(no_bias) == std::vector<std::string>{"weight"});
  CHECK(no_bias.repr() == "Linear(in_features=6, out_features=4, bias=False)");
}

TEST_CASE("Linear computes x W^T + b", "[layers]") {
  Linear fc(2, 2);
  fc.weight.value = Tensor({{{{1}}, {{2}}}, {{{3}}, {{4}}}});  // W = [[1, 2], [3, 4]]
  fc.bias.value = Tensor({{{{10}}}, {{{20}}}});
  const Tensor x({{{{1}}, {{-1}}}});  // x = [1, -1]
  const Tensor y = fc.forward(x);
  CHECK(y(0, 0, 0, 0) == 1 - 2 + 10);
  CHECK(y(0, 1, 0, 0) == 3 - 4 + 20);
}

TEST_CASE("ReLU clips negatives and gates the gradient", "[layers]") {
  ReLU relu;
  const Tensor x({{{{-1, 0, 2}}}});
  const Tensor y = relu.forward(x);
  CHECK(y(0, 0, 0, 0) == 0);
  CHECK(y(0, 0, 0, 2) == 2);
  const Tensor dx = relu.backward(Tensor({{{{5, 5, 5}}}}));
  CHECK(dx(0, 0, 0, 0) == 0);
  CHECK(dx(0, 0, 0, 1) == 0);  // subgradient 0 at the kink, as PyTorch
  CHECK(dx(0, 0, 0, 2) == 5);
  CHECK(relu.repr() == "ReLU()");
}

TEST_CASE("BatchNorm2d normalizes with batch stats in train and running stats in eval",
          "[layers][batchnorm]") {
  BatchNorm2d bn(3);
  CHECK(parameter_names(bn) == std::vector<std::string>{"weight", "bias", "running_mean",
                                                        "running_var", "num_batches_tracked"});
  CHECK(bn.num_parameters() == 6);  // buffers are not trainable
  CHECK(bn.repr() == "BatchNorm2d(3, eps=1e-05, momentum=0.1)");

  Tensor x = random_tensor({4, 3, 5, 3}, 2) * 3.0f + 2.0f;
  const Tensor y = bn.forward(x);
  for (std::size_t c = 0; c < 3; ++c) {
    double sum = 0, sq = 0;
    for (std::size_t n = 0; n < 4; ++n)
      for (std::size_t i = 0; i < 15; ++i) {
        const double v = y(n, c, i / 3, i % 3);
        sum += v;
        sq += v * v;
      }
    CHECK(sum / 60 == Approx(0).margin(1e-5));  // float sums of 60 values
    CHECK(sq / 60 == Approx(1).epsilon(1e-4));  // var / (var + eps), eps = 1e-5
  }
  // running stats after one step: 0.9 * init + 0.1 * batch stat, variance unbiased (M - 1)
  double mean0 = 0;
  for (std::size_t n = 0; n < 4; ++n)
    for (std::size_t i = 0; i < 15; ++i) mean0 += x(n, 0, i / 3, i % 3);
  mean0 /= 60;
  double var0 = 0;
  for (std::size_t n = 0; n < 4; ++n)
    for (std::size_t i = 0; i < 15; ++i) var0 += std::pow(x(n, 0, i / 3, i % 3) - mean0, 2);
  CHECK(bn.running_mean.value(0, 0, 0, 0) == Approx(0.1 * mean0).epsilon(1e-5));
  CHECK(bn.running_var.value(0, 0, 0, 0) == Approx(0.9 + 0.1 * var0 / 59).epsilon(1e-5));
  CHECK(bn.num_batches_tracked.value(0, 0, 0, 0) == 1);

  // eval: x -> (x - running_mean) / sqrt(running_var + eps), stats untouched
  bn.eval();
  const Tensor y_eval = bn.forward(x);
  const double expected = (x(1, 0, 2, 1) - 0.1 * mean0) / std::sqrt(0.9 + 0.1 * var0 / 59 + 1e-5);
  CHECK(y_eval(1, 0, 2, 1) == Approx(expected).epsilon(1e-5));
  CHECK(bn.num_batches_tracked.value(0, 0, 0, 0) == 1);
}

TEST_CASE("BatchNorm2d rejects bad arguments and inputs", "[layers][batchnorm][errors]") {
  CHECK_THROWS_WITH(BatchNorm2d(0), Contains("num_features=0"));
  CHECK_THROWS_WITH(BatchNorm2d(3, 0.0), Contains("eps=0.0"));
  CHECK_THROWS_WITH(BatchNorm2d(3, 1e-5, 1.5), Contains("momentum=1.5"));
  BatchNorm2d bn(3);
  CHECK_THROWS_WITH(bn.forward(zeros({2, 4, 3, 3})), Contains("4 channels") && Contains("3"));
  CHECK_THROWS_WITH(bn.forward(zeros({1, 3, 1, 1})), Contains("more than 1 value per channel"));
  bn.eval();
  CHECK_NOTHROW(bn.forward(zeros({1, 3, 1, 1})));  // eval needs no batch statistics
}

TEST_CASE("Pools give PyTorch's output sizes on odd shapes", "[layers][pooling]") {
  const Tensor x = random_tensor({2, 3, 7, 5}, 3);
  MaxPool2d max3(3, 2, 1);
  CHECK(shape_of(max3.forward(x)) == Shape{2, 3, 4, 3});  // floor((7+2-3)/2)+1, floor((5+2-3)/2)+1
  MaxPool2d max2(2);
  CHECK(shape_of(max2.forward(x)) == Shape{2, 3, 3, 2});  // stride defaults to the kernel
  AvgPool2d avg3(3, 1, 1);
  CHECK(shape_of(avg3.forward(x)) == Shape{2, 3, 7, 5});
  AdaptiveAvgPool2d gap;
  CHECK(shape_of(gap.forward(x)) == Shape{2, 3, 1, 1});
  CHECK(max3.repr() ==
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)");
  CHECK(max2.repr() ==
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
  CHECK(avg3.repr() == "AvgPool2d(kernel_size=3, stride=1, padding=1)");
  CHECK(gap.repr() == "AdaptiveAvgPool2d(output_size=1)");
  CHECK(avg3.flops() == 2.0 * 3 * 7 * 5 * 9);
}

TEST_CASE("MaxPool2d routes the gradient to the maximum only", "[layers][pooling]") {
  MaxPool2d pool(2);
  // one 2x4 plane: windows [1 5 / 2 0] and [3 3 / 9 4]
  const Tensor x({{{{1, 5, 3, 3}, {2, 0, 9, 4}}}});
  const Tensor y = pool.forward(x);
  CHECK(y(0, 0, 0, 0) == 5);
  CHECK(y(0, 0, 0, 1) == 9);
  const Tensor dx = pool.backward(Tensor({{{{10, 20}}}}));
  const Tensor expected({{{{0, 10, 0, 0}, {0, 0, 20, 0}}}});
  CHECK((dx == expected));
}

TEST_CASE("Pools reject bad configurations", "[layers][pooling][errors]") {
  CHECK_THROWS_WITH(MaxPool2d(0), Contains("kernel_size=0"));
  CHECK_THROWS_WITH(MaxPool2d(3, 1, 2), Contains("padding=2") && Contains("kernel_size=3"));
  CHECK_THROWS_WITH(AvgPool2d(2, 2, 2), Contains("padding=2"));
  CHECK_THROWS_WITH(AdaptiveAvgPool2d(2), Contains("output_size=2"));
  MaxPool2d big(5);
  CHECK_THROWS_WITH(big.forward(zeros({1, 1, 4, 7})),
                    Contains("(1, 1, 4, 7)") && Contains("kernel_size=5"));
}

TEST_CASE("Flatten keeps PyTorch's C, H, W order", "[layers]") {
  Flatten flatten;
  Tensor x = random_tensor({2, 3, 4, 5}, 4);
  const Tensor y = flatten.forward(x);
  REQUIRE(shape_of(y) == Shape{2, 60, 1, 1});
  CHECK(y(1, 2 * 20 + 3 * 5 + 4, 0, 0) == x(1, 2, 3, 4));
  CHECK((flatten.backward(y) == x));
}

TEST_CASE("Dropout drops p of the values in training, scales the rest, and is identity in eval",
          "[layers][dropout]") {
  Dropout dropout(0.25);
  CHECK(dropout.repr() == "Dropout(p=0.25, inplace=False)");
  const Tensor x = xt::ones<Scalar>({1, 1, 200, 200});
  manual_seed(5);
  const Tensor y = dropout.forward(x);
  std::size_t dropped = 0, scaled = 0;
  for (auto v : y) {
    if (v == 0) ++dropped;
    if (v == Approx(1 / 0.75)) ++scaled;  // inverted dropout keeps E[y] = x
  }
  CHECK(dropped + scaled == 40000);
  // 40000 Bernoulli(0.25) draws: std of the fraction is sqrt(0.25*0.75/40000) ~ 0.0022; 5 sigma
  CHECK(double(dropped) / 40000 == Approx(0.25).margin(0.011));
  const Tensor dx = dropout.backward(x);
  CHECK((dx == y));  // the same mask, since y = x * mask and x is ones
  manual_seed(5);
  CHECK((dropout.forward(x) == y));  // the mask is reproducible from the seed
  dropout.eval();
  CHECK((dropout.forward(x) == x));
  CHECK_THROWS_WITH(Dropout(1.0), Contains("p=1.0"));
  CHECK_THROWS_WITH(Dropout(-0.1), Contains("p=-0.1"));
}

TEST_CASE("Sequential names children by position and propagates train/eval",
          "[layers][sequential]") {
  Sequential net;
  auto& fc = net.emplace<Linear>(4, 3);
  net.emplace<BatchNorm2d>(3);
  net.push_back(std::make_unique<ReLU>());
  Sequential outer;
  outer.add("features", std::make_unique<Flatten>());
  auto inner = std::make_unique<Sequential>();
  inner->emplace<Linear>(4, 2);
  outer.add("classifier", std::move(inner));

  CHECK(net.size() == 3);
  CHECK(&net[0] == &fc);
  CHECK(parameter_names(net) == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias",
                                                         "1.running_mean", "1.running_var",
                                                         "1.num_batches_tracked"});
  CHECK(parameter_names(outer) ==
        std::vector<std::string>{"classifier.0.weight", "classifier.0.bias"});
  CHECK(net.repr() ==
        "Sequential(\n  (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (1): BatchNorm2d(3, eps=1e-05, momentum=0.1)\n  (2): ReLU()\n)");
  net.eval();
  CHECK_FALSE(net[1].training());
  net.train();
  CHECK(net[1].training());
  CHECK(shape_of(net.forward(random_tensor({5, 4, 1, 1}, 6))) == Shape{5, 3, 1, 1});
  CHECK(net.flops() == 2.0 * 5 * 4 * 3 + 2.0 * 5 * 3);  // Linear + BatchNorm2d
  CHECK_THROWS_WITH(net[3], Contains("index 3"));
  CHECK_THROWS_WITH(outer.add("features", std::make_unique<ReLU>()), Contains("'features'"));
  CHECK_THROWS_AS(net.push_back(nullptr), Error);
}

TEST_CASE("CrossEntropyLoss: log K on uniform logits, gradient softmax - target",
          "[layers][loss]") {
  CrossEntropyLoss loss;
  const std::vector<int> labels = {0, 3};
  CHECK(loss.forward(zeros({2, 4, 1, 1}), labels) == Approx(std::log(4.0)));
  const Tensor dz = loss.backward();
  CHECK(dz(0, 0, 0, 0) == Approx((0.25 - 1) / 2));  // (p - onehot) / N
  CHECK(dz(0, 1, 0, 0) == Approx(0.25 / 2));
  // huge logits must not overflow (log-sum-exp)
  Tensor big = zeros({1, 3, 1, 1});
  big(0, 1, 0, 0) = 1000;
  CHECK(loss.forward(big, {1}) == Approx(0).margin(1e-6));
  // label smoothing 0.3 on 3 classes: target (0.1, 0.8, 0.1); loss of uniform logits is log 3
  CrossEntropyLoss smooth(0.3);
  CHECK(smooth.forward(zeros({1, 3, 1, 1}), {1}) == Approx(std::log(3.0)));
  CHECK(smooth.backward()(0, 1, 0, 0) == Approx(1.0 / 3 - 0.8));
  CHECK(smooth.repr() == "CrossEntropyLoss(label_smoothing=0.3)");
}

TEST_CASE("CrossEntropyLoss and count_correct reject bad labels", "[layers][loss][errors]") {
  CrossEntropyLoss loss;
  CHECK_THROWS_WITH(loss.forward(zeros({2, 4, 1, 1}), {0, 4}),
                    Contains("label 4") && Contains("[0, 4)"));
  CHECK_THROWS_WITH(loss.forward(zeros({2, 4, 1, 1}), {0}), Contains("1 labels for 2"));
  CHECK_THROWS_WITH(loss.forward(zeros({2, 4, 3, 3}), {0, 1}), Contains("(N, K, 1, 1)"));
  CHECK_THROWS_WITH(CrossEntropyLoss(1.5), Contains("label_smoothing"));
  CHECK_THROWS_WITH(count_correct(zeros({1, 4, 1, 1}), {-1}), Contains("label -1"));
  CrossEntropyLoss fresh;
  CHECK_THROWS_WITH(fresh.backward(), Contains("before forward"));
}

TEST_CASE("count_correct counts argmax hits", "[layers][loss]") {
  const Tensor logits({{{{0.1f}}, {{0.9f}}, {{0.0f}}}, {{{2.0f}}, {{1.0f}}, {{0.0f}}}});
  CHECK(count_correct(logits, {1, 0}) == 2);
  CHECK(count_correct(logits, {1, 2}) == 1);
}

TEST_CASE("A small network learns a fixed batch (loss falls)", "[layers][learning]") {
  manual_seed(42);
  Sequential net;
  net.emplace<BatchNorm2d>(3);
  net.emplace<ReLU>();
  net.emplace<MaxPool2d>(2);
  net.emplace<Flatten>();
  net.emplace<Linear>(3 * 4 * 4, 5);
  const Tensor x = random_tensor({10, 3, 8, 8}, 7);
  const std::vector<int> labels = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4};
  CrossEntropyLoss loss;
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    net.zero_grad();
    last = loss.forward(net.forward(x), labels);
    if (step == 0) first = last;
    net.backward(loss.backward());
    net.visit_parameters([](const std::string&, Parameter& p) {  // plain gradient descent
      if (!p.is_buffer) p.value -= Scalar(0.5) * p.grad;
    });
  }
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.2 * first);  // 10 random points, 48 features, 5 classes: easily memorized
}

TEST_CASE("ReLU's masked kernels equal the naive ones on sizes that split over threads",
          "[layers][fast]") {
  for (const std::size_t n : {std::size_t(7), std::size_t(1) << 16}) {
    Tensor x = random_tensor({1, 1, 1, n}, 3);
    x(0, 0, 0, 1) = 0;  // the kink: gated shut, as in the naive kernel
    Tensor y_naive(x.shape()), y_fast(x.shape()), dx_naive(x.shape()), dx_fast(x.shape());
    std::vector<std::uint8_t> active(n);
    const Tensor dy = random_tensor({1, 1, 1, n}, 4);
    relu_forward(x.data(), y_naive.data(), n);
    relu_forward_mask(x.data(), y_fast.data(), active.data(), n);
    relu_backward(y_naive.data(), dy.data(), dx_naive.data(), n);
    relu_backward_mask(active.data(), dy.data(), dx_fast.data(), n);
    CHECK(test::same_values(y_naive, y_fast));
    CHECK(test::same_values(dx_naive, dx_fast));
  }
}

TEST_CASE("Under NoGradGuard forward gives the same output, keeps nothing, and backward throws",
          "[layers][no_grad]") {
  manual_seed(5);
  Sequential net;
  net.emplace<BatchNorm2d>(3);
  net.emplace<ReLU>();
  net.emplace<Flatten>();
  net.emplace<Linear>(3 * 4 * 4, 5);
  net.eval();
  const Tensor x = random_tensor({2, 3, 4, 4}, 8);
  const Tensor y = net.forward(x);
  CHECK(grad_enabled());
  {
    const NoGradGuard outer;
    CHECK_FALSE(grad_enabled());
    {
      const NoGradGuard inner;  // guards nest
      CHECK_FALSE(grad_enabled());
    }
    CHECK_FALSE(grad_enabled());  // the inner guard restored what it found
    CHECK(test::same_values(net.forward(x), y));
  }
  CHECK(grad_enabled());
  const Tensor dy = random_tensor(shape_of(y), 9);
  CHECK_THROWS_WITH(net.backward(dy), Contains("NoGradGuard"));
  for (const auto& [name, child] : net.children()) {  // every layer with a cache says why
    if (name == "2") continue;                        // Flatten keeps only a shape
    CAPTURE(name);
    CHECK_THROWS_WITH(child->backward(dy), Contains("NoGradGuard"));  // before any shape check
  }
  net.forward(x);  // with gradients on again, backward works
  CHECK_NOTHROW(net.backward(dy));
}

TEST_CASE("zeros, copy_into and add_into agree with xtensor on sizes that split over threads",
          "[tensor][fast]") {
  for (const Shape shape : {Shape{1, 2, 3, 5}, Shape{4, 16, 32, 32}}) {
    const Tensor a = random_tensor(shape, 1), b = random_tensor(shape, 2);
    const Tensor z = zeros(shape);
    CHECK(std::all_of(z.begin(), z.end(), [](Scalar v) { return v == 0; }));
    Tensor copy = random_tensor({1, 1, 1, 3}, 3);  // another shape: resized
    copy_into(copy, a);
    CHECK(test::same_values(copy, a));
    Tensor sum = a;
    add_into(sum, b);
    const Tensor expected = a + b;
    CHECK(test::same_values(sum, expected));
  }
}

TEST_CASE("Conv2d and BatchNorm2d give the same gradients whether x is kept by copy or by move",
          "[layers][move]") {
  const Tensor x = random_tensor({2, 3, 6, 5}, 21);
  const Tensor dy = random_tensor({2, 4, 6, 5}, 22);
  manual_seed(3);
  Conv2d by_copy(Conv2dOptions(3, 4, 3).padding(1));
  manual_seed(3);
  Conv2d by_move(Conv2dOptions(3, 4, 3).padding(1));
  const Tensor y_copy = by_copy.forward(x);
  const Tensor y_move = by_move.forward(Tensor(x));  // a temporary: the rvalue overload
  CHECK(test::same_values(y_copy, y_move));
  CHECK(test::same_values(by_copy.backward(dy), by_move.backward(dy)));
  CHECK(test::same_values(by_copy.weight.grad, by_move.weight.grad));

  BatchNorm2d bn_copy(4), bn_move(4);
  CHECK(test::same_values(bn_copy.forward(y_copy), bn_move.forward(Tensor(y_copy))));
  CHECK(test::same_values(bn_copy.backward(dy), bn_move.backward(dy)));
  CHECK(test::same_values(bn_copy.weight.grad, bn_move.weight.grad));
  // backward on a temporary dy writes dx over it: the same dx and the same accumulated grads
  bn_move.forward(Tensor(y_copy));
  bn_copy.forward(y_copy);
  CHECK(test::same_values(bn_copy.backward(dy), bn_move.backward(Tensor(dy))));
  CHECK(test::same_values(bn_copy.weight.grad, bn_move.weight.grad));
  CHECK(test::same_values(bn_copy.bias.grad, bn_move.bias.grad));
}

TEST_CASE("ReLU in place on temporaries and ReLU of a sum equal the copying forms",
          "[layers][move]") {
  const std::size_t n = std::size_t(1) << 16;  // split over the threads
  Tensor x = random_tensor({2, 4, 64, 128}, 31);
  const Tensor b = random_tensor({2, 4, 64, 128}, 32), dy = random_tensor({2, 4, 64, 128}, 33);
  x(0, 0, 0, 1) = 0;  // the kink, gated shut
  REQUIRE(x.size() >= n);
  ReLU by_copy, in_place, of_sum;
  const Tensor y = by_copy.forward(x);
  const Tensor dx = by_copy.backward(dy);
  CHECK(test::same_values(in_place.forward(Tensor(x)), y));
  CHECK(test::same_values(in_place.backward(Tensor(dy)), dx));

  // relu(a + b) in a's memory: the same values and the same gate as relu of the summed tensor
  Tensor a = x - b;
  const Tensor sum = a + b;
  ReLU of_tensor;
  CHECK(test::same_values(of_sum.forward_sum(std::move(a), b), of_tensor.forward(sum)));
  CHECK(test::same_values(of_sum.backward(dy), of_tensor.backward(dy)));
  {
    const NoGradGuard no_grad;  // no gate kept: the same output, and backward refuses
    Tensor a2 = x - b;
    CHECK(test::same_values(of_sum.forward_sum(std::move(a2), b), of_tensor.forward(sum)));
  }
  CHECK_THROWS_WITH(of_sum.backward(dy), Contains("NoGradGuard"));
}
