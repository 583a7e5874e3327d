/// @file nin.cpp
/// @brief The mlpconv block and a small NiN for CIFAR (Lin, Chen & Yan 2014).
#include "chapters/02_pointwise/nin.hpp"

#include <memory>
#include <string>

#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/pooling.hpp"

namespace convbook {

void NiNBlockOptions::validate() const {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw Error("NiNBlock: " + what);
  };
  require(in_ > 0, "in_channels=0, expected at least 1");
  require(out_ > 0, "out_channels=0, expected at least 1");
  require(mid_ > 0, "mid_channels=0, expected at least 1");
  require(kernel_.h > 0 && kernel_.w > 0, "kernel_size=(" + std::to_string(kernel_.h) + ", " +
                                              std::to_string(kernel_.w) +
                                              "), expected sizes of at least 1");
  require(stride_.h > 0 && stride_.w > 0, "stride=(" + std::to_string(stride_.h) + ", " +
                                              std::to_string(stride_.w) +
                                              "), expected steps of at least 1");
}

//! [nin-block]
NiNBlock::NiNBlock(const NiNBlockOptions& o) : options_(o) {
  o.validate();
  const bool bn = o.batch_norm();
  // One convolution, then (BN and) ReLU unless it is the linear last layer of a head.
  auto conv = [&](Conv2dOptions c, bool activation) {
    emplace<Conv2d>(c.bias(!(bn && activation)));  // BN's beta would cancel a bias
    if (bn && activation) emplace<BatchNorm2d>(c.out_channels());
    if (activation) emplace<ReLU>();
  };
  const std::size_t M = o.mid_channels();
  // the spatial convolution: the only layer that looks at neighbouring pixels
  conv(Conv2dOptions(o.in_channels(), M, o.kernel_size()).stride(o.stride()).padding(o.padding()),
       true);
  // the micro-network: a two-layer perceptron applied to every pixel's M-vector
  conv(Conv2dOptions(M, M, 1), true);
  conv(Conv2dOptions(M, o.out_channels(), 1), o.final_activation());
}
//! [nin-block]

//! [nin-cifar]
ModulePtr nin_cifar(std::size_t num_classes, bool batch_norm) {
  if (num_classes == 0) throw Error("nin_cifar: num_classes=0, expected at least 1");
  auto net = std::make_unique<Sequential>();
  net->emplace<NiNBlock>(NiNBlockOptions(3, 32, 3).padding(1).batch_norm(batch_norm));
  net->emplace<MaxPool2d>(2);  // (N, 32, 16, 16)
  net->emplace<NiNBlock>(NiNBlockOptions(32, 64, 3).padding(1).batch_norm(batch_norm));
  net->emplace<MaxPool2d>(2);  // (N, 64, 8, 8)
  // the last micro-network ends in one 8x8 confidence map per class ...
  net->emplace<NiNBlock>(NiNBlockOptions(64, num_classes, 3)
                             .padding(1)
                             .mid_channels(128)
                             .batch_norm(batch_norm)
                             .final_activation(false));
  // ... and the head is only their averages: no fully connected layer to overfit
  net->emplace<AdaptiveAvgPool2d>(1);  // (N, num_classes, 1, 1)
  net->emplace<Flatten>();
  return net;
}
//! [nin-cifar]

}  // namespace convbook
