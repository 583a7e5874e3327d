// Chapter 10: torchvision's ResNets and the CIFAR ResNets as specifications: exact parameter
// counts (torchvision's and the CIFAR paper's), state_dict names, output shapes (strides and
// dilations), zero_init_residual, the option A shortcut, and the errors a bad configuration or
// a bad file gets.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "chapters/10_resnet/interop.hpp"
#include "chapters/10_resnet/resnet.hpp"
#include "chapters/10_resnet/resnet_blocks.hpp"
#include "convbook/error.hpp"
#include "convbook/io/checkpoint.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using Catch::Matchers::Contains;

namespace {

std::map<std::string, std::vector<std::size_t>> state_dict_shapes(Module& m) {
  std::map<std::string, std::vector<std::size_t>> shapes;
  m.visit_parameters([&](const std::string& name, Parameter& p) { shapes[name] = p.shape; });
  return shapes;
}

// The i-th child of a Sequential (a ResNet's stage, a stage's block).
Module& child(Module& m, std::size_t i) {
  return dynamic_cast<Sequential&>(m)[i];
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("convbook_ch10_" + name)).string();
}

}  // namespace

TEST_CASE("torchvision's ResNets have torchvision's exact parameter counts", "[resnet][params]") {
  // sum(p.numel() for p in torchvision.models.<name>().parameters()), torchvision 0.14.
  const std::map<std::string, std::size_t> expected = {
      {"resnet18", 11689512},          {"resnet34", 21797672},
      {"resnet50", 25557032},          {"resnet101", 44549160},
      {"resnet152", 60192808},         {"resnext50_32x4d", 25028904},
      {"resnext101_32x8d", 88791336},  {"wide_resnet50_2", 68883240},
      {"wide_resnet101_2", 126886696},
  };
  REQUIRE(torchvision_resnet_names().size() == expected.size());
  for (const std::string& name : torchvision_resnet_names()) {
    INFO(name);
    CHECK(torchvision_resnet(name)->num_parameters() == expected.at(name));
  }
}

TEST_CASE("CIFAR ResNets have the paper's parameter counts (0.27M ... 1.7M)", "[resnet][params]") {
  // Table 6 of He et al. 2016 rounds these; the exact values are those of the PyTorch
  // definition in tests/tools/make_ch10_fixtures.py. Option B adds the two projections.
  const std::map<std::size_t, std::size_t> option_a = {
      {20, 269722}, {32, 464154}, {44, 658586}, {56, 853018}, {110, 1727962}};
  for (const auto& [depth, params] : option_a) {
    INFO("depth " << depth);
    CHECK(cifar_resnet(depth)->num_parameters() == params);
    CHECK(cifar_resnet(depth, CifarShortcut::B)->num_parameters() == params + 2752);
  }
}

TEST_CASE("resnet18's state_dict has torchvision's 122 keys and shapes", "[resnet][names]") {
  auto m = resnet18();
  const auto shapes = state_dict_shapes(*m);
  CHECK(shapes.size() == 122);  // len(torchvision.models.resnet18().state_dict())
  using S = std::vector<std::size_t>;
  CHECK(shapes.at("conv1.weight") == S{64, 3, 7, 7});
  CHECK(shapes.at("bn1.running_mean") == S{64});
  CHECK(shapes.at("bn1.num_batches_tracked") == S{1});  // 0-d int64 in the file
  CHECK(shapes.at("layer1.0.conv1.weight") == S{64, 64, 3, 3});
  CHECK(shapes.at("layer2.0.conv1.weight") == S{128, 64, 3, 3});
  CHECK(shapes.at("layer2.0.downsample.0.weight") == S{128, 64, 1, 1});
  CHECK(shapes.at("layer2.0.downsample.1.running_var") == S{128});
  CHECK(shapes.at("layer4.1.bn2.weight") == S{512});
  CHECK(shapes.at("fc.weight") == S{1000, 512});
  CHECK(shapes.at("fc.bias") == S{1000});
  CHECK(shapes.count("layer1.0.downsample.0.weight") == 0);  // 64 -> 64, stride 1: identity
}

