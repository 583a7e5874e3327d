// Chapter 02: a 1x1 convolution is channel mixing. It equals a Linear layer applied to every
// pixel's channel vector (the (N H W, C) matrix of pixel rows), the per-pixel loops equal the
// fast GEMM path of chapter 01, and a 1x1 bottleneck costs what the chapter's table says.
//
// Float comparisons of two summation orders: 1e-5 of the largest value (scaled_error) is a few
// ulps of float here, while a transposed weight or a misplaced pixel misses by order 1.
#include <catch2/catch.hpp>
#include <string>

#include "chapters/02_pointwise/channel_mixing.hpp"
#include "chapters/02_pointwise/nin.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using test::random_tensor;
using test::scaled_error;

namespace {

constexpr double kFloatTolerance = 1e-5;

/// A 1x1 Conv2d (forced to `algo`) and a Linear with the same weights see the same input, as
/// an image and as pixel rows: outputs and all gradients must agree.
void check_conv1x1_is_linear(std::size_t N, std::size_t C, std::size_t H, std::size_t W,
                             std::size_t K, ConvAlgo algo) {
  INFO("N=" << N << " C=" << C << " H=" << H << " W=" << W << " K=" << K << " " << to_string(algo));
  manual_seed(5);
  Conv2d conv(Conv2dOptions(C, K, 1));
  conv.set_algorithm(algo);
  conv.bias.value = random_tensor(shape_of(conv.bias.value), 1);
  Linear fc(C, K);
  fc.weight.value = conv.weight.value;  // (K, C, 1, 1): the same K x C matrix
  fc.bias.value = conv.bias.value;

  const Tensor x = random_tensor({N, C, H, W}, 2);
  const Tensor y_conv = conv.forward(x);
  const Tensor y_fc = from_pixel_rows(fc.forward(to_pixel_rows(x)), shape_of(x));
  REQUIRE(shape_of(y_conv) == shape_of(y_fc));
  CHECK(scaled_error(y_conv, y_fc) < kFloatTolerance);

  const Tensor dy = random_tensor({N, K, H, W}, 3);
  conv.zero_grad();
  fc.zero_grad();
  const Tensor dx_conv = conv.backward(dy);
  const Tensor dx_fc = from_pixel_rows(fc.backward(to_pixel_rows(dy)), shape_of(x));
  CHECK(scaled_error(dx_conv, dx_fc) < kFloatTolerance);
  CHECK(scaled_error(conv.weight.grad, fc.weight.grad) < kFloatTolerance);
  CHECK(scaled_error(conv.bias.grad, fc.bias.grad) < kFloatTolerance);
}

}  // namespace

TEST_CASE("A 1x1 convolution is a Linear layer applied to every pixel", "[pointwise][linear]") {
  for (ConvAlgo algo : {ConvAlgo::Naive, ConvAlgo::Pointwise, ConvAlgo::Im2col}) {
    check_conv1x1_is_linear(2, 5, 7, 3, 4, algo);
    check_conv1x1_is_linear(1, 16, 8, 8, 4, algo);  // a reduction 16 -> 4
    check_conv1x1_is_linear(3, 3, 5, 5, 17, algo);  // an expansion 3 -> 17
  }
}

TEST_CASE("Pixel rows: (N, C, H, W) <-> (N H W, C) is a transpose and its inverse", "[pointwise]") {
  const Tensor x = random_tensor({2, 3, 4, 5}, 9);
  const Tensor rows = to_pixel_rows(x);
  REQUIRE(shape_of(rows) == Shape{40, 3, 1, 1});
  // row n H W + h W + w holds pixel (h, w) of image n, channel c in column c
  CHECK(rows(1 * 20 + 2 * 5 + 3, 2, 0, 0) == x(1, 2, 2, 3));
  CHECK(rows(0, 1, 0, 0) == x(0, 1, 0, 0));
  CHECK(scaled_error(from_pixel_rows(rows, shape_of(x)), x) == 0);
  CHECK_THROWS_WITH(from_pixel_rows(rows, {2, 3, 4, 4}), Catch::Contains("expected (32, K, 1, 1)"));
}

