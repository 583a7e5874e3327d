#pragma once
/// @file small_cnn.hpp
/// @brief Chapter 00's model: a small VGG-style CNN built only from the core layers.
#include <cstddef>

#include "convbook/module.hpp"

namespace convbook {

/// @brief Three stages of two 3x3 Conv-BN-ReLU each (widths 16, 32, 64 on 32x32, 16x16 and
/// 8x8 maps) separated by 2x2 max-pooling, then global average pooling and one Linear layer.
///
/// Sized for two CPU cores: 72,954 parameters and 19.9 MFLOPs per 32x32 image forward
/// (`convbook info`), so a 15-epoch run on the full CIFAR-10 fits in under an hour.
/// @param num_classes outputs of the final Linear layer (10 for CIFAR-10, 100 for CIFAR-100)
/// @return a Sequential whose children are named "0", "1", ... like nn.Sequential's
ModulePtr small_cnn(std::size_t num_classes = 10);

}  // namespace convbook
