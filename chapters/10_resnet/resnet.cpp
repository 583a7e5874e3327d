#include "chapters/10_resnet/resnet.hpp"

#include <functional>
#include <utility>

#include "chapters/10_resnet/resnet_blocks.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/init.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

namespace {

// A block of either kind with torchvision's positional arguments.
ModulePtr make_block(ResNetBlock kind, std::size_t inplanes, std::size_t planes, std::size_t stride,
                     ModulePtr downsample, std::size_t groups, std::size_t base_width,
                     std::size_t dilation) {
  if (kind == ResNetBlock::Basic) {
    return std::make_unique<BasicBlock>(inplanes, planes, stride, std::move(downsample), groups,
                                        base_width, dilation);
  }
  return std::make_unique<Bottleneck>(inplanes, planes, stride, std::move(downsample), groups,
                                      base_width, dilation);
}

std::size_t expansion(ResNetBlock kind) {
  return kind == ResNetBlock::Basic ? BasicBlock::expansion : Bottleneck::expansion;
}

//! [make-layer]
// torchvision's ResNet keeps `inplanes` and `dilation` as attributes that each _make_layer call
// reads and advances; this struct is that state.
struct LayerBuilder {
  ResNetBlock block;
  std::size_t groups, base_width;
  std::size_t inplanes = 64;  // channels coming out of the stem
  std::size_t dilation = 1;

  std::unique_ptr<Sequential> make_layer(std::size_t planes, std::size_t blocks,
                                         std::size_t stride = 1, bool dilate = false) {
    ModulePtr downsample;
    const std::size_t previous_dilation = dilation;
    if (dilate) {  // keep the resolution, widen the kernels instead: same receptive field
      dilation *= stride;
      stride = 1;
    }
    const std::size_t out = planes * expansion(block);
    if (stride != 1 || inplanes != out) {  // the shortcut must change shape too: project it
      downsample = projection_shortcut(inplanes, out, stride);
    }
    auto layer = std::make_unique<Sequential>();
    // Only the first block strides and projects; it still uses the previous dilation, so the
    // first 3x3 of a dilated stage sees the same pixels a strided one would have.
    layer->push_back(make_block(block, inplanes, planes, stride, std::move(downsample), groups,
                                base_width, previous_dilation));
    inplanes = out;
    for (std::size_t i = 1; i < blocks; ++i) {
      layer->push_back(
          make_block(block, inplanes, planes, 1, nullptr, groups, base_width, dilation));
    }
    return layer;
  }
};
//! [make-layer]

// Calls f on m and on every module below it, parents first (torchvision's self.modules()).
void for_each_module(Module& m, const std::function<void(Module&)>& f) {
  f(m);
  for (const auto& [name, child] : m.children()) for_each_module(*child, f);
}

}  // namespace

void add_classifier(Sequential& net, std::size_t features, std::size_t num_classes) {
  net.add("avgpool", std::make_unique<AdaptiveAvgPool2d>(1));
  net.add("flatten", std::make_unique<Flatten>());
  net.add("fc", std::make_unique<Linear>(features, num_classes));
}

//! [resnet]
ModulePtr resnet(const ResNetOptions& o) {
  for (std::size_t i = 0; i < 4; ++i) {
    if (o.layers[i] == 0) {
      throw Error("ResNet: layers[" + std::to_string(i) + "]=0, expected at least 1 block");
    }
  }
  if (o.num_classes == 0) throw Error("ResNet: num_classes=0, expected at least 1");
  LayerBuilder b{o.block, o.groups, o.width_per_group};
  auto net = std::make_unique<Sequential>();
  // The stem: a 224x224 image becomes 64 maps of 56x56 before the first block.
  net->add("conv1", std::make_unique<Conv2d>(
                        Conv2dOptions(3, b.inplanes, 7).stride(2).padding(3).bias(false)));
  net->add("bn1", std::make_unique<BatchNorm2d>(b.inplanes));
  net->add("relu", std::make_unique<ReLU>());
  net->add("maxpool", std::make_unique<MaxPool2d>(3, 2, 1));
  // Four stages; each halves H x W (stride 2, or a doubled dilation) and doubles the planes.
  const auto& dilate = o.replace_stride_with_dilation;
  net->add("layer1", b.make_layer(64, o.layers[0]));
  net->add("layer2", b.make_layer(128, o.layers[1], 2, dilate[0]));
  net->add("layer3", b.make_layer(256, o.layers[2], 2, dilate[1]));
  net->add("layer4", b.make_layer(512, o.layers[3], 2, dilate[2]));
  add_classifier(*net, 512 * expansion(o.block), o.num_classes);

  // torchvision's init loop: kaiming_normal_(fan_out, relu) on every Conv2d and (1, 0) on every
  // BatchNorm2d is what our Conv2d and BatchNorm2d constructors already did. What is left is
  // zero_init_residual: gamma = 0 in each block's last BN makes every block start as the
  // identity, "improves the model by 0.2~0.3%" (Goyal et al. 2017).
  if (o.zero_init_residual) {
    for_each_module(*net, [](Module& m) {
      if (auto* bottleneck = dynamic_cast<Bottleneck*>(&m)) constant_(bottleneck->bn3.weight, 0);
      if (auto* basic = dynamic_cast<BasicBlock*>(&m)) constant_(basic->bn2.weight, 0);
    });
  }
  return net;
}
//! [resnet]

