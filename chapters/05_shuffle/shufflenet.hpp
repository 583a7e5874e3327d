#pragma once
/// @file shufflenet.hpp
/// @brief A small ShuffleNet v1 for CIFAR (32x32 images), sized for two CPU cores.
#include <cstddef>

#include "convbook/module.hpp"

namespace convbook {

/// @brief ShuffleNet v1 (Zhang et al. 2018, Table 1) at width 0.5 with g = 3 groups, for 32x32
/// inputs.
///
/// The ImageNet stem (3x3 conv stride 2 + 3x3 max-pool, 224 -> 56) becomes one 3x3 conv of
/// stride 1, since a CIFAR image is already as small as the paper's stage 2 input. Then three
/// stages whose first unit has stride 2 (fig. 2c) and the others stride 1 (fig. 2b):
/// 24 -> 120 channels at 16x16, 240 at 8x8, 480 at 4x4, bottlenecks of a quarter of the
/// output width; the first 1x1 of stage 2 is dense (24 input channels are too few to split).
/// Then a global average pool and one Linear layer.
/// @param num_classes outputs of the final Linear layer
/// @param shuffle false builds the paper's "no shuffle" ablation (same weights, no permutation)
/// @return a Sequential: "conv1", "bn1", "relu", "stage2", "stage3", "stage4", "avgpool",
///   "flatten", "fc", the stages Sequentials of ShuffleUnits named "0", "1", ...
ModulePtr shufflenet_v1_cifar(std::size_t num_classes = 10, bool shuffle = true);

}  // namespace convbook
