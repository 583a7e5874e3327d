// Chapter 09: SE, CBAM and r-softmax against PyTorch, from fixtures written by
// tests/tools/make_ch09_fixtures.py (torch 1.13, computed in float64, stored as float32): SE is
// torchvision.ops.SqueezeExcitation, CBAM the authors' official code, rSoftMax ResNeSt's. The
// state_dict names are the contract: every fixture entry must load into a parameter of ours.
// Tolerance torch.allclose(rtol=1e-3, atol=1e-4), as the other chapters' fixture tests: CBAM's
// spatial BatchNorm runs in training mode, whose 1/sigma amplifies float32 rounding; a wrong
// route (the max pool's winner, the order of the (max, mean) maps, one half of the shared MLP)
// misses by O(1). Both kernel paths, naive and fused, are checked.
#include <catch2/catch.hpp>
#include <string>

#include "chapters/09_attention/cbam.hpp"
#include "chapters/09_attention/rsoftmax.hpp"
#include "chapters/09_attention/squeeze_excitation.hpp"
#include "support/fixture.hpp"

using namespace convbook;
using test::Fixture;

TEST_CASE("SqueezeExcitation matches torchvision.ops.SqueezeExcitation", "[se][torch]") {
  for (const char* file : {"ch09_se.safetensors", "ch09_se_r3.safetensors"}) {
    for (bool naive : {true, false}) {
      const Fixture f(file);
      SqueezeExcitation se(f.meta("channels"), f.meta("reduction"));
      se.set_naive(naive);
      INFO(file << ": " << se.repr() << (naive ? " naive" : " fused"));
      test::check_against_pytorch(se, f);
    }
  }
}

TEST_CASE("CBAM matches the official PyTorch code, running statistics included", "[cbam][torch]") {
  for (const char* file : {"ch09_cbam.safetensors", "ch09_cbam_r4.safetensors"}) {
    for (bool naive : {true, false}) {
      const Fixture f(file);
      CBAM cbam(f.meta("channels"), f.meta("reduction"), 7);
      cbam.set_naive(naive);
      INFO(file << ": " << cbam.repr() << (naive ? " naive" : " fused"));
      test::check_against_pytorch(cbam, f);
    }
  }
}

TEST_CASE("RSoftmax matches ResNeSt's rSoftMax for radix 1, 2, 4", "[rsoftmax][torch]") {
  for (const char* file : {"ch09_rsoftmax_r1_g2.safetensors", "ch09_rsoftmax_r2_g1.safetensors",
                           "ch09_rsoftmax_r2_g2.safetensors", "ch09_rsoftmax_r4_g3.safetensors"}) {
    const Fixture f(file);
    RSoftmax rs(f.meta("radix"), f.meta("cardinality"));
    INFO(file);
    test::check_against_pytorch(rs, f);
  }
}
