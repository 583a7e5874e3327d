#pragma once
/// @file exercise.hpp
/// @brief Chapter 06's exercises: is a 3x3 kernel separable (its rank-1 energy and factors),
/// what a depthwise-separable block costs against a dense convolution, and the dense kernel of
/// a flattened convolution.
///
/// Legend: C in-channels, K out-channels, R x S kernel, H x W input, P x Q output.
/// Matrices and kernels are plain row-major std::vector<float>. `make exercise CH=06` checks
/// your exercise.cpp against the framework (check.cpp); the book's answers are in solution.cpp.
#include <cstddef>
#include <vector>

namespace convbook::ex06 {

/// @brief Exercise 06.1: the rank-1 energy sigma_1^2 / (sigma_1^2 + sigma_2^2 + sigma_3^2) of
/// a 3x3 kernel, without a full SVD.
/// @param k  the kernel, 9 values row-major
/// @return a value in [1/3, 1]; 1 for the zero kernel
double rank1_energy_3x3(const std::vector<float>& k);

/// @brief Exercise 06.1 (continued): the factors of a separable kernel.
/// @param k  a 3x3 kernel of rank 1 (k = v h^T)
/// @param v  set to a column of 3 values (the vertical 3x1 filter)
/// @param h  set to a row of 3 values (the horizontal 1x3 filter), with v[r] h[s] = k[3 r + s]
void separable_factors(const std::vector<float>& k, std::vector<float>& v, std::vector<float>& h);

/// @brief What `convbook info` reports for a block: trainable parameters and FLOPs.
struct Cost {
  std::size_t params = 0;  ///< trainable scalars: conv weights, BN gammas and betas
  double flops = 0;        ///< 2 x multiply-adds of the convs + 2 per BN output value
};

/// @brief Exercise 06.2: the cost of one DepthwiseSeparable block (MobileNet's order, BN-ReLU in
/// the middle, no biases) on one (C, H, W) image, as the library counts it.
/// @param C       in-channels
/// @param K       out-channels
/// @param R       kernel height of the depthwise filter
/// @param S       kernel width
/// @param stride  1 or 2 (padding R/2, S/2)
/// @param H       height of the input
/// @param W       width of the input
Cost depthwise_separable_cost(std::size_t C, std::size_t K, std::size_t R, std::size_t S,
                              std::size_t stride, std::size_t H, std::size_t W);

/// @brief Exercise 06.2 (continued): the dense convolution it replaces, R x S, C -> K, no bias,
/// followed by one BN.
Cost dense_conv_bn_cost(std::size_t C, std::size_t K, std::size_t R, std::size_t S,
                        std::size_t stride, std::size_t H, std::size_t W);

/// @brief Exercise 06.3: the dense kernel of a flattened convolution,
/// W[k, c, r, s] = lateral[k, c] vertical[k, r] horizontal[k, s].
/// @param lateral     (K, C) the 1x1 convolution's weight
/// @param vertical    (K, R) the R x 1 depthwise weights
/// @param horizontal  (K, S) the 1 x S depthwise weights
/// @return W, (K, C, R, S) row-major
std::vector<float> flattened_dense_kernel(const std::vector<float>& lateral,
                                          const std::vector<float>& vertical,
                                          const std::vector<float>& horizontal, std::size_t K,
                                          std::size_t C, std::size_t R, std::size_t S);

}  // namespace convbook::ex06
