#pragma once
/// @file sk_select.hpp
/// @brief The steps that SK convolution (Li et al. 2019) and ResNeSt's split attention
/// (Zhang et al. 2020) share, each with its backward: fuse the splits by a sum, and select:
/// the channel-wise weighted sum of the splits. Between the two, the r-softmax of
/// rsoftmax.hpp turns logits into one weight per split and channel.
///
/// Legend: N batch, R splits (SK's branches M, ResNeSt's radix), C channels of one split,
/// G cardinality (groups of the attention's 1x1 convolutions), Cg = C / G, H x W the map.
///
/// Layout of the splits ("stacked"): one tensor (N, R C, H, W) whose channel r C + c is
/// channel c of split r, as torch.split(x, C, dim=1) cuts it. Attention weights a use the same
/// layout with H = W = 1: a[n][r C + c] weighs split r's channel c. The r-softmax that turns
/// logits into these weights is rsoftmax_forward in rsoftmax.hpp (its (N, R, G, J) output
/// is this layout, with C = G J).
#include <cstddef>
#include <vector>

#include "convbook/tensor.hpp"

namespace convbook {

/// @brief Stacks R tensors of shape (N, C, H, W) into (N, R C, H, W), split r at channels
/// [r C, (r + 1) C).
/// @throws Error when the list is empty or the shapes differ.
Tensor stack_splits(const std::vector<Tensor>& splits);

/// @brief The backward of stack_splits: cuts (N, R C, H, W) into R tensors (N, C, H, W).
/// @throws Error when R is 0 or does not divide the channel count.
std::vector<Tensor> unstack_splits(const Tensor& stacked, std::size_t R);

/// @brief Fuse: S = sum_r U_r, from stacked U (N, R C, H, W) to S (N, C, H, W).
/// Its backward gives every split the same gradient dS (see broadcast_to_splits).
/// @throws Error when R is 0 or does not divide the channel count.
Tensor sum_splits(const Tensor& u, std::size_t R);

/// @brief The backward of sum_splits: dU_r = dS for every r, stacked (N, R C, H, W).
/// @throws Error when R is 0.
Tensor broadcast_to_splits(const Tensor& ds, std::size_t R);

/// @brief Select: V[n][c] = sum_r a[n][r C + c] U_r[n][c] over the whole H x W map.
/// Shapes: u stacked (N, R C, H, W), a (N, R C, 1, 1), V (N, C, H, W).
/// @throws Error when the shapes do not fit together.
Tensor weighted_sum_splits(const Tensor& u, const Tensor& a, std::size_t R);

/// @brief The backward of weighted_sum_splits: dU_r = a_r dV (written to du, stacked) and
/// da_r = sum over H x W of dV U_r (written to da, (N, R C, 1, 1)); both overwritten.
void weighted_sum_splits_backward(const Tensor& u, const Tensor& a, const Tensor& dv, std::size_t R,
                                  Tensor& du, Tensor& da);

}  // namespace convbook
