// Chapter 08: double gradient checks of the deformable convolution, against central differences
// of L = sum(y * g) for a fixed random g.
// - The kernels (naive and im2col): the gradients to the input, the offsets, the mask, the
//   weight and the bias, each tensor at its own scale, max |analytic - numeric| / max |numeric|
//   (check.hpp's scaled_error). Offsets are random (up to a few pixels, some samples outside
//   the image), so no sample sits on a kink of the bilinear interpolant (an integer row or
//   column), where L has no derivative and central differences average the two one-sided
//   ones; with eps = 1e-6 the chance that a step crosses a kink is negligible (and the test
//   is seeded). We require < 1e-7; a wrong bilinear weight scores O(1).
// - The DeformConv2d block, v1 and v2, through its own forward and backward, with the offset
//   and mask branches given random weights (not the zero init, whose integer offsets are all
//   kinks): gradcheck's element-wise relative error on dx (which flows both through the
//   sampling and through the branches) and on every parameter.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chapters/08_deformable/deform_conv.hpp"
#include "chapters/08_deformable/deform_conv2d.hpp"
#include "convbook/init.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

namespace {

constexpr double kTolerance = 1e-7;

void check_kernel_gradients(const DeformGeometry& g, bool v2, DeformAlgo algo) {
  const std::size_t taps = std::size_t(g.N) * g.OG * g.R * g.S * g.P() * g.Q();
  Tensor x = test::random_tensor(
      {std::size_t(g.N), std::size_t(g.C), std::size_t(g.H), std::size_t(g.W)}, 1);
  Tensor offset = test::random_tensor({2 * taps, 1, 1, 1}, 2) * 1.7;
  Tensor mask = test::random_tensor({taps, 1, 1, 1}, 3);
  Tensor w = test::random_tensor(
      {std::size_t(g.K), std::size_t(g.C / g.G), std::size_t(g.R), std::size_t(g.S)}, 4);
  Tensor b = test::random_tensor({std::size_t(g.K), 1, 1, 1}, 5);
  const Shape y_shape = {std::size_t(g.N), std::size_t(g.K), std::size_t(g.P()),
                         std::size_t(g.Q())};
  const Tensor dy = test::random_tensor(y_shape, 6);
  std::vector<Scalar> ws;
  const Scalar* m = v2 ? mask.data() : nullptr;

  auto loss = [&] {
    Tensor y = zeros(y_shape);
    deform_conv2d_forward(algo, g, x.data(), offset.data(), m, w.data(), b.data(), y.data(), ws);
    double l = 0;
    for (std::size_t i = 0; i < y.size(); ++i) l += y.data()[i] * dy.data()[i];
    return l;
  };
  Tensor dx = zeros(shape_of(x)), doffset = zeros(shape_of(offset)), dmask = zeros(shape_of(mask));
  Tensor dw = zeros(shape_of(w)), db = zeros(shape_of(b));
  Scalar* dm = v2 ? dmask.data() : nullptr;
  deform_conv2d_backward(algo, g, x.data(), offset.data(), m, w.data(), dy.data(), dx.data(),
                         doffset.data(), dm, dw.data(), db.data(), ws);
  const double eps = 1e-6;
  CHECK(test::scaled_error(dx, test::numeric_gradient(loss, x, eps)) < kTolerance);
  CHECK(test::scaled_error(doffset, test::numeric_gradient(loss, offset, eps)) < kTolerance);
  if (v2) CHECK(test::scaled_error(dmask, test::numeric_gradient(loss, mask, eps)) < kTolerance);
  CHECK(test::scaled_error(dw, test::numeric_gradient(loss, w, eps)) < kTolerance);
  CHECK(test::scaled_error(db, test::numeric_gradient(loss, b, eps)) < kTolerance);
}

DeformGeometry make_geometry(int C, int K, int H, int W, int stride, int pad, int dil, int G,
                             int OG) {
  DeformGeometry g;
  g.N = 2, g.C = C, g.K = K, g.H = H, g.W = W, g.R = 3, g.S = 3;
  g.stride_h = g.stride_w = stride;
  g.pad_h = g.pad_w = pad;
  g.dil_h = g.dil_w = dil;
  g.G = G, g.OG = OG;
  return g;
}

}  // namespace

TEST_CASE("deformable kernels: gradients to input, offsets, mask, weight and bias (double)",
          "[ch08][gradcheck]") {
  for (DeformAlgo algo : {DeformAlgo::Naive, DeformAlgo::Im2col}) {
    for (bool v2 : {false, true}) {
      INFO((algo == DeformAlgo::Naive ? "naive" : "im2col") << (v2 ? " v2" : " v1"));
      check_kernel_gradients(make_geometry(3, 4, 6, 5, 1, 1, 1, 1, 1), v2, algo);
      check_kernel_gradients(make_geometry(4, 4, 7, 6, 2, 2, 2, 2, 2), v2, algo);
    }
  }
}

TEST_CASE(
    "DeformConv2d v1 and v2 blocks: dx through sampling and branches, every parameter "
    "(double)",
    "[ch08][gradcheck]") {
  for (DeformVersion version : {DeformVersion::V1, DeformVersion::V2}) {
    for (DeformAlgo algo : {DeformAlgo::Naive, DeformAlgo::Im2col}) {
      DeformConv2d block(Conv2dOptions(4, 3, 3).padding(1).groups(1), version, 2);
      block.set_algorithm(algo);
      Rng rng(7);  // random branches: offsets of about a pixel, masks away from 0.5
      uniform_(block.conv_offset.weight, -0.3, 0.3, rng);
      uniform_(block.conv_offset.bias, -1, 1, rng);
      uniform_(block.conv_mask.weight, -0.3, 0.3, rng);
      uniform_(block.conv_mask.bias, -1, 1, rng);
      uniform_(block.bias, -1, 1, rng);
      const test::GradCheckResult r = test::gradcheck(block, test::random_tensor({2, 4, 6, 5}, 8));
      INFO((version == DeformVersion::V2 ? "v2 " : "v1 ")
           << (algo == DeformAlgo::Naive ? "naive" : "im2col") << ": dx " << r.input
           << ", worst parameter " << r.worst_parameter << " " << r.parameters);
      CHECK(r.input < 1e-5);
      CHECK(r.parameters < 1e-5);
    }
  }
}
