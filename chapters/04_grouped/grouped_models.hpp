#pragma once
/// @file grouped_models.hpp
/// @brief Chapter 04's models: single grouped layers for the cost tables, AlexNet's two-group
/// conv2, and a small CIFAR network whose middle 3x3 convolutions are grouped.
#include <cstddef>

#include "convbook/module.hpp"

namespace convbook {

/// @brief One 3x3 convolution `channels` -> `channels`, padding 1, no bias, `groups` groups:
/// the layer of the cost table (`convbook info --input 128x16x16`).
/// @throws Error when channels is 0 or groups does not divide channels.
ModulePtr grouped_conv3x3_stack(std::size_t channels, std::size_t groups);

/// @brief AlexNet's second convolution (Krizhevsky et al. 2012): 96 -> 256 channels, 5x5,
/// padding 2, with bias, in `groups` groups (2 in the paper: one per GPU), on a 27x27 map
/// (`convbook info --input 96x27x27`).
ModulePtr alexnet_conv2(std::size_t groups);

/// @brief small_cnn's layout (chapter 00) with wider stages (32, 64, 128) whose second 3x3
/// convolution is grouped in the ResNeXt manner: each stage is conv3x3 C_in -> C (dense),
/// BN, ReLU, then conv3x3 C -> C with `groups` groups, BN, ReLU, then a 2x2 max-pool (the
/// last stage a global average pool), and one Linear layer.
/// @param num_classes outputs of the final Linear layer
/// @param groups groups of the middle convolutions; must divide 32 (1 gives a dense network)
ModulePtr grouped_cnn(std::size_t num_classes = 10, std::size_t groups = 8);

}  // namespace convbook
