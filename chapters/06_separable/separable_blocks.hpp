#pragma once
/// @file separable_blocks.hpp
/// @brief Chapter 06's three factorizations of a convolution, each a block with a hand-written
/// backward pass: depthwise-separable (MobileNet, Xception), spatially separable (R x 1 then
/// 1 x S) and flattened (Jin et al. 2014: 1x1 across channels, then R x 1 and 1 x S per
/// channel).
///
/// Legend: N batch, C in-channels, K out-channels, M middle channels, H x W input, P x Q
/// output, R x S kernel.
///
///     DepthwiseSeparable, depthwise first (MobileNet v1, fig. 3):
///         dw R x S (C -> C, stride) -> bn1 -> ReLU -> pw 1x1 (C -> K) -> bn2 -> ReLU
///     DepthwiseSeparable, pointwise first (the "extreme Inception" order of Xception, fig. 4):
///         pw 1x1 (C -> K) -> [bn1 -> ReLU] -> dw R x S (K -> K, stride) -> bn2 -> ReLU
///     SpatiallySeparable:
///         R x 1 (C -> M, stride (s, 1)) -> [bn1 -> ReLU] -> 1 x S (M -> K, stride (1, s))
///         -> bn2 -> ReLU
///     Flattened:
///         1x1 (C -> K) -> R x 1 depthwise (stride (s, 1)) -> 1 x S depthwise (stride (1, s))
///         -> bn -> ReLU
/// The bracketed BN-ReLU in the middle is optional (`middle_bn_relu`).
#include <cstddef>
#include <string>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief Which of the two convolutions of a depthwise-separable block comes first.
enum class SeparableOrder {
  DepthwiseFirst,  ///< MobileNet: the spatial filter per channel, then the 1x1 mixing
  PointwiseFirst,  ///< Xception's "extreme Inception": the 1x1 mixing, then the spatial filter
};

/// @brief The options shared by the three blocks, written like libtorch's options:
/// `SeparableOptions(32, 64).stride(2).kernel_size(3).middle_bn_relu(false)`.
class SeparableOptions {
 public:
  /// @brief A block from `in_channels` (C) to `out_channels` (K); 3x3, stride 1, depthwise
  /// first, BN-ReLU in the middle, M = K.
  SeparableOptions(std::size_t in_channels, std::size_t out_channels)
      : in_(in_channels), out_(out_channels) {}

  std::size_t in_channels() const { return in_; }    ///< C
  std::size_t out_channels() const { return out_; }  ///< K
  /// @brief Sets the kernel (R, S) of the factorized spatial filter (odd sizes: the padding
  /// (R/2, S/2) keeps the image size at stride 1).
  SeparableOptions& kernel_size(Pair v) {
    kernel_ = v;
    return *this;
  }
  const Pair& kernel_size() const { return kernel_; }  ///< (R, S)
  /// @brief Sets the stride s of the spatial filter (1 or 2).
  SeparableOptions& stride(std::size_t v) {
    stride_ = v;
    return *this;
  }
  std::size_t stride() const { return stride_; }  ///< s
  /// @brief Sets the order of a DepthwiseSeparable block (ignored by the other two).
  SeparableOptions& order(SeparableOrder v) {
    order_ = v;
    return *this;
  }
  SeparableOrder order() const { return order_; }  ///< the order
  /// @brief Sets whether BN and ReLU sit between the two convolutions (true; Xception's
  /// separable convolution and the pure factorizations have none). Ignored by Flattened,
  /// whose three 1-D layers are always one linear filter.
  SeparableOptions& middle_bn_relu(bool v) {
    middle_ = v;
    return *this;
  }
  bool middle_bn_relu() const { return middle_; }  ///< BN-ReLU between the convolutions
  /// @brief Sets the middle width M of a SpatiallySeparable block (0, the default, means K).
  SeparableOptions& mid_channels(std::size_t v) {
    mid_ = v;
    return *this;
  }
  /// @brief The middle width M actually used by SpatiallySeparable.
  std::size_t mid_channels() const { return mid_ != 0 ? mid_ : out_; }

  /// @brief Checks the options.
  /// @throws Error naming `block`, the option, its value and what was expected: a zero size,
  ///   a stride other than 1 or 2, an even kernel size.
  void validate(const std::string& block) const;

 private:
  std::size_t in_, out_;
  Pair kernel_ = 3;
  std::size_t stride_ = 1;
  SeparableOrder order_ = SeparableOrder::DepthwiseFirst;
  bool middle_ = true;
  std::size_t mid_ = 0;
};

/// @brief A depthwise-separable convolution block (Howard et al. 2017; Chollet 2017).
///
/// Parameters, named as the PyTorch module in tests/tools/make_ch06_fixtures.py:
/// `depthwise.weight` (C or K, 1, R, S), `pointwise.weight` (K, C, 1, 1), `bn1.*` (present
/// with middle_bn_relu), `bn2.*`. No biases: every convolution is followed by BN (or, for
/// the first convolution without the middle BN, by a linear layer and a BN).
class DepthwiseSeparable : public Module {
 private:
  SeparableOptions options_;  // first: validated before the layers below are built from it

