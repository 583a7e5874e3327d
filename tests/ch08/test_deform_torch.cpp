// Chapter 08: deformable convolution against torchvision.ops.deform_conv2d, from fixtures
// written by tests/tools/make_ch08_fixtures.py (torchvision 0.14, float64, stored as float32).
// Both kernels (naive and im2col) must reproduce the output and the gradients to the input,
// the offsets, the mask, the weight and the bias; the whole DeformConv2d block (offset and mask
// branches included) its output, dx and every parameter gradient. The measure is scaled_error,
// max |ours - torch| / max |torch|, below 2e-5: float32 sums of a few hundred terms against a
// float64 reference; a wrong tap, a wrong (dy, dx) order or another
// derivative convention at a pixel border misses by O(1).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chapters/08_deformable/deform_conv.hpp"
#include "chapters/08_deformable/deform_conv2d.hpp"
#include "support/check.hpp"
#include "support/fixture.hpp"

using namespace convbook;

namespace {

using test::Fixture;
constexpr double kTolerance = 2e-5;

DeformGeometry fixture_geometry(const Fixture& f) {
  const Tensor x = f["input"], w = f["weight"];
  DeformGeometry g;
  g.N = int(x.shape()[0]);
  g.C = int(x.shape()[1]);
  g.H = int(x.shape()[2]);
  g.W = int(x.shape()[3]);
  g.K = int(w.shape()[0]);
  g.R = int(w.shape()[2]);
  g.S = int(w.shape()[3]);
  const auto stride = f.list("stride"), padding = f.list("padding"), dilation = f.list("dilation");
  g.stride_h = int(stride[0]), g.stride_w = int(stride[1]);
  g.pad_h = int(padding[0]), g.pad_w = int(padding[1]);
  g.dil_h = int(dilation[0]), g.dil_w = int(dilation[1]);
  g.G = int(f.meta("groups"));
  g.OG = int(f.meta("offset_groups"));
  return g;
}

void check_op_fixture(const std::string& file, DeformAlgo algo) {
  const Fixture f(file);
  INFO(file << (algo == DeformAlgo::Naive ? " naive" : " im2col"));
  const DeformGeometry g = fixture_geometry(f);
  const bool v2 = f.meta("v2") == 1;
  const Tensor x = f["input"], offset = f["offset"], w = f["weight"], b = f["bias"], dy = f["dy"];
  const Tensor mask = v2 ? f["mask"] : Tensor();
  const Scalar* m = v2 ? mask.data() : nullptr;
  Tensor y = zeros(shape_of(dy)), dx = zeros(shape_of(x)), doffset = zeros(shape_of(offset));
  Tensor dmask = v2 ? zeros(shape_of(mask)) : Tensor();
  Tensor dw = zeros(shape_of(w)), db = zeros(shape_of(b));
  std::vector<Scalar> workspace;
  deform_conv2d_forward(algo, g, x.data(), offset.data(), m, w.data(), b.data(), y.data(),
                        workspace);
  deform_conv2d_backward(algo, g, x.data(), offset.data(), m, w.data(), dy.data(), dx.data(),
                         doffset.data(), v2 ? dmask.data() : nullptr, dw.data(), db.data(),
                         workspace);
  CHECK(test::scaled_error(y, f["output"]) < kTolerance);
  CHECK(test::scaled_error(dx, f["grad.input"]) < kTolerance);
  CHECK(test::scaled_error(doffset, f["grad.offset"]) < kTolerance);
  if (v2) CHECK(test::scaled_error(dmask, f["grad.mask"]) < kTolerance);
  CHECK(test::scaled_error(dw, f["grad.weight"]) < kTolerance);
  CHECK(test::scaled_error(db, f["grad.bias"]) < kTolerance);
}

}  // namespace

TEST_CASE(
    "deform_conv2d kernels match torchvision: output and gradients to input, offset, "
    "mask, weight, bias",
    "[ch08][torch]") {
  for (DeformAlgo algo : {DeformAlgo::Naive, DeformAlgo::Im2col}) {
    check_op_fixture("ch08_op_basic.safetensors", algo);    // 3x3, padding 1
    check_op_fixture("ch08_op_strided.safetensors", algo);  // stride, dilation, groups, OG 2
    check_op_fixture("ch08_op_v1.safetensors", algo);       // 2x3 kernel, no mask
  }
}

TEST_CASE("samples exactly on and beyond the image border follow torchvision's convention",
          "[ch08][torch]") {
  // rows and columns -1, 0, H-1, H, half-way beyond, fully outside: the forward value and
  // the one-sided derivative at each kink must be torchvision's
  for (DeformAlgo algo : {DeformAlgo::Naive, DeformAlgo::Im2col}) {
    check_op_fixture("ch08_op_border.safetensors", algo);
  }
}

TEST_CASE("DeformConv2d v2 block (offset and mask branches) matches the same torch module",
          "[ch08][torch]") {
  const Fixture f("ch08_module_v2.safetensors");
  const std::size_t k = f.meta("kernel");
  for (DeformAlgo algo : {DeformAlgo::Naive, DeformAlgo::Im2col}) {
    DeformConv2d block(Conv2dOptions(f.meta("in_channels"), f.meta("out_channels"), k)
                           .stride(f.meta("stride"))
                           .padding(f.meta("padding"))
                           .dilation(f.meta("dilation"))
                           .groups(f.meta("groups")),
                       DeformVersion::V2, f.meta("offset_groups"));
    block.set_algorithm(algo);
    block.visit_parameters([&](const std::string& name, Parameter& p) { p.value = f[name]; });
    CHECK(test::scaled_error(block.forward(f["input"]), f["output"]) < kTolerance);
    block.zero_grad();
    CHECK(test::scaled_error(block.backward(f["dy"]), f["dx"]) < kTolerance);
    int checked = 0;
    block.visit_parameters([&](const std::string& name, Parameter& p) {
      INFO(name);
      CHECK(test::scaled_error(p.grad, f["grad." + name]) < kTolerance);
      ++checked;
    });
    CHECK(checked == 6);  // weight, bias, conv_offset.{weight,bias}, conv_mask.{weight,bias}
  }
}
