// Chapter 01: Conv2d semantics, im2col == naive on many odd configurations, gemm_blocked ==
// gemm_naive, and the error messages of bad configurations.
//
// Tolerance for float comparisons: the two algorithms add the same products in a different
// order, so they differ by float rounding, ~1e-7 per addition relative to the largest partial
// sum. We measure the error relative to the largest value of the reference (elementwise
// relative error would blow up on outputs that happen to cancel to ~0) and accept 1e-5.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/conv/im2col.hpp"
#include "convbook/gemm/gemm.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using Catch::Matchers::Contains;
using test::random_tensor;
using test::scaled_error;

namespace {

constexpr double kFloatTolerance = 1e-5;

/// Runs the same Conv2d (same weights, random bias) with both algorithms on a random input
/// and checks y, dx, dweight and dbias agree. Returns false when the config was invalid for
/// this input (the kernel does not fit), after checking that both refuse it.
bool check_im2col_matches_naive(const Conv2dOptions& options, const Shape& input) {
  manual_seed(7);
  Conv2d naive(options), fast(options);
  naive.set_algorithm(ConvAlgo::Naive);
  fast.set_algorithm(ConvAlgo::Im2col);
  fast.weight.value = naive.weight.value;
  if (options.bias()) {
    naive.bias.value = random_tensor(shape_of(naive.bias.value), 3);
    fast.bias.value = naive.bias.value;
  }
  const Tensor x = random_tensor(input, 1);
  Tensor y_naive;
  try {
    y_naive = naive.forward(x);
  } catch (const Error&) {
    CHECK_THROWS_AS(fast.forward(x), Error);
    return false;
  }
  const Tensor y_fast = fast.forward(x);
  REQUIRE(shape_of(y_fast) == shape_of(y_naive));
  CHECK(scaled_error(y_fast, y_naive) < kFloatTolerance);

  const Tensor dy = random_tensor(shape_of(y_naive), 2);
  const Tensor dx_naive = naive.backward(dy);
  const Tensor dx_fast = fast.backward(dy);
  CHECK(scaled_error(dx_fast, dx_naive) < kFloatTolerance);
  CHECK(scaled_error(fast.weight.grad, naive.weight.grad) < kFloatTolerance);
  if (options.bias()) CHECK(scaled_error(fast.bias.grad, naive.bias.grad) < kFloatTolerance);
  return true;
}

}  // namespace

TEST_CASE("conv2d_output_size follows PyTorch's formula", "[conv]") {
  // floor((in + 2*padding - dilation*(kernel-1) - 1) / stride) + 1
  CHECK(conv2d_output_size(32, 3, 1, 1, 1) == 32);  // "same" 3x3
  CHECK(conv2d_output_size(7, 3, 2, 1, 1) == 4);    // odd input, stride 2
  CHECK(conv2d_output_size(32, 3, 2, 1, 1) == 16);  // ResNet downsampling
  CHECK(conv2d_output_size(5, 3, 1, 0, 2) == 1);    // dilated 3x3 spans 5
  CHECK(conv2d_output_size(8, 3, 3, 2, 2) == 3);    // (8+4-5)/3+1
  CHECK(conv2d_output_size(4, 5, 1, 0, 1) == 0);    // does not fit
}

TEST_CASE("im2col of a 4x4 image with a 3x3 kernel lists the four receptive fields", "[conv]") {
  ConvGeometry g;
  g.H = g.W = 4;
  g.R = g.S = 3;  // no padding, stride 1: P = Q = 2, so col is 9 x 4
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[i] = float(i);  // x[h][w] = 4h + w
  std::vector<float> col(9 * 4);
  im2col(g, x.data(), col.data());
  // Row (r, s) holds x[p + r][q + s] for the outputs (p, q) = (0,0), (0,1), (1,0), (1,1).
  for (int r = 0; r < 3; ++r) {
    for (int s = 0; s < 3; ++s) {
      for (int p = 0; p < 2; ++p) {
        for (int q = 0; q < 2; ++q) {
          CHECK(col[(r * 3 + s) * 4 + p * 2 + q] == float(4 * (p + r) + q + s));
        }
      }
    }
  }
}

