#pragma once
/// @file pointwise.hpp
/// @brief 1x1 convolution as a plain GEMM, without im2col.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, G groups,
/// Cg = C/G and Kg = K/G channels per group.
///
/// With a 1x1 kernel and no padding, the im2col matrix of one image and group (Cg x P*Q) is
/// the input itself when the stride is 1: (Cg, H, W) stored row-major *is* a Cg x H*W matrix.
/// So y (Kg x PQ) = w (Kg x Cg) * x (Cg x PQ) is one GEMM on the tensors as they lie in
/// memory. With a stride, the P x Q pixels the kernel visits are first gathered into the
/// workspace (and their gradients scattered back for dx).
#include <vector>

#include "convbook/conv/conv_naive.hpp"

namespace convbook {

/// @brief Whether the pointwise kernels compute this convolution: a 1x1 kernel (R = S = 1)
/// with no padding; any stride, dilation (irrelevant for one tap) and groups.
bool pointwise_supports(const ConvGeometry& g);

/// @brief Number of scalars the pointwise kernels need in their workspace.
std::size_t conv2d_pointwise_workspace_size(const ConvGeometry& g);

/// @brief Same result as conv2d_forward_naive for a 1x1 convolution (pointwise_supports(g)):
/// one GEMM per image and group, y = w * x.
/// @param g          sizes and options
/// @param x          input (N, C, H, W)
/// @param w          weight (K, C/G, 1, 1)
/// @param bias       bias (K), or nullptr
/// @param y          output (N, K, P, Q), overwritten
/// @param workspace  scratch memory, grown when too small and reused across calls
/// @throws Error when !pointwise_supports(g)
template <typename T>
void conv2d_forward_pointwise(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                              std::vector<T>& workspace);

/// @brief Same result as conv2d_backward_naive for a 1x1 convolution: dw += dy * x^T,
/// dx = w^T * dy, db += sum of dy over N, P, Q.
/// @param g          sizes and options
/// @param x          the forward input (N, C, H, W)
/// @param w          the forward weight (K, C/G, 1, 1)
/// @param dy         dL/dy (N, K, P, Q)
/// @param dx         dL/dx (N, C, H, W), overwritten; nullptr to skip
/// @param dw         dL/dw (K, C/G, 1, 1), accumulated; nullptr to skip
/// @param db         dL/db (K), accumulated; nullptr to skip
/// @param workspace  scratch memory, grown when too small and reused across calls
/// @throws Error when !pointwise_supports(g)
template <typename T>
void conv2d_backward_pointwise(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                               T* dw, T* db, std::vector<T>& workspace);

}  // namespace convbook
