#pragma once
/// @file exercise.hpp
/// @brief Chapter 04's exercises: the cost of a grouped layer, a grouped convolution as G
/// dense ones on channel slices, and the block-diagonal weight of the equivalent dense layer.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups. Arrays are plain row-major std::vector<float>. `make exercise CH=04` checks your
/// exercise.cpp against the framework (check.cpp); the book's answers are in solution.cpp.
#include <cstddef>
#include <vector>

namespace convbook::ex04 {

/// @brief What one forward of a layer costs, as `convbook info` counts it.
struct Cost {
  std::size_t params = 0;  ///< trainable scalars
  double flops = 0;        ///< 2 x multiply-adds, one image
};

/// @brief Exercise 04.1: parameters and FLOPs of Conv2d(C, K, R x S, stride, padding,
/// groups=G, bias) on one H x W image (dilation 1).
Cost grouped_conv_cost(std::size_t C, std::size_t K, std::size_t R, std::size_t S,
                       std::size_t stride, std::size_t padding, std::size_t G, bool bias,
                       std::size_t H, std::size_t W);

/// @brief Exercise 04.2: the forward of a grouped convolution (stride 1, no bias, square
/// padding `pad`) computed as G dense convolutions: group g convolves input channels
/// [g C/G, (g+1) C/G) with weight rows [g K/G, (g+1) K/G) and writes those output channels.
/// @param x input (N, C, H, W)
/// @param w grouped weight (K, C/G, R, S)
/// @return y (N, K, P, Q)
std::vector<float> grouped_conv_as_slices(const std::vector<float>& x, const std::vector<float>& w,
                                          std::size_t N, std::size_t C, std::size_t H,
                                          std::size_t W, std::size_t K, std::size_t R,
                                          std::size_t S, std::size_t pad, std::size_t G);

/// @brief Exercise 04.3: the dense weight (K, C, R, S) that computes the same convolution as
/// the grouped weight w (K, C/G, R, S): block-diagonal in (output group, input group).
std::vector<float> block_diagonal_weight(const std::vector<float>& w, std::size_t K,
                                         std::size_t C, std::size_t R, std::size_t S,
                                         std::size_t G);

}  // namespace convbook::ex04
