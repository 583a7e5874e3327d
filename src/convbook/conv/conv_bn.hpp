#pragma once
/// @file conv_bn.hpp
/// @brief Inference with a BatchNorm2d folded into the convolution in front of it.
///
/// In evaluation BatchNorm is a fixed affine map per channel,
/// y_k = gamma_k (z_k - mean_k) / sqrt(var_k + eps) + beta_k, and z = w * x + b is linear in w
/// and b, so the two are one convolution with
///   w'_k = s_k w_k,  b'_k = s_k (b_k - mean_k) + beta_k,  s_k = gamma_k / sqrt(var_k + eps).
/// Running it saves BatchNorm's pass over the activation and its output tensor.
#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/batchnorm.hpp"

namespace convbook {

/// @brief bn(conv(x)) in evaluation, as one convolution with the folded weight and bias, then
/// max(., 0) in place when `relu`. Caches nothing: for inference under NoGradGuard.
///
/// Runs the algorithm conv would (its set_algorithm or Auto's pick); `convbook bench model
/// --profile` books the time to conv.
/// @throws Error as Conv2d::forward for a bad input, or when bn's channels differ from conv's
///   out_channels.
Tensor conv_bn_inference(const Conv2d& conv, const BatchNorm2d& bn, const Tensor& x, bool relu);

}  // namespace convbook