TEST_CASE("im2col puts zeros where the kernel sees padding", "[conv]") {
  ConvGeometry g;
  g.H = 2;
  g.W = 3;
  g.R = g.S = 3;
  g.pad_h = g.pad_w = 1;  // P x Q = 2 x 3
  std::vector<float> x = {1, 2, 3, 4, 5, 6};
  std::vector<float> col(9 * 6, -1.f);
  im2col(g, x.data(), col.data());
  // Tap (0, 0) of output (0, 0) is the padded corner; tap (1, 1) is the pixel itself.
  CHECK(col[0 * 6 + 0] == 0.f);
  for (int i = 0; i < 6; ++i) CHECK(col[4 * 6 + i] == x[i]);
  CHECK(col[8 * 6 + 5] == 0.f);  // tap (2, 2) of the last output is past the bottom right
  CHECK(col[8 * 6 + 0] == 5.f);  // tap (2, 2) of output (0, 0) is x[1][1]
}

TEST_CASE("col2im is the adjoint of im2col: <im2col(x), c> == <x, col2im(c)>", "[conv]") {
  // The adjoint property is what makes col2im the backward of im2col. Along the rows: stride 1
  // (contiguous), stride 2 (summed split by column parity, on odd and even widths, with
  // dilation and every padding parity) and stride 3 (the scatter).
  struct Row {
    int W, S, stride, pad, dil;
  };
  for (const Row& row : {Row{5, 2, 1, 1, 1}, Row{5, 3, 2, 1, 1}, Row{8, 3, 2, 1, 1},
                         Row{9, 3, 2, 0, 2}, Row{6, 2, 2, 2, 1}, Row{11, 3, 3, 1, 1}}) {
    ConvGeometry g;
    g.C = 6;
    g.G = 2;  // one group: 3 channels
    g.H = 7;
    g.W = row.W;
    g.R = 3;
    g.S = row.S;
    g.stride_h = 2;
    g.stride_w = row.stride;
    g.pad_h = 2;
    g.pad_w = row.pad;
    g.dil_h = 2;
    g.dil_w = row.dil;
    INFO("W " << g.W << " S " << g.S << " stride " << g.stride_w << " pad " << g.pad_w
              << " dilation " << g.dil_w);
    const std::size_t n_x = 3 * 7 * std::size_t(g.W);
    const std::size_t n_col = 3 * 3 * std::size_t(g.S) * g.P() * g.Q();
    Rng rng(5);
    std::vector<double> x(n_x), c(n_col), col(n_col), back(n_x);
    for (auto& v : x) v = rng.normal();
    for (auto& v : c) v = rng.normal();
    im2col(g, x.data(), col.data());
    col2im(g, c.data(), back.data());
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < n_col; ++i) lhs += col[i] * c[i];
    for (std::size_t i = 0; i < n_x; ++i) rhs += x[i] * back[i];
    CHECK(lhs == Approx(rhs).epsilon(1e-12));
  }
}

TEST_CASE("Conv2d: im2col equals naive, forward and all gradients, on a grid of options",
          "[conv]") {
  // 3 strides x 3 paddings x 2 dilations x 3 group counts x 2 bias = 108 layers, each with
  // asymmetric pairs (the width gets a different stride/padding) on an odd 7x5 input.
  int checked = 0;
  for (std::size_t stride = 1; stride <= 3; ++stride) {
    for (std::size_t pad = 0; pad <= 2; ++pad) {
      for (std::size_t dil = 1; dil <= 2; ++dil) {
        for (std::size_t groups : {1, 2, 3}) {
          for (bool bias : {true, false}) {
            const Conv2dOptions options = Conv2dOptions(6, 6, {3, 2})
                                              .stride({stride, 1 + stride % 3})
                                              .padding({pad, (pad + 1) % 3})
                                              .dilation({dil, 3 - dil})
                                              .groups(groups)
                                              .bias(bias);
            INFO(Conv2d(options).repr());
            if (check_im2col_matches_naive(options, {2, 6, 7, 5})) ++checked;
          }
        }
      }
    }
  }
  CHECK(checked == 108);  // the kernel fits a 7x5 input in every one of them
}

