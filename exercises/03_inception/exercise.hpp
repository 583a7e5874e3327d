#pragma once
/// @file exercise.hpp
/// @brief Chapter 03's exercises: the output size of a branch and the padding that keeps it,
/// the cost of an Inception block with and without its 1x1 reductions, and the three 1x1
/// convolutions that read the block's input computed as one.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel.
/// Arrays are plain row-major std::vector<float> in NCHW order. `make exercise CH=03` checks
/// your exercise.cpp against the framework (check.cpp); the book's answers are in solution.cpp.
#include <cstddef>
#include <vector>

namespace convbook::ex03 {

/// @brief Exercise 03.1: the output side of a convolution or pooling window.
/// @param H        input side (height or width)
/// @param kernel   window side R
/// @param stride   step between windows
/// @param padding  zeros added on each side
/// @return P, the number of window positions along the side (PyTorch's floor rule)
std::size_t output_side(std::size_t H, std::size_t kernel, std::size_t stride, std::size_t padding);

/// @brief Exercise 03.1 (continued): the padding that keeps H at stride 1 for an odd kernel,
/// so that every branch of an Inception block yields H x W and the outputs can be concatenated.
/// @param kernel  odd window side R
std::size_t same_padding(std::size_t kernel);

/// @brief The widths of an Inception block: the columns of the paper's Table 1.
struct InceptionWidths {
  std::size_t ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj;
};

/// @brief What `convbook info` reports for a block: trainable parameters and FLOPs.
struct Cost {
  std::size_t params = 0;  ///< conv weights (no biases) and BN's gamma and beta
  double flops = 0;        ///< 2 per multiply-add of the convs + 2 per BN output value
};

/// @brief Exercise 03.2: the cost of one Inception block on one (C, H, W) image, as the
/// library counts it (every conv is followed by a BN with gamma and beta; the max-pool, the
/// ReLUs and the concat are free).
/// @param C           in-channels
/// @param H           height (every branch keeps it)
/// @param W           width
/// @param w           the widths
/// @param reductions  true: fig. 2b (the 1x1 reductions and the pool projection); false: the
///   naive block of fig. 2a (1x1, 3x3 and 5x5 straight on the C channels, the pool alone;
///   ch3x3red, ch5x5red and pool_proj are ignored)
Cost inception_cost(std::size_t C, std::size_t H, std::size_t W, const InceptionWidths& w,
                    bool reductions);

/// @brief Exercise 03.3: the 1x1 convolutions of several branches that read the same x, as
/// one matrix product with their weights stacked.
/// @param x        (N, C, H, W)
/// @param weights  weights[i] is branch i's 1x1 weight, K_i x C row-major (no bias)
/// @return cat(w_0 * x, w_1 * x, ...) along the channels: (N, K_0 + K_1 + ..., H, W)
std::vector<float> fused_pointwise_forward(const std::vector<float>& x, std::size_t N,
                                           std::size_t C, std::size_t H, std::size_t W,
                                           const std::vector<std::vector<float>>& weights);

/// @brief Exercise 03.3 (continued): dL/dx of fused_pointwise_forward. The concat's backward
/// cuts dy into the branches' parts and x's gradient is the sum over branches; show that this
/// is one product with the stacked weight, transposed.
/// @param dy       (N, K_0 + K_1 + ..., H, W)
/// @param weights  as for the forward
/// @return dx, (N, C, H, W)
std::vector<float> fused_pointwise_backward_input(const std::vector<float>& dy, std::size_t N,
                                                  std::size_t C, std::size_t H, std::size_t W,
                                                  const std::vector<std::vector<float>>& weights);

}  // namespace convbook::ex03
