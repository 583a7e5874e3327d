// Chapter 06: the three separable blocks against PyTorch, from fixtures written by
// tests/tools/make_ch06_fixtures.py (torch 1.13, computed in float64, stored as float32):
// output, dx, every parameter's gradient and BatchNorm's running statistics after one
// training-mode forward, allclose with rtol 1e-3 and atol 1e-4 (support/fixture.hpp's
// check_against_pytorch), as in chapters 05 and 07; a layer in the wrong order or a wrong
// padding misses by O(1).
#include <catch2/catch.hpp>
#include <string>

#include "chapters/06_separable/separable_blocks.hpp"
#include "support/fixture.hpp"

using namespace convbook;

namespace {

SeparableOptions options_of(const test::Fixture& f) {
  return SeparableOptions(f.meta("in_channels"), f.meta("out_channels"))
      .kernel_size({f.meta("R"), f.meta("S")})
      .stride(f.meta("stride"))
      .order(f.meta("pointwise_first") ? SeparableOrder::PointwiseFirst
                                       : SeparableOrder::DepthwiseFirst)
      .middle_bn_relu(f.meta("middle") != 0)
      .mid_channels(f.meta("mid"));
}

template <typename Block>
void check_fixture(const std::string& file) {
  const test::Fixture f(file);
  Block block(options_of(f));
  INFO(file << ": " << block.repr());
  test::check_against_pytorch(block, f);
}

}  // namespace

TEST_CASE("DepthwiseSeparable matches PyTorch in both orders", "[ch06][torch]") {
  check_fixture<DepthwiseSeparable>("ch06_ds_mobilenet.safetensors");  // dw, BN-ReLU, pw; stride 2
  check_fixture<DepthwiseSeparable>("ch06_ds_xception.safetensors");   // pw, dw 3x5; no middle
}

TEST_CASE("SpatiallySeparable (3x1 then 1x5, stride 2) matches PyTorch", "[ch06][torch]") {
  check_fixture<SpatiallySeparable>("ch06_spatial.safetensors");
}

TEST_CASE("Flattened (1x1, 3x1 dw, 1x5 dw, stride 2) matches PyTorch", "[ch06][torch]") {
  check_fixture<Flattened>("ch06_flattened.safetensors");
}