TEST_CASE("Conv2d: im2col equals naive on hand-picked odd layers", "[conv]") {
  struct Case {
    Conv2dOptions options;
    Shape input;
  };
  const std::vector<Case> cases = {
      {Conv2dOptions(3, 8, 3).stride(2).padding(1), {2, 3, 9, 7}},
      {Conv2dOptions(3, 3, 3).padding(1).groups(3).bias(false), {1, 3, 7, 5}},  // depthwise
      {Conv2dOptions(5, 4, 1), {3, 5, 4, 3}},                                   // pointwise
      {Conv2dOptions(4, 6, {1, 7}).padding({0, 3}).groups(2), {2, 4, 5, 9}},
      {Conv2dOptions(2, 3, {5, 1}).dilation({1, 3}).padding({2, 0}), {1, 2, 6, 2}},
      {Conv2dOptions(1, 1, 7).stride(3), {1, 1, 7, 7}},  // kernel == input: one output
      {Conv2dOptions(6, 9, 3).stride({1, 2}).padding({2, 1}).dilation(2).groups(3), {2, 6, 8, 11}},
      {Conv2dOptions(16, 16, 3).padding(1), {2, 16, 12, 12}},  // big enough to run threaded
      // Stride 1: dx is a convolution of dy with the flipped kernel, at padding dil*(R-1)-pad.
      {Conv2dOptions(6, 5, 5).padding(2), {2, 6, 9, 7}},
      {Conv2dOptions(6, 9, 3).padding(2).dilation(2).groups(3), {2, 6, 11, 6}},
      {Conv2dOptions(4, 3, {3, 2}).padding({1, 0}).dilation({1, 3}), {1, 4, 5, 8}},
      // Stride 1 with padding past dil*(R-1): no such convolution, dx goes through col2im.
      {Conv2dOptions(4, 6, 3).padding({3, 1}), {2, 4, 5, 6}},
  };
  for (const Case& c : cases) {
    INFO(Conv2d(c.options).repr() << " on " << to_string(c.input));
    CHECK(check_im2col_matches_naive(c.options, c.input));
  }
}

TEST_CASE("Conv2d: parameters are named and shaped like PyTorch's", "[conv]") {
  Conv2d with_bias(Conv2dOptions(6, 4, {3, 2}).groups(2));
  std::vector<std::string> names;
  std::vector<std::vector<std::size_t>> shapes;
  with_bias.visit_parameters([&](const std::string& name, Parameter& p) {
    names.push_back(name);
    shapes.push_back(p.shape);
  });
  CHECK(names == std::vector<std::string>{"weight", "bias"});
  CHECK(shapes == std::vector<std::vector<std::size_t>>{{4, 3, 3, 2}, {4}});

  Conv2d no_bias(Conv2dOptions(6, 4, 3).bias(false));
  CHECK(no_bias.num_parameters() == 4 * 6 * 3 * 3);  // bias absent from the parameters
}

TEST_CASE("Conv2d: weights start as kaiming_normal_(fan_out, relu), bias at zero", "[conv]") {
  manual_seed(0);
  Conv2d conv(Conv2dOptions(64, 64, 3));
  // std = gain / sqrt(fan_out) = sqrt(2 / (K*R*S)); 36864 samples estimate it within ~1%.
  double sum = 0, sum2 = 0;
  for (Scalar v : conv.weight.value) {
    sum += v;
    sum2 += double(v) * v;
  }
  const double n = double(conv.weight.value.size());
  const double std = std::sqrt(sum2 / n - (sum / n) * (sum / n));
  CHECK(std == Approx(std::sqrt(2.0 / (64 * 3 * 3))).epsilon(0.03));
  CHECK(std::abs(sum / n) < 0.01);
  for (Scalar v : conv.bias.value) CHECK(v == 0);
}

