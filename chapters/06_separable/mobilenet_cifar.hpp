#pragma once
/// @file mobilenet_cifar.hpp
/// @brief A small MobileNet-style network for CIFAR (32x32 images), sized for two CPU cores.
#include <cstddef>

#include "convbook/module.hpp"

namespace convbook {

/// @brief MobileNet v1 (Howard et al. 2017) cut down for CIFAR: a dense 3x3 stem 3 -> 32,
/// then five depthwise-separable blocks (dw3x3-BN-ReLU-pw1x1-BN-ReLU): 32 -> 64 at 32x32,
/// 64 -> 128 stride 2, 128 -> 128 at 16x16, 128 -> 256 stride 2, 256 -> 256 at 8x8; then a
/// global average pool and one Linear layer.
/// @param num_classes outputs of the final Linear layer
/// @param separable false builds the dense twin: each block's depthwise + pointwise pair
///   replaced by one dense 3x3 convolution C -> K (same stride), BN, ReLU
/// @return a Sequential: "conv1", "bn1", "relu", "blocks" (a Sequential "0" .. "4"),
///   "avgpool", "flatten", "fc"
ModulePtr mobilenet_cifar(std::size_t num_classes = 10, bool separable = true);

}  // namespace convbook
