// Chapter 04: grouped_cnn against the same nn.Sequential in PyTorch (tests/tools/
// make_ch04_fixtures.py), with the same weights: forward output, dx, every parameter's gradient
// and BatchNorm's running statistics after one training forward. The parameters are found by
// their state_dict names, so this also checks that a PyTorch checkpoint maps 1:1.
//
// The fixture was computed in float64 and stored in float32; through 19 layers in float32 we
// accept torch.allclose with rtol 1e-3, atol 1e-4 (a gradient routed to the wrong group misses
// by order 1).
#include <catch2/catch.hpp>

#include "chapters/04_grouped/grouped_models.hpp"
#include "support/fixture.hpp"

using namespace convbook;

TEST_CASE("grouped_cnn matches PyTorch's nn.Sequential, forward and backward",
          "[grouped][torch]") {
  const test::Fixture f("ch04_grouped_cnn.safetensors");
  auto net = grouped_cnn(f.meta("num_classes"), f.meta("groups"));
  test::check_against_pytorch(*net, f);
}
