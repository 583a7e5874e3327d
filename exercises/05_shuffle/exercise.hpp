#pragma once
/// @file exercise.hpp
/// @brief Chapter 05's exercises: the shuffle's index map and its inverse, the backward of a
/// concatenation, and the cost of a ShuffleNet unit against a ResNet bottleneck.
///
/// Legend: N batch, C in-channels, K out-channels, M bottleneck channels, H x W input,
/// G groups. Arrays are plain row-major std::vector<float> in NCHW order. `make exercise CH=05`
/// checks your exercise.cpp against the framework (check.cpp); the book's answers are in
/// solution.cpp.
#include <cstddef>
#include <vector>

namespace convbook::ex05 {

/// @brief Exercise 05.1: the channel shuffle as an index map.
/// @param C  channels
/// @param G  groups (divides C)
/// @return src of size C: output channel c of the shuffle reads input channel src[c]
std::vector<std::size_t> shuffle_index_map(std::size_t C, std::size_t G);

/// @brief Exercise 05.1 (continued): the inverse of a permutation.
/// @param map  a permutation of 0 .. C-1
/// @return inv with inv[map[c]] = c for every c: where the gradient of input channel j comes
///   from (dx[j] = dy[inv[j]])
std::vector<std::size_t> inverse_permutation(const std::vector<std::size_t>& map);

/// @brief Exercise 05.2: the backward of a concatenation along the channels.
///
/// The forward was y = cat(x_0, x_1, ..., x_{m-1}) along C, x_i of shape (N, C_i, H, W) and y of
/// shape (N, sum C_i, H, W).
/// @param dy        dL/dy, (N, sum C_i, H, W)
/// @param N         batch
/// @param channels  C_0, ..., C_{m-1}
/// @param H         height
/// @param W         width
/// @return dL/dx_i for each i, (N, C_i, H, W) each
std::vector<std::vector<float>> concat_backward(const std::vector<float>& dy, std::size_t N,
                                                const std::vector<std::size_t>& channels,
                                                std::size_t H, std::size_t W);

/// @brief What `convbook info` reports for a block: trainable parameters and FLOPs.
struct Cost {
  std::size_t params = 0;  ///< trainable scalars: conv weights, BN gammas and betas
  double flops = 0;  ///< 2 x multiply-adds of the convs + 2 per BN value + R S per pooled value
};

/// @brief Exercise 05.3: the cost of one ShuffleUnit on one (C, H, W) image, as the library counts
/// it.
///
/// Count conv weights (no biases) and each BN's gamma and beta as parameters. FLOPs: a conv
/// costs 2 P Q K (C/groups) R S, a BN 2 per output value, the stride-2 shortcut's 3x3 average
/// pool 9 per output value; ReLU, the shuffle, the sum and the concat are free.
/// @param C       in-channels
/// @param K       out-channels (K = C for stride 1)
/// @param M       bottleneck channels
/// @param G       groups of the 1x1 convolutions and of the shuffle
/// @param stride  1 or 2
/// @param group_first_conv  whether the first 1x1 has G groups (else 1)
/// @param H       height of the input
/// @param W       width of the input
Cost shuffle_unit_cost(std::size_t C, std::size_t K, std::size_t M, std::size_t G,
                       std::size_t stride, bool group_first_conv, std::size_t H, std::size_t W);

/// @brief Exercise 05.3 (continued): the same count for a ResNet bottleneck (He et al. 2016,
/// as torchvision writes it): 1x1 C -> M, BN, ReLU, 3x3 M -> M (stride, padding 1), BN, ReLU,
/// 1x1 M -> K, BN, plus, when stride != 1 or C != K, a projection shortcut 1x1 C -> K with
/// the stride, and its BN.
Cost resnet_bottleneck_cost(std::size_t C, std::size_t K, std::size_t M, std::size_t stride,
                            std::size_t H, std::size_t W);

}  // namespace convbook::ex05
