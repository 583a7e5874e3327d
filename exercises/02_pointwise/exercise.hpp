#pragma once
/// @file exercise.hpp
/// @brief Chapter 02's exercises: a 1x1 convolution as a matrix product, the cost of an NiN
/// block, and the backward pass of global average pooling.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel.
/// Arrays are plain row-major std::vector<float>. `make exercise CH=02` checks your
/// exercise.cpp against the framework (check.cpp); the book's answers are in solution.cpp.
#include <cstddef>
#include <vector>

#include "chapters/02_pointwise/nin.hpp"  // NiNBlockOptions

namespace convbook::ex02 {

/// @brief Exercise 02.1: a 1x1 convolution (stride 1, no padding) as one matrix product per
/// image, Y_n (K x HW) = W (K x C) X_n (C x HW) + b, where X_n is image n as it lies in memory.
/// @param x  input (N, C, H, W)
/// @param w  weight (K, C, 1, 1), read as a K x C matrix
/// @param b  bias (K)
/// @return y (N, K, H, W)
std::vector<float> conv1x1_as_matmul(const std::vector<float>& x, const std::vector<float>& w,
                                     const std::vector<float>& b, std::size_t N, std::size_t C,
                                     std::size_t H, std::size_t W, std::size_t K);

/// @brief What one forward of a layer costs, as `convbook info` counts it.
struct Cost {
  std::size_t params = 0;  ///< trainable scalars (BatchNorm's running statistics not counted)
  double flops = 0;        ///< 2 x multiply-adds of the convolutions + 2 per BatchNorm output
};

/// @brief Exercise 02.2: the parameters and FLOPs of the NiNBlock built from `options` for one
/// H x W image (N = 1). Count as convbook does: a convolution has K C R S weights (+ K biases
/// when it has a bias) and costs 2 K C R S P Q; a BatchNorm2d over K channels has 2 K
/// parameters (gamma, beta) and costs 2 K P Q; ReLU costs nothing. Remember which convolutions
/// have a bias (NiNBlockOptions::batch_norm, final_activation) and that only the first one
/// changes the map size.
Cost nin_block_cost(const NiNBlockOptions& options, std::size_t H, std::size_t W);

/// @brief Exercise 02.3: the backward pass of global average pooling, y[n][c] = mean over the
/// H x W plane of x[n][c].
/// @param dy  dL/dy (N, C)
/// @return dL/dx (N, C, H, W)
std::vector<float> global_avg_pool_backward(const std::vector<float>& dy, std::size_t N,
                                            std::size_t C, std::size_t H, std::size_t W);

}  // namespace convbook::ex02
