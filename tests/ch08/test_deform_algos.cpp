// Chapter 08: the deformable kernels against each other and against the regular convolution.
// - naive == im2col on odd shapes (stride, padding, dilation, groups, offset groups, v1/v2),
//   forward and every gradient, scaled_error < 1e-5 (float sums in another order);
// - the edge cases of the issue: integer offsets are a regular convolution of the shifted
//   input, samples on the border rows/columns and beyond, samples fully outside (zero);
// - DeformConv2d starts as a regular convolution (v2: at half scale), its zero-initialized
//   branches still receive gradients, and bad configurations throw naming the value.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chapters/08_deformable/deform_conv.hpp"
#include "chapters/08_deformable/deform_conv2d.hpp"
#include "chapters/08_deformable/deform_net.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "support/check.hpp"

using namespace convbook;

namespace {

struct Case {
  int N, C, H, W, K, R, S, stride, pad, dil, G, OG;
  bool v2;
};

DeformGeometry geometry(const Case& c) {
  DeformGeometry g;
  g.N = c.N, g.C = c.C, g.H = c.H, g.W = c.W, g.K = c.K, g.R = c.R, g.S = c.S;
  g.stride_h = g.stride_w = c.stride;
  g.pad_h = g.pad_w = c.pad;
  g.dil_h = g.dil_w = c.dil;
  g.G = c.G, g.OG = c.OG;
  return g;
}

std::size_t offset_size(const DeformGeometry& g) {
  return std::size_t(g.N) * 2 * g.OG * g.R * g.S * g.P() * g.Q();
}

// Every output and gradient of one algorithm, for the same inputs.
struct Result {
  std::vector<Scalar> y, dx, doffset, dmask, dw, db;
};

Result run(const DeformGeometry& g, bool v2, DeformAlgo algo, const std::vector<Scalar>& x,
           const std::vector<Scalar>& offset, const std::vector<Scalar>& mask,
           const std::vector<Scalar>& w, const std::vector<Scalar>& b,
           const std::vector<Scalar>& dy) {
  Result r{std::vector<Scalar>(dy.size()),     std::vector<Scalar>(x.size()),
           std::vector<Scalar>(offset.size()), std::vector<Scalar>(mask.size()),
           std::vector<Scalar>(w.size()),      std::vector<Scalar>(b.size())};
  const Scalar* m = v2 ? mask.data() : nullptr;
  Scalar* dm = v2 ? r.dmask.data() : nullptr;
  std::vector<Scalar> ws;
  deform_conv2d_forward(algo, g, x.data(), offset.data(), m, w.data(), b.data(), r.y.data(), ws);
  deform_conv2d_backward(algo, g, x.data(), offset.data(), m, w.data(), dy.data(), r.dx.data(),
                         r.doffset.data(), dm, r.dw.data(), r.db.data(), ws);
  return r;
}

std::vector<Scalar> random_values(std::size_t n, std::uint64_t seed, double scale) {
  const Tensor t = test::random_tensor({n, 1, 1, 1}, seed);
  std::vector<Scalar> v(t.begin(), t.end());
  for (Scalar& e : v) e *= Scalar(scale);
  return v;
}

}  // namespace

