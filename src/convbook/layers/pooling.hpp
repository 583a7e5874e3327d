#pragma once
/// @file pooling.hpp
/// @brief MaxPool2d, AvgPool2d and AdaptiveAvgPool2d(1) with PyTorch's semantics.
///
/// Legend: N batch, C channels, H x W input, P x Q output, R x S window (square here: R = S),
/// output size P = floor((H + 2 padding - R) / stride) + 1 (PyTorch's ceil_mode=False).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "convbook/module.hpp"

namespace convbook {

/// @brief The geometry of a square pooling window; shared by both pools.
struct Pool2dGeometry {
  std::size_t kernel = 1;   ///< R = S
  std::size_t stride = 1;   ///< step between windows
  std::size_t padding = 0;  ///< implicit padding on each side
  /// @brief P (or Q) for an input side of `h` (or `w`).
  std::size_t output_size(std::size_t h) const { return (h + 2 * padding - kernel) / stride + 1; }
};

/// @brief y[n][c][p][q] = max over the window; argmax[...] = flat index h*W+w of the winner.
///
/// Padding never wins (it acts as -inf); on ties the first element in row-major window order
/// wins, as in PyTorch. Shapes: x (N, C, H, W); y, argmax (N, C, P, Q).
template <typename T>
void maxpool2d_forward(const T* x, T* y, std::int64_t* argmax, std::size_t N, std::size_t C,
                       std::size_t H, std::size_t W, const Pool2dGeometry& g);

/// @brief dx[argmax] += dy: each output's gradient goes back to the one input that won.
///
/// Shapes: dy, argmax (N, C, P, Q); dx (N, C, H, W) overwritten.
template <typename T>
void maxpool2d_backward(const T* dy, const std::int64_t* argmax, T* dx, std::size_t N,
                        std::size_t C, std::size_t H, std::size_t W, std::size_t P, std::size_t Q);

/// @brief y = mean over the window. With `count_include_pad` the divisor is always R S
/// (PyTorch's default), otherwise the number of window elements inside the image.
///
/// Shapes: x (N, C, H, W); y (N, C, P, Q).
template <typename T>
void avgpool2d_forward(const T* x, T* y, std::size_t N, std::size_t C, std::size_t H, std::size_t W,
                       const Pool2dGeometry& g, bool count_include_pad);

/// @brief Each dy is shared equally (1 / divisor) by the inputs of its window.
///
/// Shapes: dy (N, C, P, Q); dx (N, C, H, W) overwritten.
template <typename T>
void avgpool2d_backward(const T* dy, T* dx, std::size_t N, std::size_t C, std::size_t H,
                        std::size_t W, const Pool2dGeometry& g, bool count_include_pad);

/// @brief torch.nn.MaxPool2d(kernel_size, stride, padding) with square windows.
class MaxPool2d : public Module {
 public:
  /// @brief `stride` 0 means stride = kernel (PyTorch's default).
  /// @throws Error when kernel is 0 or padding > kernel / 2 (PyTorch's rule).
  explicit MaxPool2d(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0);
  /// @brief (N, C, H, W) -> (N, C, P, Q); caches the winners' positions.
  /// @throws Error when the padded input is smaller than the window.
  Tensor forward(const Tensor& x) override;
  /// @brief Routes each dy to the input that was the maximum.
  Tensor backward(const Tensor& dy) override;
  /// @brief "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)".
  std::string repr() const override;
  /// @brief The window geometry.
  const Pool2dGeometry& geometry() const { return g_; }

 private:
  Pool2dGeometry g_;
  Shape in_shape_{}, out_shape_{};
  std::vector<std::int64_t> argmax_;
};

/// @brief torch.nn.AvgPool2d(kernel_size, stride, padding, count_include_pad) with square windows.
class AvgPool2d : public Module {
 public:
  /// @brief `stride` 0 means stride = kernel.
  /// @throws Error when kernel is 0 or padding > kernel / 2.
  explicit AvgPool2d(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0,
                     bool count_include_pad = true);
  /// @brief (N, C, H, W) -> (N, C, P, Q).
  /// @throws Error when the padded input is smaller than the window.
  Tensor forward(const Tensor& x) override;
  /// @brief Spreads each dy evenly over its window.
  Tensor backward(const Tensor& dy) override;
  /// @brief "AvgPool2d(kernel_size=2, stride=2, padding=0)".
  std::string repr() const override;
  /// @brief N C P Q R S additions of the last forward.
  double flops() const override;
  /// @brief The window geometry.
  const Pool2dGeometry& geometry() const { return g_; }

 private:
  Pool2dGeometry g_;
  bool count_include_pad_;
  Shape in_shape_{}, out_shape_{};
};

/// @brief torch.nn.AdaptiveAvgPool2d(1): the global average pool, (N, C, H, W) -> (N, C, 1, 1).
class AdaptiveAvgPool2d : public Module {
 public:
  /// @brief Only output_size 1 (global pooling) is supported.
  /// @throws Error for any other output_size.
  explicit AdaptiveAvgPool2d(std::size_t output_size = 1);
  /// @brief The mean of each channel's H x W plane.
  Tensor forward(const Tensor& x) override;
  /// @brief dx = dy / (H W) everywhere in the plane.
  Tensor backward(const Tensor& dy) override;
  /// @brief "AdaptiveAvgPool2d(output_size=1)".
  std::string repr() const override { return "AdaptiveAvgPool2d(output_size=1)"; }
  /// @brief N C H W additions of the last forward.
  double flops() const override { return double(numel(in_shape_)); }

 private:
  Shape in_shape_{};
};

}  // namespace convbook