TEST_CASE("Bottleneck widths: resnet50, resnext50_32x4d, wide_resnet50_2", "[resnet][names]") {
  using S = std::vector<std::size_t>;
  CHECK(Bottleneck::width(64, 64, 1) == 64);
  CHECK(Bottleneck::width(64, 4, 32) == 128);
  CHECK(Bottleneck::width(512, 8, 32) == 2048);
  CHECK(Bottleneck::width(64, 128, 1) == 128);
  auto r50 = state_dict_shapes(*resnet50());
  CHECK(r50.at("layer1.0.conv2.weight") == S{64, 64, 3, 3});
  CHECK(r50.at("layer1.0.conv3.weight") == S{256, 64, 1, 1});
  CHECK(r50.at("layer1.0.downsample.0.weight") == S{256, 64, 1, 1});  // 64 -> 256 channels
  CHECK(r50.at("fc.weight") == S{1000, 2048});
  // ResNet v1.5: layer2's stride sits on the 3x3 (conv2), the 1x1 conv1 keeps stride 1.
  auto r50m = resnet50();
  auto& block = dynamic_cast<Bottleneck&>(child(child(*r50m, 5), 0));  // layer2.0
  CHECK(block.conv1.options().stride() == Pair(1));
  CHECK(block.conv2.options().stride() == Pair(2));
  auto x50 = state_dict_shapes(*resnext50_32x4d());
  CHECK(x50.at("layer1.0.conv2.weight") == S{128, 4, 3, 3});  // 32 groups of 4 channels
  auto w50 = state_dict_shapes(*wide_resnet50_2());
  CHECK(w50.at("layer1.0.conv2.weight") == S{128, 128, 3, 3});
  CHECK(w50.at("layer1.0.conv3.weight") == S{256, 128, 1, 1});
}

TEST_CASE("ResNets map images to logits, and dilation keeps the resolution", "[resnet][shapes]") {
  auto m18 = resnet18(ResNetOptions{});
  m18->eval();
  CHECK(shape_of(m18->forward(test::random_tensor({2, 3, 64, 64}, 1))) == Shape{2, 1000, 1, 1});
  // Output stride: 32 without dilation; replacing layer3's and layer4's strides gives 8.
  for (const auto& [dilate, side] : std::vector<std::pair<std::array<bool, 3>, std::size_t>>{
           {{false, false, false}, 2}, {{false, false, true}, 4}, {{false, true, true}, 8}}) {
    ResNetOptions o;
    o.replace_stride_with_dilation = dilate;
    o.layers = {1, 1, 1, 1};
    o.block = ResNetBlock::Bottleneck;
    o.num_classes = 5;
    auto m = resnet(o);
    m->eval();
    Tensor h = test::random_tensor({1, 3, 64, 64}, 2);
    for (std::size_t i = 0; i < 8; ++i) h = child(*m, i).forward(h);  // conv1 ... layer4
    CHECK(shape_of(h) == Shape{1, 2048, side, side});
  }
  auto c20 = cifar_resnet(20);
  CHECK(shape_of(c20->forward(test::random_tensor({2, 3, 32, 32}, 3))) == Shape{2, 10, 1, 1});
}

TEST_CASE("zero_init_residual starts every block as the identity", "[resnet][init]") {
  for (const std::string& name : {std::string("resnet18"), std::string("resnet50")}) {
    ResNetOptions o;
    o.zero_init_residual = true;
    auto m = torchvision_resnet(name, o);
    std::size_t zeroed = 0, blocks = 0;
    m->visit_parameters([&](const std::string& key, Parameter& p) {
      const std::string last_bn = name == "resnet18" ? ".bn2.weight" : ".bn3.weight";
      if (key.size() > last_bn.size() && key.compare(0, 5, "layer") == 0 &&
          key.compare(key.size() - last_bn.size(), last_bn.size(), last_bn) == 0) {
        ++blocks;
        bool all_zero = true;
        for (auto v : p.value) all_zero = all_zero && v == 0;
        zeroed += all_zero;
      }
    });
    INFO(name);
    CHECK(blocks == (name == "resnet18" ? 8u : 16u));
    CHECK(zeroed == blocks);
  }
  // Without it, those gammas are 1 as every BatchNorm's.
  auto plain = resnet18();
  CHECK(dynamic_cast<BasicBlock&>(child(child(*plain, 4), 0)).bn2.weight.value(0, 0, 0, 0) == 1);
}

TEST_CASE("PadShortcut is x[:, :, ::2, ::2] with zero channels on both sides",
          "[resnet][option-a]") {
  PadShortcut pad(2, 6, 2);
  const Tensor x = test::random_tensor({1, 2, 3, 4}, 4);
  const Tensor y = pad.forward(x);
  REQUIRE(shape_of(y) == Shape{1, 6, 2, 2});
  for (std::size_t k = 0; k < 6; ++k)
    for (std::size_t p = 0; p < 2; ++p)
      for (std::size_t q = 0; q < 2; ++q) {
        const double expected = k >= 2 && k < 4 ? double(x(0, k - 2, 2 * p, 2 * q)) : 0.0;
        CHECK(double(y(0, k, p, q)) == expected);
      }
  // Backward: each copied value's gradient goes back to its pixel, the rest is 0.
  const Tensor dy = test::random_tensor({1, 6, 2, 2}, 5);
  const Tensor dx = pad.backward(dy);
  CHECK(dx(0, 1, 2, 2) == dy(0, 3, 1, 1));
  CHECK(dx(0, 0, 1, 1) == 0);
}

