#include "chapters/00_framework/small_cnn.hpp"

#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

//! [small-cnn]
ModulePtr small_cnn(std::size_t num_classes) {
  if (num_classes == 0) throw Error("small_cnn: num_classes=0, expected at least 1");
  auto net = std::make_unique<Sequential>();
  // conv3x3 -> BN -> ReLU: the conv has no bias because BN's beta would cancel it.
  auto conv_bn_relu = [&net](std::size_t in, std::size_t out) {
    net->emplace<Conv2d>(Conv2dOptions(in, out, 3).padding(1).bias(false));
    net->emplace<BatchNorm2d>(out);
    net->emplace<ReLU>();
  };
  conv_bn_relu(3, 16);  // (N, 16, 32, 32)
  conv_bn_relu(16, 16);
  net->emplace<MaxPool2d>(2);  // (N, 16, 16, 16)
  conv_bn_relu(16, 32);        // (N, 32, 16, 16)
  conv_bn_relu(32, 32);
  net->emplace<MaxPool2d>(2);  // (N, 32, 8, 8)
  conv_bn_relu(32, 64);        // (N, 64, 8, 8)
  conv_bn_relu(64, 64);
  net->emplace<AdaptiveAvgPool2d>(1);  // (N, 64, 1, 1): one number per channel
  net->emplace<Flatten>();
  net->emplace<Linear>(64, num_classes);  // (N, num_classes, 1, 1): the logits
  return net;
}
//! [small-cnn]

}  // namespace convbook
