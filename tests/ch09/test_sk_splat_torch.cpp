// Chapter 09: SelectiveKernel and SplitAttention against PyTorch, from fixtures written by
// tests/tools/make_ch09_sk_fixtures.py (SKConv as the SKNet reference code, SplAtConv2d and
// rSoftMax copied from ResNeSt's splat.py; torch 1.13, float64, stored as float32).
// Both blocks compute in float32 through grouped convolutions and two or more BatchNorms in
// training mode, so we accept |ours - torch| <= 1e-4 + 1e-3 |torch| (torch.allclose with
// rtol=1e-3, atol=1e-4), as chapters 05 and 07 do; a wrong layout (split-major instead of
// ResNeSt's group-major logits, softmax over channels instead of splits) misses by O(1).
#include <catch2/catch.hpp>
#include <string>

#include "chapters/09_attention/selective_kernel.hpp"
#include "chapters/09_attention/split_attention.hpp"
#include "support/fixture.hpp"

using namespace convbook;
using test::Fixture;

TEST_CASE("SelectiveKernel matches SKConv: output, dx, parameter gradients, running stats",
          "[sk][torch]") {
  for (const char* file : {"ch09_sk_m2.safetensors", "ch09_sk_m3_stride2.safetensors"}) {
    const Fixture f(file);
    SelectiveKernel sk(SelectiveKernelOptions(f.meta("in_channels"), f.meta("cout"))
                           .branches(f.meta("M"))
                           .groups(f.meta("G"))
                           .reduction(f.meta("r"))
                           .min_dim(f.meta("L"))
                           .stride(f.meta("stride")));
    INFO(file << ": " << sk.repr());
    test::check_against_pytorch(sk, f);
  }
}

TEST_CASE(
    "SplitAttention matches ResNeSt's SplAtConv2d: output, dx, parameter gradients, "
    "running stats",
    "[splat][torch]") {
  for (const char* file : {"ch09_splat_r2_g2.safetensors", "ch09_splat_r1_g2.safetensors",
                           "ch09_splat_r3_g1_stride2.safetensors"}) {
    const Fixture f(file);
    SplitAttention splat(
        SplitAttentionOptions(f.meta("in_channels"), f.meta("channels"), f.meta("kernel_size"))
            .stride(f.meta("stride"))
            .padding(f.meta("padding"))
            .radix(f.meta("radix"))
            .cardinality(f.meta("groups"))
            .reduction_factor(f.meta("reduction_factor"))
            .min_inter_channels(f.meta("min_inter")));
    INFO(file << ": " << splat.repr());
    test::check_against_pytorch(splat, f);
  }
}