TEST_CASE("deformable im2col + GEMM equals the naive kernels, forward and backward", "[ch08]") {
  //! [naive-vs-im2col]
  const std::vector<Case> cases = {
      {2, 3, 7, 5, 4, 3, 3, 1, 1, 1, 1, 1, true},    // odd sizes, v2
      {2, 3, 7, 5, 4, 3, 3, 1, 1, 1, 1, 1, false},   // the same, v1
      {1, 4, 9, 8, 6, 3, 3, 2, 2, 2, 2, 2, true},    // stride 2, dilation 2, groups 2, OG 2
      {2, 6, 6, 7, 3, 2, 3, 1, 0, 1, 3, 3, true},    // 2x3 kernel, no padding, groups 3, OG 3
      {1, 4, 5, 5, 8, 5, 5, 1, 2, 1, 1, 4, false},   // 5x5, OG = C (one offset field a channel)
      {1, 35, 6, 6, 33, 3, 3, 1, 1, 1, 1, 5, true},  // wider than a GEMM tile
  };
  for (const Case& c : cases) {
    const DeformGeometry g = geometry(c);
    INFO("C=" << c.C << " K=" << c.K << " " << c.R << "x" << c.S << " stride " << c.stride
              << " dil " << c.dil << " G " << c.G << " OG " << c.OG << " v2 " << c.v2);
    const auto x = random_values(std::size_t(g.N) * g.C * g.H * g.W, 1, 1.0);
    const auto offset = random_values(offset_size(g), 2, 2.0);  // up to a few pixels, outside too
    auto mask = random_values(offset_size(g) / 2, 3, 1.0);
    const auto w = random_values(std::size_t(g.K) * g.C / g.G * g.R * g.S, 4, 1.0);
    const auto b = random_values(std::size_t(g.K), 5, 1.0);
    const auto dy = random_values(std::size_t(g.N) * g.K * g.P() * g.Q(), 6, 1.0);
    const Result naive = run(g, c.v2, DeformAlgo::Naive, x, offset, mask, w, b, dy);
    const Result fast = run(g, c.v2, DeformAlgo::Im2col, x, offset, mask, w, b, dy);
    CHECK(test::scaled_error(fast.y, naive.y) < 1e-5);
    CHECK(test::scaled_error(fast.dx, naive.dx) < 1e-5);
    CHECK(test::scaled_error(fast.doffset, naive.doffset) < 1e-5);
    if (c.v2) CHECK(test::scaled_error(fast.dmask, naive.dmask) < 1e-5);
    CHECK(test::scaled_error(fast.dw, naive.dw) < 1e-5);
    CHECK(test::scaled_error(fast.db, naive.db) < 1e-5);
  }
  //! [naive-vs-im2col]
}

TEST_CASE("integer offsets sample exactly on pixels: a regular conv of the shifted input",
          "[ch08]") {
  const Case c{2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, false};
  const DeformGeometry g = geometry(c);
  const auto x = random_values(std::size_t(g.N) * g.C * g.H * g.W, 11, 1.0);
  const auto w = random_values(std::size_t(g.K) * g.C * 9, 12, 1.0);
  const auto b = random_values(std::size_t(g.K), 13, 1.0);
  for (const auto& [a, d] : {std::pair<int, int>{0, 0}, {1, -2}, {-3, 1}, {2, 2}}) {
    INFO("offset (" << a << ", " << d << ")");
    std::vector<Scalar> offset(offset_size(g));
    for (std::size_t i = 0; i < offset.size(); ++i) {  // (dy, dx) planes alternate per tap
      offset[i] = Scalar((i / std::size_t(g.P() * g.Q())) % 2 == 0 ? a : d);
    }
    // The regular convolution reads its padding as zeros, the deformable one reads x wherever
    // the moved tap lands: so shift on the padded canvas, shifted(i, j) = x(i - pad + a,
    // j - pad + d), and convolve it without padding.
    ConvGeometry canvas = g;
    canvas.H = g.H + 2 * g.pad_h, canvas.W = g.W + 2 * g.pad_w, canvas.pad_h = canvas.pad_w = 0;
    std::vector<Scalar> shifted(std::size_t(g.N * g.C * canvas.H * canvas.W), 0);
    for (int nc = 0; nc < g.N * g.C; ++nc)
      for (int i = 0; i < canvas.H; ++i)
        for (int j = 0; j < canvas.W; ++j) {
          const int h = i - g.pad_h + a, v = j - g.pad_w + d;
          if (h >= 0 && h < g.H && v >= 0 && v < g.W)
            shifted[std::size_t((nc * canvas.H + i) * canvas.W + j)] =
                x[std::size_t((nc * g.H + h) * g.W + v)];
        }
    std::vector<Scalar> y(std::size_t(g.N) * g.K * g.P() * g.Q()), ref(y.size()), ws;
    deform_conv2d_forward_im2col(g, x.data(), offset.data(), static_cast<const Scalar*>(nullptr),
                                 w.data(), b.data(), y.data(), ws);
    conv2d_forward_naive(canvas, shifted.data(), w.data(), b.data(), ref.data());
    CHECK(test::scaled_error(y, ref) < 1e-6);
  }
}

