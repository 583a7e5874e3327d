// Chapter 11 against PyTorch, from fixtures written by tests/tools/make_ch11_fixtures.py:
// torchvision's own Bottleneck with groups (the ResNeXt block in form (c)) and a tiny
// ResNeXt-29 built from it as the authors' CIFAR code lays it out, in training mode: output, dx,
// every parameter gradient and the running statistics after the forward, by state_dict name
// (test::check_against_pytorch). float32 through three (block) or 29 layers with training-mode
// BatchNorms against float64: torch.allclose(rtol=1e-3, atol=1e-4), as chapters 05 to 10.
#include <catch2/catch.hpp>

#include "chapters/11_resnext/resnext29.hpp"
#include "chapters/11_resnext/resnext_forms.hpp"
#include "support/fixture.hpp"

using namespace convbook;

TEST_CASE("the grouped ResNeXt block matches torchvision's Bottleneck with groups",
          "[resnext][torch]") {
  const test::Fixture f("ch11_block_c.safetensors");
  auto block =
      resnext_bottleneck({f.meta("in_channels"), f.meta("out_channels"), f.meta("cardinality"),
                          f.meta("bottleneck_width"), f.meta("stride")});
  INFO(block->repr());
  test::check_against_pytorch(*block, f);
}

TEST_CASE("a tiny ResNeXt-29 matches its PyTorch twin", "[resnext][torch][resnext29]") {
  const test::Fixture f("ch11_resnext29_tiny.safetensors");
  ResNeXt29Options o;
  o.cardinality = f.meta("cardinality");
  o.bottleneck_width = f.meta("bottleneck_width");
  o.widen_factor = f.meta("widen_factor");
  o.stem_channels = f.meta("stem_channels");
  auto net = resnext29(o);
  test::check_against_pytorch(*net, f);
}
