#pragma once
/// @file sk_select.hpp
/// @brief The three steps that SK convolution (Li et al. 2019) and ResNeSt's split attention
/// (Zhang et al. 2020) share, each with its backward: fuse the splits by a sum, turn logits
/// into one weight per split and channel with a softmax across the splits (the r-softmax),
/// and select: the channel-wise weighted sum of the splits.
///
/// Legend: N batch, R splits (SK's branches M, ResNeSt's radix), C channels of one split,
/// G cardinality (groups of the attention's 1x1 convolutions), Cg = C / G, H x W the map.
///
/// Layout of the splits ("stacked"): one tensor (N, R C, H, W) whose channel r C + c is
/// channel c of split r, as torch.split(x, C, dim=1) cuts it. Attention weights a use the same
/// layout with H = W = 1: a[n][r C + c] weighs split r's channel c.
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

/// @brief ResNeSt's rSoftMax on logits laid out as its grouped fc2 writes them.
///
/// logits (N, G R Cg): the entry of group g, split r, channel j is logits[n][(g R + r) Cg + j]
/// (fc2 has G groups, each writing its R Cg outputs). a (N, R G Cg) in the stacked layout:
/// a[n][r C + g Cg + j] = softmax over r of those R logits when R > 1, and sigmoid of the
/// single logit when R = 1 (a softmax over one value would always be 1). With G = 1 the two
/// layouts coincide: SK's case, whose per-branch FCs are stacked split by split.
void rsoftmax_forward(const Scalar* logits, Scalar* a, std::size_t N, std::size_t G, std::size_t R,
                      std::size_t Cg);

/// @brief The backward of rsoftmax_forward: dlogits from a (its output) and da.
///
/// Softmax: dz_r = a_r (da_r - sum_s a_s da_s). Sigmoid (R = 1): dz = a (1 - a) da.
/// Shapes as rsoftmax_forward; dlogits (N, G R Cg) overwritten, in the logits' layout.
void rsoftmax_backward(const Scalar* a, const Scalar* da, Scalar* dlogits, std::size_t N,
                       std::size_t G, std::size_t R, std::size_t Cg);

/// @brief Select: V[n][c] = sum_r a[n][r C + c] U_r[n][c] over the whole H x W map.
/// Shapes: u stacked (N, R C, H, W), a (N, R C, 1, 1), V (N, C, H, W).
/// @throws Error when the shapes do not fit together.
Tensor weighted_sum_splits(const Tensor& u, const Tensor& a, std::size_t R);

/// @brief The backward of weighted_sum_splits: dU_r = a_r dV (written to du, stacked) and
/// da_r = sum over H x W of dV U_r (written to da, (N, R C, 1, 1)); both overwritten.
void weighted_sum_splits_backward(const Tensor& u, const Tensor& a, const Tensor& dv, std::size_t R,
                                  Tensor& du, Tensor& da);

}  // namespace convbook
