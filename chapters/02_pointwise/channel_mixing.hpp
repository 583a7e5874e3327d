#pragma once
/// @file channel_mixing.hpp
/// @brief A 1x1 convolution read as channel mixing: the same Linear layer applied at every pixel.
///
/// Legend: N batch, C in-channels, K out-channels, H x W image. A 1x1 convolution with stride 1
/// and no padding computes y[n, k, h, w] = b[k] + sum_c w[k, c] x[n, c, h, w]: each pixel's
/// C-vector is mapped to a K-vector by the same K x C matrix, and no pixel sees its neighbours.
/// Stacking the N H W pixel vectors as rows of an (N H W) x C matrix X makes the whole layer
/// one matrix product, Y = X W^T + b, which is exactly torch.nn.Linear on those rows.
#include <cstddef>

#include "convbook/module.hpp"
#include "convbook/tensor.hpp"

namespace convbook {

/// @brief The naive 1x1 convolution, written per pixel: y[n,k,h,w] = b[k] + sum_c w[k,c]
/// x[n,c,h,w].
///
/// Shapes: x (N, C, H, W); w (K, C) (a (K, C, 1, 1) weight read as a matrix); b (K) or nullptr;
/// y (N, K, H, W) overwritten. Stride 1, no padding, one group.
template <typename T>
void conv1x1_forward_naive(const T* x, const T* w, const T* b, T* y, std::size_t N, std::size_t C,
                           std::size_t H, std::size_t W, std::size_t K);

/// @brief The gradients of conv1x1_forward_naive, per pixel: dx[n,c,h,w] = sum_k w[k,c]
/// dy[n,k,h,w], dw[k,c] += sum_{n,h,w} dy[n,k,h,w] x[n,c,h,w], db[k] += sum_{n,h,w} dy[n,k,h,w].
///
/// Shapes: x, dx (N, C, H, W); w, dw (K, C); db (K); dy (N, K, H, W). dx is overwritten, dw and
/// db accumulated (+=); any of dx, dw, db may be nullptr to skip it.
template <typename T>
void conv1x1_backward_naive(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db, std::size_t N,
                            std::size_t C, std::size_t H, std::size_t W, std::size_t K);

/// @brief The pixels of x as the rows of a matrix: (N, C, H, W) -> (N H W, C, 1, 1), row
/// n H W + h W + w holding pixel (h, w) of image n (an NCHW -> NHWC transpose).
Tensor to_pixel_rows(const Tensor& x);

/// @brief The inverse of to_pixel_rows: (N H W, K, 1, 1) -> (N, K, H, W) for the image size of
/// `image_shape` = (N, any, H, W).
/// @throws Error when rows is not (N H W, K, 1, 1) for that image size.
Tensor from_pixel_rows(const Tensor& rows, const Shape& image_shape);

/// @brief One 3x3 convolution C -> C (padding 1, no bias) in a Sequential: the layer a 1x1
/// bottleneck replaces. For cost tables: `convbook info --model conv3x3_256 --input 256x8x8`.
/// @throws Error when channels is 0
ModulePtr conv3x3_stack(std::size_t channels);

/// @brief The 1x1 bottleneck of the same input and output: 1x1 reduce C -> M, 3x3 M -> M
/// (padding 1), 1x1 expand M -> C, all without bias, as children `0`, `1`, `2` of a Sequential
/// (activations left out: they cost no parameters and no FLOPs in convbook's count).
/// @throws Error when a size is 0
ModulePtr bottleneck_stack(std::size_t channels, std::size_t reduced);

}  // namespace convbook
