#pragma once
/// @file attention_cnn.hpp
/// @brief Chapter 00's small CNN with an attention block at the end of each stage: the
/// chapter's CIFAR experiment (with and without SE, and with CBAM).
#include <cstddef>
#include <string>

#include "convbook/module.hpp"

namespace convbook {

/// @brief Which attention block ends each stage.
enum class StageAttention {
  None,  ///< none: the network is small_cnn, layer for layer
  SE,    ///< SqueezeExcitation(C, reduction)
  CBAM,  ///< CBAM(C, reduction, 7)
};

/// @brief small_cnn (three stages of two conv3x3-BN-ReLU, 16-32-64 channels, max-pool between
/// stages, global average pool, Linear) with `attention` inserted after each stage's second
/// ReLU, where SE-Inception puts it: on the stage's output, before the pool.
/// @param num_classes outputs of the Linear layer
/// @param attention   the block (None gives small_cnn's layers and parameter count)
/// @param reduction   r of the blocks' bottleneck MLP: C / r hidden units (4 here: with 16
///   channels the papers' r = 16 would leave one)
/// @throws Error when num_classes is 0 or reduction does not fit 16 channels.
ModulePtr attention_cnn(std::size_t num_classes, StageAttention attention,
                        std::size_t reduction = 4);

}  // namespace convbook