 public:
  /// @throws Error on invalid options (see SeparableOptions::validate).
  explicit DepthwiseSeparable(const SeparableOptions& options);
  /// @brief y (N, K, P, Q) from x (N, C, H, W). @throws Error when x does not have C channels.
  Tensor forward(const Tensor& x) override;
  /// @brief dx from dy, the forward's steps in reverse; accumulates every parameter's gradient.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "DepthwiseSeparable(32, 64, kernel_size=(3, 3), stride=2)".
  std::string repr() const override;
  /// @brief The options this block was built with.
  const SeparableOptions& options() const { return options_; }

  Conv2d depthwise;  ///< R x S, one filter per channel (groups = channels), stride s
  Conv2d pointwise;  ///< 1x1, C -> K
  BatchNorm2d bn1;   ///< after the first convolution (registered only with middle_bn_relu)
  ReLU relu1;        ///< after bn1
  BatchNorm2d bn2;   ///< after the second convolution
  ReLU relu2;        ///< the block's output

 private:
  Module& first();  // depthwise or pointwise, as the order says
  Module& second();
};

/// @brief A spatially separable block: an R x 1 convolution C -> M, then a 1 x S convolution
/// M -> K. Without the middle BN-ReLU the pair is one R x S convolution whose weight is
/// W[k, c, r, s] = sum_m h[k, m, s] v[m, c, r]; with M = C = K = 1 that is the rank-1 kernel
/// v h^T.
///
/// Parameters: `vertical.weight` (M, C, R, 1), `bn1.*` (with middle_bn_relu),
/// `horizontal.weight` (K, M, 1, S), `bn2.*`.
class SpatiallySeparable : public Module {
 private:
  SeparableOptions options_;

 public:
  /// @throws Error on invalid options (see SeparableOptions::validate).
  explicit SpatiallySeparable(const SeparableOptions& options);
  /// @brief y (N, K, P, Q) from x (N, C, H, W). @throws Error when x does not have C channels.
  Tensor forward(const Tensor& x) override;
  /// @brief dx from dy; accumulates every parameter's gradient.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "SpatiallySeparable(64, 64, kernel_size=(3, 3), stride=1, mid_channels=64)".
  std::string repr() const override;
  /// @brief The options this block was built with.
  const SeparableOptions& options() const { return options_; }

  Conv2d vertical;    ///< R x 1, C -> M, stride (s, 1), padding (R/2, 0)
  BatchNorm2d bn1;    ///< over M (registered only with middle_bn_relu)
  ReLU relu1;         ///< after bn1
  Conv2d horizontal;  ///< 1 x S, M -> K, stride (1, s), padding (0, S/2)
  BatchNorm2d bn2;    ///< over K
  ReLU relu2;         ///< the block's output
};

/// @brief A flattened convolution block (Jin, Dundar and Culurciello 2014): a 1x1 convolution
/// across channels, then one vertical R x 1 and one horizontal 1 x S filter per channel.
///
/// The three layers are linear and nothing sits between them, so together they are one dense
/// R x S convolution whose 3-D kernel for output k is an outer product:
/// W[k, c, r, s] = lateral[k, c] vertical[k, r] horizontal[k, s] (see flattened_kernel).
/// Parameters: `lateral.weight` (K, C, 1, 1), `vertical.weight` (K, 1, R, 1),
/// `horizontal.weight` (K, 1, 1, S), `bn.*`.
class Flattened : public Module {
 private:
  SeparableOptions options_;

 public:
  /// @throws Error on invalid options (see SeparableOptions::validate).
  explicit Flattened(const SeparableOptions& options);
  /// @brief y (N, K, P, Q) from x (N, C, H, W). @throws Error when x does not have C channels.
  Tensor forward(const Tensor& x) override;
  /// @brief dx from dy; accumulates every parameter's gradient.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "Flattened(64, 64, kernel_size=(3, 3), stride=1)".
  std::string repr() const override;
  /// @brief The options this block was built with.
  const SeparableOptions& options() const { return options_; }

  Conv2d lateral;     ///< 1x1, C -> K
  Conv2d vertical;    ///< R x 1 depthwise, stride (s, 1), padding (R/2, 0)
  Conv2d horizontal;  ///< 1 x S depthwise, stride (1, s), padding (0, S/2)
  BatchNorm2d bn;     ///< over K
  ReLU relu;          ///< the block's output
};

/// @brief The dense kernel a flattened convolution computes:
/// W[k, c, r, s] = lateral[k, c] vertical[k, r] horizontal[k, s].
/// @param lateral     (K, C, 1, 1)
/// @param vertical    (K, 1, R, 1)
/// @param horizontal  (K, 1, 1, S)
/// @return W of shape (K, C, R, S)
/// @throws Error when the three shapes do not fit together.
Tensor flattened_kernel(const Tensor& lateral, const Tensor& vertical, const Tensor& horizontal);

}  // namespace convbook
