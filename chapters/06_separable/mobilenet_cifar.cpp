#include "chapters/06_separable/mobilenet_cifar.hpp"

#include "chapters/06_separable/separable_blocks.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

//! [mobilenet-cifar]
ModulePtr mobilenet_cifar(std::size_t num_classes, bool separable) {
  if (num_classes == 0) throw Error("mobilenet_cifar: num_classes=0, expected at least 1");
  auto net = std::make_unique<Sequential>();
  net->add("conv1", std::make_unique<Conv2d>(Conv2dOptions(3, 32, 3).padding(1).bias(false)));
  net->add("bn1", std::make_unique<BatchNorm2d>(32));
  net->add("relu", std::make_unique<ReLU>());  // (N, 32, 32, 32)
  struct Block {
    std::size_t in, out, stride;
  };
  auto blocks = std::make_unique<Sequential>();
  for (const Block& b : {Block{32, 64, 1}, Block{64, 128, 2}, Block{128, 128, 1},
                         Block{128, 256, 2}, Block{256, 256, 1}}) {
    if (separable) {
      blocks->emplace<DepthwiseSeparable>(SeparableOptions(b.in, b.out).stride(b.stride));
    } else {  // the dense twin: one 3x3 convolution does both jobs
      auto dense = std::make_unique<Sequential>();
      dense->emplace<Conv2d>(Conv2dOptions(b.in, b.out, 3).stride(b.stride).padding(1).bias(false));
      dense->emplace<BatchNorm2d>(b.out);
      dense->emplace<ReLU>();
      blocks->push_back(std::move(dense));
    }
  }
  net->add("blocks", std::move(blocks));  // (N, 256, 8, 8)
  net->add("avgpool", std::make_unique<AdaptiveAvgPool2d>(1));
  net->add("flatten", std::make_unique<Flatten>());
  net->add("fc", std::make_unique<Linear>(256, num_classes));
  return net;
}
//! [mobilenet-cifar]

}  // namespace convbook
