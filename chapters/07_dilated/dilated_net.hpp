#pragma once
/// @file dilated_net.hpp
/// @brief A stack of dilated 3x3 convolutions (the context module of Yu & Koltun, ICLR 2016)
/// and a small CIFAR network built around one.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input.
#include <cstddef>
#include <memory>
#include <vector>

#include "convbook/layers/sequential.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief conv3x3(dilation d_i, padding d_i, no bias)-BN-ReLU for each d_i: the spatial size
/// is kept, the receptive field grows by 2 d_i per layer.
/// @param in_channels   C of the first convolution
/// @param channels      K of every convolution
/// @param dilations     one per layer, e.g. {1, 2, 5}
/// @throws Error for an empty list, a zero dilation or zero channels.
std::unique_ptr<Sequential> dilated_stack(std::size_t in_channels, std::size_t channels,
                                          const std::vector<std::size_t>& dilations);

/// @brief A small CIFAR network whose middle is a dilated stack:
/// conv3x3 3->32-BN-ReLU, max-pool (16x16), dilated_stack(32, 64, dilations), max-pool (8x8),
/// conv3x3 64->128-BN-ReLU, global average pool, Linear(128, num_classes).
/// @param num_classes outputs of the Linear layer
/// @param dilations   of the stack (default {1, 2, 5}, a hybrid dilated convolution)
ModulePtr dilated_cifar(std::size_t num_classes = 10,
                        const std::vector<std::size_t>& dilations = {1, 2, 5});

}  // namespace convbook
