// Chapter 12 against PyTorch: committed fixtures written by tests/tools/make_ch12_fixtures.py
// from a PyTorch WideBasic / WRN with our state_dict names, which the script first checks
// against the authors' functional PyTorch code (same logits from the same weights). Training
// mode (batch statistics, running statistics updated once) and eval mode (running statistics
// randomized away from (0, 1)), dropout p = 0: output, dx, every parameter gradient and the
// running statistics, torch.allclose(rtol=1e-3, atol=1e-4) as chapters 03 to 10 (float32
// through up to seven BatchNorms whose 1/sigma amplifies rounding; a wrong route misses by O(1)).
#include <catch2/catch.hpp>
#include <string>

#include "chapters/12_wide_resnet/wide_resnet.hpp"
#include "support/fixture.hpp"

using namespace convbook;
using test::Fixture;

namespace {

void check_fixture(Module& m, const Fixture& f) {
  m.train(f.file.metadata.at("mode") == "train");
  INFO(m.repr() << " in " << f.file.metadata.at("mode") << " mode");
  test::check_against_pytorch(m, f);
}

}  // namespace

TEST_CASE("WideBasic matches PyTorch: identity and convdim shortcuts, train and eval",
          "[wide-resnet][torch]") {
  for (const std::string name :
       {"ch12_block_identity", "ch12_block_projection", "ch12_block_projection_eval"}) {
    INFO(name);
    const Fixture f(name + ".safetensors");
    WideBasic block(f.meta("in_planes"), f.meta("out_planes"), f.meta("stride"));
    check_fixture(block, f);
  }
}

TEST_CASE("A tiny WRN-10-2 (base 2) matches PyTorch in train and eval mode",
          "[wide-resnet][torch]") {
  for (const std::string name : {"ch12_wrn10_2_train", "ch12_wrn10_2_eval"}) {
    INFO(name);
    const Fixture f(name + ".safetensors");
    ModulePtr net =
        wide_resnet(f.meta("depth"), f.meta("width"), 0.0, f.meta("num_classes"), f.meta("base"));
    check_fixture(*net, f);
  }
}
