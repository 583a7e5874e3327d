#pragma once
/// @file googlenet_cifar.hpp
/// @brief A small GoogLeNet for CIFAR (32x32 images), sized for one CPU core, and the single
/// blocks whose cost chapter 03 compares.
#include <cstddef>

#include "convbook/module.hpp"

namespace convbook {

/// @brief GoogLeNet v1 (Szegedy et al. 2015, Table 1) shrunk for 32x32 images and one core.
///
/// The ImageNet stem (7x7/2 conv, pools, 3x3 convs: 224 -> 28) becomes one 3x3 conv 3 -> 48
/// and a 2x2 max-pool (32 -> 16). Then two Inception blocks at 16x16 and, after another max-pool,
/// two at 8x8, with the widths of the paper's (3a), (3b), (4a) and (4b) divided by about four;
/// then a global average pool and one Linear layer (the paper's head, without its dropout and
/// auxiliary classifiers).
/// @param num_classes outputs of the final Linear layer
/// @return a Sequential: "conv1", "maxpool1", "inception3a", "inception3b", "maxpool2",
///   "inception4a", "inception4b", "avgpool", "flatten", "fc" (torchvision's GoogLeNet names)
/// @throws Error when num_classes is 0.
ModulePtr googlenet_cifar(std::size_t num_classes = 10);

/// @brief One Inception block (3a) of the paper, alone (192 channels at 28x28 in), for the
/// cost table: `convbook info --model inception3a --input 192x28x28`.
/// @param reductions true: fig. 2b (the Inception module); false: fig. 2a (the naive module)
ModulePtr inception3a_block(bool reductions);

}  // namespace convbook