TEST_CASE("bilinear sampling on the border, beyond it and fully outside", "[ch08]") {
  // a 3x4 plane with x(h, v) = 10 h + v + 1
  std::vector<Scalar> plane(12);
  for (int h = 0; h < 3; ++h)
    for (int v = 0; v < 4; ++v) plane[h * 4 + v] = Scalar(10 * h + v + 1);
  auto sample = [&](double h, double v) {
    return double(bilinear_sample(plane.data(), 3, 4, Scalar(h), Scalar(v)));
  };
  auto grad = [&](double h, double v) {
    Scalar dh, dv;
    bilinear_sample_position_grad(plane.data(), 3, 4, Scalar(h), Scalar(v), &dh, &dv);
    return std::pair<double, double>(dh, dv);
  };
  CHECK(sample(1, 2) == Approx(13));          // on a pixel
  CHECK(sample(1.5, 2.25) == Approx(18.25));  // inside: bilinear
  CHECK(sample(2, 3) == Approx(24));          // the last pixel, h = H-1, v = W-1
  CHECK(sample(2.5, 1) == Approx(11));        // half a pixel below: half of row 2, half of zeros
  CHECK(sample(-0.5, 0) == Approx(0.5));      // half a pixel above row 0
  CHECK(sample(-1, 1) == 0);                  // h = -1 exactly: no pixel within reach
  CHECK(sample(3, 1) == 0);                   // h = H
  CHECK(sample(1, 4) == 0);                   // v = W
  CHECK(sample(-5, 9) == 0);                  // fully outside
  // the derivative at integer positions is the one from the right (torchvision's convention)
  CHECK(grad(1, 2).first == Approx(10));    // x(2, 2) - x(1, 2)
  CHECK(grad(1, 2).second == Approx(1));    // x(1, 3) - x(1, 2)
  CHECK(grad(-1, 1).first == Approx(2));    // x(0, 1) - 0: the sample starts to see row 0
  CHECK(grad(2, 1).first == Approx(-22));   // 0 - x(2, 1): past the last row
  CHECK(grad(1, 3).second == Approx(-14));  // 0 - x(1, 3)
  CHECK(grad(-5, 9).first == 0);
  CHECK(grad(-5, 9).second == 0);
}

TEST_CASE("samples that land fully outside the image contribute nothing", "[ch08]") {
  const Case c{1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, true};
  const DeformGeometry g = geometry(c);
  const auto x = random_values(std::size_t(g.C) * 25, 21, 1.0);
  const std::vector<Scalar> offset(offset_size(g), Scalar(40));  // 40 pixels down and right
  const auto mask = random_values(offset_size(g) / 2, 22, 1.0);
  const auto w = random_values(std::size_t(g.K) * g.C * 9, 23, 1.0);
  const std::vector<Scalar> b = {1, 2, 3};
  const auto dy = random_values(std::size_t(g.K) * 25, 24, 1.0);
  for (DeformAlgo algo : {DeformAlgo::Naive, DeformAlgo::Im2col}) {
    const Result r = run(g, true, algo, x, offset, mask, w, b, dy);
    for (std::size_t i = 0; i < r.y.size(); ++i) REQUIRE(r.y[i] == b[i / 25]);  // bias only
    for (Scalar v : r.dx) REQUIRE(v == 0);
    for (Scalar v : r.doffset) REQUIRE(v == 0);
    for (Scalar v : r.dmask) REQUIRE(v == 0);
    for (Scalar v : r.dw) REQUIRE(v == 0);
  }
}

