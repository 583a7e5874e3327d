#pragma once
/// @file conv_naive.hpp
/// @brief The reference convolution: PyTorch's nn.Conv2d as seven nested loops, and its
/// backward (data, weight, bias).
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups. Shapes: x: (N, C, H, W)  w: (K, C/G, R, S)  b: (K)  y: (N, K, P, Q).
///
/// The kernels are templates on the scalar type T (instantiated for float and double), take
/// raw pointers to contiguous row-major arrays and trust their arguments: Conv2d validates
/// the configuration before calling them.

namespace convbook {

/// @brief Every size a convolution kernel needs, in the legend's letters.
struct ConvGeometry {
  int N = 1;         ///< batch
  int C = 1;         ///< input channels (all groups)
  int H = 1;         ///< input height
  int W = 1;         ///< input width
  int K = 1;         ///< output channels (all groups)
  int R = 1;         ///< kernel height
  int S = 1;         ///< kernel width
  int stride_h = 1;  ///< vertical stride
  int stride_w = 1;  ///< horizontal stride
  int pad_h = 0;     ///< zero rows added above and below
  int pad_w = 0;     ///< zero columns added left and right
  int dil_h = 1;     ///< vertical dilation (gap between kernel taps, 1 = dense)
  int dil_w = 1;     ///< horizontal dilation
  int G = 1;         ///< groups: channels split in G independent convolutions

  /// @brief Output height P.
  int P() const;
  /// @brief Output width Q.
  int Q() const;
};

/// @brief Output size of one spatial dimension, as PyTorch computes it:
/// floor((in + 2*padding - dilation*(kernel-1) - 1) / stride) + 1, or 0 when the dilated
/// kernel does not fit in the padded input.
int conv2d_output_size(int in, int kernel, int stride, int padding, int dilation);

/// @brief y = conv2d(x, w) + b, the seven-loop reference.
/// @param g     sizes and options
/// @param x     input (N, C, H, W)
/// @param w     weight (K, C/G, R, S)
/// @param bias  bias (K), or nullptr for none
/// @param y     output (N, K, P, Q), overwritten
template <typename T>
void conv2d_forward_naive(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y);

/// @brief Backward of conv2d_forward_naive: the gradients of a loss L given dy = dL/dy.
/// @param g     sizes and options
/// @param x     the forward input (N, C, H, W)
/// @param w     the forward weight (K, C/G, R, S)
/// @param dy    dL/dy (N, K, P, Q)
/// @param dx    dL/dx (N, C, H, W), overwritten; nullptr to skip
/// @param dw    dL/dw (K, C/G, R, S), accumulated (+=); nullptr to skip
/// @param db    dL/db (K), accumulated (+=); nullptr to skip
template <typename T>
void conv2d_backward_naive(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx, T* dw,
                           T* db);

}  // namespace convbook