TEST_CASE("Bad configurations get errors naming what was wrong", "[resnet][errors]") {
  CHECK_THROWS_WITH(
      BasicBlock(64, 64, 1, nullptr, 32, 4),
      Contains("BasicBlock only supports groups=1 and base_width=64") && Contains("groups=32"));
  CHECK_THROWS_WITH(BasicBlock(64, 64, 1, nullptr, 1, 128), Contains("base_width=128"));
  CHECK_THROWS_WITH(BasicBlock(64, 64, 1, nullptr, 1, 64, 2),
                    Contains("Dilation > 1 not supported in BasicBlock"));
  ResNetOptions dilated;
  dilated.replace_stride_with_dilation = {false, false, true};
  CHECK_THROWS_WITH(resnet18(dilated), Contains("Dilation > 1 not supported in BasicBlock"));
  ResNetOptions grouped;
  grouped.groups = 32;
  CHECK_THROWS_WITH(resnet34(grouped), Contains("BasicBlock only supports groups=1"));
  CHECK_THROWS_WITH(Bottleneck(64, 1, 1, nullptr, 1, 32), Contains("width") && Contains("is 0"));
  ResNetOptions empty;
  empty.layers = {2, 0, 2, 2};
  CHECK_THROWS_WITH(resnet(empty), Contains("layers[1]=0"));
  CHECK_THROWS_WITH(cifar_resnet(21), Contains("depth=21") && Contains("6n + 2"));
  CHECK_THROWS_WITH(torchvision_resnet("resnet19"), Contains("'resnet19'") && Contains("resnet18"));
  CHECK_THROWS_WITH(PadShortcut(8, 4, 2), Contains("out_channels >= in_channels"));
  // A block whose shortcut does not change shape like its residual path does.
  BasicBlock no_downsample(4, 8, 2);
  CHECK_THROWS_WITH(no_downsample.forward(zeros({1, 4, 6, 6})), Contains("needs a downsample"));
}

TEST_CASE("Interop helpers refuse bad inputs and mismatched weights", "[resnet][errors]") {
  const std::string several = temp_path("several.safetensors");
  write_safetensors(
      several, {{"a", from_tensor(zeros({1, 3, 4, 4}))}, {"b", from_tensor(zeros({1, 3, 4, 4}))}});
  CHECK_THROWS_WITH(read_single_tensor(several),
                    Contains("holds 2 tensors (a, b)") && Contains("expected exactly one"));
  const std::string rank2 = temp_path("rank2.safetensors");
  write_safetensors(rank2, {{"x", from_tensor(zeros({2, 3, 1, 1}), {2, 3})}});
  CHECK_THROWS_WITH(read_single_tensor(rank2), Contains("rank 2") && Contains("(N, C, H, W)"));
  CHECK_THROWS_WITH(read_single_tensor(temp_path("missing.safetensors")),
                    Contains("missing.safetensors"));
  auto m = cifar_resnet(8);
  CHECK(input_channels(*m) == 3);
  CHECK_THROWS_WITH(forward_eval(*m, zeros({1, 1, 32, 32})),
                    Contains("has 1 channels, the model expects 3"));
  // Weights of another model: load_state_dict names the keys and the shapes.
  auto other = cifar_resnet(8, CifarShortcut::B);
  CHECK_THROWS_WITH(load_state_dict(*m, state_dict(*other)),
                    Contains("layer2.0.downsample.0.weight"));
  auto wider = cifar_resnet(8, CifarShortcut::A, 100);
  CHECK_THROWS_WITH(load_state_dict(*m, state_dict(*wider)), Contains("fc.weight"));
  std::remove(several.c_str());
  std::remove(rank2.c_str());
}

TEST_CASE("A checkpoint round-trips through save_checkpoint and write_output", "[resnet][io]") {
  manual_seed(3);
  auto a = cifar_resnet(8);
  const std::string path = temp_path("resnet8.safetensors");
  save_checkpoint(path, *a);
  manual_seed(4);
  auto b = cifar_resnet(8);
  load_checkpoint(path, *b);
  const Tensor x = test::random_tensor({2, 3, 16, 16}, 6);
  const Tensor ya = forward_eval(*a, x), yb = forward_eval(*b, x);
  CHECK(test::rel_error(ya, yb) == 0);
  const std::string out = temp_path("logits.safetensors");
  write_output(out, ya);
  const SafetensorsFile f = read_safetensors(out);
  REQUIRE(f.tensors.count("output") == 1);
  CHECK(f.tensors.at("output").shape == std::vector<std::size_t>{2, 10});
  std::remove(path.c_str());
  std::remove(out.c_str());
}