TEST_CASE("a new DeformConv2d is a regular convolution (v2: at half scale)", "[ch08]") {
  const Conv2dOptions o = Conv2dOptions(4, 6, 3).padding(1).stride(2).bias(false);
  const Tensor x = test::random_tensor({2, 4, 9, 7}, 31);
  Conv2d conv(o);
  for (DeformVersion version : {DeformVersion::V1, DeformVersion::V2}) {
    DeformConv2d deform(o, version);
    deform.weight.value = conv.weight.value;
    const Tensor y = deform.forward(x);
    const Tensor ref = conv.forward(x) * (version == DeformVersion::V2 ? Scalar(0.5) : Scalar(1));
    CHECK(test::scaled_error(y, ref) < 1e-5);
    // the zero-initialized branches are not stuck: their gradients are not zero
    deform.zero_grad();
    deform.backward(test::random_tensor(shape_of(y), 32));
    double offset_grad = 0, mask_grad = 0;
    for (Scalar v : deform.conv_offset.weight.grad) offset_grad += std::abs(double(v));
    for (Scalar v : deform.conv_mask.weight.grad) mask_grad += std::abs(double(v));
    CHECK(offset_grad > 0);
    if (version == DeformVersion::V2) CHECK(mask_grad > 0);
  }
}

TEST_CASE("DeformConv2d names its parameters as a state_dict, counts its cost", "[ch08]") {
  DeformConv2d v2(Conv2dOptions(64, 64, 3).padding(1).bias(false));
  std::vector<std::string> names;
  v2.visit_parameters([&](const std::string& n, Parameter&) { names.push_back(n); });
  CHECK(names == std::vector<std::string>{"weight", "conv_offset.weight", "conv_offset.bias",
                                          "conv_mask.weight", "conv_mask.bias"});
  CHECK(v2.num_parameters() == 64 * 64 * 9 + (18 * 64 * 9 + 18) + (9 * 64 * 9 + 9));
  v2.forward(zeros({1, 64, 16, 16}));
  const double sampling_conv = 2.0 * 256 * 64 * 64 * 9, samples = 256.0 * 64 * 9;
  const double branches = 2.0 * 256 * 27 * 64 * 9;
  CHECK(v2.flops() == Approx(sampling_conv + 8 * samples + branches));
  CHECK(v2.repr() ==
        "DeformConv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False, "
        "offset_groups=1, version=2)");
  DeformConv2d v1(Conv2dOptions(8, 8, 3), DeformVersion::V1, 2);
  names.clear();
  v1.visit_parameters([&](const std::string& n, Parameter&) { names.push_back(n); });
  CHECK(names ==
        std::vector<std::string>{"weight", "bias", "conv_offset.weight", "conv_offset.bias"});
}

TEST_CASE("bad deformable configurations throw, naming the value and what was expected", "[ch08]") {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(message([] { DeformConv2d(Conv2dOptions(6, 4, 3), DeformVersion::V2, 4); }),
             Catch::Contains("offset_groups=4") && Catch::Contains("in_channels=6"));
  DeformConv2d layer(Conv2dOptions(3, 4, 3));
  CHECK_THAT(message([&] {
               layer.forward(zeros({1, 5, 8, 8}));
             }),
             Catch::Contains("5 channels") && Catch::Contains("in_channels=3"));
  CHECK_THAT(message([&] {
               layer.forward(zeros({1, 3, 2, 2}));
             }),
             Catch::Contains("(3, 3)") && Catch::Contains("expected it to fit"));
  CHECK_THAT(message([&] {
               layer.backward(zeros({1, 4, 6, 6}));
             }),
             Catch::Contains("before forward"));
  CHECK_THAT(message([] { deform_cifar(0); }), Catch::Contains("num_classes=0"));
}
