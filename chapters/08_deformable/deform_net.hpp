#pragma once
/// @file deform_net.hpp
/// @brief Chapter 08's models: a small CIFAR network whose last 3x3 convolution is
/// deformable, its regular twin, and one deformable layer for the cost table.
///
/// Legend: C in-channels, K out-channels, H x W input.
#include <cstddef>

#include "convbook/module.hpp"

namespace convbook {

/// @brief Which convolution deform_cifar uses for its last 3x3 layer.
enum class DeformMode {
  Regular,  ///< Conv2d: the baseline
  V1,       ///< DeformConv2d, offsets only
  V2,       ///< DeformConv2d, offsets and modulation mask
};

/// @brief A small CIFAR network whose last 3x3 convolution is deformable (Dai et al. replace
/// the last layers of the backbone, where the features are semantic enough to choose where
/// to look): conv3x3 3->32-BN-ReLU, max-pool (16x16), conv3x3 32->64-BN-ReLU, conv3x3
/// 64->64-BN-ReLU, max-pool (8x8), [deformable] conv3x3 64->128-BN-ReLU, global average pool,
/// Linear(128, num_classes).
/// @param num_classes outputs of the Linear layer
/// @param mode        the kind of the last 3x3 convolution
/// @throws Error when num_classes is 0.
ModulePtr deform_cifar(std::size_t num_classes = 10, DeformMode mode = DeformMode::V2);

/// @brief One deformable 3x3 layer `channels` -> `channels`, padding 1, no bias (its offset
/// and mask branches included): the layer of the cost table (`convbook info --input 64x16x16`).
/// @throws Error when channels is 0.
ModulePtr deform_conv3x3_stack(std::size_t channels, DeformMode mode);

}  // namespace convbook
