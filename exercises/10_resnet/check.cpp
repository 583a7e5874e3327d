// Checks chapter 10's exercises against the framework itself: Module::num_parameters of the
// library's ResNets, PadShortcut's forward and backward, and the shapes and dilations of the
// library's layer1..layer4.
#include "support/check.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chapters/10_resnet/resnet.hpp"
#include "chapters/10_resnet/resnet_blocks.hpp"
#include "convbook/layers/sequential.hpp"
#include "exercise.hpp"
#include "support/exercise_check.hpp"

using namespace convbook;

TEST_CASE("10.1 a ResNet's parameter count in closed form", "[exercise]") {
  struct Case {
    ResNetOptions options;
    std::string what;
  };
  std::vector<Case> cases;
  auto add = [&](ResNetBlock block, std::array<std::size_t, 4> layers, std::size_t groups,
                 std::size_t width, std::size_t classes, const std::string& what) {
    ResNetOptions o;
    o.block = block;
    o.layers = layers;
    o.groups = groups;
    o.width_per_group = width;
    o.num_classes = classes;
    cases.push_back({o, what});
  };
  add(ResNetBlock::Basic, {2, 2, 2, 2}, 1, 64, 1000, "resnet18");
  add(ResNetBlock::Basic, {3, 4, 6, 3}, 1, 64, 10, "resnet34, 10 classes");
  add(ResNetBlock::Bottleneck, {3, 4, 6, 3}, 1, 64, 1000, "resnet50");
  add(ResNetBlock::Bottleneck, {3, 4, 6, 3}, 32, 4, 1000, "resnext50_32x4d");
  add(ResNetBlock::Bottleneck, {1, 2, 1, 1}, 4, 16, 7, "a small grouped bottleneck net");
  add(ResNetBlock::Basic, {1, 1, 1, 1}, 1, 64, 3, "resnet10");
  for (const Case& c : cases) {
    INFO(c.what);
    const ResNetOptions& o = c.options;
    CHECK(ex10::resnet_parameters(o.block == ResNetBlock::Bottleneck, o.layers, o.groups,
                                  o.width_per_group, o.num_classes) == resnet(o)->num_parameters());
  }
}

TEST_CASE("10.2 the option A shortcut, forward and backward", "[exercise]") {
  struct Case {
    std::size_t N, C, H, W, K, stride;
  };
  for (const Case& c : {Case{2, 4, 7, 6, 8, 2}, Case{1, 3, 5, 5, 3, 1}, Case{2, 3, 9, 4, 8, 3}}) {
    INFO("N=" << c.N << " C=" << c.C << " H=" << c.H << " W=" << c.W << " K=" << c.K
              << " stride=" << c.stride);
    PadShortcut pad(c.C, c.K, c.stride);
    const std::vector<float> x = exercise::random_vector(c.N * c.C * c.H * c.W, 1);
    const Tensor y = pad.forward(exercise::as_tensor(x, {c.N, c.C, c.H, c.W}));
    CHECK(exercise::allclose_ratio(ex10::pad_shortcut_forward(x, c.N, c.C, c.H, c.W, c.K, c.stride),
                                   y) <= 1.0);
    const std::vector<float> dy = exercise::random_vector(y.size(), 2);
    const Tensor dx = pad.backward(exercise::as_tensor(dy, shape_of(y)));
    CHECK(exercise::allclose_ratio(
              ex10::pad_shortcut_backward(dy, c.N, c.C, c.H, c.W, c.K, c.stride), dx) <= 1.0);
  }
}

TEST_CASE("10.3 feature map sides and dilations under replace_stride_with_dilation", "[exercise]") {
  for (std::size_t H : {64, 57, 96}) {
    for (const std::array<bool, 3>& replace :
         std::vector<std::array<bool, 3>>{{false, false, false},
                                          {false, false, true},
                                          {false, true, true},
                                          {true, true, true}}) {
      INFO("H=" << H << " replace=" << replace[0] << replace[1] << replace[2]);
      ResNetOptions o;
      o.block = ResNetBlock::Bottleneck;
      o.layers = {2, 2, 2, 2};
      o.replace_stride_with_dilation = replace;
      o.width_per_group = 16;  // a narrow model: the shapes are the same, the run is faster
      auto m = resnet(o);
      m->eval();
      auto& net = dynamic_cast<Sequential&>(*m);
      const ex10::StageGeometry g = ex10::stage_geometry(H, replace);
      Tensor h = test::random_tensor({1, 3, H, H}, 3);
      for (std::size_t i = 0; i < 4; ++i) h = net[i].forward(h);  // the stem
      for (std::size_t stage = 0; stage < 4; ++stage) {
        auto& layer = dynamic_cast<Sequential&>(net[4 + stage]);
        h = layer.forward(h);
        CHECK(g.side[stage] == h.shape()[2]);
        CHECK(g.dilation[stage] ==
              dynamic_cast<Bottleneck&>(layer[1]).conv2.options().dilation().h);
      }
    }
  }
}
