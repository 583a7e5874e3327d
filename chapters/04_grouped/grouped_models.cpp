#include "chapters/04_grouped/grouped_models.hpp"

#include <string>

#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

ModulePtr grouped_conv3x3_stack(std::size_t channels, std::size_t groups) {
  if (channels == 0) throw Error("grouped_conv3x3_stack: channels=0, expected at least 1");
  auto net = std::make_unique<Sequential>();
  // Conv2dOptions checks that groups divides both channel counts.
  net->emplace<Conv2d>(Conv2dOptions(channels, channels, 3).padding(1).bias(false).groups(groups));
  return net;
}

//! [alexnet-conv2]
ModulePtr alexnet_conv2(std::size_t groups) {
  auto net = std::make_unique<Sequential>();
  // 96 maps of 27x27 from conv1 + pool; 256 maps out; 5x5 kernel, padding 2 keeps 27x27.
  // With groups = 2 each GPU held 48 input and 128 output channels.
  net->emplace<Conv2d>(Conv2dOptions(96, 256, 5).padding(2).groups(groups));
  return net;
}
//! [alexnet-conv2]

//! [grouped-cnn]
ModulePtr grouped_cnn(std::size_t num_classes, std::size_t groups) {
  if (num_classes == 0) throw Error("grouped_cnn: num_classes=0, expected at least 1");
  if (groups == 0 || 32 % groups != 0) {
    throw Error("grouped_cnn: groups=" + std::to_string(groups) +
                ", expected a divisor of 32 (the width of the first stage)");
  }
  auto net = std::make_unique<Sequential>();
  auto conv_bn_relu = [&net](std::size_t in, std::size_t out, std::size_t g) {
    net->emplace<Conv2d>(Conv2dOptions(in, out, 3).padding(1).bias(false).groups(g));
    net->emplace<BatchNorm2d>(out);
    net->emplace<ReLU>();
  };
  conv_bn_relu(3, 32, 1);        // (N, 32, 32, 32): dense, 3 channels cannot be split
  conv_bn_relu(32, 32, groups);  // grouped: G independent paths of 32/G channels
  net->emplace<MaxPool2d>(2);    // (N, 32, 16, 16)
  conv_bn_relu(32, 64, 1);       // dense: mixes the groups of the layer before
  conv_bn_relu(64, 64, groups);
  net->emplace<MaxPool2d>(2);     // (N, 64, 8, 8)
  conv_bn_relu(64, 128, 1);
  conv_bn_relu(128, 128, groups);
  net->emplace<AdaptiveAvgPool2d>(1);  // (N, 128, 1, 1)
  net->emplace<Flatten>();
  net->emplace<Linear>(128, num_classes);
  return net;
}
//! [grouped-cnn]

}  // namespace convbook
