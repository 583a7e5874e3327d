#pragma once
/// @file grouped.hpp
/// @brief Grouped convolution with a kernel per group: for layers with a few channels per group
/// (ResNeXt's 32 groups of 4), where im2col's GEMMs are too small to run fast.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups, Cg = C/G and Kg = K/G channels per group.
///
/// Per image and group, the Cg input planes are copied into a zero-padded buffer; a register
/// block of up to 8 output channels x up to 8 output rows, one SIMD vector of consecutive
/// outputs each, then receives every tap: one vector load of the input feeds one fused
/// multiply-add per output channel of the block. Backward-data is the same kernel run on dy
/// with the flipped, transposed weights; backward-weight keeps vector sums per (output channel,
/// tap) and reduces their lanes once at the end.
///
/// The kernels are templates instantiated for float and double (xsimd::batch<T>: 16 floats or
/// 8 doubles per vector with AVX-512).
#include <cstddef>
#include <vector>

#include "convbook/conv/conv_naive.hpp"

namespace convbook {

/// @brief Whether the grouped kernels compute this convolution: stride 1 in both directions,
/// at most 32 input and 32 output channels per group (C/G <= 32, K/G <= 32); any kernel size,
/// padding, dilation and number of groups (G = 1 included).
bool grouped_supports(const ConvGeometry& g);

/// @brief Number of scalars conv2d_forward_grouped and conv2d_backward_grouped need (float or
/// double).
std::size_t conv2d_grouped_workspace_size(const ConvGeometry& g);

/// @brief Same result as conv2d_forward_naive when grouped_supports(g); images run in
/// parallel.
/// @param g          sizes and options
/// @param x          input (N, C, H, W)
/// @param w          weight (K, C/G, R, S)
/// @param bias       bias (K), or nullptr
/// @param y          output (N, K, P, Q), overwritten
/// @param workspace  scratch memory, grown when too small and reused across calls
/// @throws Error when !grouped_supports(g)
template <typename T>
void conv2d_forward_grouped(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                            std::vector<T>& workspace);

/// @brief Same result as conv2d_backward_naive when grouped_supports(g). Images run in
/// parallel; each thread keeps dw and db partial sums that are added in thread order at the
/// end (deterministic for a given thread count).
/// @param g          sizes and options
/// @param x          the forward input (N, C, H, W)
/// @param w          the forward weight (K, C/G, R, S)
/// @param dy         dL/dy (N, K, P, Q)
/// @param dx         dL/dx (N, C, H, W), overwritten; nullptr to skip
/// @param dw         dL/dw (K, C/G, R, S), accumulated; nullptr to skip
/// @param db         dL/db (K), accumulated; nullptr to skip
/// @param workspace  scratch memory, grown when too small and reused across calls
/// @throws Error when !grouped_supports(g)
template <typename T>
void conv2d_backward_grouped(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                             T* dw, T* db, std::vector<T>& workspace);

}  // namespace convbook
