/// @file dilated_net.cpp
/// @brief The dilated stack and the small dilated CIFAR network.
#include "chapters/07_dilated/dilated_net.hpp"

#include <memory>
#include <string>

#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/layers/pooling.hpp"

namespace convbook {

//! [dilated-stack]
std::unique_ptr<Sequential> dilated_stack(std::size_t in_channels, std::size_t channels,
                                          const std::vector<std::size_t>& dilations) {
  if (dilations.empty()) throw Error("dilated_stack: no dilations, expected at least one");
  if (in_channels == 0 || channels == 0) {
    throw Error("dilated_stack: in_channels=" + std::to_string(in_channels) +
                " channels=" + std::to_string(channels) + ", expected both >= 1");
  }
  auto stack = std::make_unique<Sequential>();
  std::size_t c = in_channels;
  for (std::size_t d : dilations) {
    if (d == 0) throw Error("dilated_stack: dilation 0, expected every dilation >= 1");
    // padding d keeps H x W: the dilated 3x3 spans 2d + 1 pixels
    stack->emplace<Conv2d>(Conv2dOptions(c, channels, 3).dilation(d).padding(d).bias(false));
    stack->emplace<BatchNorm2d>(channels);
    stack->emplace<ReLU>();
    c = channels;
  }
  return stack;
}
//! [dilated-stack]

//! [dilated-cifar]
ModulePtr dilated_cifar(std::size_t num_classes, const std::vector<std::size_t>& dilations) {
  if (num_classes == 0) throw Error("dilated_cifar: num_classes=0, expected at least 1");
  auto net = std::make_unique<Sequential>();
  net->emplace<Conv2d>(Conv2dOptions(3, 32, 3).padding(1).bias(false));
  net->emplace<BatchNorm2d>(32);
  net->emplace<ReLU>();
  net->emplace<MaxPool2d>(2);                        // (N, 32, 16, 16)
  net->push_back(dilated_stack(32, 64, dilations));  // (N, 64, 16, 16), context grows
  net->emplace<MaxPool2d>(2);                        // (N, 64, 8, 8)
  net->emplace<Conv2d>(Conv2dOptions(64, 128, 3).padding(1).bias(false));
  net->emplace<BatchNorm2d>(128);
  net->emplace<ReLU>();
  net->emplace<AdaptiveAvgPool2d>(1);  // (N, 128, 1, 1)
  net->emplace<Flatten>();
  net->emplace<Linear>(128, num_classes);
  return net;
}
//! [dilated-cifar]

}  // namespace convbook
