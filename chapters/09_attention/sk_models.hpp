#pragma once
/// @file sk_models.hpp
/// @brief Two small CIFAR networks with the same skeleton, one built from SK convolutions and
/// one from split-attention convolutions, for chapter 09's experiment.
///
/// Skeleton: conv3x3 3->32-BN-ReLU (32x32), max-pool (16x16), block 32->64, max-pool (8x8),
/// block 64->128, global average pool, Linear(128, num_classes).
#include <cstddef>

#include "convbook/module.hpp"

namespace convbook {

/// @brief The skeleton with two SelectiveKernel blocks: M = 2 branches (dilation 1 and 2),
/// groups 4, d = max(K / 16, 32) = 32.
/// @throws Error when num_classes is 0.
ModulePtr sk_cifar(std::size_t num_classes = 10);

/// @brief The skeleton with two SplitAttention blocks (3x3, padding 1): `radix` splits in each
/// of `cardinality` groups, reduction_factor 4, hidden width at least 32.
/// @throws Error when num_classes is 0 or the blocks reject radix and cardinality (G R must
///   divide 32).
ModulePtr splat_cifar(std::size_t num_classes = 10, std::size_t radix = 2,
                      std::size_t cardinality = 2);

}  // namespace convbook
