#pragma once
/// @file exercise.hpp
/// @brief Chapter 10's exercises: a ResNet's parameter count from its configuration, the CIFAR
/// paper's option A shortcut forward and backward, and the output stride under
/// replace_stride_with_dilation.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, G groups. Arrays
/// are plain row-major std::vector<float> in NCHW order. `make exercise CH=10` checks your
/// exercise.cpp against the framework (check.cpp); the book's answers are in solution.cpp.
#include <array>
#include <cstddef>
#include <vector>

namespace convbook::ex10 {

/// @brief Exercise 10.1: the trainable parameters of torchvision's ResNet, in closed form.
///
/// Count conv weights (no biases), each BatchNorm's gamma and beta, and fc's weight and bias;
/// buffers (running statistics) are not parameters.
/// @param bottleneck      true for Bottleneck (expansion 4), false for BasicBlock (expansion 1)
/// @param layers          blocks in layer1..layer4
/// @param groups          groups of the Bottleneck's 3x3 (1 for BasicBlock)
/// @param width_per_group torchvision's base_width (64 for BasicBlock)
/// @param num_classes     outputs of fc
/// @return what Module::num_parameters() returns for the same model (resnet18: 11,689,512)
std::size_t resnet_parameters(bool bottleneck, const std::array<std::size_t, 4>& layers,
                              std::size_t groups, std::size_t width_per_group,
                              std::size_t num_classes);

/// @brief Exercise 10.2: the option A shortcut, y = x[:, :, ::s, ::s] with zero channels
/// padded, (K - C) / 2 before the copied channels and the rest after.
/// @param x      (N, C, H, W)
/// @param K      output channels, >= C
/// @param stride s
/// @return y, (N, K, ceil(H / s), ceil(W / s))
std::vector<float> pad_shortcut_forward(const std::vector<float>& x, std::size_t N, std::size_t C,
                                        std::size_t H, std::size_t W, std::size_t K,
                                        std::size_t stride);

/// @brief Exercise 10.2 (continued): dL/dx of pad_shortcut_forward from dL/dy.
/// @param dy (N, K, ceil(H / s), ceil(W / s))
/// @return dx, (N, C, H, W)
std::vector<float> pad_shortcut_backward(const std::vector<float>& dy, std::size_t N, std::size_t C,
                                         std::size_t H, std::size_t W, std::size_t K,
                                         std::size_t stride);

/// @brief What the four stages of a ResNet see, from exercise 10.3.
struct StageGeometry {
  std::array<std::size_t, 4> side{};      ///< output side of layer1..layer4
  std::array<std::size_t, 4> dilation{};  ///< dilation of the 3x3s after each stage's first block
};

/// @brief Exercise 10.3: the feature map sides and dilations of torchvision's ResNet on an
/// H x H image (the 7x7/2 stem and the 3x3/2 max-pool first), with
/// replace_stride_with_dilation for layer2..layer4.
/// @param H       image side
/// @param replace replace_stride_with_dilation
StageGeometry stage_geometry(std::size_t H, const std::array<bool, 3>& replace);

}  // namespace convbook::ex10
