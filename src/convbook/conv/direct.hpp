#pragma once
/// @file direct.hpp
/// @brief Direct SIMD convolution, without a GEMM: for layers with few input channels per
/// group (the 3-channel stem) and for depthwise layers (one filter per channel).
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups, Cg = C/G and Kg = K/G channels per group.
///
/// Both kernels first copy each input plane into a zero-padded, stride-split layout (see
/// direct.cpp), so that the input pixels under SIMD-width consecutive outputs are consecutive
/// in memory whatever the stride, padding and dilation; the inner loop is then one broadcast
/// weight times one vector load, accumulated in a register, per tap. Depthwise layers at
/// stride 1 whose padding keeps the size skip the copy: each plane is read in place as flat
/// vectors, every tap a shift of the plane, with lane masks for the taps outside the image.
///
/// The kernels are templates instantiated for float and double; both use the same code with
/// xsimd::batch<T> (16 floats or 8 doubles per vector with AVX-512).
#include <vector>

#include "convbook/conv/conv_naive.hpp"

namespace convbook {

/// @brief Whether the direct kernels compute this convolution: few input channels per group,
/// C/G <= 4 (the RGB stem); any kernel, stride, padding, dilation and groups.
bool direct_supports(const ConvGeometry& g);

/// @brief Number of scalars conv2d_forward_direct and conv2d_backward_direct need (float or
/// double).
std::size_t conv2d_direct_workspace_size(const ConvGeometry& g);

/// @brief Same result as conv2d_forward_naive when direct_supports(g): per output row, the
/// C/G * R * S taps are accumulated into SIMD registers holding consecutive outputs.
/// @param g          sizes and options
/// @param x          input (N, C, H, W)
/// @param w          weight (K, C/G, R, S)
/// @param bias       bias (K), or nullptr
/// @param y          output (N, K, P, Q), overwritten
/// @param workspace  scratch memory, grown when too small and reused across calls
/// @throws Error when !direct_supports(g)
template <typename T>
void conv2d_forward_direct(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                           std::vector<T>& workspace);

/// @brief Same result as conv2d_backward_naive when direct_supports(g).
/// @param g          sizes and options
/// @param x          the forward input (N, C, H, W)
/// @param w          the forward weight (K, C/G, R, S)
/// @param dy         dL/dy (N, K, P, Q)
/// @param dx         dL/dx (N, C, H, W), overwritten; nullptr to skip
/// @param dw         dL/dw (K, C/G, R, S), accumulated; nullptr to skip
/// @param db         dL/db (K), accumulated; nullptr to skip
/// @param workspace  scratch memory, grown when too small and reused across calls
/// @throws Error when !direct_supports(g)
template <typename T>
void conv2d_backward_direct(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                            T* dw, T* db, std::vector<T>& workspace);

/// @brief Whether the depthwise kernels compute this convolution: G == C == K, one R x S
/// filter per channel; any kernel, stride, padding and dilation.
bool depthwise_supports(const ConvGeometry& g);

/// @brief Whether the depthwise kernels hold each plane of this layer in registers for T
/// (float or double): depthwise 3x3, stride 1, padding 1, dilation 1, rows of at most one SIMD
/// vector and planes of at most 4 vectors (8x8 for float, 4x8 for double with AVX-512). Such
/// layers move the plane by register shuffles instead of reading it once per tap.
template <typename T>
bool depthwise_in_registers(const ConvGeometry& g);

/// @brief Number of scalars conv2d_forward_depthwise and conv2d_backward_depthwise need (float
/// or double).
std::size_t conv2d_depthwise_workspace_size(const ConvGeometry& g);

/// @brief Same result as conv2d_forward_naive when depthwise_supports(g); the N*C planes run
/// in parallel, read in place as flat vectors when the stride is 1 and the padding keeps the
/// size (3x3 with padding 1, ...), held in registers when depthwise_in_registers<T>(g), else
/// through the packed layout.
/// @param g          sizes and options
/// @param x          input (N, C, H, W)
/// @param w          weight (C, 1, R, S)
/// @param bias       bias (C), or nullptr
/// @param y          output (N, C, P, Q), overwritten
/// @param workspace  scratch memory, grown when too small and reused across calls
/// @throws Error when !depthwise_supports(g)
template <typename T>
void conv2d_forward_depthwise(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                              std::vector<T>& workspace);

/// @brief Same result as conv2d_backward_naive when depthwise_supports(g). At stride 1 with
/// the padding that keeps the size the planes run in parallel and each thread keeps
/// per-channel dw and db sums that are added in thread order (deterministic for a given
/// thread count); other layers run channels in parallel, each thread owning its channels' dw
/// and db.
/// @param g          sizes and options
/// @param x          the forward input (N, C, H, W)
/// @param w          the forward weight (C, 1, R, S)
/// @param dy         dL/dy (N, C, P, Q)
/// @param dx         dL/dx (N, C, H, W), overwritten; nullptr to skip
/// @param dw         dL/dw (C, 1, R, S), accumulated; nullptr to skip
/// @param db         dL/db (C), accumulated; nullptr to skip
/// @param workspace  scratch memory, grown when too small and reused across calls
/// @throws Error when !depthwise_supports(g)
template <typename T>
void conv2d_backward_depthwise(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                               T* dw, T* db, std::vector<T>& workspace);

}  // namespace convbook