//! [factories]
ModulePtr resnet18(ResNetOptions o) {
  o.block = ResNetBlock::Basic;
  o.layers = {2, 2, 2, 2};
  return resnet(o);
}

ModulePtr resnet34(ResNetOptions o) {
  o.block = ResNetBlock::Basic;
  o.layers = {3, 4, 6, 3};
  return resnet(o);
}

ModulePtr resnet50(ResNetOptions o) {
  o.block = ResNetBlock::Bottleneck;
  o.layers = {3, 4, 6, 3};
  return resnet(o);
}

ModulePtr resnet101(ResNetOptions o) {
  o.block = ResNetBlock::Bottleneck;
  o.layers = {3, 4, 23, 3};
  return resnet(o);
}

ModulePtr resnet152(ResNetOptions o) {
  o.block = ResNetBlock::Bottleneck;
  o.layers = {3, 8, 36, 3};
  return resnet(o);
}

ModulePtr resnext50_32x4d(ResNetOptions o) {
  o.groups = 32;          // cardinality 32 ...
  o.width_per_group = 4;  // ... of 4 channels each at planes = 64
  return resnet50(o);
}

ModulePtr resnext101_32x8d(ResNetOptions o) {
  o.groups = 32;
  o.width_per_group = 8;
  return resnet101(o);
}

ModulePtr wide_resnet50_2(ResNetOptions o) {
  o.width_per_group = 64 * 2;  // the 3x3s twice as wide; the block outputs keep 4 planes
  return resnet50(o);
}

ModulePtr wide_resnet101_2(ResNetOptions o) {
  o.width_per_group = 64 * 2;
  return resnet101(o);
}
//! [factories]

namespace {

using Factory = ModulePtr (*)(ResNetOptions);

const std::vector<std::pair<std::string, Factory>>& factories() {
  static const std::vector<std::pair<std::string, Factory>> all = {
      {"resnet18", resnet18},
      {"resnet34", resnet34},
      {"resnet50", resnet50},
      {"resnet101", resnet101},
      {"resnet152", resnet152},
      {"resnext50_32x4d", resnext50_32x4d},
      {"resnext101_32x8d", resnext101_32x8d},
      {"wide_resnet50_2", wide_resnet50_2},
      {"wide_resnet101_2", wide_resnet101_2},
  };
  return all;
}

}  // namespace

const std::vector<std::string>& torchvision_resnet_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [name, make] : factories()) v.push_back(name);
    return v;
  }();
  return names;
}

ModulePtr torchvision_resnet(const std::string& name, const ResNetOptions& options) {
  std::string known;
  for (const auto& [n, make] : factories()) {
    if (n == name) return make(options);
    known += (known.empty() ? "" : ", ") + n;
  }
  throw Error("torchvision_resnet: unknown model '" + name + "', expected one of: " + known);
}

ModulePtr torchvision_resnet(const std::string& name, std::size_t num_classes) {
  ResNetOptions o;
  o.num_classes = num_classes;
  return torchvision_resnet(name, o);
}

//! [cifar-resnet]
ModulePtr cifar_resnet(std::size_t depth, CifarShortcut shortcut, std::size_t num_classes) {
  if (depth < 8 || (depth - 2) % 6 != 0) {
    throw Error("cifar_resnet: depth=" + std::to_string(depth) +
                ", expected 6n + 2 with n >= 1 (20, 32, 44, 56, 110 in the paper)");
  }
  if (num_classes == 0) throw Error("cifar_resnet: num_classes=0, expected at least 1");
  const std::size_t n = (depth - 2) / 6;  // blocks per stage; 2 convs each, + stem + fc
  auto net = std::make_unique<Sequential>();
  net->add("conv1", std::make_unique<Conv2d>(conv3x3(3, 16)));  // no 7x7, no max-pool at 32x32
  net->add("bn1", std::make_unique<BatchNorm2d>(16));
  net->add("relu", std::make_unique<ReLU>());
  std::size_t inplanes = 16;
  const std::size_t planes[3] = {16, 32, 64};
  for (std::size_t stage = 0; stage < 3; ++stage) {
    auto layer = std::make_unique<Sequential>();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t stride = stage > 0 && i == 0 ? 2 : 1;
      ModulePtr downsample;
      if (stride != 1 || inplanes != planes[stage]) {
        downsample = shortcut == CifarShortcut::A
                         ? ModulePtr(std::make_unique<PadShortcut>(inplanes, planes[stage], stride))
                         : projection_shortcut(inplanes, planes[stage], stride);
      }
      layer->push_back(
          std::make_unique<BasicBlock>(inplanes, planes[stage], stride, std::move(downsample)));
      inplanes = planes[stage];
    }
    net->add("layer" + std::to_string(stage + 1), std::move(layer));
  }
  add_classifier(*net, 64, num_classes);
  return net;
}
//! [cifar-resnet]

}  // namespace convbook
