/// @file deform_net.cpp
/// @brief The small deformable CIFAR network and the single-layer cost model.
#include "chapters/08_deformable/deform_net.hpp"

#include <memory>
#include <string>

#include "chapters/08_deformable/deform_conv2d.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

namespace {

// A 3x3, padding 1, bias-free convolution of the requested kind.
ModulePtr conv3x3(std::size_t in, std::size_t out, DeformMode mode) {
  const Conv2dOptions o = Conv2dOptions(in, out, 3).padding(1).bias(false);
  if (mode == DeformMode::Regular) return std::make_unique<Conv2d>(o);
  return std::make_unique<DeformConv2d>(
      o, mode == DeformMode::V2 ? DeformVersion::V2 : DeformVersion::V1);
}

}  // namespace

//! [deform-cifar]
ModulePtr deform_cifar(std::size_t num_classes, DeformMode mode) {
  if (num_classes == 0) throw Error("deform_cifar: num_classes=0, expected at least 1");
  auto net = std::make_unique<Sequential>();
  net->emplace<Conv2d>(Conv2dOptions(3, 32, 3).padding(1).bias(false));
  net->emplace<BatchNorm2d>(32);
  net->emplace<ReLU>();
  net->emplace<MaxPool2d>(2);  // (N, 32, 16, 16)
  net->emplace<Conv2d>(Conv2dOptions(32, 64, 3).padding(1).bias(false));
  net->emplace<BatchNorm2d>(64);
  net->emplace<ReLU>();
  net->emplace<Conv2d>(Conv2dOptions(64, 64, 3).padding(1).bias(false));
  net->emplace<BatchNorm2d>(64);
  net->emplace<ReLU>();
  net->emplace<MaxPool2d>(2);              // (N, 64, 8, 8)
  net->push_back(conv3x3(64, 128, mode));  // the deformable layer, at 8x8
  net->emplace<BatchNorm2d>(128);
  net->emplace<ReLU>();
  net->emplace<AdaptiveAvgPool2d>(1);  // (N, 128, 1, 1)
  net->emplace<Flatten>();
  net->emplace<Linear>(128, num_classes);
  return net;
}
//! [deform-cifar]

ModulePtr deform_conv3x3_stack(std::size_t channels, DeformMode mode) {
  if (channels == 0) throw Error("deform_conv3x3_stack: channels=0, expected at least 1");
  auto net = std::make_unique<Sequential>();
  net->push_back(conv3x3(channels, channels, mode));
  return net;
}

}  // namespace convbook