TEST_CASE("The per-pixel 1x1 loops equal the pointwise GEMM path", "[pointwise][naive]") {
  // chapter 01's ConvAlgo::Pointwise: one GEMM per image on the tensor as it lies in memory
  for (const Shape& s : {Shape{2, 5, 7, 3}, Shape{1, 32, 8, 8}, Shape{3, 1, 5, 9}}) {
    const std::size_t N = s[0], C = s[1], H = s[2], W = s[3], K = 6;
    INFO(to_string(s));
    manual_seed(4);
    Conv2d conv(Conv2dOptions(C, K, 1));
    conv.set_algorithm(ConvAlgo::Pointwise);
    conv.bias.value = random_tensor({K, 1, 1, 1}, 5);
    const Tensor x = random_tensor(s, 6), dy = random_tensor({N, K, H, W}, 7);
    Tensor y = zeros({N, K, H, W});
    conv1x1_forward_naive(x.data(), conv.weight.value.data(), conv.bias.value.data(), y.data(), N,
                          C, H, W, K);
    CHECK(scaled_error(conv.forward(x), y) < kFloatTolerance);

    Tensor dx = zeros(s), dw = zeros({K, C, 1, 1}), db = zeros({K, 1, 1, 1});
    conv1x1_backward_naive(x.data(), conv.weight.value.data(), dy.data(), dx.data(), dw.data(),
                           db.data(), N, C, H, W, K);
    conv.zero_grad();
    CHECK(scaled_error(conv.backward(dy), dx) < kFloatTolerance);
    CHECK(scaled_error(conv.weight.grad, dw) < kFloatTolerance);
    CHECK(scaled_error(conv.bias.grad, db) < kFloatTolerance);
    CHECK(conv.chosen_algorithm() == ConvAlgo::Pointwise);
  }
}

TEST_CASE("A 1x1 bottleneck changes the filter count cheaply", "[pointwise][cost]") {
  // The chapter's table: 3x3 256 -> 256 against 1x1 256 -> 64, 3x3 64 -> 64, 1x1 64 -> 256,
  // all without bias, on one 8x8 map. Parameters are K C R S; FLOPs 2 K C R S P Q.
  const Tensor x = zeros({1, 256, 8, 8});
  auto wide = conv3x3_stack(256);
  CHECK(shape_of(wide->forward(x)) == shape_of(x));
  CHECK(wide->num_parameters() == 589824);
  CHECK(wide->flops() == 2.0 * 589824 * 64);

  auto bottleneck = bottleneck_stack(256, 64);
  CHECK(shape_of(bottleneck->forward(x)) == shape_of(x));
  CHECK(bottleneck->num_parameters() == 16384 + 36864 + 16384);
  CHECK(bottleneck->flops() == 2.0 * 69632 * 64);
  CHECK(double(wide->num_parameters()) / double(bottleneck->num_parameters()) ==
        Approx(8.47).epsilon(1e-3));
  CHECK_THROWS_WITH(bottleneck_stack(256, 0),
                    "bottleneck_stack: channels=256, reduced=0, expected both at least 1");
  CHECK_THROWS_AS(conv3x3_stack(0), Error);
}

