// Chapter 02: the NiN block against PyTorch's nn.Sequential of the same layers, on the fixtures
// written by tests/tools/make_ch02_fixtures.py: forward output, dx, every parameter's gradient
// and BatchNorm's running statistics after one training forward (check_against_pytorch).
//
// The fixtures were computed by PyTorch in float64 and stored in float32, so the difference is
// our float rounding alone: torch.allclose with rtol 1e-4, atol 1e-5 is ample for three layers
// (a wrong routing of a gradient misses by order 1).
#include <catch2/catch.hpp>
#include <string>

#include "chapters/02_pointwise/nin.hpp"
#include "support/fixture.hpp"

using namespace convbook;
using test::Fixture;

namespace {

void check_nin_fixture(const std::string& name) {
  const Fixture f("ch02_" + name + ".safetensors");
  NiNBlock block(NiNBlockOptions(f.meta("in_channels"), f.meta("out_channels"),
                                 {f.meta("kernel_h"), f.meta("kernel_w")})
                     .mid_channels(f.meta("mid_channels"))
                     .stride(f.meta("stride"))
                     .padding({f.meta("pad_h"), f.meta("pad_w")})
                     .batch_norm(f.meta("batch_norm") == 1)
                     .final_activation(f.meta("final_activation") == 1));
  INFO(name << ": " << block.repr());
  test::check_against_pytorch(block, f, {1e-4, 1e-5});
}

}  // namespace

TEST_CASE("NiNBlock matches PyTorch's nn.Sequential mlpconv, forward and backward",
          "[nin][torch]") {
  check_nin_fixture("nin_plain");  // Lin et al. 2014: conv-ReLU, 1x1-ReLU, 1x1-ReLU, stride 2
  check_nin_fixture("nin_bn");     // BatchNorm after every convolution, training mode
  check_nin_fixture("nin_head");   // a 3x2 kernel, the last 1x1 linear with a bias
}
