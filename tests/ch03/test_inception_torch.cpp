// Chapter 03: the Inception blocks against PyTorch, from fixtures written by
// tests/tools/make_ch03_fixtures.py (torch 1.13, computed in float64, stored as float32).
// Each block runs in float32 through up to two convolutions and BatchNorms in training mode per
// branch, so we accept torch.allclose with rtol=1e-3, atol=1e-4 (as chapter 05); a gradient
// sent to the wrong branch, or a branch's dx left out of the sum, misses by O(1).
#include <catch2/catch.hpp>

#include "chapters/03_inception/inception.hpp"
#include "support/fixture.hpp"

using namespace convbook;
using test::Fixture;

TEST_CASE("Inception (fig. 2b) matches PyTorch: output, dx, parameter gradients, running stats",
          "[inception][torch]") {
  const Fixture f("ch03_inception.safetensors");
  Inception block(InceptionOptions(f.meta("in_channels"))
                      .ch1x1(f.meta("ch1x1"))
                      .ch3x3red(f.meta("ch3x3red"))
                      .ch3x3(f.meta("ch3x3"))
                      .ch5x5red(f.meta("ch5x5red"))
                      .ch5x5(f.meta("ch5x5"))
                      .pool_proj(f.meta("pool_proj")));
  INFO(block.repr());
  test::check_against_pytorch(block, f);
}

TEST_CASE("InceptionNaive (fig. 2a) matches PyTorch: output, dx, parameter gradients",
          "[inception][torch]") {
  const Fixture f("ch03_inception_naive.safetensors");
  InceptionNaive block(InceptionOptions(f.meta("in_channels"))
                           .ch1x1(f.meta("ch1x1"))
                           .ch3x3(f.meta("ch3x3"))
                           .ch5x5(f.meta("ch5x5")));
  INFO(block.repr());
  test::check_against_pytorch(block, f);
}