TEST_CASE("Conv2d: repr, output_shape and flops", "[conv]") {
  CHECK(Conv2d(Conv2dOptions(3, 16, 3).stride(1).padding(1).bias(false)).repr() ==
        "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)");
  CHECK(Conv2d(Conv2dOptions(3, 16, 3)).repr() ==
        "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1))");
  CHECK(Conv2d(Conv2dOptions(16, 32, {1, 7}).stride({2, 1}).padding({0, 3}).dilation(2).groups(4))
            .repr() ==
        "Conv2d(16, 32, kernel_size=(1, 7), stride=(2, 1), padding=(0, 3), dilation=(2, 2), "
        "groups=4)");

  Conv2d conv(Conv2dOptions(6, 4, 3).stride(2).padding(1).groups(2));
  CHECK(conv.output_shape({5, 6, 7, 9}) == Shape{5, 4, 4, 5});
  CHECK(conv.flops() == 0);  // nothing computed yet
  conv.forward(random_tensor({5, 6, 7, 9}, 1));
  CHECK(conv.flops() == 2.0 * 5 * 4 * 4 * 5 * (6 / 2) * 3 * 3);  // 2 N K P Q (C/G) R S
}

TEST_CASE("conv2d_forward_im2col reuses its workspace", "[conv]") {
  ConvGeometry g;
  g.N = 2;
  g.C = g.K = 4;
  g.H = g.W = 6;
  g.R = g.S = 3;
  g.pad_h = g.pad_w = 1;
  std::vector<float> x(2 * 4 * 36, 1.f), w(4 * 4 * 9, 1.f), y(2 * 4 * 36), dx(x.size()),
      dw(w.size());
  std::vector<float> workspace;
  conv2d_forward_im2col<float>(g, x.data(), w.data(), nullptr, y.data(), workspace);
  CHECK(workspace.size() == conv2d_im2col_workspace_size(g));
  const float* storage = workspace.data();
  for (int i = 0; i < 3; ++i) {
    conv2d_forward_im2col<float>(g, x.data(), w.data(), nullptr, y.data(), workspace);
    conv2d_backward_im2col<float>(g, x.data(), w.data(), y.data(), dx.data(), dw.data(), nullptr,
                                  workspace);
  }
  CHECK(workspace.data() == storage);  // no reallocation after the first call
  CHECK(y[0] == 16.f);                 // the corner sees 2x2 taps of 4 channels of ones
}

TEST_CASE("Conv2d: bad configurations are refused with a message naming the option",
          "[conv][errors]") {
  CHECK_THROWS_WITH(Conv2d(Conv2dOptions(0, 8, 3)), Contains("in_channels=0"));
  CHECK_THROWS_WITH(Conv2d(Conv2dOptions(3, 0, 3)), Contains("out_channels=0"));
  CHECK_THROWS_WITH(Conv2d(Conv2dOptions(3, 8, {3, 0})), Contains("kernel_size=(3, 0)"));
  CHECK_THROWS_WITH(Conv2d(Conv2dOptions(3, 8, 3).stride(0)), Contains("stride=(0, 0)"));
  CHECK_THROWS_WITH(Conv2d(Conv2dOptions(3, 8, 3).dilation({1, 0})), Contains("dilation=(1, 0)"));
  CHECK_THROWS_WITH(Conv2d(Conv2dOptions(3, 8, 3).groups(0)), Contains("groups=0"));
  CHECK_THROWS_WITH(Conv2d(Conv2dOptions(16, 8, 3).groups(3)),
                    Contains("groups=3 must divide in_channels=16"));
  CHECK_THROWS_WITH(Conv2d(Conv2dOptions(6, 8, 3).groups(3)),
                    Contains("groups=3 must divide out_channels=8"));
  CHECK_THROWS_WITH(Conv2dOptions(3, 8, 3).padding(-1), Contains("got -1"));
}

