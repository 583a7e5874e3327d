#pragma once
/// @file exercise.hpp
/// @brief Chapter 13's exercises: Shake-Shake's parameter count and FLOPs in closed form, and
/// the two-path shortcut's forward and backward without the convolutions.
///
/// Legend: N batch, C channels, H x W input, P x Q output. Arrays are plain row-major
/// std::vector<float> in NCHW order. `make exercise CH=13` checks your exercise.cpp against the
/// framework (check.cpp); the book's answers are in solution.cpp.
#include <cstddef>
#include <vector>

namespace convbook::ex13 {

/// @brief Exercise 13.1: the trainable parameters of Shake-Shake-depth 2xWd
/// (shake_shake_cifar(depth, width, {}, num_classes)), in closed form.
///
/// Count conv weights (no biases), each BatchNorm's gamma and beta, fc's weight and bias.
/// @return what Module::num_parameters() returns (Shake-Shake-26 2x32d: 2,923,162)
std::size_t shake_shake_parameters(std::size_t depth, std::size_t width,
                                   std::size_t num_classes);

/// @brief Exercise 13.2: the subsampling part of the two-path shortcut, before its 1x1
/// convolutions: path 1 is x[:, :, ::s, ::s]; path 2 is x shifted by one pixel,
/// x[:, :, 1::s, 1::s], with zeros where p s + 1 >= H or q s + 1 >= W. Both (N, C, P, Q) with
/// P = ceil(H / s), Q = ceil(W / s), returned concatenated along the channels: (N, 2C, P, Q).
std::vector<float> two_path_forward(const std::vector<float>& x, std::size_t N, std::size_t C,
                                    std::size_t H, std::size_t W, std::size_t stride);

/// @brief Exercise 13.2 (continued): dL/dx of two_path_forward from dL/dy, dy (N, 2C, P, Q).
/// @return dx, (N, C, H, W)
std::vector<float> two_path_backward(const std::vector<float>& dy, std::size_t N, std::size_t C,
                                     std::size_t H, std::size_t W, std::size_t stride);

/// @brief Exercise 13.3: the FLOPs (2 x multiply-adds) of the convolutions and fc of
/// Shake-Shake-depth 2xWd on one 32x32 image (BatchNorm, ReLU, pooling and the mix not
/// counted).
double shake_shake_conv_flops(std::size_t depth, std::size_t width, std::size_t num_classes);

}  // namespace convbook::ex13