TEST_CASE("NiNBlock: PyTorch's layer order and state_dict names", "[nin]") {
  NiNBlock plain(NiNBlockOptions(3, 10, 5).padding(2).mid_channels(8));
  std::vector<std::string> names;
  plain.visit_parameters([&](const std::string& n, Parameter&) { names.push_back(n); });
  CHECK(names ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"});
  CHECK(plain.size() == 6);
  CHECK(plain[0].repr() == "Conv2d(3, 8, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))");
  CHECK(plain[2].repr() == "Conv2d(8, 8, kernel_size=(1, 1), stride=(1, 1))");
  CHECK(plain[4].repr() == "Conv2d(8, 10, kernel_size=(1, 1), stride=(1, 1))");
  CHECK(plain[5].repr() == "ReLU()");
  CHECK(plain.num_parameters() == 8 * 3 * 25 + 8 + 8 * 8 + 8 + 10 * 8 + 10);
  const Tensor y = plain.forward(random_tensor({2, 3, 7, 5}, 1));
  CHECK(shape_of(y) == Shape{2, 10, 7, 5});
  for (Scalar v : y) CHECK(v >= 0);  // the paper's block ends in a ReLU

  NiNBlock bn(NiNBlockOptions(3, 4, 3).batch_norm(true).final_activation(false));
  names.clear();
  bn.visit_parameters([&](const std::string& n, Parameter& p) {
    if (!p.is_buffer) names.push_back(n);
  });
  // conv (no bias), BN, ReLU twice; then the last 1x1, linear, with its bias
  CHECK(names == std::vector<std::string>{"0.weight", "1.weight", "1.bias", "3.weight", "4.weight",
                                          "4.bias", "6.weight", "6.bias"});
  CHECK(bn.size() == 7);
  CHECK(shape_of(bn.forward(random_tensor({2, 3, 6, 6}, 2))) == Shape{2, 4, 4, 4});
}

TEST_CASE("NiNBlock and nin_cifar refuse bad configurations", "[nin][errors]") {
  CHECK_THROWS_AS(NiNBlock(NiNBlockOptions(0, 4, 3)), Error);
  CHECK_THROWS_WITH(NiNBlock(NiNBlockOptions(0, 4, 3)),
                    "NiNBlock: in_channels=0, expected at least 1");
  CHECK_THROWS_WITH(NiNBlock(NiNBlockOptions(3, 0, 3)),
                    "NiNBlock: out_channels=0, expected at least 1");
  CHECK_THROWS_WITH(NiNBlock(NiNBlockOptions(3, 4, 3).mid_channels(0)),
                    "NiNBlock: mid_channels=0, expected at least 1");
  CHECK_THROWS_WITH(NiNBlock(NiNBlockOptions(3, 4, {3, 0})),
                    "NiNBlock: kernel_size=(3, 0), expected sizes of at least 1");
  CHECK_THROWS_WITH(NiNBlock(NiNBlockOptions(3, 4, 3).stride(0)),
                    "NiNBlock: stride=(0, 0), expected steps of at least 1");
  CHECK_THROWS_WITH(nin_cifar(0), "nin_cifar: num_classes=0, expected at least 1");
  // a wrong input is reported by the convolution that sees it
  NiNBlock block(NiNBlockOptions(3, 4, 3));
  CHECK_THROWS_WITH(block.forward(zeros({1, 5, 8, 8})), Catch::Contains("channels"));
  CHECK_THROWS_AS(block.forward(zeros({1, 3, 2, 2})), Error);  // smaller than the 3x3 kernel
}

TEST_CASE("nin_cifar: 10 class maps, averaged, no fully connected layer", "[nin][model]") {
  manual_seed(1);
  auto net = nin_cifar(10);
  auto& seq = dynamic_cast<Sequential&>(*net);
  REQUIRE(seq.size() == 7);
  const Tensor y = net->forward(random_tensor({2, 3, 32, 32}, 3));
  CHECK(shape_of(y) == Shape{2, 10, 1, 1});
  // the last block ends in the 1x1 that makes the 10 maps: its output is the logits' source
  auto& head = dynamic_cast<NiNBlock&>(seq[4]);
  CHECK(head.options().out_channels() == 10);
  CHECK(head[head.size() - 1].repr() == "Conv2d(128, 10, kernel_size=(1, 1), stride=(1, 1))");
  std::size_t linear_layers = 0;
  net->visit_parameters([&](const std::string& n, Parameter& p) {
    if (n.find("weight") != std::string::npos && p.shape.size() == 2) ++linear_layers;
  });
  CHECK(linear_layers == 0);
  // backward reaches the input with its shape
  net->zero_grad();
  CHECK(shape_of(net->backward(random_tensor({2, 10, 1, 1}, 4))) == Shape{2, 3, 32, 32});
  // the counts the chapter quotes (convbook info --model nin_cifar / nin_cifar_plain)
  CHECK(net->num_parameters() == 122026);
  CHECK(nin_cifar(10, false)->num_parameters() == 121482);
}
