#pragma once
/// @file im2col.hpp
/// @brief Convolution as a matrix product: im2col/col2im and the GEMM-based conv2d.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups, Cg = C/G and Kg = K/G channels per group.
///
/// im2col copies, for one image and one group, every receptive field of the input into a
/// column of a (Cg*R*S) x (P*Q) matrix; the convolution of that group is then one GEMM,
/// (Kg x Cg*R*S) weight times (Cg*R*S x P*Q) columns = (Kg x P*Q) output.
#include <vector>

#include "convbook/conv/conv_naive.hpp"

namespace convbook {

/// @brief Unfolds one group of one image into columns.
/// @param g    sizes and options; the group has Cg = g.C / g.G channels
/// @param x    the group's input channels (Cg, H, W), contiguous
/// @param col  (Cg*R*S, P*Q), overwritten: col[(c*R + r)*S + s][p*Q + q] is the input value
///             tap (r, s) of channel c sees at output position (p, q), 0 in the padding
template <typename T>
void im2col(const ConvGeometry& g, const T* x, T* col);

/// @brief The adjoint of im2col: adds every column entry back to the input pixel it came from.
/// @param g    sizes and options; the group has Cg = g.C / g.G channels
/// @param col  (Cg*R*S, P*Q)
/// @param x    (Cg, H, W), overwritten with the sums (entries from the padding are dropped)
template <typename T>
void col2im(const ConvGeometry& g, const T* col, T* x);

/// @brief Number of scalars the im2col kernels need in their workspace: 2 * Cg*R*S * P*Q.
std::size_t conv2d_im2col_workspace_size(const ConvGeometry& g);

/// @brief Same result as conv2d_forward_naive, computed as im2col + GEMM per image and group.
/// @param g          sizes and options
/// @param x          input (N, C, H, W)
/// @param w          weight (K, C/G, R, S)
/// @param bias       bias (K), or nullptr
/// @param y          output (N, K, P, Q), overwritten
/// @param workspace  scratch memory, grown when too small and reused across calls
template <typename T>
void conv2d_forward_im2col(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                           std::vector<T>& workspace);

/// @brief Same result as conv2d_backward_naive, with GEMMs: dW += dY * col^T,
/// dcol = W^T * dY then col2im, db += sum of dY over N, P, Q.
/// @param g          sizes and options
/// @param x          the forward input (N, C, H, W)
/// @param w          the forward weight (K, C/G, R, S)
/// @param dy         dL/dy (N, K, P, Q)
/// @param dx         dL/dx (N, C, H, W), overwritten; nullptr to skip
/// @param dw         dL/dw (K, C/G, R, S), accumulated; nullptr to skip
/// @param db         dL/db (K), accumulated; nullptr to skip
/// @param workspace  scratch memory, grown when too small and reused across calls
template <typename T>
void conv2d_backward_im2col(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                            T* dw, T* db, std::vector<T>& workspace);

}  // namespace convbook
