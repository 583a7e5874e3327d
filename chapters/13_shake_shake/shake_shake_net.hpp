#pragma once
/// @file shake_shake_net.hpp
/// @brief The CIFAR Shake-Shake networks of Gastaldi 2017: "Shake-Shake-26 2x32d" and
/// friends, built from ShakeShakeBlock.
#include <cstddef>
#include <functional>
#include <string>

#include "chapters/13_shake_shake/shake_shake.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief Shake-Shake-depth 2xWd (Gastaldi 2017, as the official code builds it): conv3x3 3 ->
/// 16 and BN (no ReLU: every branch starts with one), three stages of n = (depth - 2) / 6
/// Shake-Shake blocks of widths W, 2W, 4W at 32x32, 16x16, 8x8 (the first block of each stage
/// changes the width, so it has the two-path shortcut), ReLU, global average pool, fc.
/// "2x" is the two branches; depth counts the stem, 2 convs per branch and block, and fc.
///
/// state_dict: conv1.weight, bn1.*, layer1.0.residual_path1.conv1.weight, ...,
/// layer2.0.shortcut.conv1.weight, ..., fc.weight, fc.bias.
/// @param depth 6n + 2 (26 in the paper: n = 4)
/// @param width W, the first stage's width (32 and 96 in the paper)
/// @param options the variant every block trains with
/// @param num_classes outputs of fc
/// @throws Error when depth is not 6n + 2 with n >= 1, width is 0 or odd, or num_classes is 0.
ModulePtr shake_shake_cifar(std::size_t depth, std::size_t width, ShakeOptions options = {},
                            std::size_t num_classes = 10);

/// @brief Calls f(name, block) on every ShakeShakeBlock inside m, parents first, with its
/// state_dict prefix ("layer2.0"): for tests that fix each block's alpha and beta.
void for_each_shake_block(Module& m,
                          const std::function<void(const std::string&, ShakeShakeBlock&)>& f,
                          const std::string& prefix = "");

}  // namespace convbook
