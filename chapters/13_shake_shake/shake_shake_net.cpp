#include "chapters/13_shake_shake/shake_shake_net.hpp"

#include <memory>
#include <string>

#include "chapters/10_resnet/resnet.hpp"
#include "chapters/10_resnet/resnet_blocks.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

//! [shake-shake-cifar]
ModulePtr shake_shake_cifar(std::size_t depth, std::size_t width, ShakeOptions options,
                            std::size_t num_classes) {
  if (depth < 8 || (depth - 2) % 6 != 0) {
    throw Error("shake_shake_cifar: depth=" + std::to_string(depth) +
                ", expected 6n + 2 with n >= 1 (26 in the paper)");
  }
  if (width == 0 || width % 2 != 0) {
    throw Error("shake_shake_cifar: width=" + std::to_string(width) +
                ", expected an even number >= 2 (the shortcut splits it in two; 32 and 96 in the "
                "paper)");
  }
  if (num_classes == 0) throw Error("shake_shake_cifar: num_classes=0, expected at least 1");
  const std::size_t n = (depth - 2) / 6;
  auto net = std::make_unique<Sequential>();
  net->add("conv1", std::make_unique<Conv2d>(conv3x3(3, 16)));
  net->add("bn1", std::make_unique<BatchNorm2d>(16));
  std::size_t in = 16;
  for (std::size_t stage = 0; stage < 3; ++stage) {
    const std::size_t out = width << stage;  // W, 2W, 4W
    auto layer = std::make_unique<Sequential>();
    for (std::size_t i = 0; i < n; ++i) {
      layer->emplace<ShakeShakeBlock>(in, out, stage > 0 && i == 0 ? 2 : 1, options);
      in = out;
    }
    net->add("layer" + std::to_string(stage + 1), std::move(layer));
  }
  net->add("relu", std::make_unique<ReLU>());  // the blocks end in a sum, not a ReLU
  add_classifier(*net, in, num_classes);  // chapter 10's avgpool, flatten, fc
  return net;
}
//! [shake-shake-cifar]

void for_each_shake_block(Module& m,
                          const std::function<void(const std::string&, ShakeShakeBlock&)>& f,
                          const std::string& prefix) {
  if (auto* block = dynamic_cast<ShakeShakeBlock*>(&m)) f(prefix, *block);
  for (const auto& [name, child] : m.children()) {
    for_each_shake_block(*child, f, prefix.empty() ? name : prefix + "." + name);
  }
}

}  // namespace convbook
