/// @file sk_models.cpp
/// @brief The SK and split-attention CIFAR networks of chapter 09.
#include "chapters/09_attention/sk_models.hpp"

#include <functional>
#include <memory>
#include <string>

#include "chapters/09_attention/selective_kernel.hpp"
#include "chapters/09_attention/split_attention.hpp"
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

// The shared skeleton; `block(C, K)` makes the attention block of each stage.
ModulePtr attention_cifar(const char* who, std::size_t num_classes,
                          const std::function<ModulePtr(std::size_t, std::size_t)>& block) {
  if (num_classes == 0) throw Error(std::string(who) + ": num_classes=0, expected at least 1");
  auto net = std::make_unique<Sequential>();
  net->emplace<Conv2d>(Conv2dOptions(3, 32, 3).padding(1).bias(false));
  net->emplace<BatchNorm2d>(32);
  net->emplace<ReLU>();
  net->emplace<MaxPool2d>(2);      // (N, 32, 16, 16)
  net->push_back(block(32, 64));   // (N, 64, 16, 16)
  net->emplace<MaxPool2d>(2);      // (N, 64, 8, 8)
  net->push_back(block(64, 128));  // (N, 128, 8, 8)
  net->emplace<AdaptiveAvgPool2d>(1);
  net->emplace<Flatten>();
  net->emplace<Linear>(128, num_classes);
  return net;
}

}  // namespace

//! [sk-models]
ModulePtr sk_cifar(std::size_t num_classes) {
  return attention_cifar("sk_cifar", num_classes, [](std::size_t C, std::size_t K) {
    return std::make_unique<SelectiveKernel>(SelectiveKernelOptions(C, K).branches(2).groups(4));
  });
}

ModulePtr splat_cifar(std::size_t num_classes, std::size_t radix, std::size_t cardinality) {
  return attention_cifar("splat_cifar", num_classes, [=](std::size_t C, std::size_t K) {
    return std::make_unique<SplitAttention>(
        SplitAttentionOptions(C, K, 3).padding(1).radix(radix).cardinality(cardinality));
  });
}
//! [sk-models]

}  // namespace convbook