TEST_CASE("Conv2d: inputs that do not fit are refused with the shapes in the message",
          "[conv][errors]") {
  Conv2d conv(Conv2dOptions(3, 8, 3));
  CHECK_THROWS_WITH(conv.forward(zeros({1, 4, 8, 8})),
                    Contains("has 4 channels, expected in_channels=3"));
  // A 5x5 dilated-by-2 kernel spans 9 pixels; 4 + 2*2 = 8 is one short.
  Conv2d dilated(Conv2dOptions(1, 1, 5).dilation(2).padding(2));
  CHECK_THROWS_WITH(
      dilated.forward(zeros({1, 1, 4, 20})),
      Contains("effective kernel (dilation*(kernel-1)+1) = (9, 9)") && Contains("(8, 24)"));
  CHECK_NOTHROW(dilated.forward(zeros({1, 1, 5, 5})));
  CHECK_THROWS_WITH(conv.backward(zeros({1, 8, 6, 6})), Contains("backward called before forward"));
  conv.forward(zeros({1, 3, 8, 8}));  // output (1, 8, 6, 6)
  CHECK_THROWS_WITH(conv.backward(zeros({1, 8, 3, 3})),
                    Contains("backward got dy (1, 8, 3, 3), expected (1, 8, 6, 6)"));
}

TEST_CASE("gemm_blocked equals gemm_naive for odd sizes and every transpose", "[gemm]") {
  // Sizes straddle the block edges (MR 6, MC 96, KC 256, NC 512) and include 1.
  struct Size {
    int M, N, K;
  };
  const std::vector<Size> sizes = {{1, 1, 1},     {1, 37, 5},   {7, 1, 3},     {13, 17, 300},
                                   {100, 70, 20}, {6, 32, 256}, {97, 513, 257}};
  Rng rng(9);
  for (const Size& sz : sizes) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (float beta : {0.f, -0.5f}) {
          INFO("M=" << sz.M << " N=" << sz.N << " K=" << sz.K << " trans_a=" << ta
                    << " trans_b=" << tb << " beta=" << beta);
          // Leading dimensions larger than the rows, as when multiplying a sub-matrix.
          const int lda = (ta ? sz.M : sz.K) + 3, ldb = (tb ? sz.K : sz.N) + 1, ldc = sz.N + 2;
          std::vector<float> A((ta ? sz.K : sz.M) * lda), B((tb ? sz.N : sz.K) * ldb);
          std::vector<float> C0(sz.M * ldc);
          for (auto& v : A) v = float(rng.normal());
          for (auto& v : B) v = float(rng.normal());
          for (auto& v : C0) v = float(rng.normal());
          std::vector<float> C_naive = C0, C_blocked = C0;
          gemm_naive(ta, tb, sz.M, sz.N, sz.K, 1.5f, A.data(), lda, B.data(), ldb, beta,
                     C_naive.data(), ldc);
          gemm_blocked(ta, tb, sz.M, sz.N, sz.K, 1.5f, A.data(), lda, B.data(), ldb, beta,
                       C_blocked.data(), ldc);
          CHECK(scaled_error(C_blocked, C_naive) < kFloatTolerance);
          // The padding columns between N and ldc are not C's: both must leave them alone.
          bool padding_untouched = true;
          for (int i = 0; i < sz.M; ++i) {
            for (int j = sz.N; j < ldc; ++j)
              padding_untouched &= C_blocked[i * ldc + j] == C0[i * ldc + j];
          }
          CHECK(padding_untouched);
        }
      }
    }
  }
}

TEST_CASE("gemm with beta = 0 overwrites C without reading it, as BLAS", "[gemm]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> A = {1, 2, 3, 4, 5, 6};  // 2 x 3
  const std::vector<float> B = {1, 0, 0, 1, 1, 1};  // 3 x 2
  const std::vector<float> expected = {4, 5, 10, 11};
  std::vector<float> C_naive(4, nan), C_blocked(4, nan), C_gemm(4, nan);
  gemm_naive(false, false, 2, 2, 3, 1.f, A.data(), 3, B.data(), 2, 0.f, C_naive.data(), 2);
  gemm_blocked(false, false, 2, 2, 3, 1.f, A.data(), 3, B.data(), 2, 0.f, C_blocked.data(), 2);
  gemm(false, false, 2, 2, 3, 1.f, A.data(), 3, B.data(), 2, 0.f, C_gemm.data(), 2);
  CHECK(C_naive == expected);
  CHECK(C_blocked == expected);
  CHECK(C_gemm == expected);
}
