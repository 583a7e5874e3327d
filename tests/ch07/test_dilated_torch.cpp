// Chapter 07: the dilated stack and the receptive-field maps against PyTorch, from fixtures
// written by tests/tools/make_ch07_fixtures.py (torch 1.13, float64, stored as float32).
// The stack runs in float32 through three convolutions and three BatchNorms in training mode,
// so we accept |ours - torch| <= 1e-4 + 1e-3 |torch| (torch.allclose with rtol=1e-3,
// atol=1e-4), as chapter 05 does; a wrong tap index misses by O(1). The maps are path counts,
// exact in float: they must be equal.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "chapters/07_dilated/dilated_net.hpp"
#include "chapters/07_dilated/receptive_field.hpp"
#include "support/fixture.hpp"

using namespace convbook;

namespace {

using test::Fixture;

void check_stack_fixture(const std::string& file) {
  const Fixture f(file);
  auto stack = dilated_stack(f.meta("in_channels"), f.meta("channels"), f.list("dilations"));
  INFO(file);
  test::check_against_pytorch(*stack, f);
}

}  // namespace

TEST_CASE("dilated_stack matches PyTorch: output, dx, parameter gradients, running stats",
          "[ch07][torch]") {
  check_stack_fixture("ch07_stack_125.safetensors");
  check_stack_fixture("ch07_stack_222.safetensors");
}

TEST_CASE("receptive-field maps equal torch.autograd's gradient of the centre output",
          "[ch07][torch]") {
  const Fixture f("ch07_rf.safetensors");
  const Tensor grid = receptive_field_map(rf_stack(3, {2, 2, 2}), 21);
  const Tensor hdc = receptive_field_map(rf_stack(3, {1, 2, 5}), 21);
  const Tensor grid_torch = f["d222"], hdc_torch = f["d125"];
  CHECK(std::equal(grid.begin(), grid.end(), grid_torch.begin(), grid_torch.end()));
  CHECK(std::equal(hdc.begin(), hdc.end(), hdc_torch.begin(), hdc_torch.end()));
}
