#include "chapters/03_inception/googlenet_cifar.hpp"

#include <memory>

#include "chapters/03_inception/inception.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

namespace {

// The paper's Table 1 row: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
InceptionOptions widths(std::size_t in, std::size_t c1, std::size_t c3r, std::size_t c3,
                        std::size_t c5r, std::size_t c5, std::size_t pp) {
  return InceptionOptions(in).ch1x1(c1).ch3x3red(c3r).ch3x3(c3).ch5x5red(c5r).ch5x5(c5).pool_proj(
      pp);
}

}  // namespace

//! [googlenet-cifar]
ModulePtr googlenet_cifar(std::size_t num_classes) {
  if (num_classes == 0) throw Error("googlenet_cifar: num_classes=0, expected at least 1");
  auto net = std::make_unique<Sequential>();
  net->add("conv1", std::make_unique<BasicConv2d>(3, 48, 3));  // (N, 48, 32, 32)
  net->add("maxpool1", std::make_unique<MaxPool2d>(2));        // (N, 48, 16, 16)
  //                                          in   1x1 3x3r 3x3 5x5r 5x5 pool
  net->add("inception3a", std::make_unique<Inception>(widths(48, 16, 24, 32, 4, 8, 8)));    // 64
  net->add("inception3b", std::make_unique<Inception>(widths(64, 32, 32, 48, 8, 24, 16)));  // 120
  net->add("maxpool2", std::make_unique<MaxPool2d>(2));  // (N, 120, 8, 8)
  net->add("inception4a", std::make_unique<Inception>(widths(120, 48, 24, 52, 4, 12, 16)));  // 128
  net->add("inception4b", std::make_unique<Inception>(widths(128, 40, 28, 56, 6, 16, 16)));  // 128
  net->add("avgpool", std::make_unique<AdaptiveAvgPool2d>(1));
  net->add("flatten", std::make_unique<Flatten>());
  net->add("fc", std::make_unique<Linear>(128, num_classes));
  return net;
}
//! [googlenet-cifar]

ModulePtr inception3a_block(bool reductions) {
  const InceptionOptions o = widths(192, 64, 96, 128, 16, 32, 32);  // Table 1, inception (3a)
  auto block = std::make_unique<Sequential>();
  if (reductions) {
    block->add("inception3a", std::make_unique<Inception>(o));
  } else {
    block->add("inception3a", std::make_unique<InceptionNaive>(o));
  }
  return block;
}

}  // namespace convbook
