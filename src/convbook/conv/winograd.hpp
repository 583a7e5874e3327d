#pragma once
/// @file winograd.hpp
/// @brief Winograd's minimal filtering, F(2x2, 3x3) and F(4x4, 3x3), for 3x3 stride-1
/// convolutions (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel
/// (here 3 x 3), G groups, Cg = C/G and Kg = K/G channels per group; m x m output tile,
/// alpha = m + 2 the side of the input tile it reads.
///
/// Same result as conv2d_forward_naive, but each m x m block of outputs is computed from an
/// alpha x alpha block of inputs with alpha^2 multiplications per (k, c) pair instead of
/// 9 m^2: 16 instead of 36 for m = 2, 36 instead of 144 for m = 4. The sums over c of those
/// products are alpha^2 independent GEMMs, one per position of the transformed tile.
#include <cstddef>
#include <vector>

#include "convbook/conv/conv_naive.hpp"

namespace convbook {

/// @brief Whether the Winograd kernels handle this convolution: a 3x3 kernel, stride 1 and
/// dilation 1 in both directions (any padding, any groups).
bool winograd_supports(const ConvGeometry& g);

/// @brief Whether the Winograd kernels put 16 channels in each vector (the blocked layout, see
/// the "Channels in the lanes" section of winograd.cpp) instead of 16 tiles: when C/G and K/G
/// are both multiples of 16. Same results either way; the blocked kernels avoid gathering
/// tiles out of the image and measured 1.5-1.8x faster forward+backward (16 to 64 channels).
bool winograd_channels_in_lanes(const ConvGeometry& g);

/// @brief Number of scalars conv2d_forward_winograd uses from its workspace.
/// @param g  sizes and options (must satisfy winograd_supports)
/// @param m  output tile side, 2 for F(2x2, 3x3) or 4 for F(4x4, 3x3)
std::size_t conv2d_winograd_workspace_size(const ConvGeometry& g, int m);

/// @brief Same result as conv2d_forward_naive, computed with Winograd F(m x m, 3 x 3).
///
/// Steps: filter transform U = G w G^T per (k, c); input transform V = B^T d B per (c, tile)
/// of overlapping alpha x alpha input tiles (zeros in the padding and past the edges); for
/// each of the alpha^2 positions xi a GEMM M[xi] (Kg x tiles) = U[xi] (Kg x Cg) *
/// V[xi] (Cg x tiles); output transform Y = A^T M A per (k, tile), cut at the image edge.
/// @param g          sizes and options (must satisfy winograd_supports)
/// @param m          output tile side: 2 or 4
/// @param x          input (N, C, H, W)
/// @param w          weight (K, C/G, 3, 3)
/// @param bias       bias (K), or nullptr
/// @param y          output (N, K, P, Q), overwritten
/// @param workspace  scratch memory, grown when too small and reused across calls
/// @throws Error if the convolution is not supported or m is not 2 or 4
template <typename T>
void conv2d_forward_winograd(const ConvGeometry& g, int m, const T* x, const T* w, const T* bias,
                             T* y, std::vector<T>& workspace);

/// @brief Same result as conv2d_backward_naive.
///
/// dx is itself a Winograd convolution: dy (N, K, P, Q) convolved with the kernel rotated by
/// 180 degrees and its in/out channels swapped, padding 2 - pad (a "full" convolution; a
/// negative padding crops). dw is a Winograd product too, dw = G^T [sum over tiles of
/// (A dY A^T) * V] G with V the forward's input transform, when both channel counts per group
/// are at least 16; below that it goes through conv2d_backward_im2col (dx = nullptr), which
/// measured faster there. db is a plain sum.
/// @param g          sizes and options (must satisfy winograd_supports)
/// @param m          output tile side of the dx convolution: 2 or 4
/// @param x          the forward input (N, C, H, W)
/// @param w          the forward weight (K, C/G, 3, 3)
/// @param dy         dL/dy (N, K, P, Q)
/// @param dx         dL/dx (N, C, H, W), overwritten; nullptr to skip
/// @param dw         dL/dw (K, C/G, 3, 3), accumulated (+=); nullptr to skip
/// @param db         dL/db (K), accumulated (+=); nullptr to skip
/// @param workspace  scratch memory, grown when too small and reused across calls
/// @throws Error if the convolution is not supported or m is not 2 or 4
template <typename T>
void conv2d_backward_winograd(const ConvGeometry& g, int m, const T* x, const T* w, const T* dy,
                              T* dx, T* dw, T* db, std::vector<T>& workspace);

}  // namespace convbook
